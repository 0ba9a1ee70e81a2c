"""Tables people download: XLSX, CSV and PDF/A-2b, every value written as text.

One place for the register, the completeness report and the backup usage log. Values come
from imports and forms, so none of them is ever taken for something else:

- XLSX: a string that begins with ``=`` (or ``+``, ``-``, ``@``, tab, CR: what spreadsheet
  programs evaluate, OWASP's CSV-injection list) is stored as a text cell, never as a
  formula; CSV: such a value gets a leading apostrophe, as OWASP advises.
- PDF: reportlab's Paragraph reads its text as markup (``<b>``, ``<img src=…>``,
  ``&entities;``): every value is escaped first, so it is printed literally and reportlab
  never opens a file or address named in it.
- PDF/A-2b: every font embedded (PT Sans as the canvas's initial font too), then pikepdf's
  PDF/A save.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

Value = str | int | float | None
#: What a spreadsheet program may evaluate when a cell begins with it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text(value: Value) -> str:
    """A value as it is printed."""
    return "" if value is None else str(value)


def markup(value: Value) -> str:
    """A value for reportlab's Paragraph: its text escaped, line breaks kept."""
    return escape(text(value)).replace("\n", "<br/>")


def _dangerous(value: Value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def to_xlsx(*, sheet: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Value]],
            widths: Sequence[int] = ()) -> bytes:
    """One sheet: a bold title line, an empty line, the header row, the rows (landscape,
    fitted to the page width, the header repeated on every printed page)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(sheet)
    _put(ws, 1, [title])
    ws["A1"].font = Font(bold=True, size=12)
    _put(ws, 3, list(headers))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(rows, start=4):
        _put(ws, i, list(row))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(name: str) -> str:
    """A sheet title Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip() or "Лист"
    return cleaned[:31]


def _put(ws, row: int, values: list[Value]) -> None:  # noqa: ANN001 - an openpyxl sheet
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column, value=value)
        if _dangerous(value):
            cell.data_type = "s"  # text, not a formula (openpyxl makes «=…» a formula)


def to_csv(*, headers: Sequence[str], rows: Sequence[Sequence[Value]]) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads Cyrillic), semicolons (Russian Excel's
    list separator), every value that could be evaluated prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["'" + v if _dangerous(v) else text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_pdf(*, title: str, headers: Sequence[str], rows: Sequence[Sequence[Value]],
           widths_mm: Sequence[float], footer: str, empty: str = "Записей нет.",
           note: str | None = None) -> bytes:
    """A PDF/A-2b table on landscape A4, the header repeated, every sheet numbered
    («<footer> — лист N»); ``note``: a paragraph under the title."""
    import pikepdf
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    from archive_service.rendering import fonts

    fonts.register()
    cell = ParagraphStyle("cell", fontName=fonts.SANS, fontSize=7, leading=8.5)
    head = ParagraphStyle("head", parent=cell, fontName=fonts.SANS_BOLD)
    heading = ParagraphStyle("title", fontName=fonts.SERIF_BOLD, fontSize=12, leading=15,
                             spaceAfter=4 * mm)
    data = [[Paragraph(markup(h), head) for h in headers]]
    data += [[Paragraph(markup(v), cell) for v in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths_mm], repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS),
                               ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92))]))
    page = landscape(A4)

    def number(canvas, doc) -> None:  # noqa: ANN001 - reportlab's canvas and document
        canvas.setFont(fonts.SANS, 7)
        canvas.drawRightString(page[0] - 12 * mm, 8 * mm, f"{footer} — лист {doc.page}")

    def canvasmaker(*args, **kwargs) -> Canvas:  # every font embedded: no Helvetica default
        return Canvas(*args, **{**kwargs, "initialFontName": fonts.SANS,
                                "initialFontSize": 7})

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm,
                                 topMargin=12 * mm, bottomMargin=14 * mm, title=text(title))
    story = [Paragraph(markup(title), heading)]
    if note:
        story.append(Paragraph(markup(note), cell))
    story.append(table)
    if not rows:
        story.append(Paragraph(markup(empty), cell))
    document.build(story, onFirstPage=number, onLaterPages=number, canvasmaker=canvasmaker)
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as pdf:
        pikepdf.pdfa.prepare(pdf, "2b")
        out = io.BytesIO()
        pdf.save(out, **pikepdf.pdfa.resolve_save_kwargs("2b"))
    return out.getvalue()
