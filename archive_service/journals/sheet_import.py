"""Reading the spreadsheet layout that e-journals export (docs/import-format.md).

One workbook per class and period: a sheet «Класс» with the school, year, period, class and
class leader, then the class list; one sheet per subject (or subgroup) with the subject and
teacher at the top, the grid «№ | ФИО | one column per lesson date | period mark columns»
and below it the lesson table «Дата | Тема урока | Домашнее задание [| Вид работы | Вес]».

Tolerant where the meaning is clear, exact where it is not: every non-empty cell is either
read or refused with its place. The tables may start anywhere on the sheet (a title above,
empty rows or columns before them); empty rows inside a table, rows that hold only their
number (a template's unused rows) and a header repeated inside a table are passed over; a
grid header in two rows (the month merged over its days, the day numbers below) is read as
dates; a computed «Средний балл» column is passed over; a value under no header is refused.
Empty sheets are passed over, hidden sheets that hold no journal too (both said in the
report); a visible sheet that is not a journal sheet is refused by name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

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
from archive_service.journals.sheets import Sheet
from archive_service.journals.values import (
    PERIOD_SCHEMES,
    class_name_note,
    clean,
    grade_of,
    month_of,
    name_key,
    parse_date,
    parse_grid_cell,
    parse_period,
    parse_period_mark,
    parse_weight,
    parse_year_column,
    period_kind,
    period_name,
    refusal,
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
NUMBER_LABELS = {"№", "№ п/п", "n", "no", "№п/п"}
NAME_LABELS = {"фио", "ф.и.о.", "ф. и. о.", "фио ученика", "ученик", "фамилия, имя",
               "фамилия имя", "фамилия, имя, отчество"}
STUDENT_COLUMNS = {**dict.fromkeys(NUMBER_LABELS, "n"), **dict.fromkeys(NAME_LABELS, "name"),
                   "дата рождения": "birth_date", "№ личного дела": "record_number",
                   "номер личного дела": "record_number", "прибыл": "joined",
                   "выбыл": "left"}
SUBJECT_FIELDS = {"предмет": "subject", "группа": "subgroup", "подгруппа": "subgroup",
                  "учитель": "teachers", "учителя": "teachers"}
LESSON_COLUMNS = {"дата": "date", "дата урока": "date", "тема урока": "topic", "тема": "topic",
                  "домашнее задание": "homework", "вид работы": "kind_of_work", "вес": "weight"}
#: The column names a message lists (one spelling each).
STUDENT_HEADER = ("№", "ФИО", "Дата рождения", "№ личного дела", "Прибыл", "Выбыл")
LESSON_HEADER = ("Дата", "Тема урока", "Домашнее задание", "Вид работы", "Вес")
#: Grid columns an e-journal computes from the marks (not data of the journal): passed over.
DERIVED_COLUMNS = {"средний балл", "ср. балл", "ср.балл", "средняя", "средняя оценка",
                   "средневзвешенная", "средневзвешенный балл", "ср. вз.", "ср",
                   "пропуски", "всего пропусков", "пропущено уроков", "пропущено"}


def _label(value: Any) -> str:
    return name_key(str(value)).rstrip(":").strip() if value is not None else ""


class _Sheet:
    """A sheet with helpers that record problems at the cell the person sees."""

    def __init__(self, file_name: str, sheet: Sheet, problems: list[Problem]):
        self.file_name = file_name
        self.sheet = sheet
        self.title = sheet.title
        self.rows = sheet.rows
        self.problems = problems
        self._filled: dict[int, list[tuple[int, Any]]] = {}
        self._labels: dict[int, list[tuple[int, str]]] = {}

    def at(self, row: int, col: int | None = None) -> str:
        return self.sheet.cell_ref(row, col) if col is not None else self.sheet.row_ref(row)

    def bad(self, message: str, row: int | None = None, col: int | None = None) -> None:
        at = self.at(row, col) if row is not None else f"{self.sheet.noun} «{self.title}»"
        self.problems.append(Problem(self.file_name, message, at))

    def cell(self, row: int, col: int) -> Any:
        r = self.rows[row] if row < len(self.rows) else ()
        return r[col] if col < len(r) else None

    def read(self, fn: Callable, value: Any, row: int, col: int, **kw) -> Any:
        try:
            return fn(value, **kw)
        except ValueError as exc:
            self.bad(refusal(exc, value), row, col)
            return None

    def filled(self, row: int) -> list[tuple[int, Any]]:
        """The non-empty cells of a row, as (column, value) (computed once a row)."""
        cells = self._filled.get(row)
        if cells is None:
            cells = self._filled[row] = [
                (c, v) for c, v in enumerate(self.rows[row]) if v is not None and (
                    not isinstance(v, str) or v.strip())]
        return cells

    def first_label(self, row: int) -> tuple[int | None, str]:
        cells = self.filled(row)
        return (cells[0][0], _label(cells[0][1])) if cells else (None, "")

    def key_values(self, fields: dict[str, str]) -> tuple[dict[str, tuple[Any, int, int]], int]:
        """Label/value pairs at the top (the value: the next filled cell right of the
        label), up to the first table header (a row starting «№» or «Дата»)."""
        found: dict[str, tuple[Any, int, int]] = {}
        for i in range(len(self.rows)):
            cells = self.filled(i)
            if not cells:
                continue
            label = _label(cells[0][1])
            if label in NUMBER_LABELS or label in NAME_LABELS or label in (
                    "дата", "дата урока"):
                return found, i
            value, col = (cells[1][1], cells[1][0]) if len(cells) > 1 else (
                None, cells[0][0] + 1)
            if label not in fields and ":" in label:  # «Класс: 7А» in one cell
                head, _, rest = str(cells[0][1]).partition(":")
                if _label(head) in fields and clean(rest):
                    label, value, col = _label(head), clean(rest), cells[0][0]
            if label in fields and fields[label] not in found:
                found[fields[label]] = (value, i, col)
        return found, len(self.rows)

    def blank(self, row: int, number_col: int | None) -> bool:
        """An empty row, or one holding only its number (a template's unused row)."""
        cells = self.filled(row)
        return not cells or (len(cells) == 1 and cells[0][0] == number_col
                             and re.fullmatch(r"\d+\.?", str(clean(cells[0][1]))) is not None)

    def repeats(self, row: int, header: int) -> bool:
        """Whether a row repeats the table's header (a header printed again)."""
        head = self._labels.get(header)
        if head is None:
            head = self._labels[header] = [(c, _label(v)) for c, v in self.filled(header)]
        cells = self.filled(row)
        if len(cells) != len(head) or cells[0][0] != head[0][0] or \
                _label(cells[0][1]) != head[0][1]:
            return False
        return [(c, _label(v)) for c, v in cells] == head

    def stray(self, row: int, known: set[int], what: str) -> None:
        """Refuse every filled cell of a row that stands in no known column."""
        for c, v in self.filled(row):
            if c not in known:
                self.bad(f"значение «{clean(v)}» стоит в столбце без заголовка ({what}): "
                         "впишите заголовок или перенесите значение", row, c)


def parse_sheets(sheets: list[Sheet], file_name: str, file_format: str,
                 codes_for: Callable[[str], tuple[tuple[str, str], ...]] | None = None
                 ) -> JournalDocument:
    """Parse a class workbook for one period; raises ImportRejectedError listing every
    problem. ``codes_for``: a school's own attendance spellings, by school code."""
    problems: list[Problem] = []
    notes: list[str] = []
    sheets = [s for s in sheets if not _skip_empty(s, notes)]
    titled = [s for s in sheets if name_key(s.title) == CLASS_SHEET]
    by_content = [s for s in sheets if {"school_name", "class"} <= set(
        _Sheet(file_name, s, []).key_values(CLASS_FIELDS)[0])]
    chosen = (titled or by_content or [None])[0]
    if chosen is None:
        raise ImportRejectedError(file_name, [Problem(
            file_name, "в книге нет листа «Класс» со сведениями о классе и списком учеников")])
    head = _Sheet(file_name, chosen, problems)
    info, table_row = head.key_values(CLASS_FIELDS)

    def need(key: str, label: str) -> Any:
        if key not in info or clean(info[key][0]) is None and not isinstance(
                info[key][0], dt.date):
            if key in info:
                head.bad(f"не заполнено поле «{label}»", info[key][1], info[key][2])
            else:
                head.bad(f"не заполнено поле «{label}»")
            return None
        return info[key][0]

    def info_read(fn: Callable, key: str, **kw) -> Any:
        value, row, col = info[key]
        return head.read(fn, value, row, col, **kw)

    school_name, school_code = need("school_name", "Школа"), need("school_code", "Код школы")
    year_label = clean(need("year", "Учебный год"))
    raw_class = need("class", "Класс")
    need("period", "Период")
    for key, label in (("period_start", "Начало периода"), ("period_end", "Окончание периода")):
        need(key, label)
    if problems:
        raise ImportRejectedError(file_name, problems)
    if not re.fullmatch(r"\d{4}-\d{4}", year_label or ""):
        head.bad(f"учебный год «{year_label}» записан не в виде «2025-2026»", *info["year"][1:])
        raise ImportRejectedError(file_name, problems)
    first_year = int(year_label[:4])
    september = dt.date(first_year, 9, 1)
    year_dates_given = "year_start" in info and "year_end" in info
    year_start = info_read(parse_date, "year_start") if "year_start" in info else september
    year_end = info_read(parse_date, "year_end") if "year_end" in info else dt.date(
        first_year + 1, 8, 31)
    period = info_read(parse_period, "period")
    p_start = info_read(parse_date, "period_start", year_start=september)
    p_end = info_read(parse_date, "period_end", year_start=september)
    cname = info_read(norm_class_name, "class")
    grade = head.read(grade_of, cname, *info["class"][1:]) if cname else None
    if problems or period == "Y":
        if period == "Y":
            head.bad("книга относится к одному периоду (четверти, полугодию, триместру); "
                     "годовые отметки ставятся в книге последнего периода", *info["period"][1:])
        raise ImportRejectedError(file_name, problems)
    note = class_name_note(raw_class, cname)
    if note:
        notes.append(f"{head.at(*info['class'][1:])}: {note}")
    extra = codes_for(clean(school_code) or "") if codes_for else ()

    students = _students(head, table_row)
    by_name = {name_key(s.full_name): s for s in students}
    year_marks = False
    courses = []
    for raw in sheets:
        if raw is chosen:
            continue
        sheet = _Sheet(file_name, raw, problems)
        if not _is_journal_sheet(sheet):
            if raw.hidden:
                notes.append(f"скрытый лист «{raw.title}» пропущен: в нём нет журнала")
            else:
                sheet.bad("лист не похож на лист предмета: нет ни поля «Предмет», ни сетки "
                          "«№ | ФИО | даты уроков»; если это вспомогательный лист, удалите "
                          "или скройте его")
            continue
        course, has_year = _course(sheet, by_name, period, year_start, extra)
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
        file_name=file_name, file_format=file_format, school_code=clean(school_code),
        school_name=clean(school_name),
        source_system=clean(info.get("source_system", (None,))[0]),
        year_label=year_label, year_start=year_start, year_end=year_end, periods=periods,
        covers=[period], covers_year_marks=year_marks, staff=[],
        classes=[ClassJournal(cname, grade, scheme, clean(info.get("class_leader", (None,))[0]),
                              students, courses, where=f"лист «{chosen.title}»")],
        year_dates_given=year_dates_given, notes=notes,
    )


