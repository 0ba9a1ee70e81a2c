"""Writes the import corpus: the tiny journal (tests/support/journal.py) as e-journals and
teachers really lay it out and save it, and the expected result of each (expected.json).

Run from the repository root after changing the layouts (needs ``pip install xlwt`` for the
legacy .xls and ``odfpy`` for .ods): ``.venv/bin/python -m tests.journals.corpus.make_corpus``. The files are
committed; tests/journals/test_corpus.py imports each and compares.

Every layout variant holds the same journal as ``clean.xlsx``: importing it after the clean
file must change nothing (the stored students, marks, absences and period marks are the
same); the spelling variant holds the same journal written with the e-journals' spellings
(same counts, other raw texts); the refused ones must be refused naming the cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import tempfile
from copy import deepcopy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from tests.support.journal import tiny, write_workbooks

HERE = Path(__file__).parent
ALGEBRA = "Алгебра"

# A book: list of sheets {"title", "rows" (lists of values, None empty), "merges" ((r1, c1,
# r2, c2) 0-based inclusive), "hidden"}.


def clean_book() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        [path] = write_workbooks(tiny(), Path(tmp))
        wb = CalamineWorkbook.from_path(str(path))
        book = []
        for title in wb.sheet_names:
            rows = [[None if v == "" else (int(v) if isinstance(v, float) and v.is_integer()
                                           else v) for v in r]
                    for r in wb.get_sheet_by_name(title).to_python()]
            book.append({"title": title, "rows": rows, "merges": [], "hidden": False})
    return book


def sheet(book: list[dict], title: str) -> dict:
    return next(s for s in book if s["title"] == title)


def row_of(rows: list[list], first: object, col: int = 0) -> int:
    return next(i for i, r in enumerate(rows) if len(r) > col and r[col] == first)


def find(rows: list[list], value: object) -> tuple[int, int]:
    return next((i, j) for i, r in enumerate(rows) for j, v in enumerate(r) if v == value)


# --- the layouts ---------------------------------------------------------------------------

def offset(book):
    """Every table moved down and right, a title above it (as exports put one)."""
    for s in book:
        s["rows"] = [["Выгрузка из электронного журнала"], [], []] + [
            [None, None, *r] for r in s["rows"]]
    return book


def blank_rows_and_columns(book):
    """Empty rows inside the class list, the grid and the lesson table; an empty column
    left of the class sheet and between two lesson columns."""
    cls = sheet(book, "Класс")["rows"]
    cls.insert(row_of(cls, "Иванов Иван Иванович", 1) + 1, [])
    for s in book:
        if s["title"] == "Класс":
            s["rows"] = [[None, *r] for r in s["rows"]]
    alg = sheet(book, ALGEBRA)["rows"]
    alg.insert(row_of(alg, "Иванов Иван Иванович", 1) + 1, [])
    alg.insert(row_of(alg, "Дата") + 2, [])
    for r in alg:
        if len(r) > 3:
            r.insert(3, None)
    return book


def numbered_template_rows(book):
    """A template's unused rows that hold only their number, in the class list and grid."""
    cls = sheet(book, "Класс")["rows"]
    cls.extend([[4], [5], [6]])
    alg = sheet(book, ALGEBRA)["rows"]
    at = row_of(alg, "Сидорова Мария Петровна", 1) + 1
    alg[at:at] = [[4], [5]]
    return book


def repeated_headers(book):
    """The header printed again inside the class list and the grid (a page break)."""
    cls = sheet(book, "Класс")["rows"]
    head = cls[row_of(cls, "№")]
    cls.insert(row_of(cls, "Сидорова Мария Петровна", 1), list(head))
    alg = sheet(book, ALGEBRA)["rows"]
    grid = alg[row_of(alg, "№")]
    alg.insert(row_of(alg, "Сидорова Мария Петровна", 1), list(grid))
    return book


def merged_two_row_header(book):
    """The grid header in two rows: the month merged over its days, the day numbers below,
    «№», «ФИО» and «1 четверть» merged over both rows."""
    alg = sheet(book, ALGEBRA)
    rows = alg["rows"]
    h = row_of(rows, "№")
    assert rows[h][2:6] == ["02.09", "04.09", "20.10", "1 четверть"], rows[h]
    rows[h] = ["№", "ФИО", "Сентябрь", None, "Октябрь", "1 четверть"]
    rows.insert(h + 1, [None, None, 2, 4, 20, None])
    alg["merges"] += [(h, 0, h + 1, 0), (h, 1, h + 1, 1), (h, 2, h, 3), (h, 5, h + 1, 5)]
    return book


