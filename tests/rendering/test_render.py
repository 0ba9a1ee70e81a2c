"""Rendered documents, checked through independent readers (poppler, qpdf, pikepdf)."""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import pytest

from archive_service.actors import Actor
from archive_service.errors import IntegrityError
from archive_service.journals.service import import_file
from archive_service.rendering.layout import render_journal, render_summary
from archive_service.rendering.pdfa import finish
from archive_service.rendering.service import (
    document_meta,
    export_document,
    list_documents,
    render_snapshots,
)
from archive_service.snapshots.service import create_snapshots, show_snapshot
from tests.support.journal import grade_one, tiny, write_json

ACTOR = Actor("Секретарь")


def _snapshot(archive, tmp_path: Path, doc=None):
    import_file(archive, write_json(doc or tiny(), tmp_path / "j.json"), actor=ACTOR)
    [outcome] = create_snapshots(archive, period="2025-2026/Q1", class_name=None,
                                 school_code=None, actor=ACTOR)
    return outcome.snapshot


def _pages(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")


def _words(pdf: bytes, tmp_path: Path, page: int) -> list[tuple[float, str]]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path),
                           "-"], capture_output=True, text=True, check=True).stdout
    return [(float(x), w) for x, w in re.findall(r'<word xMin="([\d.]+)"[^>]*>([^<]*)</word>',
                                                 html)]


@pytest.fixture
def journal(sqlite_archive, tmp_path):
    info = _snapshot(sqlite_archive, tmp_path)
    [outcome] = render_snapshots(sqlite_archive, [info.id], actor=ACTOR, workers=1,
                                 validate=True)
    docs = {d.kind: d for d in outcome.documents}
    return sqlite_archive, info, docs


def test_every_student_mark_code_and_topic_is_on_its_page(journal, tmp_path):
    archive, _info, docs = journal
    _doc, pdf = export_document(archive, docs["journal"].id)
    pages = _pages(pdf, tmp_path)
    title = pages[0]
    assert "Классный журнал 7А класса" in title and "Петрова Анна Ивановна" in title
    assert re.search(r"2\s+Алгебра\s+Смирнова Ольга Николаевна", title)
    grid, topics = pages[1], pages[2]
    for name in ("Иванов Иван Иванович", "Сидорова Мария Петровна", "Кузнецов Пётр Олегович"):
        assert name in grid
    assert "выбыл 01.10.2025" in grid
    assert "4/5" in grid and re.search(r"\bН\b", grid) and re.search(r"\bБ\b", grid)
    assert re.search(r"\bО\b", grid)
    squeezed = re.sub(r"\s+", "", topics)  # pdftotext may drop a narrow space
    for topic in ("Выражения", "Уравнения", "№ 1, 2", "№ 5"):
        assert topic.replace(" ", "") in squeezed
    english = pages[3]
    assert "зач" in english and "Иванов Иван Иванович" in english
    assert "Кузнецов Пётр Олегович" not in english  # not in the subgroup
    assert "My school" in pages[4]
    assert "Сведения о пропусках уроков" in pages[5]
    assert "Сводная ведомость итоговых отметок" in pages[6]
    total = len([p for p in pages if p.strip()])
    assert f"пронумеровано, прошнуровано и скреплено печатью {total} листов" in pages[total - 1]
    for n, page in enumerate(pages[:total], 1):
        assert f"Лист {n} из {total}" in page
        assert "sha256:" in page and "Электронный документ №" in page


def test_each_row_holds_exactly_that_students_marks_and_codes(journal, tmp_path):
    archive, _info, docs = journal
    _doc, pdf = export_document(archive, docs["journal"].id)
    grid = _pages(pdf, tmp_path)[1]
    expected = {  # lessons 02.09, 04.09, 20.10, then the «1 четверть» column
        "Иванов Иван Иванович": ["5", "Б", "5"],
        "Кузнецов Пётр Олегович": ["Н", "3"],  # left 01.10: no period mark
        "Сидорова Мария Петровна": ["4/5", "О", "4"],
    }
    for name, tokens in expected.items():
        [line] = [row for row in grid.splitlines() if name in row]
        rest = re.sub(r"\(.*?\)", "", line.split(name, 1)[1]).split()
        assert rest == tokens, (name, rest)


