"""Unit tests of the pure normalisation functions."""

import datetime as dt
import re

import pytest

from archive_service.journals import values as v


def test_clean_collapses_spaces_and_no_break_spaces():
    assert v.clean("  Иванов\u00a0 Иван  ") == "Иванов Иван"
    assert v.clean("   ") is None


def test_name_key_reads_yo_as_ye_and_ignores_case():
    assert v.name_key("Пётр  СЁМИН") == v.name_key("петр семин")


@pytest.mark.parametrize("raw,expected", [
    ("5", ("5", "5", "5")), (" 4 ", ("4", "4", "5")), ("Зачёт", ("Зачёт", "зач", "зачёт")),
    ("незач", ("незач", "незач", "зачёт")),
])
def test_parse_mark(raw, expected):
    assert v.parse_mark(raw) == expected


@pytest.mark.parametrize("raw", ["6", "0", "5++", "+", "отл"])
def test_parse_mark_outside_scale_names_the_value(raw):
    with pytest.raises(ValueError, match=re.escape(f"«{raw}» вне шкалы")):
        v.parse_mark(raw)


@pytest.mark.parametrize("raw,code", [("н", "Н"), ("Н", "Н"), ("б", "Б"), ("у", "У"),
                                      ("О", "О"), ("H", "Н")])
def test_attendance_codes_in_either_case_keep_the_raw(raw, code):
    assert v.parse_attendance(raw) == (raw, code)


def test_grid_cell_with_two_marks_and_attendance():
    assert v.parse_grid_cell("4/5") == (None, (("4", "4", "5"), ("5", "5", "5")))
    assert v.parse_grid_cell("о 5") == (("о", "О"), (("5", "5", "5"),))
    assert v.parse_grid_cell(None) == (None, ())
    with pytest.raises(ValueError, match="два кода посещаемости"):
        v.parse_grid_cell("н/у")


@pytest.mark.parametrize("raw,code", [
    ("Н", "Н"), ("нб", "Н"), ("НБ", "Н"), ("Н/Б", "Н"), ("н/б", "Н"), ("Н / Б", "Н"),
    ("Б", "Б"), ("б", "Б"), ("УП", "У"), ("уп", "У"), ("У", "У"), ("ОП", "О"), ("о", "О"),
    ("О", "О"), ("HБ", "Н"), ("O", "О"), ("Y", "У")])
def test_the_e_journals_attendance_spellings(raw, code):
    """The codes of seed 000 and what e-journals write for them, in either case, Latin
    look-alikes read as Cyrillic; the raw spelling is kept."""
    att, marks = v.parse_grid_cell(raw)
    assert att == (raw.replace(" ", ""), code) and marks == ()


def test_a_school_extends_the_attendance_table():
    extra = (("ПР", "Н"), ("сп", "У"))
    assert v.parse_grid_cell("пр", extra)[0] == ("пр", "Н")
    assert v.parse_grid_cell("СП/5", extra) == (("СП", "У"), (("5", "5", "5"),))
    with pytest.raises(ValueError, match="неизвестный код посещаемости или отметка «пр»"):
        v.parse_grid_cell("пр")


@pytest.mark.parametrize("raw,marks", [
    ("5-", [("5-", "5")]), ("4+", [("4+", "4")]), ("3 −", [("3−", "3")]),
    ("5/4", [("5", "5"), ("4", "4")]), ("4, 5", [("4", "4"), ("5", "5")]),
    ("зачтено", [("зачтено", "зач")]), ("не зачтено", [("незачтено", "незач")]),
    ("о/5+", [("5+", "5")])])
def test_marks_with_signs_fractions_and_words(raw, marks):
    assert [(m[0], m[1]) for m in v.parse_grid_cell(raw)[1]] == marks


@pytest.mark.parametrize("raw", ["4,5", "4.5", "3,5", 4.5])
def test_a_mark_that_reads_two_ways_is_refused_naming_both(raw):
    with pytest.raises(ValueError, match="читается двояко: две отметки .* или дробное число"):
        v.parse_grid_cell(raw)


def test_a_period_mark_takes_no_sign():
    with pytest.raises(ValueError, match="без «\\+» и «-»"):
        v.parse_period_mark("5-")
    with pytest.raises(ValueError, match="читается двояко"):
        v.parse_period_mark("4,5")


