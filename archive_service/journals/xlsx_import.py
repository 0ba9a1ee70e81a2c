"""Reading the spreadsheet layout that e-journals export (docs/import-format.md).

One workbook per class and period: a sheet «Класс» with the school, year, period, class and
class leader, then the class list; one sheet per subject (or subgroup) with the subject and
teacher at the top, the grid «№ | ФИО | one column per lesson date | period mark columns»
and below it the lesson table «Дата | Тема урока | Домашнее задание [| Вид работы | Вес]».
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from archive_service.errors import ImportRejectedError, Problem
from archive_service.journals.document import (
    AttendanceRec,
    ClassJournal,
    CourseRec,
    JournalDocument,
    LessonRec,
    MarkRec,
    PeriodDef,
    PeriodMarkRec,
    StudentRec,
)
from archive_service.journals.values import (
    PERIOD_SCHEMES,
    clean,
    grade_of,
    name_key,
    parse_date,
    parse_grid_cell,
    parse_period,
    parse_period_mark,
    parse_weight,
    parse_year_column,
    period_kind,
    period_name,
)
from archive_service.journals.values import class_name as norm_class_name

CLASS_SHEET = "класс"
CLASS_FIELDS = {
    "школа": "school_name", "код школы": "school_code", "система": "source_system",
    "система-источник": "source_system", "учебный год": "year",
    "начало учебного года": "year_start", "окончание учебного года": "year_end",
    "период": "period", "начало периода": "period_start", "окончание периода": "period_end",
    "класс": "class", "классный руководитель": "class_leader",
}
STUDENT_COLUMNS = {"№": "n", "фио": "name", "дата рождения": "birth_date",
                   "№ личного дела": "record_number", "прибыл": "joined", "выбыл": "left"}
SUBJECT_FIELDS = {"предмет": "subject", "группа": "subgroup", "подгруппа": "subgroup",
                  "учитель": "teachers", "учителя": "teachers"}
LESSON_COLUMNS = {"дата": "date", "тема урока": "topic", "тема": "topic",
                  "домашнее задание": "homework", "вид работы": "kind_of_work", "вес": "weight"}


def _cell(value: Any) -> Any:
    """A cell as the importer expects it: None for empty, 5 (not 5.0) for whole numbers."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _label(value: Any) -> str:
    return name_key(str(value)).rstrip(":") if value is not None else ""


class _Sheet:
    """Rows of one sheet with helpers that record located problems."""

    def __init__(self, file_name: str, title: str, rows: list[tuple], problems: list[Problem]):
        self.file_name = file_name
        self.title = title
        self.rows = rows
        self.problems = problems

    def at(self, row: int, col: int | None = None) -> str:
        where = f"лист «{self.title}», строка {row + 1}"
        return where + (f", столбец {get_column_letter(col + 1)}" if col is not None else "")

    def bad(self, message: str, row: int | None = None, col: int | None = None) -> None:
        at = self.at(row, col) if row is not None else f"лист «{self.title}»"
        self.problems.append(Problem(self.file_name, message, at))

    def cell(self, row: int, col: int) -> Any:
        r = self.rows[row] if row < len(self.rows) else ()
        return r[col] if col < len(r) else None

    def read(self, fn: Callable, value: Any, row: int, col: int, **kw) -> Any:
        try:
            return fn(value, **kw)
        except ValueError as exc:
            self.bad(str(exc), row, col)
            return None

    def key_values(self, fields: dict[str, str]) -> tuple[dict[str, tuple[Any, int]], int]:
        """Label/value rows at the top, up to the first table header (a row starting «№»)."""
        found: dict[str, tuple[Any, int]] = {}
        for i, row in enumerate(self.rows):
            label = _label(row[0] if row else None)
            if label in ("№", "дата"):
                return found, i
            if label in fields:
                found[fields[label]] = (row[1] if len(row) > 1 else None, i)
        return found, len(self.rows)

    def header(self, start: int, first: str) -> int | None:
        for i in range(start, len(self.rows)):
            if _label(self.cell(i, 0)) == first:
                return i
        return None