def test_period_marks_stand_after_the_last_lesson(journal, tmp_path):
    archive, _info, docs = journal
    _doc, pdf = export_document(archive, docs["journal"].id)
    words = _words(pdf, tmp_path, 2)
    days = [x for x, w in words if w in ("02", "04", "20")]  # the three lesson dates
    column = max(x for x, w in words if w == "четверть")  # the «1 четверть» column header
    assert len(days) == 3 and column > max(days)
    row = [w for x, w in words if x >= column - 2 and w in ("5", "4")]
    assert sorted(row) == ["4", "5"]  # Иванов 5, Сидорова 4, in that column


def test_grade_one_shows_no_marks(sqlite_archive, tmp_path):
    doc = grade_one()
    cls = doc["classes"][0]
    info = _snapshot(sqlite_archive, tmp_path, doc)
    _i, content = show_snapshot(sqlite_archive, info.id)
    drawn = render_journal(content, document_meta(info, "journal", "Тест"))
    pages = _pages(drawn.pdf, tmp_path)
    grid = pages[1]
    assert "1 четверть" not in grid.split("Учитель")[1]  # no period mark column
    names = [s["full_name"] for s in cls["students"]]
    rows = [line for line in grid.splitlines() if any(n in line for n in names)]
    assert len(rows) == 3
    for line in rows:
        rest = re.sub(r"\(.*?\)", "", line)
        for n in names:
            rest = rest.replace(n, "")
        assert not re.search(r"\b[2-5]\b", rest.strip()[1:]), line  # [1:]: the row number
    assert re.search(r"\bН\b", grid) and re.search(r"\bО\b", grid)
    assert any("Отметки не выставляются" in p for p in pages)


def test_pdf_checks_qpdf_fonts_pdfa_and_fields(journal, tmp_path):
    archive, info, docs = journal
    for kind, document in docs.items():
        _doc, pdf = export_document(archive, document.id)
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(pdf)
        subprocess.run(["qpdf", "--check", str(path)], check=True, capture_output=True)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
        with pikepdf.open(io.BytesIO(pdf)) as opened:
            assert "/Info" not in opened.trailer
            names = [str(f.T) for f in opened.Root.AcroForm.Fields]
            xmp = opened.open_metadata()
            assert xmp["pdfaid:part"] == "2" and info.sha256 in xmp["pdf:Keywords"]
        assert names == [step["name"] for step in document.steps]
        sigs = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
        assert sigs.count("Signature Field Name") == len(names)
    journal_steps = [s["step"] for s in docs["journal"].steps]
    assert journal_steps == ["teachers", "teachers", "class_leader", "deputy", "director",
                             "seal"]  # the chain's order
    teachers = [s for s in docs["journal"].steps if s["step"] == "teachers"]
    assert {t["signer"] for t in teachers} == {"Смирнова Ольга Николаевна",
                                              "Белова Ирина Сергеевна"}
    # The summary's own chain: the subject teachers confirm their final marks, the class
    # leader who collected their signatures, then the heads and the seal (seed 000, 4.2).
    assert [s["step"] for s in docs["summary"].steps] == ["teachers", "teachers",
                                                           "class_leader", "deputy", "director",
                                                           "seal"]
    assert {s["signer"] for s in docs["summary"].steps if s["step"] == "teachers"} == {
        "Смирнова Ольга Николаевна", "Белова Ирина Сергеевна"}


def test_unsigned_render_passes_pikepdf_pdfa_2b_and_is_deterministic(sqlite_archive, tmp_path):
    info = _snapshot(sqlite_archive, tmp_path)
    _i, content = show_snapshot(sqlite_archive, info.id)
    for kind, draw in (("journal", render_journal), ("summary", render_summary)):
        meta = document_meta(info, kind, "Тест")
        first = finish(draw(content, meta), meta, title="t", subject="s", validate=True)
        with pikepdf.open(io.BytesIO(first.unsigned_pdfa)) as pdf:
            assert pikepdf.pdfa.check(pdf, "2b").findings == []
        second = finish(draw(content, meta), meta, title="t", subject="s")
        assert first.pdf == second.pdf  # validating or not, the same bytes


def test_rendering_again_returns_the_existing_documents(journal):
    archive, info, docs = journal
    [again] = render_snapshots(archive, [info.id], actor=ACTOR, workers=1)
    assert not again.created
    assert {d.id for d in again.documents} == {d.id for d in docs.values()}
    assert len(list_documents(archive)) == 2