def _skip_empty(sheet: Sheet, notes: list[str]) -> bool:
    if sheet.empty:
        notes.append(f"пустой лист «{sheet.title}» пропущен")
        return True
    return False


def _is_journal_sheet(sheet: _Sheet) -> bool:
    info, grid = sheet.key_values(SUBJECT_FIELDS)
    return "subject" in info or _grid_header(sheet, grid) is not None


def _grid_header(sheet: _Sheet, row: int) -> tuple[int | None, int] | None:
    """The (№, ФИО) columns of a grid header row (№ may be absent: None), or None."""
    if row >= len(sheet.rows):
        return None
    labels = {_label(v): c for c, v in sheet.filled(row)}
    number = next((labels[x] for x in NUMBER_LABELS if x in labels), None)
    name = next((labels[x] for x in NAME_LABELS if x in labels), None)
    return (number, name) if name is not None else None


def _columns(sheet: _Sheet, row: int, known: dict[str, str], header: tuple[str, ...]
             ) -> dict[str, int]:
    cols: dict[str, int] = {}
    for c, v in sheet.filled(row):
        label = _label(v)
        if label in known:
            cols[known[label]] = c
        else:
            names = ", ".join(f"«{n}»" for n in header)
            sheet.bad(f"неизвестный столбец «{clean(v)}»: здесь читаются столбцы {names}; "
                      "удалите лишний столбец (архив журнала его не хранит) или назовите "
                      "его так", row, c)
    return cols