def label_and_value_in_one_cell(book):
    """«Класс: 7А» in one cell, as some exports write the heading fields."""
    for s in book:
        for r in s["rows"]:
            if len(r) > 1 and r[0] in ("Класс", "Учебный год", "Предмет", "Учитель") and r[1]:
                r[0], r[1] = f"{r[0]}: {r[1]}", None
    return book


def no_number_column(book):
    """The class list and the grids without the «№» column."""
    for s in book:
        rows = s["rows"]
        start = next((i for i, r in enumerate(rows) if r and r[0] == "№"), None)
        if start is None:
            continue
        end = next((i for i in range(start + 1, len(rows)) if not any(
            v is not None for v in rows[i])), len(rows))
        for r in rows[start:end]:
            del r[0]
    return book


def months_above_the_header(book):
    """The month row above the «№ | ФИО | day numbers» row."""
    rows = sheet(book, ALGEBRA)["rows"]
    h = row_of(rows, "№")
    rows[h] = ["№", "ФИО", 2, 4, 20, "1 четверть"]
    rows.insert(h, [None, None, "Сентябрь", None, "Октябрь", None])
    if rows[h - 1] == [] or all(v is None for v in rows[h - 1]):
        del rows[h - 1]  # the month row takes the place of the empty row above the grid
    return book


def helper_sheets(book):
    """An empty sheet and a hidden list of codes, as templates carry."""
    book.append({"title": "Лист3", "rows": [], "merges": [], "hidden": False})
    book.append({"title": "Справочник", "rows": [["Коды"], ["Н"], ["Б"], ["У"]], "merges": [],
                 "hidden": True})
    return book


def derived_column(book):
    """A computed «Средний балл» column after the period marks."""
    rows = sheet(book, ALGEBRA)["rows"]
    h = row_of(rows, "№")
    rows[h].append("Средний балл")
    for name, avg in (("Иванов Иван Иванович", 5), ("Кузнецов Пётр Олегович", 3),
                      ("Сидорова Мария Петровна", 4.5)):
        r = rows[row_of(rows, name, 1)]
        r.extend([None] * (len(rows[h]) - 1 - len(r)))
        r.append(avg)
    return book


def lookalike_letters(book):
    """The class and a name typed with Latin letters that look Cyrillic."""
    cls = sheet(book, "Класс")["rows"]
    i, j = find(cls, "7А")
    cls[i][j] = "7A"  # Latin A
    i, j = find(cls, "Иванов Иван Иванович")
    cls[i][j] = "Ивaнов Иван Иванович"  # Latin a in the class list (the grid has it right)
    return book


def excel_day_numbers(book):
    """Lesson dates as Excel day numbers (a date column formatted as a number)."""
    rows = sheet(book, ALGEBRA)["rows"]
    h = row_of(rows, "№")
    for c, text in enumerate(rows[h]):
        if isinstance(text, str) and text.count(".") == 1 and text[0].isdigit():
            day, month = map(int, text.split("."))
            rows[h][c] = (dt.date(2025, month, day) - dt.date(1899, 12, 30)).days
    return book


def e_journal_spellings(book):
    """The same journal with the spellings e-journals write: НБ, Б, ОП, «5-»."""
    rows = sheet(book, ALGEBRA)["rows"]
    for old, new in (("н", "НБ"), ("о", "ОП"), ("5", "5-")):
        i, j = find(rows, old)
        rows[i][j] = new
    return book


# --- refused -------------------------------------------------------------------------------

def stray_value(book):
    rows = sheet(book, ALGEBRA)["rows"]
    r = rows[row_of(rows, "Иванов Иван Иванович", 1)]
    r.extend([None] * (7 - len(r)))
    r[6] = "5"
    return book


def ambiguous_mark(book):
    rows = sheet(book, ALGEBRA)["rows"]
    r = rows[row_of(rows, "Иванов Иван Иванович", 1)]
    r[2] = "4,5"
    return book


def visible_helper(book):
    book.append({"title": "Инструкция", "rows": [["Заполните лист «Класс»"]], "merges": [],
                 "hidden": False})
    return book


