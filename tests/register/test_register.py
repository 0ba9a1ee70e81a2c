"""The register of copies: who may register, when, gapless numbers, exports; both DBs."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import openpyxl
import pytest

from archive_service.config import Settings
from archive_service.db import Archive
from archive_service.errors import ConflictError, PermissionDeniedError
from archive_service.register import export
from archive_service.register.models import RegisterEntry
from archive_service.register.service import _next_number, register_document, register_list
from tests.signatures.test_chain import ACTOR, _setup, _sign
from tests.support.processes import run_together
from tests.support.state import archive_state, drop_immutability


def _register(archive, doc, login="secretary", location="Сейф № 1"):
    return register_document(archive, document_id=doc, login=login, location=location,
                             actor=ACTOR)


def _refused(archive, doc, error, match, **kwargs):
    before = archive_state(archive)
    with pytest.raises(error, match=match):
        _register(archive, doc, **kwargs)
    assert archive_state(archive) == before


def test_registration_waits_for_the_deputy_and_numbers_follow_on(archive, tmp_path):
    journal = _setup(archive, tmp_path)
    summary = journal + 1
    _refused(archive, journal, ConflictError,
             "ещё не передан на регистрацию: не подписали Смирнова Ольга Николаевна, "
             "Белова Ирина Сергеевна")
    for login in ("smirnova", "belova", "petrova"):
        _sign(archive, journal, login)
    _refused(archive, journal, ConflictError, "не подписали deputy")
    _refused(archive, journal, PermissionDeniedError, "регистрирует секретарь", login="zam")
    _sign(archive, journal, "zam")
    _refused(archive, journal, ConflictError, "Укажите место хранения", location=" ")
    row = _register(archive, journal, location="Сейф № 1, папка «2025-2026, 1 четверть»")
    assert (row.number, row.year, row.kind, row.sheets) == (1, "2025-2026", "journal", row.sheets)
    assert row.handed_over_by == "Кузьмина Елена Петровна"
    assert row.received_by == "Иванова Нина Львовна" and row.status == "зарегистрирован"
    _refused(archive, journal, ConflictError, "уже зарегистрирован под № 1")
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, summary, login)
    assert _register(archive, summary).number == 2
    _sign(archive, journal, "director")
    _sign(archive, journal, "secretary")
    rows = register_list(archive, year="2025-2026")
    assert [(r.number, r.status) for r in rows] == [(1, "заверен печатью"),
                                                     (2, "зарегистрирован")]
    assert [r.number for r in register_list(archive, query="сводная")] == [2]
    # The JSON form (API, exports) is every field, as dataclasses.asdict would give it.
    assert [r.as_dict() for r in rows] == [dataclasses.asdict(r) for r in rows]
    assert list(rows[0].as_dict()) == [f.name for f in dataclasses.fields(rows[0])]


def test_the_search_finds_by_any_field_in_any_case(archive, tmp_path):
    """Cyrillic in another case, the date as the page shows it and as people write it, the
    document number, the school's own name (every line); a LIKE wildcard is only a
    character."""
    journal = _setup(archive, tmp_path)
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, journal, login)
    row = _register(archive, journal, location="Сейф № 3, полка «Архив»")
    day = row.received_at[:10]

    def found(query):
        return [r.number for r in register_list(archive, query=query)]

    assert found("СЕЙФ № 3") == found("полка «архив»") == [1]
    assert found(day) == found(f"{day[8:10]}.{day[5:7]}.{day[:4]}") == [1]
    assert found(row.document_number) == found("иванова нина") == [1]
    assert found(row.school_name.upper()) == [1]
    assert found("%") == found("сейф_") == found("Сводная") == []


def test_a_returned_document_is_not_registered(archive, tmp_path):
    from archive_service.signatures.service import return_document

    journal = _setup(archive, tmp_path)
    return_document(archive, document_id=journal, login="belova", reason="Нет отметки")
    _refused(archive, journal, ConflictError, "возвращён на исправление")


def test_exports_have_the_paper_register_layout(archive, tmp_path):
    journal = _setup(archive, tmp_path)
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, journal, login)
    _register(archive, journal)
    rows = register_list(archive, year="2025-2026")
    book = openpyxl.load_workbook(
        __import__("io").BytesIO(export.to_xlsx(rows, school="Школа", year="2025-2026")))
    sheet = book.active
    assert [c.value for c in sheet[3]] == list(export.HEADERS)
    assert [c.value for c in sheet[4]][:3] == [1, rows[0].received_at[8:10] + "."
                                              + rows[0].received_at[5:7] + "."
                                              + rows[0].received_at[:4], rows[0].title]
    pdf = tmp_path / "реестр.pdf"
    pdf.write_bytes(export.to_pdf(rows, school="Школа", year="2025-2026"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Реестр бумажных копий электронных журналов" in text
    assert "Кузьмина Елена Петровна" in text and "Сейф № 1" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert all(" yes " in line for line in fonts.splitlines()[2:])  # every font embedded


def _number_in_process(env, school_id, n, barrier):
    archive = Archive(Settings.from_env(env))
    barrier.wait()
    got = []
    for i in range(n):
        try:
            with archive.unit_of_work() as uow:
                number = _next_number(uow.session, school_id, "2025-2026")
                if i % 5 == 4:  # a registration failing after it got its number
                    raise RuntimeError("later step failed")
                uow.session.add(RegisterEntry(
                    school_id=school_id, year="2025-2026", number=number, kind="folder",
                    title=f"test {os.getpid()} {i}", period_code="Q1", sheets=1,
                    handed_over_by="x", handover_hash="0" * 64, received_by="y",
                    received_at=__import__("datetime").datetime.now(
                        __import__("datetime").UTC), location="z", search_text="test"))
            got.append(number)
        except RuntimeError:
            pass
    archive.dispose()
    return got


@pytest.mark.postgres
def test_concurrent_registrations_neither_repeat_nor_skip_a_number(tmp_path, pg_url):
    from tests.conftest import make_archive

    archive = make_archive(tmp_path, pg_url)
    _setup(archive, tmp_path)
    results = run_together(_number_in_process, [(1, 20)] * 4, tmp_path=tmp_path,
                           pg_url=pg_url)
    numbers = sorted(n for r in results for n in r)
    assert numbers == list(range(1, 65))  # 4 x 16 committed, the 16 failed gave theirs back
    assert [r.number for r in register_list(archive, year="2025-2026")] == numbers
    archive.dispose()


def _folder(archive, login="secretary", period="Q1", location="Сейф № 1, полка 2"):
    from archive_service.register.service import form_period_folder

    return form_period_folder(archive, school_code="T-001", year="2025-2026",
                              period_code=period, login=login, location=location, actor=ACTOR)


def _folder_refused(archive, error, match, **kwargs):
    before = archive_state(archive)
    with pytest.raises(error, match=match):
        _folder(archive, **kwargs)
    assert archive_state(archive) == before


def test_period_folder_bundles_the_sealed_copies_unchanged(archive, tmp_path):
    import pikepdf

    from archive_service.errors import IntegrityError, NotFoundError
    from archive_service.register.folder import attachments
    from archive_service.register.service import folder_pdf
    from archive_service.signatures.service import signed_pdf

    journal = _setup(archive, tmp_path)
    summary = journal + 1
    _folder_refused(archive, ConflictError, "нет заверенных печатью копий у классов: 7А — "
                    "копия журнала ждёт: учителя-предметники — Смирнова Ольга Николаевна")
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, journal, login)
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, summary, login)
    _register(archive, journal), _register(archive, summary)
    for login in ("director", "secretary"):
        _sign(archive, journal, login)
    _folder_refused(archive, ConflictError, r"формировать рано: нет заверенных печатью копий "
                    r"у классов: 7А — сводная ведомость ждёт: директор")
    for login in ("director", "secretary"):
        _sign(archive, summary, login)
    _folder_refused(archive, PermissionDeniedError, "формирует секретарь", login="director")
    _folder_refused(archive, NotFoundError, "нет периода Q3", period="Q3")
    _folder_refused(archive, ConflictError, "Укажите место хранения", location="")

    row = _folder(archive)
    assert (row.number, row.kind, row.period, row.document_id) == (3, "folder", "Q1", None)
    assert row.status == "сформирована" and row.location == "Сейф № 1, полка 2"
    _folder_refused(archive, ConflictError, "уже сформирована: № 3")
    name, data = folder_pdf(archive, school_code="T-001", year="2025-2026", number=3,
                            reader=ACTOR)
    inside = attachments(data)
    assert sorted(inside.values()) == sorted([signed_pdf(archive, journal),
                                              signed_pdf(archive, summary)])
    with pikepdf.open(__import__("io").BytesIO(data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
        contents = len(pdf.pages)
    assert row.sheets == contents + sum(r.sheets for r in register_list(archive)[:2])
    path = tmp_path / name
    path.write_bytes(data)
    subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Общая папка за период: 1 четверть 2025-2026" in text
    assert "Иванова Нина Львовна" in text
    for digest in (__import__("hashlib").sha256(b).hexdigest() for b in inside.values()):
        assert digest in text.replace("\n", "").replace(" ", "")
    # an attached copy still verifies after it is taken out (the folder changed nothing)
    for file_name, copy in inside.items():
        out = tmp_path / file_name
        out.write_bytes(copy)
        report = subprocess.run(["pdfsig", str(out)], capture_output=True, text=True).stdout
        assert report.count("Signature Validation: Signature is Valid.") >= 4, report

    from tests.snapshots.test_snapshots import _flip_byte

    with archive.sessions() as s:
        _flip_byte(archive, s.query(RegisterEntry).filter_by(kind="folder").one().storage_key)
    with pytest.raises(IntegrityError, match="Общая папка № 3 .* изменена"):
        folder_pdf(archive, school_code="T-001", year="2025-2026", number=3, reader=ACTOR)


def test_a_folder_without_every_class_is_formed_only_with_a_recorded_reason(archive, tmp_path):
    import io

    import pikepdf

    from archive_service.audit.service import entries
    from archive_service.register.service import folder_pdf, form_period_folder
    from archive_service.signatures.service import return_document

    journal = _setup(archive, tmp_path)
    return_document(archive, document_id=journal, login="smirnova", reason="Ошибка в отметках",
                    actor=ACTOR)
    _folder_refused(archive, ConflictError, "7А — копия журнала возвращён: Ошибка в отметках; "
                    "вернул\\(а\\) Смирнова Ольга Николаевна")
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="Укажите причину"):
        form_period_folder(archive, school_code="T-001", year="2025-2026", period_code="Q1",
                           login="secretary", location="Сейф", actor=ACTOR, anyway="  ")
    assert archive_state(archive) == before
    summary = journal + 1
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, summary, login)
    _register(archive, summary)
    for login in ("director", "secretary"):
        _sign(archive, summary, login)
    row = form_period_folder(archive, school_code="T-001", year="2025-2026", period_code="Q1",
                             login="secretary", location="Сейф", actor=ACTOR,
                             anyway="Проверка управления образования, приказ № 5")
    assert row.title.endswith("(неполная)")
    _name, data = folder_pdf(archive, school_code="T-001", year="2025-2026", number=row.number,
                             reader=ACTOR)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.attachments) == 1  # the sealed summary only
    path = tmp_path / "folder.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\n", " ")
    assert "Папка сформирована неполной." in text and "Ошибка в отметках" in text
    assert "приказ № 5" in text
    [made] = [e for e in entries(archive, limit=50) if e.action == "register.folder"]
    assert "приказ № 5" in made.details and "7А" in made.details


def test_the_register_is_rechecked_against_the_audit_trail(archive, tmp_path):
    import sqlalchemy as sa

    from archive_service.register.recheck import verify_register

    journal = _setup(archive, tmp_path)
    summary = journal + 1
    for doc in (journal, summary):
        for login in ("smirnova", "belova", "petrova", "zam"):
            _sign(archive, doc, login)
        _register(archive, doc)
    assert verify_register(archive) == []
    drop_immutability(archive, "register_entry")

    def tampered(*statements: str) -> list[str]:
        with archive.engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
        return [p.message for p in verify_register(archive)]

    assert tampered("UPDATE register_entry SET location = 'Шкаф' WHERE number = 2") == [
        "реестр 2025-2026, № 2: запись изменена после регистрации (место хранения не совпадает "
        "с журналом аудита)"]
    tampered("UPDATE register_entry SET location = 'Сейф № 1' WHERE number = 2")
    assert verify_register(archive) == []
    with archive.engine.connect() as conn:
        row = dict(conn.execute(sa.text("SELECT * FROM register_entry WHERE number = 1"))
                   .mappings().one())
    # A line deleted: its number is missing, and the audit trail says what it was.
    [deleted] = tampered("DELETE FROM register_entry WHERE number = 1")
    assert deleted.startswith(f"реестр 2025-2026, № 1: запись удалена из реестра (документ № "
                              f"{journal}, зарегистрирована ")
    # The last line deleted too and the counter turned back: the audit trail still has them.
    messages = tampered("DELETE FROM register_entry WHERE number = 2",
                        "UPDATE register_counter SET last_number = 0")
    assert [m.split(": ", 1)[1][:22] for m in messages] == [
        "запись удалена из реес", "запись удалена из реес", "счётчик номеров стоит "]
    # A line put in by hand, with a number and the certified copy of a registered one.
    columns = ", ".join(k for k in row if k != "id")
    values = ", ".join(f":{k}" for k in row if k != "id")
    with archive.engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO register_entry ({columns}) VALUES ({values})"),
                     {**row, "number": 3, "document_id": None})
        conn.execute(sa.text(f"INSERT INTO register_entry ({columns}) VALUES ({values})"),
                     row)
    messages = [p.message for p in verify_register(archive)]
    assert any(m.startswith("реестр 2025-2026, № 3: «") and "добавлена в обход архива" in m
               for m in messages), messages
    assert any("одна и та же заверенная копия" in m and "№ 1 (2025-2026), № 3 (2025-2026)" in m
               for m in messages), messages
    assert any(m.startswith("реестр 2025-2026, № 2: запись удалена") for m in messages)
    assert "реестр 2025-2026, № 3: счётчик номеров стоит на 0, а в реестре и журнале аудита " \
        "есть № 3: счётчик изменён" in messages
    assert not any(m.startswith("реестр 2025-2026, № 1:") for m in messages)
    # Numbers the counter gave that neither the register nor the audit trail has.
    messages = tampered("UPDATE register_counter SET last_number = 5")
    assert "реестр 2025-2026, № 4: номера нет ни в реестре, ни в журнале аудита, хотя выдан " \
        "и больший: запись удалена" in messages


def test_a_fixity_run_and_audit_verify_report_a_deleted_register_line(sqlite_archive, tmp_path):
    """The same re-check in ``archive fixity`` and ``archive audit verify`` (exit 10)."""
    import sqlalchemy as sa

    from archive_service.fixity.service import run_fixity
    from tests.cli.test_cli import run

    archive, home = sqlite_archive, tmp_path  # where ``archive`` run with ARCHIVE_HOME finds it
    journal = _setup(archive, tmp_path)
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, journal, login)
    _register(archive, journal)
    assert run(home, "audit", "verify", check=True).returncode == 0
    drop_immutability(archive, "register_entry")
    with archive.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM register_entry"))
    report = run_fixity(archive, actor=ACTOR, share=100)
    assert not report.ok
    assert any("реестр 2025-2026, № 1: запись удалена из реестра" in p for p in report.problems)
    archive.dispose()
    broken = run(home, "audit", "verify")
    assert broken.returncode == 10
    assert "реестр 2025-2026, № 1: запись удалена из реестра" in broken.stderr
    assert "Нарушений в реестре: 1." in broken.stdout


def test_one_certified_copy_is_never_registered_under_two_numbers(archive, tmp_path):
    """Even under another document row (issue 30): the certified bytes are what counts."""
    import sqlalchemy as sa

    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.state import current_pieces

    journal = _setup(archive, tmp_path)
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, journal, login)
    with archive.sessions() as s:
        _keys, digest = current_pieces(s, s.get(RenderedDocument, journal))
        school = s.get(RenderedDocument, journal).school_id
    with archive.engine.begin() as conn:  # a line already holding these bytes
        conn.execute(sa.text(
            "INSERT INTO register_entry (school_id, year, number, document_id, kind, title, "
            "class_name, period_code, sheets, handed_over_by, handover_hash, received_by, "
            "received_at, location, storage_key, search_text) VALUES (:school, '2025-2026', "
            "99, NULL, 'journal', 't', '7А', 'Q1', 1, 'x', :digest, 'y', :at, 'z', NULL, '')"),
            {"school": school, "digest": digest, "at": "2026-01-01 00:00:00.000000"})
    _refused(archive, journal, ConflictError, "уже зарегистрирована под № 99")