def test_a_tampered_snapshot_is_not_rendered(sqlite_archive, tmp_path):
    info = _snapshot(sqlite_archive, tmp_path)
    blob = Path(sqlite_archive.storage.root) / info.storage_key
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[5] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="класс 7А.*хеш не совпадает"):
        render_snapshots(sqlite_archive, [info.id], actor=ACTOR, workers=1)
    assert list_documents(sqlite_archive) == []


def test_summary_document_stands_on_its_own(journal, tmp_path):
    archive, _info, docs = journal
    _doc, pdf = export_document(archive, docs["summary"].id)
    text = "\n".join(_pages(pdf, tmp_path))
    assert "МБОУ «Тестовая школа»" in text
    assert "Сводная ведомость итоговых отметок учеников 7А класса" in text
    assert "классный руководитель: Петрова Анна Ивановна" in text
    assert "Алгебра" in text and "Иванов Иван Иванович" in text
    assert "н/а" in text and "зач" in text


def test_configured_chain_decides_the_fields(sqlite_archive, tmp_path):
    import sqlalchemy as sa

    from archive_service.journals.models import School

    info = _snapshot(sqlite_archive, tmp_path)
    with sqlite_archive.unit_of_work() as uow:
        school = uow.session.scalars(sa.select(School)).one()
        school.settings = {"signature_chain": ["teachers", "class_leader", "director", "seal"],
                           "summary_chain": ["class_leader", "director", "seal"]}
    [outcome] = render_snapshots(sqlite_archive, [info.id], actor=ACTOR, workers=1)
    steps = {d.kind: [s["step"] for s in d.steps] for d in outcome.documents}
    assert steps["journal"] == ["teachers", "teachers", "class_leader", "director", "seal"]
    assert steps["summary"] == ["class_leader", "director", "seal"]


def test_cli_render_list_export_and_bad_chain(tmp_path):
    from tests.cli.test_cli import run

    run(tmp_path, "init", check=True)
    run(tmp_path, "import", str(write_json(tiny(), tmp_path / "a.json")), check=True)
    run(tmp_path, "snapshot", "create", "--period", "2025-2026/Q1", "--all", check=True)
    out = run(tmp_path, "render", "--period", "2025-2026/Q1", "--all", check=True).stdout
    assert "7А «1 четверть»: сформированы" in out and "T-001-2025-2026-Q1-7А-Ж-v1" in out
    listed = run(tmp_path, "document", "list", check=True).stdout
    assert "Всего документов: 2" in listed
    target = tmp_path / "copy.pdf"
    assert "записан" in run(tmp_path, "document", "export", "1", "--out", str(target),
                            check=True).stdout
    assert target.read_bytes()[:5] == b"%PDF-"
    again = run(tmp_path, "render", "--snapshot", "1", check=True).stdout
    assert "уже были" in again
    bad = run(tmp_path, "school", "set", "T-001", "--signature-chain", "teachers,boss")
    assert bad.returncode == 9 and "Цепочка подписей школы T-001 задана неверно" in bad.stderr
    missing = run(tmp_path, "document", "export", "99", "--out", str(target))
    assert missing.returncode == 4 and "Документ № 99 не найден" in missing.stderr


def test_qr_code_decodes_to_the_verification_reference(journal, tmp_path):
    archive, _info, docs = journal
    document, pdf = export_document(archive, docs["journal"].id)
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / "page")], check=True)
    [png] = tmp_path.glob("page*.png")
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True,
                             text=True).stdout.strip()
    assert decoded.startswith("urn:school-journal-archive:T-001/")
    assert decoded.endswith("/journal")


def test_export_refuses_a_changed_document(journal):
    archive, _info, docs = journal
    blob = Path(archive.storage.root) / docs["summary"].storage_key
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[-20] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="СВ-v1\\) изменён в хранилище"):
        export_document(archive, docs["summary"].id)


def test_no_text_below_six_points(journal):
    archive, _info, docs = journal
    for document in docs.values():
        _doc, pdf = export_document(archive, document.id)
        with pikepdf.open(io.BytesIO(pdf)) as opened:
            sizes = {float(operands[1]) for page in opened.pages
                     for operands, op in pikepdf.parse_content_stream(page)
                     if str(op) == "Tf"}
        assert sizes and min(sizes) >= 6.0, sorted(sizes)


def _content(archive, tmp_path, doc=None) -> dict:
    """The Q1 snapshot content of the tiny journal, as the renderer receives it."""
    from archive_service.journals.models import Period, SchoolClass
    from archive_service.snapshots.canonical import snapshot_content

    import_file(archive, write_json(doc or tiny(), tmp_path / "j.json"), actor=ACTOR)
    with archive.sessions() as s:
        cls = s.query(SchoolClass).one()
        return snapshot_content(s, cls, s.query(Period).filter_by(code="Q1").one())


