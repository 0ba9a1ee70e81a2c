"""Property: whatever the cells of a workbook hold, the spreadsheet importer reads it or
refuses it with located problems; it never fails in another way (a crash would lose the
person's whole upload without a word)."""

from __future__ import annotations

import datetime as dt
import re
from copy import deepcopy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_service.errors import ImportRejectedError
from archive_service.journals.sheet_import import parse_sheets
from archive_service.journals.sheets import Sheet
from archive_service.journals.validate import normalise_lookalikes, validate_document
from tests.journals.corpus.make_corpus import clean_book

BOOK = clean_book()
VALUES = st.one_of(
    st.none(), st.integers(-5, 80000), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.sampled_from(["", " ", "№", "ФИО", "Дата", "Предмет", "Класс", "Год", "1 четверть",
                     "Сентябрь", "н", "Н/Б", "4,5", "5-", "зач", "не зачтено", "4/5", "о/5",
                     "02.09", "31.02", "45901", "7A", "7D", "Ивaнов", "=1+1", "\x00",
                     "Средний балл", "Иванов Иван Иванович", "ЛД-1", "Лист"]),
    st.text(max_size=12))


def _parse(book) -> None:
    sheets = [Sheet(s["title"], [tuple(r) for r in s["rows"]], (0, 0), s["hidden"])
              for s in book]
    try:
        doc = parse_sheets(sheets, "fuzz.xlsx", "xlsx")
        problems = normalise_lookalikes(doc) or validate_document(doc)
    except ImportRejectedError as exc:
        problems = exc.problems
        assert problems
    for p in problems:  # every message in Russian, with its place in the file
        assert p.file == "fuzz.xlsx" and re.search("[а-яё]", p.message, re.I), p


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40), st.integers(0, 8), VALUES),
                max_size=12),
       st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40)), max_size=3))
def test_any_cells_are_read_or_refused_with_their_place(changes, blank_rows):
    book = deepcopy(BOOK)
    for s, r, c, v in changes:
        rows = book[s]["rows"]
        while len(rows) <= r:
            rows.append([])
        row = rows[r]
        row.extend([None] * (c + 1 - len(row)))
        row[c] = v
    for s, r in blank_rows:
        book[s]["rows"].insert(min(r, len(book[s]["rows"])), [])
    _parse(book)


@settings(max_examples=500, deadline=None)
@given(st.one_of(VALUES, st.text(alphabet="нНбБуУпПоОзачё/,.;+-−–45 \t", max_size=10)))
def test_a_grid_cell_is_read_or_refused_in_russian(value):
    from archive_service.journals.values import parse_grid_cell, parse_period_mark

    for parse in (parse_grid_cell, parse_period_mark):
        try:
            parse(value)
        except ValueError as exc:
            assert re.search("[а-яё]", str(exc), re.I), exc
