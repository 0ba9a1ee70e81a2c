"""Normalising what teachers typed: names, marks, attendance codes, periods, dates.

Pure functions with no I/O. Every ``ValueError`` they raise carries a Russian message that
is shown to the secretary next to the file, sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

#: Latin letters that look like Cyrillic ones (typed on the wrong keyboard layout).
LOOKALIKES = dict(zip("AaBCcEeHKkMOoPpTXxYy", "АаВСсЕеНКкМОоРрТХхУу", strict=True))
_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")

#: Attendance codes (seed 000, class leader a): «Б-болеет, У- пропуск урока по уважительной
#: причине, Н- неявка на урок по неуважительной причине, O- опоздал». The spellings the
#: e-journals use, each read as one of these four (docs/import-format.md lists them); a
#: school adds its own with ``archive journal code add`` (journals.codes). Latin letters
#: that look Cyrillic are read as the Cyrillic ones first (H → Н, O → О, Y → У).
ATTENDANCE_CODES = {"Б": "Б", "У": "У", "Н": "Н", "О": "О", "НБ": "Н", "Н/Б": "Н", "НП": "Н",
                    "УП": "У", "ОП": "О"}
#: What each of the four codes means, for messages and the format document.
ATTENDANCE_MEANINGS = {"Б": "болеет", "У": "пропуск по уважительной причине",
                       "Н": "неявка по неуважительной причине", "О": "опоздал"}

NUMERIC_MARKS = {"1", "2", "3", "4", "5"}
#: Non-numeric results and their accepted spellings.
PASS_FAIL = {"зач": "зач", "зачет": "зач", "зачтено": "зач", "незач": "незач",
             "незачет": "незач", "незачтено": "незач"}
PERIOD_ONLY = {"н/а": "н/а", "на": "н/а", "н\\а": "н/а", "осв": "осв", "освобожден": "осв",
               "освобождена": "осв"}

SCALE_FIVE = "5"  # пятибалльная шкала
SCALE_PASS = "зачёт"  # зачёт / незачёт

PERIOD_KINDS = {"Q": "quarter", "H": "half_year", "T": "trimester", "Y": "year"}
PERIOD_SCHEMES = {"quarter": "quarters", "half_year": "half_years", "trimester": "trimesters"}
ORDINALS = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4,
            "первая": 1, "вторая": 2, "третья": 3, "четвертая": 4, "первое": 1, "второе": 2,
            "первый": 1, "второй": 2, "третий": 3}
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
    """Comparison key for names: spaces collapsed, case folded, ё read as е, Latin
    look-alike letters inside Cyrillic words read as Cyrillic (so «Ивaнов» with a Latin «a»
    is the same person as «Иванов»)."""
    key = (clean(text) or "").casefold().replace("ё", "е")
    if _LATIN.search(key) and _CYRILLIC.search(key):
        key = re.sub(r"[a-zа-я]+", _fold_word, key)
    return key


def _fold_word(m: re.Match) -> str:
    word = m.group(0)
    if not (_LATIN.search(word) and _CYRILLIC.search(word)):
        return word
    return "".join(LOOKALIKES.get(ch, ch) for ch in word)


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




def cyrillic(text: str, what: str) -> str:
    """Text with Latin look-alike letters inside Cyrillic words replaced by the Cyrillic
    ones («Ивaнов» with a Latin «a» → «Иванов»). A word wholly in Latin is kept (a foreign
    name); a Cyrillic word holding a Latin letter that looks like no Cyrillic one is refused,
    the letter named (``what`` says what the text is, for the message)."""
    if not _LATIN.search(text) or not _CYRILLIC.search(text):
        return text
    words = re.split(r"([\s\-.,()«»\"']+)", text)
    out = []
    for word in words:
        if _LATIN.search(word) and _CYRILLIC.search(word):
            odd = [ch for ch in word if _LATIN.match(ch) and ch not in LOOKALIKES]
            if odd:
                raise ValueError(f"{what} «{text}»: в русском слове «{word}» латинская буква "
                                 f"«{odd[0]}»; исправьте её на русскую")
            word = "".join(LOOKALIKES.get(ch, ch) for ch in word)
        out.append(word)
    return "".join(out)


def class_name_note(raw: object, name: str | None) -> str | None:
    """The report's line when a class name was written with Latin look-alike letters."""
    if raw is None or name is None or not _LATIN.search(str(raw)):
        return None
    return f"класс «{clean(raw)}» записан с латинскими буквами: прочитан как «{name}»"


def lookalike_note(before: str, after: str) -> str | None:
    """What ``cyrillic`` changed, said for the import report (None if nothing)."""
    if before == after:
        return None
    letters = sorted({b for b, a in zip(before, after, strict=True) if a != b})
    return (f"«{before}» записано с латинскими буквами ({', '.join(letters)}): прочитано как "
            f"«{after}»")


_SIGNED = re.compile(r"([1-5])\s*([+\-−–])")
_AMBIGUOUS = re.compile(r"\d\s*[.,]\s*\d")


