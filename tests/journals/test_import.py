"""Import: all-or-nothing per file, idempotent, clear errors; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from archive_service.actors import Actor
from archive_service.errors import ImportRejectedError
from archive_service.journals.service import import_file
from tests.support.journal import tiny, write_json, write_workbooks
from tests.support.state import archive_state

ACTOR = Actor("Секретарь Тестовая")


def _import(archive, path: Path):
    return import_file(archive, path, actor=ACTOR)


def test_json_import_then_same_file_again_changes_nothing(archive, tmp_path):
    path = write_json(tiny(), tmp_path / "7А.json")
    first = _import(archive, path)
    assert first.changed and first.counts["journal"] == 1
    before = archive_state(archive)
    second = _import(archive, path)
    assert not second.changed and second.counts == {}
    assert archive_state(archive) == before


def test_spreadsheet_import_twice_changes_nothing(archive, tmp_path):
    [book] = write_workbooks(tiny(), tmp_path)
    assert _import(archive, book).changed
    before = archive_state(archive)
    assert not _import(archive, book).changed
    assert archive_state(archive) == before


def test_json_then_spreadsheet_of_same_content_changes_nothing(archive, tmp_path):
    doc = tiny()
    _import(archive, write_json(doc, tmp_path / "7А.json"))
    before = archive_state(archive)
    [book] = write_workbooks(doc, tmp_path)
    result = _import(archive, book)
    assert not result.changed, result.counts
    assert archive_state(archive) == before


def test_corrected_file_replaces_only_its_period(archive, tmp_path):
    doc = tiny()
    _import(archive, write_json(doc, tmp_path / "q1.json"))
    doc["classes"][0]["courses"][0]["lessons"][0]["marks"][0]["raw"] = "3"
    result = _import(archive, write_json(doc, tmp_path / "q1-fixed.json"))
    assert result.changed and result.counts == {"journal": 1}


def _expect_rejected(archive, path: Path, *fragments: str) -> ImportRejectedError:
    before = archive_state(archive)
    with pytest.raises(ImportRejectedError) as info:
        _import(archive, path)
    message = info.value.message
    for fragment in fragments:
        assert fragment in message, message
    assert "Ничего из этого файла не сохранено" in message
    assert archive_state(archive) == before, "a rejected file must leave nothing behind"
    return info.value


@pytest.fixture
def loaded(archive, tmp_path):
    """An archive that already holds the tiny journal (so 'unchanged' is meaningful)."""
    _import(archive, write_json(tiny(), tmp_path / "base.json"))
    return archive


# --- the rejected inputs of the spine issue, in JSON -------------------------------------

def test_json_mark_outside_scale(loaded, tmp_path):
    doc = tiny()
    doc["classes"][0]["courses"][0]["lessons"][0]["marks"][0]["raw"] = "6"
    _expect_rejected(loaded, write_json(doc, tmp_path / "bad.json"), "bad.json",
                     "classes[0].courses[0].lessons[0].marks[0]", "«6» вне шкалы")


def test_json_marks_in_grade_one(loaded, tmp_path):
    doc = tiny()
    doc["classes"][0].update(name="1А", grade=1)
    _expect_rejected(loaded, write_json(doc, tmp_path / "g1.json"),
                     "в 1 классе отметки не ставятся", "classes[0].courses[0].lessons[0].marks[0]")


def test_json_lesson_outside_period(loaded, tmp_path):
    doc = tiny()
    doc["classes"][0]["courses"][0]["lessons"][0]["date"] = "2025-11-10"
    _expect_rejected(loaded, write_json(doc, tmp_path / "late.json"),
                     "дата урока 10.11.2025 вне периода (1 четверть)",
                     "classes[0].courses[0].lessons[0]")


def test_json_marks_and_absences_only_while_the_student_is_in_the_class(loaded, tmp_path):
    """Seed 002/DOMAIN: a student who joined or left has marks only for their days in the
    class; a mark before joining or an absence after leaving is refused, naming both
    dates. The day of joining and the day of leaving are in the class."""
    doc = tiny()
    doc["classes"][0]["students"][1]["joined"] = "2025-09-03"  # ЛД-2 has marks on 02.09
    doc["classes"][0]["courses"][0]["lessons"][2]["attendance"].append(
        {"student": "ЛД-3", "code": "н"})  # 20.10, ЛД-3 left 01.10
    rejected = _expect_rejected(
        loaded, write_json(doc, tmp_path / "dates.json"),
        "classes[0].courses[0].lessons[0].marks[1]: «Алгебра»: ученик «Сидорова Мария "
        "Петровна» прибыл в класс 03.09.2025, а отметка «4» стоит за 02.09.2025",
        "classes[0].courses[0].lessons[2].attendance[1]: «Алгебра»: ученик «Кузнецов Пётр "
        "Олегович» выбыл из класса 01.10.2025, а отметка посещаемости «н» стоит за "
        "20.10.2025")
    assert len(rejected.problems) == 3  # both marks of 02.09 and the absence
    on_the_days = tiny()
    on_the_days["classes"][0]["students"][0]["joined"] = "2025-09-02"
    on_the_days["classes"][0]["students"][2]["left"] = "2025-09-04"
    assert _import(loaded, write_json(on_the_days, tmp_path / "days.json")).changed


def test_json_student_twice(loaded, tmp_path):
    doc = tiny()
    students = doc["classes"][0]["students"]
    students.append(dict(students[0], record_number="ЛД-9"))
    _expect_rejected(loaded, write_json(doc, tmp_path / "twice.json"),
                     "ученик «Иванов Иван Иванович» указан в списке класса дважды",
                     "classes[0].students[3]")


def test_json_mark_for_unknown_student(loaded, tmp_path):
    doc = tiny()
    doc["classes"][0]["courses"][0]["lessons"][0]["marks"][0]["student"] = "ЛД-404"
    _expect_rejected(loaded, write_json(doc, tmp_path / "who.json"),
                     "ученика «ЛД-404» нет в списке класса 7А")


def test_json_unreadable(loaded, tmp_path):
    path = tmp_path / "broken.json"
    path.write_bytes(b'{"format": "school-journal/1", "school": ')
    _expect_rejected(loaded, path, "broken.json", "не читается как JSON")


def test_json_schema_errors_name_the_field(loaded, tmp_path):
    doc = tiny()
    del doc["classes"][0]["students"][1]["record_number"]
    doc["classes"][0]["courses"][0]["lessons"][1]["date"] = "2025-13-01"
    error = _expect_rejected(loaded, write_json(doc, tmp_path / "schema.json"),
                             "classes[0].students[1]", "нет обязательного поля «record_number»",
                             "classes[0].courses[0].lessons[1].date")
    assert len(error.problems) == 2


def test_period_mark_for_student_not_yet_enrolled(loaded, tmp_path):
    doc = tiny()
    doc["classes"][0]["students"][1]["joined"] = "2025-11-01"
    _expect_rejected(loaded, write_json(doc, tmp_path / "pm.json"),
                     "в этом периоде он не учился в классе")


def test_changed_year_dates_are_refused(loaded, tmp_path):
    doc = tiny()
    doc["academic_year"]["end"] = "2026-05-31"
    _expect_rejected(loaded, write_json(doc, tmp_path / "cal.json"),
                     "даты учебного года 2025-2026 в файле")


# --- the same in the spreadsheet layout ---------------------------------------------------

def _edit(book: Path, sheet: str, find, new_value) -> Path:
    wb = load_workbook(book)
    ws = wb[sheet]
    for row in ws.iter_rows():
        for cell in row:
            if find(cell):
                cell.value = new_value
                wb.save(book)
                return book
    raise AssertionError("cell not found")


def _book(tmp_path: Path, doc=None) -> Path:
    [book] = write_workbooks(doc or tiny(), tmp_path / "books")
    return book


def test_xlsx_mark_outside_scale(loaded, tmp_path):
    book = _edit(_book(tmp_path), "Алгебра", lambda c: c.value == "5" and c.column > 2, "7")
    _expect_rejected(loaded, book, "7А_Q1.xlsx", "лист «Алгебра», ячейка C5",
                     "«7» вне шкалы")


def test_xlsx_marks_in_grade_one(loaded, tmp_path):
    book = _edit(_book(tmp_path), "Класс", lambda c: c.value == "7А", "1А")
    _expect_rejected(loaded, book, "в 1 классе отметки не ставятся", "лист «Алгебра»")


def test_xlsx_lesson_outside_period(loaded, tmp_path):
    book = _edit(_book(tmp_path), "Алгебра", lambda c: c.value == "04.09" or (
        c.value == "04.09.2025"), "12.11.2025")
    _expect_rejected(loaded, book, "вне периода (1 четверть)")


def test_xlsx_student_twice_in_grid(loaded, tmp_path):
    book = _edit(_book(tmp_path), "Алгебра", lambda c: c.value == "Сидорова Мария Петровна",
                 "Иванов Иван Иванович")
    _expect_rejected(loaded, book, "ученик «Иванов Иван Иванович» встречается в сетке дважды")


def test_xlsx_grid_row_for_unknown_student(loaded, tmp_path):
    book = _edit(_book(tmp_path), "Алгебра", lambda c: c.value == "Сидорова Мария Петровна",
                 "Неизвестный Ученик")
    _expect_rejected(loaded, book, "лист «Алгебра», ячейка B7",
                     "ученика «Неизвестный Ученик» нет в списке класса")


def test_xlsx_unreadable(loaded, tmp_path):
    path = tmp_path / "7А_Q2.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    _expect_rejected(loaded, path, "7А_Q2.xlsx", "не читается как книга Excel")


def test_xlsx_tolerates_spaces_yo_and_case(sqlite_archive, tmp_path):
    book = _book(tmp_path)
    _edit(book, "Алгебра", lambda c: c.value == "Кузнецов Пётр Олегович",
          "  кузнецов  Петр Олегович ")
    _edit(book, "Алгебра", lambda c: c.value == "н", "Н ")
    result = _import(sqlite_archive, book)
    assert result.changed


def test_workbook_without_year_dates_then_json_with_them(archive, tmp_path):
    doc = tiny()
    [book] = write_workbooks(doc, tmp_path / "books")
    for label in ("Начало учебного года", "Окончание учебного года"):
        _edit(book, "Класс", lambda c, label=label: c.value == label, None)
    _import(archive, book)  # the year gets the default dates 01.09-31.08, not yet fixed
    result = _import(archive, write_json(doc, tmp_path / "7А.json"))
    assert result.counts.get("academic_year") == 1  # the JSON fixed the real dates
    doc["academic_year"]["end"] = "2026-05-30"
    _expect_rejected(archive, write_json(doc, tmp_path / "other.json"),
                     "даты учебного года 2025-2026 в файле")


def test_a_batch_goes_on_after_a_file_rejected_while_writing(loaded, tmp_path):
    from archive_service.journals.service import import_files

    bad = tiny()
    bad["academic_year"]["start"] = "2025-08-25"  # contradicts the stored calendar
    other = tiny()
    other["classes"][0]["name"] = "7Б"
    paths = [write_json(bad, tmp_path / "bad.json"), write_json(other, tmp_path / "7Б.json")]
    outcomes = list(import_files(loaded, paths, actor=ACTOR))
    assert isinstance(outcomes[0], ImportRejectedError)
    assert "расходятся с уже принятыми" in outcomes[0].message
    assert outcomes[1].changed and outcomes[1].classes == ["7Б"]


@pytest.mark.parametrize("change,says", [
    (lambda d: d["classes"][0]["students"][0].update(birth_date="31.02.2015"),
     'classes[0].students[0].birth_date: "31.02.2015" — не дата в виде ГГГГ-ММ-ДД'),
    (lambda d: d["classes"][0]["students"][0].pop("record_number"),
     "classes[0].students[0]: нет обязательного поля «record_number»"),
    (lambda d: d["classes"][0].update(courses="нет"),
     'classes[0].courses: значение "нет" должно быть: список'),
])
def test_a_json_file_against_the_schema_is_told_in_russian(sqlite_archive, tmp_path, change,
                                                           says):
    doc = tiny()
    change(doc)
    _expect_rejected(sqlite_archive, write_json(doc, tmp_path / "bad.json"), says)


@pytest.mark.parametrize("change,says", [
    (lambda d: d["classes"][0]["students"][0].update(full_name="Иванов " + "И" * 400),
     "ФИО длиннее 300 символов (407): «Иванов ИИИИ"),
    (lambda d: d["classes"][0]["courses"][0]["lessons"][0].update(homework="№ 1" * 5000),
     "тема или домашнее задание длиннее 10000 символов (15000)"),
    (lambda d: d["classes"][0]["courses"][0]["lessons"][0]["marks"][0].update(
        kind_of_work="Ответ" * 50), "вид работы длиннее 200 символов (250)"),
])
def test_a_text_longer_than_its_field_is_refused_with_its_place_and_nothing_is_written(
        archive, tmp_path, change, says):
    """On PostgreSQL a too long value used to fail inside the database (a traceback, not a
    message); on SQLite it went in unchecked."""
    doc = tiny()
    change(doc)
    before = archive_state(archive)
    with pytest.raises(ImportRejectedError) as info:
        import_file(archive, write_json(doc, tmp_path / "длинный.json"), actor=Actor("t"))
    [problem] = info.value.problems
    assert problem.file == "длинный.json" and problem.message.startswith(says)
    assert archive_state(archive) == before