def mark_after_leaving(book):
    rows = sheet(book, ALGEBRA)["rows"]
    rows[row_of(rows, "Кузнецов Пётр Олегович", 1)][4] = "5"  # 20.10; he left 01.10
    return book


def class_in_latin(book):
    cls = sheet(book, "Класс")["rows"]
    i, j = find(cls, "7А")
    cls[i][j] = "7D"
    return book


# --- writers -------------------------------------------------------------------------------

def write_xlsx(book, path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for s in book:
        ws = wb.create_sheet(s["title"])
        for i, r in enumerate(s["rows"], start=1):
            for j, v in enumerate(r, start=1):
                if v is not None:
                    ws.cell(i, j, v)
        for r1, c1, r2, c2 in s["merges"]:
            ws.merge_cells(f"{get_column_letter(c1 + 1)}{r1 + 1}:{get_column_letter(c2 + 1)}"
                           f"{r2 + 1}")
        if s["hidden"]:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_zip_fixed(buf.getvalue()))


def _zip_fixed(data: bytes) -> bytes:
    """The same workbook with fixed zip timestamps (the corpus does not change on rewrite)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w",
                                                                    zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2025-11-01T00:00:00Z", body)
            fixed = zipfile.ZipInfo(info.filename, (2025, 11, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def write_xls(book, path: Path) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    for s in book:
        ws = wb.add_sheet(s["title"][:31])
        for i, r in enumerate(s["rows"]):
            for j, v in enumerate(r):
                if v is not None:
                    ws.write(i, j, v)
        if s["hidden"]:
            ws.visibility = 1
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def write_ods(book, path: Path) -> None:
    """An OpenDocument spreadsheet (LibreOffice), with odfpy."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for s in book:
        table = Table(name=s["title"])
        for r in s["rows"]:
            tr = TableRow()
            for v in r:
                if v is None:
                    tr.addElement(TableCell())
                elif isinstance(v, int | float):
                    cell = TableCell(valuetype="float", value=v)
                    cell.addElement(P(text=str(v)))
                    tr.addElement(cell)
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(v)))
                    tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    path.write_bytes(buf.getvalue())