@lru_cache(maxsize=4096)
def parse_mark(raw: object, *, scale: str | None = None) -> tuple[str, str, str]:
    """A current mark as written → (raw, normalised value, scale): 1-5 (a «+» or «-» after
    the number is kept in the raw text, the value is the number), зач, незач."""
    text = clean(raw)
    if text is None:
        raise ValueError("пустая отметка")
    key = name_key(text).rstrip(".").replace(" ", "")
    signed = _SIGNED.fullmatch(key)
    if key in NUMERIC_MARKS:
        found = (text, key, SCALE_FIVE)
    elif signed:
        found = (text, signed.group(1), SCALE_FIVE)
    elif key in PASS_FAIL:
        found = (text, PASS_FAIL[key], SCALE_PASS)
    elif _AMBIGUOUS.fullmatch(key):
        raise ValueError(_ambiguous(text))
    else:
        raise ValueError(
            f"отметка «{text}» вне шкалы: допустимы 1, 2, 3, 4, 5 (можно с «+» или «-»), "
            "«зач» и «незач»"
        )
    if scale is not None and scale != found[2]:
        raise ValueError(f"отметка «{text}» не относится к шкале «{scale}»")
    return found


def _ambiguous(text: str) -> str:
    """The message for a mark that reads two ways («4,5»: two marks, or a fraction?)."""
    m = _AMBIGUOUS.search(text)
    if m is None:
        return f"«{text}» — дробное число, а не отметка: дробных отметок нет"
    a, b = re.split(r"\s*[.,]\s*", m.group(0), maxsplit=1)
    return (f"«{text}» читается двояко: две отметки «{a}» и «{b}» или дробное число "
            f"{a},{b}; дробных отметок нет — две отметки запишите через «/» ({a}/{b})")


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
    if _SIGNED.fullmatch(key):
        raise ValueError(f"итоговая отметка «{text}» ставится без «+» и «-»: запишите "
                         f"«{key[0]}»")
    if _AMBIGUOUS.fullmatch(key):
        raise ValueError(_ambiguous(text))
    raise ValueError(
        f"итоговая отметка «{text}» вне шкалы: допустимы 1-5, «зач», «незач», «н/а», «осв»"
    )