def parse_xlsx(data: bytes, file_name: str) -> JournalDocument:
    """Parse a class workbook for one period; raises ImportRejectedError listing every problem."""
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [(name, [tuple(_cell(v) for v in r)
                          for r in wb.get_sheet_by_name(name).to_python()])
                  for name in wb.sheet_names]
    except Exception as exc:  # a damaged file fails in many ways inside the reader
        raise ImportRejectedError(file_name, [Problem(
            file_name, f"файл не читается как книга Excel (.xlsx): {type(exc).__name__}: {exc}"
        )]) from None
    problems: list[Problem] = []
    class_sheets = [(t, r) for t, r in sheets if name_key(t) == CLASS_SHEET]
    if not class_sheets:
        raise ImportRejectedError(file_name, [Problem(
            file_name, "в книге нет листа «Класс» со сведениями о классе и списком учеников")])
    head = _Sheet(file_name, *class_sheets[0], problems)
    info, table_row = head.key_values(CLASS_FIELDS)

    def need(key: str, label: str) -> Any:
        if key not in info or clean(info[key][0]) is None and not isinstance(info[key][0], dt.date):
            head.bad(f"не заполнено поле «{label}»")
            return None
        return info[key][0]

    def info_date(key: str, year_start: dt.date | None = None) -> dt.date | None:
        value, row = info[key]
        return head.read(parse_date, value, row, 1, year_start=year_start)

    school_name, school_code = need("school_name", "Школа"), need("school_code", "Код школы")
    year_label = clean(need("year", "Учебный год"))
    raw_class = need("class", "Класс")
    raw_period = need("period", "Период")
    for key, label in (("period_start", "Начало периода"), ("period_end", "Окончание периода")):
        need(key, label)
    if problems:
        raise ImportRejectedError(file_name, problems)
    if not re.fullmatch(r"\d{4}-\d{4}", year_label or ""):
        head.bad(f"учебный год «{year_label}» записан не в виде «2025-2026»", info["year"][1], 1)
        raise ImportRejectedError(file_name, problems)
    first_year = int(year_label[:4])
    year_dates_given = "year_start" in info and "year_end" in info
    year_start = info_date("year_start") if "year_start" in info else dt.date(first_year, 9, 1)
    year_end = info_date("year_end") if "year_end" in info else dt.date(first_year + 1, 8, 31)
    period = head.read(parse_period, raw_period, info["period"][1], 1)
    p_start = info_date("period_start", dt.date(first_year, 9, 1))
    p_end = info_date("period_end", dt.date(first_year, 9, 1))
    cname = head.read(norm_class_name, raw_class, info["class"][1], 1)
    grade = head.read(grade_of, cname, info["class"][1], 1) if cname else None
    if problems or period == "Y":
        if period == "Y":
            head.bad("книга относится к одному периоду (четверти, полугодию, триместру); "
                     "годовые отметки ставятся в книге последнего периода", info["period"][1], 1)
        raise ImportRejectedError(file_name, problems)

    students = _students(head, table_row)
    by_name = {name_key(s.full_name): s for s in students}
    year_marks = False
    courses = []
    for title, rows in sheets:
        if name_key(title) == CLASS_SHEET:
            continue
        sheet = _Sheet(file_name, title, rows, problems)
        course, has_year = _course(sheet, by_name, period, year_start)
        year_marks = year_marks or has_year
        if course:
            courses.append(course)
    scheme = PERIOD_SCHEMES[period_kind(period)]
    periods = [PeriodDef(period, period_name(period), p_start, p_end)]
    if year_dates_given or year_marks:
        periods.append(PeriodDef("Y", period_name("Y"), year_start, year_end))
    if problems:
        raise ImportRejectedError(file_name, problems)
    return JournalDocument(
        file_name=file_name, file_format="xlsx", school_code=clean(school_code),
        school_name=clean(school_name),
        source_system=clean(info.get("source_system", (None,))[0]),
        year_label=year_label, year_start=year_start, year_end=year_end, periods=periods,
        covers=[period], covers_year_marks=year_marks, staff=[],
        classes=[ClassJournal(cname, grade, scheme, clean(info.get("class_leader", (None,))[0]),
                              students, courses, where="лист «Класс»")],
        year_dates_given=year_dates_given,
    )