def write_html(book, path: Path, encoding: str = "utf-8") -> None:
    """An HTML «.xls» as e-journals save it: one table a sheet, named by its caption; in
    UTF-8 with its declaration, or in Windows-1251 without any (as some exports are)."""
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">' \
        if encoding == "utf-8" else ""
    parts = [f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>{meta}</head><body>']
    for s in book:
        spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for r1, c1, r2, c2 in s["merges"]}
        covered = {(r, c) for r1, c1, r2, c2 in s["merges"] for r in range(r1, r2 + 1)
                   for c in range(c1, c2 + 1)} - set(spans)
        parts.append(f"<table border=1><caption>{html.escape(s['title'])}</caption>")
        for i, r in enumerate(s["rows"]):
            cells = []
            for j, v in enumerate(r):
                if (i, j) in covered:
                    continue
                rs, cs = spans.get((i, j), (1, 1))
                attrs = (f' rowspan="{rs}"' if rs > 1 else "") + (
                    f' colspan="{cs}"' if cs > 1 else "")
                cells.append(f"<td{attrs}>{html.escape(str(v)) if v is not None else ''}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    path.write_bytes("\n".join(parts).encode(encoding))


def write_csv(book, path: Path) -> None:
    """The documented CSV layout: the sheets one under another, each after «Лист;name»;
    Windows-1251 with «;», as Russian Excel saves it."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    for s in book:
        w.writerow(["Лист", s["title"]])
        for r in s["rows"]:
            w.writerow(["" if v is None else v for v in r])
    path.write_bytes(buf.getvalue().encode("cp1251"))


LAYOUTS = {
    "offset.xlsx": offset, "blank-rows-and-columns.xlsx": blank_rows_and_columns,
    "numbered-template-rows.xlsx": numbered_template_rows,
    "repeated-headers.xlsx": repeated_headers, "merged-two-row-header.xlsx": merged_two_row_header,
    "months-above-the-header.xlsx": months_above_the_header,
    "helper-sheets.xlsx": helper_sheets, "no-number-column.xlsx": no_number_column,
    "derived-column.xlsx": derived_column,
    "label-and-value-in-one-cell.xlsx": label_and_value_in_one_cell,
    "lookalike-letters.xlsx": lookalike_letters, "excel-day-numbers.xlsx": excel_day_numbers,
}
REFUSED = {
    "stray-value.xlsx": (stray_value, ["лист «Алгебра», ячейка G5", "в столбце без заголовка"]),
    "ambiguous-mark.xlsx": (ambiguous_mark, ["лист «Алгебра», ячейка C5", "читается двояко",
                                             "две отметки «4» и «5» или дробное число 4,5"]),
    "visible-helper.xlsx": (visible_helper, ["лист «Инструкция»", "не похож на лист предмета"]),
    "mark-after-leaving.xlsx": (mark_after_leaving, [
        "лист «Алгебра», ячейка E6", "выбыл из класса 01.10.2025, а отметка «5» стоит за "
                                     "20.10.2025"]),
    "class-in-latin.xlsx": (class_in_latin, ["лист «Класс», ячейка B10",
                                             "латинская буква «D»"]),
}


def cell_of(book, title: str, value: object, *, csv_lines: bool = False) -> str:
    """Where a value stands as a spreadsheet shows it (a CSV file: its line)."""
    before = 0
    for s in book:
        if s["title"] == title:
            i, j = find(s["rows"], value)
            return f"{get_column_letter(j + 1)}{before + i + 1 + (1 if csv_lines else 0)}"
        before += len(s["rows"]) + 1 if csv_lines else 0
    raise KeyError(title)


def ambiguous_in(layout, writer, name: str, noun: str = "лист", csv_lines: bool = False):
    """A file of another layout or kind with «4,5» in it, and where the message must say."""
    book = layout(ambiguous_mark(deepcopy(clean_book())))
    writer(book, HERE / name)
    return {"refused": [f"{noun} «Алгебра», ячейка "
                        f"{cell_of(book, ALGEBRA, '4,5', csv_lines=csv_lines)}",
                        "читается двояко"]}


def main() -> None:
    expected: dict[str, dict] = {"clean.xlsx": {"same_as": None}}
    base = clean_book()
    write_xlsx(base, HERE / "clean.xlsx")
    for name, change in LAYOUTS.items():
        write_xlsx(change(deepcopy(base)), HERE / name)
        expected[name] = {"same_as": "clean.xlsx"}
    expected["lookalike-letters.xlsx"]["notes"] = ["прочитан как «7А»",
                                                   "прочитано как «Иванов Иван Иванович»"]
    expected["helper-sheets.xlsx"]["notes"] = ["пустой лист «Лист3» пропущен",
                                               "скрытый лист «Справочник» пропущен"]
    for name, writer in (("legacy.xls", write_xls), ("html-table.xls", write_html),
                         ("sections.csv", write_csv), ("libreoffice.ods", write_ods),
                         ("html-cp1251.xls", lambda b, p: write_html(b, p, "cp1251"))):
        layout = {"legacy.xls": lambda b: helper_sheets(merged_two_row_header(b)),
                  "html-table.xls": merged_two_row_header, "sections.csv": offset,
                  "libreoffice.ods": offset, "html-cp1251.xls": offset}[name]
        writer(layout(deepcopy(base)), HERE / name)
        expected[name] = {"same_as": "clean.xlsx"}
    write_xlsx(e_journal_spellings(deepcopy(base)), HERE / "e-journal-spellings.xlsx")
    expected["e-journal-spellings.xlsx"] = {"counts_as": "clean.xlsx",
                                            "raw": ["НБ", "ОП", "5-"]}
    for name, (change, fragments) in REFUSED.items():
        write_xlsx(change(deepcopy(base)), HERE / name)
        expected[name] = {"refused": fragments}
    expected["offset-ambiguous.xlsx"] = ambiguous_in(offset, write_xlsx, "offset-ambiguous.xlsx")
    expected["offset-ambiguous.xls"] = ambiguous_in(offset, write_xls, "offset-ambiguous.xls")
    expected["html-ambiguous.xls"] = ambiguous_in(merged_two_row_header, write_html,
                                                  "html-ambiguous.xls", noun="таблица")
    expected["sections-ambiguous.csv"] = ambiguous_in(offset, write_csv,
                                                      "sections-ambiguous.csv", csv_lines=True)
    (HERE / "not-a-journal.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    expected["not-a-journal.pdf"] = {"refused": ["это документ PDF, а не выгрузка журнала",
                                                 ".csv"]}
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1)
                                        + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