def _students(sheet: _Sheet, header: int) -> list[StudentRec]:
    if header >= len(sheet.rows):
        sheet.bad("нет таблицы учеников (строка заголовков «№ | ФИО | Дата рождения | "
                  "№ личного дела | Выбыл»)")
        return []
    cols = _columns(sheet, header, STUDENT_COLUMNS, STUDENT_HEADER)
    for need, label in (("name", "ФИО"), ("record_number", "№ личного дела")):
        if need not in cols:
            sheet.bad(f"в таблице учеников нет столбца «{label}»", header)
    if "name" not in cols or "record_number" not in cols:
        return []
    known = set(cols.values())
    out: list[StudentRec] = []
    for i in range(header + 1, len(sheet.rows)):
        if sheet.blank(i, cols.get("n")) or sheet.repeats(i, header):
            continue
        sheet.stray(i, known, "таблица учеников")
        name = clean(sheet.cell(i, cols["name"]))
        if name is None:
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
                              where=sheet.at(i, cols["name"])))
    return out


def _day_numbers(cells: dict[int, Any], name_col: int) -> dict[int, Any]:
    return {c: v for c, v in cells.items() if c > name_col
            and re.fullmatch(r"\d{1,2}", str(clean(v))) and 1 <= int(str(clean(v))) <= 31}


