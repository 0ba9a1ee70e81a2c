"""Reading the sheets of an uploaded spreadsheet, whatever kind of file holds them.

Pure functions (no database). Every kind becomes a list of :class:`Sheet`: its rows of cell
values and where its first cell stands, so that a message names the cell as the person
sees it when they open the file (``лист «Алгебра», ячейка D7``) whatever empty rows or
columns precede the table. The kind is told by the bytes, not the name (an e-journal's
«.xls» is often an HTML table):

- ``.xlsx``/``.xlsm``, the legacy binary ``.xls`` and ``.ods``: python-calamine;
- an HTML table saved as ``.xls`` (or ``.html``): lxml; each top-level ``<table>`` is a
  sheet named by its ``<caption>`` (else «Таблица N»), merged cells (colspan/rowspan) hold
  their value in the first cell as in Excel;
- ``.csv`` (UTF-8, with or without BOM, or Windows-1251 as Russian Excel saves it; ``;``,
  ``,`` or tab): the sheets one under another, each begun by a row ``Лист;<name>``;
  cells are named by the file's own rows, as Excel shows the file.

Anything else is refused naming what it is and what is accepted.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from archive_service.errors import ImportRejectedError, Problem

ACCEPTED = ("принимаются: .json (формат school-journal/1), книги Excel .xlsx, .xlsm и .xls "
            "(в том числе таблица HTML, сохранённая как .xls), .ods и .csv в формате "
            "docs/import-format.md")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: The largest import file read (a school's year as JSON is ~2 MB, its workbook less).
MAX_FILE = 64 * 1024 * 1024
#: The most cells one sheet of a workbook may span (its used range, from its first cell to
#: its last): a class's subject sheet spans a few thousand. The spreadsheet reader allocates
#: the whole range at once, so a 5 KB file declaring A1:XFD1048576 (17 billion cells) would
#: end the process; it is refused before reading.
MAX_SHEET_CELLS = 2_000_000
#: The most bytes of XML one sheet of a workbook may unpack to (a class's sheet: ~1 MB).
MAX_SHEET_XML = 256 * 1024 * 1024


@dataclass(frozen=True)
class Sheet:
    """One sheet: ``rows`` of cell values (None for empty), the first at ``origin`` (row,
    column; 0-based) of the sheet as a spreadsheet program shows it."""

    title: str
    rows: list[tuple]
    origin: tuple[int, int] = (0, 0)
    hidden: bool = False
    noun: str = "лист"

    def cell_ref(self, row: int, col: int) -> str:
        """«лист «Алгебра», ячейка D7» for rows[row][col]."""
        return (f"{self.noun} «{self.title}», ячейка "
                f"{get_column_letter(col + self.origin[1] + 1)}{row + self.origin[0] + 1}")

    def row_ref(self, row: int) -> str:
        return f"{self.noun} «{self.title}», строка {row + self.origin[0] + 1}"

    @property
    def empty(self) -> bool:
        return all(_blank(v) for r in self.rows for v in r)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _value(value: Any) -> Any:
    """A cell as the importer expects it: None for empty, 5 (not 5.0) for whole numbers."""
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def kind_of(name: str, data: bytes) -> str:
    """What the bytes are: json, xlsx (calamine's kinds), html or csv; anything else is
    refused with what it looks like."""
    head = data[:2048]
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""

    def refuse(what: str) -> ImportRejectedError:
        return ImportRejectedError(name, [Problem(name, f"это {what}, а не выгрузка журнала; "
                                                        f"{ACCEPTED}")])

    if not data.strip():
        raise ImportRejectedError(name, [Problem(name, f"файл пуст ({len(data)} байт): "
                                                       "выгрузите журнал заново")])
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            return "workbook"  # a damaged workbook: the reader says so
        if "xl/workbook.xml" in names or b"spreadsheet" in mimetype:
            return "workbook"
        if "word/document.xml" in names:
            raise refuse("документ Word (.docx)")
        if "ppt/presentation.xml" in names:
            raise refuse("презентация PowerPoint (.pptx)")
        if mimetype:
            raise refuse(f"документ OpenDocument ({mimetype.decode('ascii', 'replace')})")
        raise refuse("архив zip (архив с выгрузками загружают на странице «Загрузка журнала»)")
    if data[:8] == _OLE:
        return "workbook"  # .xls; a .doc is refused by the reader naming the file
    if head.startswith(b"%PDF"):
        raise refuse("документ PDF")
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        raise refuse("изображение")
    if head.startswith(b"{\\rtf"):
        raise refuse("документ RTF")
    if text_head[:1] in (b"{", b"["):
        return "json"
    lower = data[:65536].lower()
    if text_head[:1] == b"<":
        if b"<table" in lower:
            return "html"
        if b"urn:schemas-microsoft-com:office:spreadsheet" in lower:
            raise refuse("таблица XML Excel 2003 (сохраните её в Excel как .xlsx)")
        raise refuse("документ HTML или XML без таблицы")
    if suffix in ("csv", "txt", "tsv", "xls") and b"\x00" not in head:
        return "csv"
    if suffix == "json":
        return "json"
    if b"\x00" in head:
        raise refuse(f"двоичный файл неизвестного вида (.{suffix or 'без расширения'})")
    raise refuse(f"текстовый файл (.{suffix or 'без расширения'})")


def read_sheets(name: str, data: bytes, kind: str) -> tuple[str, list[Sheet]]:
    """The sheets of a workbook, HTML or CSV file and the format's name for the record."""
    if kind == "html":
        return "html", _html_sheets(name, data)
    if kind == "csv":
        return "csv", _csv_sheets(name, data)
    return _calamine_sheets(name, data)


class _Oversized(Exception):  # noqa: N818 - a signal inside _calamine_sheets, not an error
    def __init__(self, title: str, height: int, width: int) -> None:
        super().__init__(title)
        self.title, self.height, self.width = title, height, width


def _calamine_sheets(name: str, data: bytes) -> tuple[str, list[Sheet]]:
    from python_calamine import CalamineWorkbook

    fmt = "xls" if data[:8] == _OLE else ("ods" if b"opendocument" in data[:200] else "xlsx")
    if fmt == "xlsx":
        _check_xlsx_extent(name, data)
    elif fmt == "ods":
        _check_ods_extent(name, data)
    else:
        _check_xls_extent(name, data)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = {m.name: str(m.visible).rsplit(".", 1)[-1] == "Visible"
                   for m in wb.sheets_metadata}
        sheets = []
        for title in wb.sheet_names:
            sheet = wb.get_sheet_by_name(title)
            # The last guard, whatever the pre-checks missed: no Python object is made for
            # each cell of an oversized range.
            if sheet.height * sheet.width > MAX_SHEET_CELLS:
                raise _Oversized(title, sheet.height, sheet.width)
            rows = [tuple(_value(v) for v in r) for r in sheet.to_python()]
            sheets.append(Sheet(title, rows, tuple(sheet.start or (0, 0)),
                                hidden=not visible.get(title, True)))
    except _Oversized as big:
        _too_large(name, big.title, f"занимает {_spaced(big.height)} строк × "
                                    f"{_spaced(big.width)} столбцов "
                                    f"({_spaced(big.height * big.width)} ячеек)")
    except Exception as exc:  # a damaged file fails in many ways inside the reader
        what = {"xls": "книга Excel (.xls)", "ods": "таблица OpenDocument (.ods)"}.get(
            fmt, "книга Excel (.xlsx)")
        raise ImportRejectedError(name, [Problem(
            name, f"файл не читается как {what}: {type(exc).__name__}: {exc}")]) from None
    return fmt, sheets


#: A row's (``<row r="7"``) or a cell's (``<c r="D7"``) reference: the only elements of a
#: sheet's XML with an attribute ``r``.
_REF_ROW = re.compile(rb' r="[A-Z]{0,4}([0-9]{1,8})"')
_REF_COLUMN = re.compile(rb' r="([A-Z]{1,4})[0-9]')
_DIMENSION = re.compile(rb"<dimension\b[^>]*?\bref=\"([A-Z]{1,4})([0-9]{1,8})"
                        rb"(?::([A-Z]{1,4})([0-9]{1,8}))?\"")


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_xlsx_extent(name: str, data: bytes) -> None:
    """Refuse a workbook whose sheet spans more than MAX_SHEET_CELLS cells, or unpacks to
    more than MAX_SHEET_XML bytes, before the reader allocates it (a Rust reader that cannot
    allocate aborts the process: no exception to catch). Reads each sheet's XML once, in
    blocks: its declared dimension, every row and cell reference, and the count of rows
    and cells without one."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return  # not a zip: the reader says what is wrong with it
    titles = _sheet_titles(zf)
    # The worksheets folder and whatever part the workbook names as a sheet (a relationship
    # may point anywhere in the package).
    parts = [i for i in zf.infolist() if i.filename in titles or (
        i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"))]
    for info in parts:
        title = titles.get(info.filename, info.filename.rsplit("/", 1)[-1])
        low_row = low_col = 1 << 40
        high_row = high_col = rows = cells = size = 0
        tail = b""
        try:
            with zf.open(info) as stream:
                while block := stream.read(1 << 20):
                    size += len(block)
                    if size > MAX_SHEET_XML:
                        _too_large(name, title, f"распаковывается больше чем в "
                                                f"{MAX_SHEET_XML // 2**20} МиБ")
                    text = tail + block
                    cut = max(0, text.rfind(b"<"))  # a tag cut by the block waits for the next
                    whole, tail = text[:cut], text[cut:]
                    # Distinct row numbers and column letters (sets built in C: a sheet has
                    # few of either and many cells).
                    numbers = set(_REF_ROW.findall(whole))
                    letters = set(_REF_COLUMN.findall(whole))
                    for d in _DIMENSION.finditer(whole):  # its first and last cell
                        numbers |= {d[2], d[4] or d[2]}
                        letters |= {d[1], d[3] or d[1]}
                    if numbers:
                        rows_seen = [int(n) for n in numbers]
                        low_row, high_row = min(low_row, *rows_seen), max(high_row, *rows_seen)
                    if letters:
                        columns = [_column(c) for c in letters]
                        low_col, high_col = min(low_col, *columns), max(high_col, *columns)
                    rows += whole.count(b"<row ") + whole.count(b"<row>")
                    cells += whole.count(b"<c ") + whole.count(b"<c>") + whole.count(b"<c/>")
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
            pass  # damaged (a bad checksum shows at the end): judge what was read, the reader
            # refuses the rest with its reason
        if not high_row:
            continue
        height = max(high_row - low_row + 1, rows)
        width = high_col - low_col + 1 if high_col else 1
        if height * width > MAX_SHEET_CELLS or cells > MAX_SHEET_CELLS:
            span = (f"{get_column_letter(min(low_col, 16384)) if high_col else 'A'}{low_row}:"
                    f"{get_column_letter(min(high_col, 16384)) if high_col else 'A'}{high_row}")
            _too_large(name, title, f"занимает диапазон {span} ({_spaced(height * width)} "
                                    "ячеек)")


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


class _Counted(io.RawIOBase):
    """A stream that refuses to give more than ``limit`` bytes (an unpacked-size bound)."""

    def __init__(self, stream, limit: int, on_limit) -> None:  # noqa: ANN001
        self.stream, self.left, self.on_limit = stream, limit, on_limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        data = self.stream.read(len(buffer))
        self.left -= len(data)
        if self.left < 0:
            self.on_limit()
        buffer[:len(data)] = data
        return len(data)


def _check_ods_extent(name: str, data: bytes) -> None:
    """The same bound as ``_check_xlsx_extent`` for an OpenDocument spreadsheet: its rows
    and cells may say «repeated N times», so a 1 KiB file can describe billions of filled
    cells. Counts, per table, the box that the cells with content span (their repeats
    included) and their number; the empty repeated rows and columns LibreOffice writes up to
    the sheet's end (``number-rows-repeated="1048553"``) hold nothing and do not count."""
    import xml.etree.ElementTree as ET  # noqa: N817 - the standard name

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        info = zf.getinfo("content.xml")
    except (zipfile.BadZipFile, KeyError, ValueError):
        return  # the reader says what is wrong with it
    rows_attr, cols_attr = f"{_ODS_TABLE}number-rows-repeated", \
        f"{_ODS_TABLE}number-columns-repeated"
    cell_tags = {f"{_ODS_TABLE}table-cell", f"{_ODS_TABLE}covered-table-cell"}
    title, row, col, row_repeat = "", 0, 0, 1
    low_row = low_col = 1 << 62
    high_row = high_col = filled = 0

    def judge() -> None:
        if not filled:
            return
        height, width = high_row - low_row + 1, high_col - low_col + 1
        if height * width > MAX_SHEET_CELLS or filled > MAX_SHEET_CELLS:
            span = (f"{get_column_letter(min(low_col + 1, 16384))}{low_row + 1}:"
                    f"{get_column_letter(min(high_col + 1, 16384))}{high_row + 1}")
            _too_large(name, title, f"занимает диапазон {span} "
                                    f"({_spaced(height * width)} ячеек)")

    def repeat(element, attr: str) -> int:  # noqa: ANN001
        value = element.get(attr, "1")
        return int(value) if value.isascii() and value.isdigit() else 1

    def limit() -> None:
        _too_large(name, title or "content.xml",
                   f"распаковывается больше чем в {MAX_SHEET_XML // 2**20} МиБ")

    try:
        with zf.open(info) as raw:
            stream = io.BufferedReader(_Counted(raw, MAX_SHEET_XML, limit), 1 << 20)
            for event, element in ET.iterparse(stream, events=("start", "end")):
                tag = element.tag
                if tag == f"{_ODS_TABLE}table":
                    if event == "start":
                        title, row = element.get(f"{_ODS_TABLE}name", ""), 0
                        low_row = low_col = 1 << 62
                        high_row = high_col = filled = 0
                    else:
                        judge()
                        element.clear()
                elif tag == f"{_ODS_TABLE}table-row":
                    if event == "start":
                        col, row_repeat = 0, repeat(element, rows_attr)
                    else:
                        row += row_repeat
                        element.clear()
                elif tag in cell_tags and event == "end":
                    n = repeat(element, cols_attr)
                    if element.get(f"{_ODS_OFFICE}value-type") or len(element):
                        low_row = min(low_row, row)
                        high_row = max(high_row, row + row_repeat - 1)
                        low_col, high_col = min(low_col, col), max(high_col, col + n - 1)
                        filled += n * row_repeat
                        if filled > MAX_SHEET_CELLS:
                            judge()
                    col += n
                    element.clear()
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ET.ParseError):
        return  # damaged: the reader refuses it with its reason


