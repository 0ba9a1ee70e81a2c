"""The upload page: exports imported through the web, each file all-or-nothing (SQLite)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from archive_service.accounts.service import create_account
from tests.support.journal import tiny, write_workbooks
from tests.support.state import archive_state
from tests.web.conftest import ACTOR, PASSWORD, flashes, fresh_app, login, post


@pytest.fixture
def app(sqlite_archive):
    return fresh_app(sqlite_archive), sqlite_archive


def _json(doc=None) -> bytes:
    return json.dumps(doc or tiny(), ensure_ascii=False).encode()


def _zip(members: dict[str, bytes], *, utf8: bool = True) -> bytes:
    """A zip; ``utf8=False``: names as Russian Windows writes them (CP866 bytes, no UTF-8
    flag), made by writing ASCII stand-ins of the same length and patching their bytes."""
    out = io.BytesIO()
    names = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, data) in enumerate(members.items()):
            stand_in = f"Q{i}".ljust(len(name.encode("cp866")), "Z")
            names[stand_in.encode()] = name.encode("cp866")
            zf.writestr(name if utf8 else stand_in, data)
    raw = out.getvalue()
    for stand_in, real in names.items():
        if not utf8:
            raw = raw.replace(stand_in, real)
    return raw


def _upload(client, *files):
    return post(client, "/imports", {"files": [(io.BytesIO(d), n) for n, d in files]},
                page="/imports", content_type="multipart/form-data")


def _rows(html: str) -> list[str]:
    import re

    html = re.sub(r'<h2 id="codes">.*?</form>', "", html, flags=re.S)  # the codes table
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr><td>.*?</tr>", html, re.S)]


def test_files_and_a_zip_are_imported_each_all_or_nothing_and_a_repeat_changes_nothing(
        app, tmp_path):
    app, archive = app
    admin = login(app, "admin")
    [q1] = write_workbooks(tiny(), tmp_path)
    answer = _upload(admin, ("7А.json", _json()), (q1.name, q1.read_bytes()))
    assert answer.status_code == 200
    rows = _rows(answer.get_data(as_text=True))
    assert rows[0].startswith("7А.json принят, сохранено Классы 7А; в файле: классов 1, "
                              "учеников 3, уроков 4, отметок 5, отметок посещаемости 3, "
                              "итоговых отметок 4."), rows[0]
    assert rows[1].startswith(f"{q1.name} без изменений: уже загружен"), rows[1]
    before = archive_state(archive)
    again = _upload(admin, ("снова.zip", _zip({"папка/7А.json": _json(),
                                               "__MACOSX/._7А.json": b"junk",
                                               "прочти.txt": b"hello"}, utf8=False)))
    rows = _rows(again.get_data(as_text=True))
    assert rows[0].startswith("снова.zip/7А.json без изменений: уже загружен"), rows
    assert rows[1].startswith("снова.zip/прочти.txt не принят, ничего не сохранено"), rows
    assert "не выгрузка журнала" in rows[1] and len(rows) == 2 + 1  # + one recent import
    assert archive_state(archive) == before  # an unchanged import leaves no trace at all
    page = admin.get("/imports").get_data(as_text=True)
    assert "Админ Админов (admin)" in page and "7А.json" in page  # who loaded it


def test_a_bad_file_is_refused_naming_every_problem_and_stores_nothing(app):
    app, archive = app
    admin = login(app, "admin")
    broken = tiny()
    broken["classes"][0]["courses"][0]["lessons"][0]["marks"][0]["raw"] = "7"
    dated = tiny()
    dated["classes"][0]["courses"][0]["lessons"][1]["date"] = "2025-13-04"
    other = tiny()
    other["school"]["code"] = "T-999"
    before = archive_state(archive)
    answer = _upload(admin, ("плохой.json", _json(broken)), ("дата.json", _json(dated)),
                     ("чужой.json", _json(other)), ("не то.pdf", b"%PDF-1.7"))
    assert answer.status_code == 422  # nothing of it was accepted
    html = answer.get_data(as_text=True)
    rows = _rows(html)
    assert all("не принят, ничего не сохранено" in r for r in rows[:4]), rows
    assert "classes[0].courses[0].lessons[0].marks[0]" in rows[0] and "«7»" in rows[0]
    assert "classes[0].courses[0].lessons[1].date" in rows[1] and "2025-13-04" in rows[1]
    assert "школе с кодом T-999" in rows[2] and "T-001" in rows[2]
    assert "это документ PDF, а не выгрузка журнала" in rows[3] and ".csv" in rows[3]
    assert archive_state(archive) == before


def test_zips_are_bounded(app, monkeypatch):
    from archive_service.journals import uploads

    app, archive = app
    admin = login(app, "admin")
    monkeypatch.setattr(uploads, "MAX_FILE", 1000)
    before = archive_state(archive)
    rows = _rows(_upload(admin, ("большой.zip", _zip({"7А.json": _json()}))).get_data(
        as_text=True))
    assert "распаковывается в" in rows[0] and "МиБ" in rows[0]
    rows = _rows(_upload(admin, ("двойной.zip", _zip({"внутри.zip": _zip({})}))).get_data(
        as_text=True))
    assert "архив внутри архива" in rows[0]
    rows = _rows(_upload(admin, ("битый.zip", b"PK\x03\x04 not really")).get_data(
        as_text=True))
    assert "архив zip повреждён" in rows[0]
    assert archive_state(archive) == before


def test_only_administrators_and_deputies_upload(app):
    app, archive = app
    create_account(archive, school_code="T-001", login="teacher", full_name="Учитель",
                   password=PASSWORD, roles=[("teacher", "")], actor=ACTOR)
    create_account(archive, school_code="T-001", login="zam", full_name="Заместитель",
                   password=PASSWORD, roles=[("deputy", "")], actor=ACTOR)
    teacher = login(app, "teacher")
    assert teacher.get("/imports").status_code == 403
    assert _upload(teacher, ("7А.json", _json())).status_code == 403
    deputy = login(app, "zam")
    assert _upload(deputy, ("7А.json", _json())).status_code == 200
    assert post(deputy, "/imports", {}, page="/imports").status_code == 400


def test_a_school_adds_its_own_attendance_spelling_and_its_export_then_imports(app, tmp_path):
    """«ПР» is no built-in spelling: the file is refused naming the cell; the deputy adds
    «ПР» → Н on the page (audited), the same file imports and reads «ПР» as Н."""
    from openpyxl import load_workbook

    from tests.support.journal import write_workbooks

    app, archive = app
    [book] = write_workbooks(tiny(), tmp_path)
    wb = load_workbook(book)
    cell = next(c for row in wb["Алгебра"].iter_rows() for c in row if c.value == "н")
    cell.value = "ПР"
    wb.save(book)
    admin = login(app, "admin")
    refused = _upload(admin, (book.name, book.read_bytes()))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f"ячейка {cell.coordinate}" in html and "неизвестный код посещаемости или отметка «ПР»" in html
    for bad, says in (({"spelling": "5", "code": "Н"}, "от 1 до 10 букв"),
                      ({"spelling": "ПР", "code": "Ж"}, "Код посещаемости: Б"),
                      ({"spelling": "НБ", "code": "Б"}, "уже читается как Н")):
        assert post(admin, "/imports/codes", bad, page="/imports").status_code == 303
        assert says in flashes(admin, "/imports"), bad
    post(admin, "/imports/codes", {"spelling": "пр", "code": "Н"}, page="/imports")
    page = admin.get("/imports").get_data(as_text=True)
    assert "Написание «ПР» теперь читается как Н." in page and "своё написание школы" in page
    accepted = _upload(admin, (book.name, book.read_bytes()))
    assert "принят, сохранено" in accepted.get_data(as_text=True)
    from archive_service.journals.codes import school_codes

    assert school_codes(archive, "T-001") == (("ПР", "Н"),)
    post(admin, "/imports/codes/remove", {"spelling": "ПР"}, page="/imports")
    assert school_codes(archive, "T-001") == ()


def test_the_page_says_what_was_read_with_a_correction(app):
    """Latin look-alike letters and a hidden helper sheet: accepted, and the page says how
    they were read (nothing silent)."""
    from pathlib import Path

    app, _archive = app
    corpus = Path(__file__).parent / "corpus"
    admin = login(app, "admin")
    page = _upload(admin, *[(n, (corpus / n).read_bytes()) for n in (
        "lookalike-letters.xlsx", "helper-sheets.xlsx")]).get_data(as_text=True)
    assert page.count("принят, сохранено") + page.count("без изменений") == 2
    assert "Прочитано с поправкой: лист «Класс», ячейка B10: класс «7A» записан с латинскими " \
           "буквами: прочитан как «7А»" in page
    assert "скрытый лист «Справочник» пропущен" in page