def _has_months(cells: dict[int, Any], name_col: int) -> bool:
    return not any(c <= name_col for c in cells) and any(
        month_of(v) for c, v in cells.items() if c > name_col)


def _header_cells(sheet: _Sheet, grid: int, name_col: int, year_start: dt.date
                  ) -> tuple[dict[int, Any], int]:
    """The grid's header value of each column right of ФИО, and the first data row. A
    header in two rows, the months above the day numbers, gives each day column its date:
    the month row is the «№ | ФИО» row (№ and ФИО merged over both rows) or the row just
    above it."""
    top = dict(sheet.filled(grid))
    below = dict(sheet.filled(grid + 1)) if grid + 1 < len(sheet.rows) else {}
    above = dict(sheet.filled(grid - 1)) if grid > 0 else {}
    if _day_numbers(below, name_col) and not any(c <= name_col for c in below) and any(
            month_of(v) for c, v in top.items() if c > name_col):
        months, days, days_row, first = top, below, grid + 1, grid + 2
    elif _day_numbers(top, name_col) and _has_months(above, name_col):
        months, days, days_row, first = above, top, grid, grid + 1
    else:
        return {c: v for c, v in top.items() if c > name_col}, grid + 1
    numbers = _day_numbers(days, name_col)
    cells: dict[int, Any] = {}
    month = None
    for c in range(name_col + 1, max([*months, *days]) + 1):
        if c in months and month_of(months[c]):
            month = month_of(months[c])
        if c in numbers:
            if month is None:
                sheet.bad("над числом нет месяца (строка месяцев над строкой чисел)",
                          days_row, c)
                continue
            year = year_start.year if month >= year_start.month else year_start.year + 1
            try:
                cells[c] = dt.date(year, month, int(str(clean(numbers[c]))))
            except ValueError:
                sheet.bad(f"дня {clean(numbers[c])} в этом месяце нет", days_row, c)
        elif c in days:
            cells[c] = days[c]
        elif c in months and not month_of(months[c]):
            cells[c] = months[c]
    return cells, first