def _meta(kind: str):
    import datetime as dt

    from archive_service.rendering.layout import DocumentMeta

    return DocumentMeta(kind, f"T-{kind}", "0" * 64, "Тест", dt.date(2026, 5, 30), "https://v/x")


def test_a_year_copy_puts_each_quarter_s_marks_after_its_last_lesson(sqlite_archive, tmp_path):
    """Seed 002, 6.1: the quarter marks follow that quarter's last lesson."""
    import copy

    content = _content(sqlite_archive, tmp_path)
    content["period"] = {"code": "Y", "name": "Учебный год", "start": "2025-09-01",
                         "end": "2026-05-26"}
    content["periods"] = [{"code": "Q1", "name": "1 четверть", "start": "2025-09-01",
                           "end": "2025-10-24"},
                          {"code": "Q2", "name": "2 четверть", "start": "2025-11-05",
                           "end": "2025-12-26"}]
    algebra = next(c for c in content["courses"] if c["subject"] == "Алгебра")
    for day in ("2025-11-10", "2025-11-12"):
        lesson = copy.deepcopy(algebra["lessons"][0])
        lesson["date"] = day
        algebra["lessons"].append(lesson)
    q1 = [m for m in algebra["period_marks"] if m["period"] == "Q1"]
    algebra["period_marks"] += [{**m, "period": "Q2"} for m in q1]
    algebra["period_marks"] += [{**m, "period": "Y", "kind": "year"} for m in q1]
    drawn = render_journal(content, _meta("journal"))
    first, second = _words(drawn.pdf, tmp_path, 2), _words(drawn.pdf, tmp_path, 4)
    q1_days = [x for x, w in first if w in ("02", "04", "20")]
    assert q1_days and "II" not in [w for _x, w in first] and "Год" not in [w for _x, w in first]
    header_i = [x for x, w in first if w == "I"]
    assert header_i and min(header_i) > max(q1_days)  # «I ч.» after the quarter's last lesson
    q2_days = sorted(x for x, w in second if w in ("10", "12"))[:2]  # the two lesson dates
    later = [x for x, w in second if w in ("II", "Год")]
    assert q2_days and later and min(later) > max(q2_days)


def test_the_summary_sheet_tells_namesakes_apart_and_shows_moves_within_its_period(
        sqlite_archive, tmp_path):
    doc = tiny()
    sidorova = next(s for s in doc["classes"][0]["students"] if s["record_number"] == "ЛД-2")
    sidorova["left"] = "2026-03-01"  # after the first quarter: not on a Q1 copy
    content = _content(sqlite_archive, tmp_path, doc)
    drawn = render_summary(content, _meta("summary"))
    text = "\n".join(_pages(drawn.pdf, tmp_path))
    assert "рождения" in text and "личного" in text  # the column headers (wrapped)
    row = next(line for line in text.splitlines() if "Кузнецов Пётр Олегович" in line)
    assert "20.01.2012" in row and "ЛД-3" in row and "выбыл 01.10.2025" in row
    row = next(line for line in text.splitlines() if "Сидорова Мария Петровна" in line)
    assert "10.07.2012" in row and "ЛД-2" in row and "выбыл" not in row
    journal = "\n".join(_pages(render_journal(content, _meta("journal")).pdf, tmp_path))
    assert "01.03.2026" not in journal and "выбыл 01.10.2025" in journal


def test_every_sheet_of_a_subject_names_the_teacher_who_signs_it(journal, tmp_path):
    """Seed 000, 4.3: the teacher signs every sheet of their subject."""
    archive, _info, docs = journal
    _doc, pdf = export_document(archive, docs["journal"].id)
    pages = _pages(pdf, tmp_path)
    algebra = [p for p in pages if p.lstrip().startswith("Алгебра")]
    assert len(algebra) >= 2
    for page in algebra:
        assert "Лист подписывает электронной подписью учитель: Смирнова Ольга Николаевна" in \
            " ".join(page.split())
    fields = [f for f in docs["journal"].steps if f["signer"] == "Смирнова Ольга Николаевна"]
    assert len(fields) == 1  # one signature per teacher, named on each of their sheets
    assert f"штамп подписи — лист {fields[0]['page'] + 1}" in " ".join(algebra[0].split())
