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


@pytest.mark.parametrize("raw", ["6", "0", "5+", "отл"])
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
        v.parse_grid_cell("н/б")


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
                                       ("Q4", "Q4"), ("Год", "Y")])
def test_parse_period(text, code):
    assert v.parse_period(text) == code


def test_weights_and_grades():
    assert v.parse_weight("1,5") == "1.5"
    assert v.parse_weight(2) == "2"
    assert v.grade_of("10Б") == 10
    with pytest.raises(ValueError):
        v.grade_of("12А")