def attendance_table(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """The attendance spellings (upper case, no spaces) → code: the built-in ones and a
    school's own (``extra``: pairs of spelling and code)."""
    table = dict(ATTENDANCE_CODES)
    table.update((code_key(k), v) for k, v in extra)
    return table


def code_key(text: str) -> str:
    """An attendance spelling as the table keys it: upper case, no spaces, ё as е, Latin
    look-alikes as Cyrillic."""
    return "".join(LOOKALIKES.get(ch, ch) for ch in text.upper().replace(" ", "")) \
        .replace("Ё", "Е")


@lru_cache(maxsize=4096)
def parse_attendance(raw: object, extra: tuple[tuple[str, str], ...] = ()) -> tuple[str, str]:
    """An attendance code as written, in either case → (raw, code Б/У/Н/О)."""
    text = clean(raw)
    if text is None:
        raise ValueError("пустая отметка посещаемости")
    code = attendance_table(extra).get(code_key(text))
    if code is None:
        known = ", ".join(sorted(attendance_table(extra)))
        raise ValueError(f"неизвестный код посещаемости «{text}»: допустимы {known}")
    return text, code


_CELL_SPLIT = re.compile(r"[,;\s]+")


@lru_cache(maxsize=4096)
def parse_grid_cell(
    raw: object, extra: tuple[tuple[str, str], ...] = (),
) -> tuple[tuple[str, str] | None, tuple[tuple[str, str, str], ...]]:
    """A grid cell → (attendance or None, marks). «4/5» two marks, «н» absent, «О 5» or
    «о/5» both, «Н/Б» one code; «4,5» is refused (two marks or a fraction?)."""
    text = clean(raw)
    if text is None:
        return None, ()
    if isinstance(raw, float):
        raise ValueError(_ambiguous(str(raw)))
    table = attendance_table(extra)
    if _AMBIGUOUS.search(text) and not re.search(r"\d,\s+\d", text):
        raise ValueError(_ambiguous(text))
    text = re.sub(r"(?i)не\s+зач", "незач", text)
    text = re.sub(r"\s*/\s*", "/", text)  # «Н / Б», «4 / 5»
    text = re.sub(r"([1-5])\s+([+\-−–])(?=[\s/,;]|$)", r"\1\2", text)  # «5 -»
    attendance: tuple[str, str] | None = None
    marks: list[tuple[str, str, str]] = []
    tokens: list[str] = []
    for chunk in (t for t in _CELL_SPLIT.split(text) if t):
        # «Н/Б» is one code; «о/5» and «4/5» are two entries
        tokens.extend([chunk] if code_key(chunk) in table else
                      [t for t in chunk.split("/") if t])
    for token in tokens:
        if code_key(token) in table:
            if attendance is not None:
                raise ValueError(f"в ячейке «{text}» два кода посещаемости")
            attendance = (token, table[code_key(token)])
        elif not re.search(r"\d", token) and name_key(token).rstrip(".") not in PASS_FAIL:
            known = ", ".join(sorted(table))
            raise ValueError(
                f"неизвестный код посещаемости или отметка «{token}»: коды — {known}; "
                "отметки — 1-5 (можно с «+» или «-»), «зач», «незач». Своё написание кода "
                "школа добавляет на странице «Загрузка журнала» (archive attendance-codes add)")
        else:
            marks.append(parse_mark(token))
    return attendance, tuple(marks)


#: Excel stores a date as the number of days since 30.12.1899; the numbers of 1990-2100
#: are read as dates where a date is expected (a date cell formatted as a number).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIALS = range(32874, 73051)
MONTHS = {"январь": 1, "янв": 1, "февраль": 2, "фев": 2, "март": 3, "мар": 3, "апрель": 4,
          "апр": 4, "май": 5, "июнь": 6, "июн": 6, "июль": 7, "июл": 7, "август": 8,
          "авг": 8, "сентябрь": 9, "сен": 9, "сент": 9, "октябрь": 10, "окт": 10,
          "ноябрь": 11, "ноя": 11, "нояб": 11, "декабрь": 12, "дек": 12}


def month_of(text: object) -> int | None:
    """The month a header names («Сентябрь», «сент.», «Сентябрь 2025»), or None."""
    words = name_key(str(text or "")).replace(".", " ").split()
    return MONTHS.get(words[0]) if words else None


@lru_cache(maxsize=4096)
def parse_date(value: object, *, year_start: dt.date | None = None) -> dt.date:
    """A date as a real spreadsheet date, an Excel day number, ISO text (a time of 00:00
    allowed), «дд.мм.гггг», «дд/мм/гггг», «дд-мм-гггг» or «дд.мм».

    «дд.мм» takes its year from the academic year: September-December belong to the year
    it starts in, January-August to the next one.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and value == int(value) and int(value) in _SERIALS:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError(f"число {value} не похоже на дату: ожидается дд.мм.гггг или дд.мм")
    text = clean(value)
    if text is None:
        raise ValueError("не указана дата")
    if text.isascii() and text.isdigit() and int(text) in _SERIALS:
        return _EXCEL_EPOCH + dt.timedelta(days=int(text))
    text = re.sub(r"[T ]00:00(:00(\.0+)?)?$", "", text)
    m = re.fullmatch(r"(\d{1,2})([./-])(\d{1,2})(?:\2(\d{2}|\d{4}))?\.?", text)
    try:
        if m:
            day, month = int(m.group(1)), int(m.group(3))
            if m.group(4):
                year = int(m.group(4))
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
    if not d.is_finite():
        raise ValueError(f"вес отметки «{text}» не число")
    if d <= 0 or d > 100:
        raise ValueError(f"вес отметки «{text}» вне допустимых пределов (больше 0, не больше 100)")
    return format(d.normalize(), "f")


def grade_of(class_name: str) -> int:
    """The grade of a class from its name: «7А» → 7, «10 Б» → 10."""
    m = re.match(r"\s*(\d{1,2})", class_name)
    if not m or not 1 <= int(m.group(1)) <= 11:
        raise ValueError(f"не удалось определить параллель класса «{class_name}» (ожидается 1-11)")
    return int(m.group(1))


def given_class(text: object) -> str:
    """``class_name`` of what a person typed (a form, a command's option): a name that
    cannot be one is refused as an ArchiveError with the reason, not a ValueError."""
    from archive_service.errors import ConflictError

    try:
        return class_name(text)
    except ValueError as exc:
        message = str(exc)
        raise ConflictError(message[:1].upper() + message[1:] + ".") from None


def class_name(text: object) -> str:
    """A class name normalised: «7 а» → «7А»; a Latin letter that looks Cyrillic («5A» with
    a Latin A) is read as the Cyrillic one, any other Latin letter refused (classes are
    lettered in Russian)."""
    raw = clean(text)
    if raw is None:
        raise ValueError("не указан класс")
    name = raw.replace(" ", "").upper()
    odd = [ch for ch in name if _LATIN.match(ch) and ch not in LOOKALIKES]
    if odd:
        raise ValueError(f"в названии класса «{raw}» латинская буква «{odd[0]}»: классы "
                         "обозначаются русскими буквами (например 5А)")
    return "".join(LOOKALIKES.get(ch, ch) for ch in name)


def refusal(exc: ValueError, value: object) -> str:
    """A parser's refusal as the person reads it: its own Russian message, or, from an
    error that is not ours (a library's English text), what was not read."""
    message = str(exc)
    if re.search("[а-яё]", message, re.IGNORECASE):
        return message
    shown = str(value)
    return f"значение «{shown[:60]}{'…' if len(shown) > 60 else ''}» не прочитано"