def _columns(sheet: _Sheet, row: int, known: dict[str, str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for c, v in enumerate(sheet.rows[row]):
        label = _label(v)
        if label in known:
            cols[known[label]] = c
        elif label:
            sheet.bad(f"неизвестный столбец «{clean(v)}»", row, c)
    return cols


def _students(sheet: _Sheet, header: int) -> list[StudentRec]:
    if header >= len(sheet.rows):
        sheet.bad("нет таблицы учеников (строка заголовков «№ | ФИО | Дата рождения | "
                  "№ личного дела | Выбыл»)")
        return []
    cols = _columns(sheet, header, STUDENT_COLUMNS)
    for need, label in (("name", "ФИО"), ("record_number", "№ личного дела")):
        if need not in cols:
            sheet.bad(f"в таблице учеников нет столбца «{label}»", header)
    if "name" not in cols or "record_number" not in cols:
        return []
    out: list[StudentRec] = []
    for i in range(header + 1, len(sheet.rows)):
        name = clean(sheet.cell(i, cols["name"]))
        if name is None:
            if all(clean(v) is None for v in sheet.rows[i]):
                break
            sheet.bad("не заполнено ФИО", i, cols["name"])
            continue
        number = clean(sheet.cell(i, cols["record_number"]))
        if number is None:
            sheet.bad(f"у ученика «{name}» не заполнен № личного дела", i, cols["record_number"])
            continue
        dates = {}
        for key in ("birth_date", "joined", "left"):
            v = sheet.cell(i, cols[key]) if key in cols else None
            dates[key] = sheet.read(parse_date, v, i, cols[key]) if clean(v) or isinstance(
                v, dt.date) else None
        out.append(StudentRec(number, name, dates["birth_date"], dates["joined"], dates["left"],
                              where=sheet.at(i)))
    return out


def _course(sheet: _Sheet, by_name: dict[str, StudentRec], period: str,
            year_start: dt.date) -> tuple[CourseRec | None, bool]:
    info, grid = sheet.key_values(SUBJECT_FIELDS)
    subject = clean(info.get("subject", (None,))[0])
    teachers = [t for t in (clean(x) for x in re.split(r"[;,]", str(
        info.get("teachers", ("",))[0] or ""))) if t]
    if subject is None:
        sheet.bad("не заполнено поле «Предмет»")
    if not teachers:
        sheet.bad("не заполнено поле «Учитель»")
    if grid >= len(sheet.rows) or _label(sheet.cell(grid, 0)) != "№":
        sheet.bad("нет сетки отметок (строка заголовков «№ | ФИО | даты уроков | итоговые»)")
        return None, False
    subgroup = clean(info.get("subgroup", (None,))[0]) or ""
    # Grid header: lesson dates, then period mark columns.
    date_cols: list[tuple[int, dt.date, int]] = []  # column, date, number on that date
    mark_cols: list[tuple[int, str, str]] = []  # column, period, kind
    per_day: dict[dt.date, int] = {}
    for c, v in enumerate(sheet.rows[grid]):
        if c < 2 or (v is None or clean(v) is None) and not isinstance(v, dt.date):
            continue
        kind = parse_year_column(v)
        if kind:
            mark_cols.append((c, "Y", kind))
            continue
        try:
            day = parse_date(v, year_start=year_start)
        except ValueError:
            code = sheet.read(parse_period, v, grid, c)
            if code is not None and code != period:
                sheet.bad(f"столбец «{clean(v)}» не относится к периоду книги "
                          f"({period_name(period)})", grid, c)
            elif code is not None:
                mark_cols.append((c, code, "period"))
            continue
        if mark_cols:
            sheet.bad("столбец даты урока стоит после столбцов итоговых отметок", grid, c)
        per_day[day] = per_day.get(day, 0) + 1
        date_cols.append((c, day, per_day[day]))
    lessons = {(d, n): LessonRec(d, n, None, None, teachers[0] if teachers else None,
                                 where=sheet.at(grid, c)) for c, d, n in date_cols}
    period_marks: list[PeriodMarkRec] = []
    members: list[str] = []
    seen: dict[str, int] = {}
    row = grid + 1
    while row < len(sheet.rows) and any(clean(v) is not None for v in sheet.rows[row]):
        name = clean(sheet.cell(row, 1))
        student = by_name.get(name_key(name or ""))
        if student is None:
            sheet.bad(f"ученика «{name}» нет в списке класса (лист «Класс»)"
                      if name else "не заполнено ФИО", row, 1)
            row += 1
            continue
        if student.record_number in seen:
            first = seen[student.record_number] + 1
            sheet.bad(f"ученик «{name}» встречается в сетке дважды (строки {first} и {row + 1})",
                      row, 1)
        seen[student.record_number] = row
        members.append(student.record_number)
        for c, day, n in date_cols:
            value = sheet.cell(row, c)
            parsed = sheet.read(parse_grid_cell, value, row, c)
            if not parsed:
                continue
            attendance, marks = parsed
            lesson = lessons[(day, n)]
            if attendance:
                lesson.attendance.append(AttendanceRec(student.record_number, attendance[1],
                                                       attendance[0], where=sheet.at(row, c)))
            for raw, val, scale in marks:
                lesson.marks.append(MarkRec(student.record_number, raw, val, scale, day,
                                            where=sheet.at(row, c)))
        for c, code, kind in mark_cols:
            value = sheet.cell(row, c)
            if clean(value) is None:
                continue
            parsed = sheet.read(parse_period_mark, value, row, c)
            if parsed:
                period_marks.append(PeriodMarkRec(student.record_number, code, kind, parsed[0],
                                                  parsed[1], where=sheet.at(row, c)))
        row += 1
    _lesson_table(sheet, row, lessons, year_start)
    course = CourseRec(subject or "", subgroup, teachers, members if subgroup else None,
                       list(lessons.values()), period_marks, where=f"лист «{sheet.title}»")
    return course, any(k != "period" for _, _, k in mark_cols)


def _lesson_table(sheet: _Sheet, start: int, lessons: dict, year_start: dt.date) -> None:
    header = sheet.header(start, "дата")
    if header is None:
        return  # a grid without a lesson table: topics are missing (the check reports it)
    cols = _columns(sheet, header, LESSON_COLUMNS)
    per_day: dict[dt.date, int] = {}
    for i in range(header + 1, len(sheet.rows)):
        row = sheet.rows[i]
        if all(clean(v) is None for v in row):
            break
        day = sheet.read(parse_date, sheet.cell(i, cols["date"]), i, cols["date"],
                         year_start=year_start)
        if day is None:
            continue
        per_day[day] = per_day.get(day, 0) + 1
        key = (day, per_day[day])
        lesson = lessons.get(key)
        if lesson is None:
            teacher = next(iter(lessons.values())).teacher if lessons else None
            lesson = lessons[key] = LessonRec(day, key[1], None, None, teacher,
                                              where=sheet.at(i))
        lesson.topic = clean(sheet.cell(i, cols["topic"])) if "topic" in cols else None
        lesson.homework = clean(sheet.cell(i, cols["homework"])) if "homework" in cols else None
        kind = clean(sheet.cell(i, cols["kind_of_work"])) if "kind_of_work" in cols else None
        weight = sheet.read(parse_weight, sheet.cell(i, cols["weight"]), i, cols["weight"]) \
            if "weight" in cols else "1"
        for m in lesson.marks:
            m.kind_of_work = kind
            m.weight = weight or "1"