def _course(sheet: _Sheet, by_name: dict[str, StudentRec], period: str,
            year_start: dt.date, extra: tuple[tuple[str, str], ...]
            ) -> tuple[CourseRec | None, bool]:
    info, grid = sheet.key_values(SUBJECT_FIELDS)
    subject = clean(info.get("subject", (None,))[0])
    teachers = [t for t in (clean(x) for x in re.split(r"[;,]", str(
        info.get("teachers", ("",))[0] or ""))) if t]
    if subject is None:
        sheet.bad("не заполнено поле «Предмет»")
    if not teachers:
        sheet.bad("не заполнено поле «Учитель»")
    columns = _grid_header(sheet, grid)
    if columns is None:
        sheet.bad("нет сетки отметок (строка заголовков «№ | ФИО | даты уроков | итоговые»; "
                  "«№» можно не ставить)")
        return None, False
    number_col, name_col = columns
    subgroup = clean(info.get("subgroup", (None,))[0]) or ""
    header, first_row = _header_cells(sheet, grid, name_col, year_start)
    date_cols: list[tuple[int, dt.date, int]] = []  # column, date, number on that date
    mark_cols: list[tuple[int, str, str]] = []  # column, period, kind
    known = {number_col, name_col} - {None}
    per_day: dict[dt.date, int] = {}
    for c, v in sorted(header.items()):
        if _label(v) in DERIVED_COLUMNS:
            known.add(c)
            continue
        kind = parse_year_column(v)
        if kind:
            mark_cols.append((c, "Y", kind))
            known.add(c)
            continue
        try:
            day = parse_date(v, year_start=year_start)
        except ValueError as exc:
            try:
                code = parse_period(v)
            except ValueError:
                code = None
                sheet.bad(f"заголовок столбца «{clean(v)}» не прочитан ни как дата урока "
                          f"({exc}), ни как период итоговых отметок («1 четверть», «Год», "
                          "«Экзамен», «Итоговая»)", grid, c)
            if code is not None and code != period:
                sheet.bad(f"столбец «{clean(v)}» не относится к периоду книги "
                          f"({period_name(period)})", grid, c)
            elif code is not None:
                mark_cols.append((c, code, "period"))
            known.add(c)
            continue
        if mark_cols:
            sheet.bad("столбец даты урока стоит после столбцов итоговых отметок", grid, c)
        per_day[day] = per_day.get(day, 0) + 1
        date_cols.append((c, day, per_day[day]))
        known.add(c)
    lessons = {(d, n): LessonRec(d, n, None, None, teachers[0] if teachers else None,
                                 where=sheet.at(grid, c)) for c, d, n in date_cols}
    period_marks: list[PeriodMarkRec] = []
    members: list[str] = []
    seen: dict[str, int] = {}
    end = _lesson_header(sheet, first_row)
    for row in range(first_row, end if end is not None else len(sheet.rows)):
        if sheet.blank(row, number_col) or sheet.repeats(row, grid):
            continue
        sheet.stray(row, known, "сетка отметок")
        name = clean(sheet.cell(row, name_col))
        student = by_name.get(name_key(name or ""))
        if student is None:
            sheet.bad(f"ученика «{name}» нет в списке класса (лист «Класс»)"
                      if name else "не заполнено ФИО", row, name_col)
            continue
        if student.record_number in seen:
            rows = [r + sheet.sheet.origin[0] + 1 for r in (seen[student.record_number], row)]
            sheet.bad(f"ученик «{name}» встречается в сетке дважды (строки {rows[0]} и "
                      f"{rows[1]})", row, name_col)
        seen[student.record_number] = row
        members.append(student.record_number)
        cells = sheet.rows[row]
        width = len(cells)
        for c, day, n in date_cols:
            value = cells[c] if c < width else None
            if value is None:
                continue
            try:
                attendance, marks = parse_grid_cell(value, extra)
            except ValueError as exc:
                sheet.bad(str(exc), row, c)
                continue
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
    if end is not None:
        _lesson_table(sheet, end, lessons, year_start)
    course = CourseRec(subject or "", subgroup, teachers, members if subgroup else None,
                       list(lessons.values()), period_marks, where=f"лист «{sheet.title}»")
    return course, any(k != "period" for _, _, k in mark_cols)


def _lesson_header(sheet: _Sheet, start: int) -> int | None:
    """The header row of the lesson table below the grid («Дата | Тема урока | …»)."""
    for i in range(start, len(sheet.rows)):
        col, label = sheet.first_label(i)
        if label in ("дата", "дата урока") and any(
                _label(v) in LESSON_COLUMNS for c, v in sheet.filled(i) if c != col):
            return i
    return None


def _lesson_table(sheet: _Sheet, header: int, lessons: dict, year_start: dt.date) -> None:
    cols = _columns(sheet, header, LESSON_COLUMNS, LESSON_HEADER)
    known = set(cols.values())
    per_day: dict[dt.date, int] = {}
    for i in range(header + 1, len(sheet.rows)):
        if sheet.blank(i, None) or sheet.repeats(i, header):
            continue
        sheet.stray(i, known, "таблица уроков")
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
                                              where=sheet.at(i, cols["date"]))
        lesson.topic = clean(sheet.cell(i, cols["topic"])) if "topic" in cols else None
        lesson.homework = clean(sheet.cell(i, cols["homework"])) if "homework" in cols else None
        kind = clean(sheet.cell(i, cols["kind_of_work"])) if "kind_of_work" in cols else None
        weight = sheet.read(parse_weight, sheet.cell(i, cols["weight"]), i, cols["weight"]) \
            if "weight" in cols else "1"
        for m in lesson.marks:
            m.kind_of_work = kind
            m.weight = weight or "1"