def test_excel_day_numbers_and_other_date_spellings():
    start = dt.date(2025, 9, 1)
    assert v.parse_date(45901) == dt.date(2025, 9, 1)
    assert v.parse_date(45901.0) == dt.date(2025, 9, 1)
    assert v.parse_date("45901") == dt.date(2025, 9, 1)
    assert v.parse_date("2025-09-01 00:00:00") == dt.date(2025, 9, 1)
    assert v.parse_date("01/09/2025") == dt.date(2025, 9, 1)
    assert v.parse_date("1-9-25") == dt.date(2025, 9, 1)
    assert v.parse_date("15/01", year_start=start) == dt.date(2026, 1, 15)
    for wrong in (5, 1.5, "01.09/2025"):
        with pytest.raises(ValueError):
            v.parse_date(wrong)
    assert v.month_of("Сентябрь 2025") == 9 and v.month_of("окт.") == 10
    assert v.month_of("Алгебра") is None


def test_lookalike_letters():
    assert v.class_name("5A") == "5А" and v.class_name("10 b") == "10В"
    with pytest.raises(ValueError, match="латинская буква «D»"):
        v.class_name("5D")
    assert v.cyrillic("Ивaнов Иван", "ФИО") == "Иванов Иван"  # a Latin «a»
    assert v.cyrillic("John Smith", "ФИО") == "John Smith"  # a foreign name stays
    with pytest.raises(ValueError, match="латинская буква «n»"):
        v.cyrillic("Иваnов Иван", "ФИО")
    assert v.lookalike_note("Ивaнов", "Иванов") == (
        "«Ивaнов» записано с латинскими буквами (a): прочитано как «Иванов»")


@pytest.mark.parametrize("raw,value", [("5", "5"), ("н/а", "н/а"), ("Н/А", "н/а"),
                                       ("осв.", "осв"), ("зач", "зач")])
def test_period_marks(raw, value):
    assert v.parse_period_mark(raw)[1] == value


def test_dates_as_text_take_the_academic_year():
    start = dt.date(2025, 9, 1)
    assert v.parse_date("15.10", year_start=start) == dt.date(2025, 10, 15)
    assert v.parse_date("15.01", year_start=start) == dt.date(2026, 1, 15)
    assert v.parse_date("15.01.2026") == dt.date(2026, 1, 15)
    assert v.parse_date(dt.datetime(2026, 1, 15, 0, 0)) == dt.date(2026, 1, 15)
    with pytest.raises(ValueError, match="не удалось прочитать дату «31.02»"):
        v.parse_date("31.02", year_start=start)


@pytest.mark.parametrize("text,code", [("1 четверть", "Q1"), ("I четв.", "Q1"),
                                       ("2 полугодие", "H2"), ("3 триместр", "T3"),
                                       ("Q4", "Q4"), ("Год", "Y"), ("1-я четверть", "Q1"),
                                       ("Вторая четверть", "Q2"), ("первое полугодие", "H1"),
                                       ("III триместр", "T3")])
def test_parse_period(text, code):
    assert v.parse_period(text) == code


def test_weights_and_grades():
    assert v.parse_weight("1,5") == "1.5"
    assert v.parse_weight(2) == "2"
    assert v.grade_of("10Б") == 10
    with pytest.raises(ValueError):
        v.grade_of("12А")



@pytest.mark.parametrize("raw", ["²", "¹²", "⁵", "²⁰.⁰⁹"])
def test_digits_that_are_not_ascii_are_refused_in_russian(raw):
    """'²'.isdigit() is true and int('²') fails: a date cell must say so in Russian."""
    from archive_service.journals.values import parse_date

    with pytest.raises(ValueError, match="[а-яё]"):
        parse_date(raw, year_start=2025)


def test_a_refusal_not_in_russian_names_the_value():
    from archive_service.journals.values import refusal

    assert refusal(ValueError("invalid literal for int()"), "²") == "значение «²» не прочитано"
    assert refusal(ValueError("не указана дата"), None) == "не указана дата"
    assert refusal(ValueError("x"), "я" * 100).endswith("…» не прочитано")


def test_no_number_is_read_with_a_bare_isdigit():
    """str.isdigit() admits '²' and '٣'; int() refuses the first: every check of typed digits
    also asks isascii() (or compares with '0'-'9')."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    bare = [f"{path.relative_to(root)}:{n}" for folder in ("archive_service", "cli")
            for path in sorted((root / folder).rglob("*.py"))
            for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
            if ".isdigit()" in line and not re.search(r"isascii\(\) and", line)]
    assert bare == []
