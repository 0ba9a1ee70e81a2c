"""Normalising what teachers typed: names, marks, attendance codes, periods, dates.

Pure functions with no I/O. Every ``ValueError`` they raise carries a Russian message that
is shown to the secretary next to the file, sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

#: Attendance codes (seed 000, class leader a): Б ill, У absent for a valid reason,
#: Н absent without a valid reason, О late. Latin look-alikes typed by mistake are accepted.
ATTENDANCE_CODES = {"Б": "Б", "У": "У", "Н": "Н", "О": "О", "H": "Н", "O": "О", "Y": "У"}

NUMERIC_MARKS = {"1", "2", "3", "4", "5"}
#: Non-numeric results and their accepted spellings.
PASS_FAIL = {"зач": "зач", "зачет": "зач", "незач": "незач", "незачет": "незач"}
PERIOD_ONLY = {"н/а": "н/а", "на": "н/а", "н\\а": "н/а", "осв": "осв", "освобожден": "осв",
               "освобождена": "осв"}

SCALE_FIVE = "5"  # пятибалльная шкала
SCALE_PASS = "зачёт"  # зачёт / незачёт

PERIOD_KINDS = {"Q": "quarter", "H": "half_year", "T": "trimester", "Y": "year"}
PERIOD_SCHEMES = {"quarter": "quarters", "half_year": "half_years", "trimester": "trimesters"}
ORDINALS = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4}
PERIOD_WORDS = {"четверть": "Q", "четв": "Q", "полугодие": "H", "пол": "H", "полуг": "H",
                "триместр": "T", "трим": "T"}
PERIOD_MARK_KINDS = {"period", "year", "exam", "final"}
YEAR_COLUMN_WORDS = {"год": "year", "годовая": "year", "годовые": "year", "экзамен": "exam",
                     "экз": "exam", "экзаменационная": "exam", "итог": "final",
                     "итоговая": "final", "итоговые": "final"}


def clean(text: object) -> str | None:
    """Text with stray spaces removed and inner runs of spaces collapsed; None when empty."""
    if text is None:
        return None
    return " ".join(str(text).split()) or None  # split() also splits on no-break spaces


def name_key(text: str) -> str:
    """Comparison key for names: spaces collapsed, case folded, ё read as е."""
    return (clean(text) or "").casefold().replace("ё", "е")


def period_name(code: str) -> str:
    """The Russian name of a period code: Q1 → «1 четверть», Y → «Учебный год»."""
    if code == "Y":
        return "Учебный год"
    word = {"Q": "четверть", "H": "полугодие", "T": "триместр"}[code[0]]
    return f"{code[1]} {word}"


def period_kind(code: str) -> str:
    """The kind of a period code (quarter, half_year, trimester, year)."""
    return PERIOD_KINDS[code[0]]


def valid_period_code(code: str) -> bool:
    """Whether a string is a period code this service knows."""
    return bool(re.fullmatch(r"Q[1-4]|H[12]|T[1-3]|Y", code))


def parse_period(text: object) -> str:
    """Read a period as written («1 четверть», «I четв.», «2 полугодие», «Q1», «Год»)."""
    raw = clean(text)
    if raw is None:
        raise ValueError("не указан период")
    if valid_period_code(raw.upper()):
        return raw.upper()
    key = name_key(raw).replace(".", " ").replace("-", " ")
    words = key.split()
    if words in (["год"], ["учебный", "год"], ["годовая"]):
        return "Y"
    number = next((ORDINALS[w] for w in words if w in ORDINALS), None)
    letter = next((PERIOD_WORDS[w] for w in words if w in PERIOD_WORDS), None)
    if number is None or letter is None or not valid_period_code(f"{letter}{number}"):
        raise ValueError(
            f"не удалось понять период «{raw}»: ожидается, например, «1 четверть», "
            "«2 полугодие», «3 триместр» или «Год»"
        )
    return f"{letter}{number}"


def parse_year_column(text: object) -> str | None:
    """The mark kind of a year-end column header (Год, Экзамен, Итоговая), or None."""
    key = name_key(str(text or "")).rstrip(".")
    return YEAR_COLUMN_WORDS.get(key)


@lru_cache(maxsize=4096)
def parse_mark(raw: object, *, scale: str | None = None) -> tuple[str, str, str]:
    """A current mark as written → (raw, normalised value, scale). 1-5, зач, незач."""
    text = clean(raw)
    if text is None:
        raise ValueError("пустая отметка")
    key = name_key(text).rstrip(".")
    if key in NUMERIC_MARKS:
        found = (text, key, SCALE_FIVE)
    elif key in PASS_FAIL:
        found = (text, PASS_FAIL[key], SCALE_PASS)
    else:
        raise ValueError(
            f"отметка «{text}» вне шкалы: допустимы 1, 2, 3, 4, 5, «зач» и «незач»"
        )
    if scale is not None and scale != found[2]:
        raise ValueError(f"отметка «{text}» не относится к шкале «{scale}»")
    return found


@lru_cache(maxsize=4096)
def parse_period_mark(raw: object) -> tuple[str, str]:
    """A period, year, exam or final mark as written → (raw, normalised value)."""
    text = clean(raw)
    if text is None:
        raise ValueError("пустая отметка")
    key = name_key(text).rstrip(".").replace(" ", "")
    if key in NUMERIC_MARKS:
        return text, key
    if key in PASS_FAIL:
        return text, PASS_FAIL[key]
    if key in PERIOD_ONLY:
        return text, PERIOD_ONLY[key]
    raise ValueError(
        f"итоговая отметка «{text}» вне шкалы: допустимы 1-5, «зач», «незач», «н/а», «осв»"
    )


@lru_cache(maxsize=4096)
def parse_attendance(raw: object) -> tuple[str, str]:
    """An attendance code as written, in either case → (raw, code Б/У/Н/О)."""
    text = clean(raw)
    if text is None:
        raise ValueError("пустая отметка посещаемости")
    code = ATTENDANCE_CODES.get(text.upper())
    if code is None:
        raise ValueError(f"неизвестный код посещаемости «{text}»: допустимы Б, У, Н, О")
    return text, code


_CELL_SPLIT = re.compile(r"[/,;\s]+")


@lru_cache(maxsize=4096)
def parse_grid_cell(
    raw: object,
) -> tuple[tuple[str, str] | None, tuple[tuple[str, str, str], ...]]:
    """A grid cell → (attendance or None, marks). «4/5» two marks, «н» absent, «О 5» both."""
    text = clean(raw)
    if text is None:
        return None, ()
    attendance: tuple[str, str] | None = None
    marks: list[tuple[str, str, str]] = []
    for token in (t for t in _CELL_SPLIT.split(text) if t):
        if token.upper() in ATTENDANCE_CODES:
            if attendance is not None:
                raise ValueError(f"в ячейке «{text}» два кода посещаемости")
            attendance = parse_attendance(token)
        else:
            marks.append(parse_mark(token))
    return attendance, tuple(marks)


@lru_cache(maxsize=4096)
def parse_date(value: object, *, year_start: dt.date | None = None) -> dt.date:
    """A date as a real spreadsheet date, ISO text, «дд.мм.гггг» or «дд.мм».

    «дд.мм» takes its year from the academic year: September-December belong to the year
    it starts in, January-August to the next one.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean(value)
    if text is None:
        raise ValueError("не указана дата")
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2,4}))?\.?", text)
    try:
        if m:
            day, month = int(m.group(1)), int(m.group(2))
            if m.group(3):
                year = int(m.group(3))
                year = year + 2000 if year < 100 else year
            elif year_start is not None:
                year = year_start.year if month >= year_start.month else year_start.year + 1
            else:
                raise ValueError(f"в дате «{text}» нет года")
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        if "нет года" in str(exc):
            raise
        raise ValueError(
            f"не удалось прочитать дату «{text}»: ожидается дд.мм.гггг или дд.мм"
        ) from None


@lru_cache(maxsize=4096)
def parse_weight(value: object) -> str:
    """A mark weight as a normalised decimal string («1», «1.5»); default 1."""
    text = clean(value)
    if text is None:
        return "1"
    try:
        d = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"вес отметки «{text}» не число") from None
    if d <= 0 or d > 100:
        raise ValueError(f"вес отметки «{text}» вне допустимых пределов (больше 0, не больше 100)")
    return format(d.normalize(), "f")


def grade_of(class_name: str) -> int:
    """The grade of a class from its name: «7А» → 7, «10 Б» → 10."""
    m = re.match(r"\s*(\d{1,2})", class_name)
    if not m or not 1 <= int(m.group(1)) <= 11:
        raise ValueError(f"не удалось определить параллель класса «{class_name}» (ожидается 1-11)")
    return int(m.group(1))


def class_name(text: object) -> str:
    """A class name normalised: «7 а» → «7А»."""
    raw = clean(text)
    if raw is None:
        raise ValueError("не указан класс")
    return raw.replace(" ", "").upper()