#: BIFF8 records that hold a cell's value (row and column in their first four bytes);
#: MULRK holds several cells of one row (its last column in its last two bytes).
_XLS_CELLS = {0x0006, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E}
_XLS_MULRK, _XLS_BOF, _XLS_EOF, _XLS_SHEET = 0x00BD, 0x0809, 0x000A, 0x0085


def _check_xls_extent(name: str, data: bytes) -> None:
    """The same bound for a legacy .xls (BIFF8): a 6 KB file with two cells at A1 and
    IV65536 made the reader hold 16.7 million cells (1 GB) before anything could be refused.
    Reads the workbook stream's records with olefile: the sheets' names, then for each
    sheet the box its value cells span and their number."""
    import struct

    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        stream = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
        raw = ole.openstream(stream).read() if stream else b""
    except (OSError, ValueError, struct.error):
        return  # the reader says what is wrong with it
    titles: list[str] = []
    sheet = -1  # -1: the workbook globals; then the n-th worksheet
    low_row = low_col = 1 << 30
    high_row = high_col = filled = 0
    pos = 0

    def judge() -> None:
        if filled and ((high_row - low_row + 1) * (high_col - low_col + 1) > MAX_SHEET_CELLS
                       or filled > MAX_SHEET_CELLS):
            title = titles[sheet] if 0 <= sheet < len(titles) else f"№ {sheet + 1}"
            cells = (high_row - low_row + 1) * (high_col - low_col + 1)
            span = (f"{get_column_letter(low_col + 1)}{low_row + 1}:"
                    f"{get_column_letter(high_col + 1)}{high_row + 1}")
            _too_large(name, title, f"занимает диапазон {span} ({_spaced(cells)} ячеек)")

    while pos + 4 <= len(raw):
        kind, length = struct.unpack_from("<HH", raw, pos)
        body = raw[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind == _XLS_SHEET and sheet < 0 and len(body) >= 8:
            count, flags = body[6], body[7]
            text = body[8:8 + (count * 2 if flags & 1 else count)]
            titles.append(text.decode("utf-16-le" if flags & 1 else "latin-1", "replace"))
        elif kind == _XLS_BOF and len(body) >= 4:
            if struct.unpack_from("<H", body, 2)[0] == 0x0010:  # a worksheet's substream
                sheet += 1
                low_row = low_col = 1 << 30
                high_row = high_col = filled = 0
        elif kind == _XLS_EOF and sheet >= 0:
            judge()
        elif (kind in _XLS_CELLS or kind == _XLS_MULRK) and sheet >= 0 and len(body) >= 6:
            row, first = struct.unpack_from("<HH", body, 0)
            last = struct.unpack_from("<H", body, length - 2)[0] if kind == _XLS_MULRK \
                else first
            low_row, high_row = min(low_row, row), max(high_row, row)
            low_col, high_col = min(low_col, first), max(high_col, last)
            filled += max(1, last - first + 1)
    judge()


def _spaced(n: int) -> str:
    """12 345 678, as a Russian reader writes it."""
    return f"{n:,}".replace(",", "\u00a0")


def _too_large(name: str, title: str, what: str) -> None:
    raise ImportRejectedError(name, [Problem(
        name, f"лист «{title}» {what}, а лист журнала не бывает больше "
              f"{_spaced(MAX_SHEET_CELLS)} ячеек: книга не прочитана. Откройте "
              "её в Excel или LibreOffice Calc, удалите пустые строки и столбцы после таблицы (или выгрузите "
              "журнал заново) и загрузите снова")])


def _sheet_titles(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → the sheet's name, from workbook.xml and its relationships (small
    files; anything unreadable leaves the part names)."""
    import xml.etree.ElementTree as ET

    try:
        if any(zf.getinfo(n).file_size > 8 << 20
               for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")):
            return {}
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        book = ET.fromstring(zf.read("xl/workbook.xml"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError, ValueError):
        return {}
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    out = {}
    for sheet in book.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        path = target.get(sheet.get(rid), "").lstrip("/")
        path = path if path.startswith("xl/") else f"xl/{path}"
        out[path] = sheet.get("name", "")
    return out


def _html_sheets(name: str, data: bytes) -> list[Sheet]:
    import lxml.html

    try:
        text = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", _html_text(data))  # lxml takes none
        root = lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise ImportRejectedError(name, [Problem(
            name, f"таблица HTML не читается: {exc}")]) from None
    sheets = []
    for n, table in enumerate(root.xpath("//table[not(ancestor::table)]"), start=1):
        captions = table.xpath("./caption")
        title = " ".join(captions[0].text_content().split()) if captions else ""
        grid: dict[tuple[int, int], str] = {}
        taken: set[tuple[int, int]] = set()
        height = width = 0
        for r, tr in enumerate(table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")):
            c = 0
            for td in tr.xpath("./td|./th"):
                while (r, c) in taken:
                    c += 1
                span_c = _span(td.get("colspan"))
                span_r = _span(td.get("rowspan"))
                for dr in range(span_r):
                    for dc in range(span_c):
                        taken.add((r + dr, c + dc))
                text = " ".join(td.text_content().split())
                if text:
                    grid[(r, c)] = text
                width = max(width, c + span_c)
                c += span_c
            height = max(height, r + 1)
        rows = [tuple(grid.get((r, c)) for c in range(width)) for r in range(height)]
        sheets.append(Sheet(title or f"Таблица {n}", rows, noun="таблица"))
    return sheets


def _html_text(data: bytes) -> str:
    """The HTML as text: in the charset it declares, else UTF-8, else Windows-1251 (what a
    Russian e-journal's export without a declaration is written in)."""
    import codecs

    declared = re.search(rb"""charset\s*=\s*["']?([A-Za-z0-9_-]+)""", data[:4096])
    candidates = [declared.group(1).decode("ascii")] if declared else []
    for encoding in [*candidates, "utf-8-sig", "cp1251"]:
        try:
            codecs.lookup(encoding)
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1251", errors="replace")


def _span(value: str | None) -> int:
    """A colspan/rowspan as a small positive number (anything else: 1)."""
    try:
        return min(max(int(value or 1), 1), 1000)
    except ValueError:
        return 1


def _csv_sheets(name: str, data: bytes) -> list[Sheet]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251", errors="replace")
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = "excel"
        if sample.count(";") >= sample.count(","):
            dialect = _Semicolon
    rows = [tuple(v.strip() or None for v in r) for r in csv.reader(io.StringIO(text), dialect)]
    sheets: list[Sheet] = []
    start, title = None, None
    first = next((i for i, r in enumerate(rows) if r and (r[0] or "").casefold().strip(
        " :") == "лист"), len(rows))
    stray = next((i for i in range(first) if any(rows[i])), None)
    if stray is not None and first < len(rows):
        raise ImportRejectedError(name, [Problem(
            name, "строка стоит до первой строки «Лист;…» и не относится ни к одному листу",
            f"строка {stray + 1}")])
    for i, row in enumerate([*rows, ("лист", "")]):
        cells = [v for v in row if v]
        if cells and cells[0].strip().casefold() in ("лист", "лист:") and (
                len(cells) > 1 or i == len(rows)):
            if start is not None:
                sheets.append(Sheet(title, rows[start:i], (start, 0), noun="лист"))
            start, title = i + 1, cells[1] if len(cells) > 1 else ""
    if not sheets:
        raise ImportRejectedError(name, [Problem(
            name, "в файле .csv нет строк «Лист;Класс», «Лист;<предмет>», с которых "
                  "начинаются листы журнала (см. docs/import-format.md)")])
    return sheets


class _Semicolon(csv.excel):
    delimiter = ";"
