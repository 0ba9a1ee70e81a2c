"""The register for a year as a paper register has it: XLSX (openpyxl) and PDF/A (reportlab).

Columns follow a secretary's register of documents: inventory number, date received, title
(kind, class, period), sheets, from whom (the deputy who certified and handed it over),
received by, storage location, mark (state of the copy).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from archive_service.register.service import RegisterRow

HEADERS = ("№ п/п", "Дата поступления", "Наименование документа", "Класс", "Период",
           "Листов", "От кого поступил", "Принял", "Место хранения", "Отметка")


def _values(r: RegisterRow) -> tuple:
    received = dt.datetime.fromisoformat(r.received_at)
    return (r.number, f"{received:%d.%m.%Y}", r.title, r.class_name or "", r.period,
            r.sheets, r.handed_over_by, r.received_by, r.location, r.status)


def to_xlsx(rows: list[RegisterRow], *, school: str, year: str) -> bytes:
    """The register as a workbook with one sheet, ready to print (landscape, fitted)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = f"Реестр {year}"
    ws.append([f"Реестр бумажных копий электронных журналов — {school}, {year} учебный год"])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append([])
    ws.append(list(HEADERS))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in rows:
        ws.append(list(_values(r)))
    for column, width in zip("ABCDEFGHIJ", (7, 12, 48, 7, 8, 7, 30, 30, 30, 18), strict=True):
        ws.column_dimensions[column].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_pdf(rows: list[RegisterRow], *, school: str, year: str) -> bytes:
    """The register as a PDF/A-2b table (landscape A4), every page numbered."""
    import pikepdf
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    from archive_service.rendering import fonts

    fonts.register()
    cell = ParagraphStyle("cell", fontName=fonts.SANS, fontSize=7, leading=8.5)
    head = ParagraphStyle("head", parent=cell, fontName=fonts.SANS_BOLD)
    title = ParagraphStyle("title", fontName=fonts.SERIF_BOLD, fontSize=12, leading=15,
                           spaceAfter=4 * mm)
    data = [[Paragraph(h, head) for h in HEADERS]]
    data += [[Paragraph(str(v), cell) for v in _values(r)] for r in rows]
    widths = [x * mm for x in (12, 20, 62, 12, 13, 12, 38, 38, 40, 22)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS),
                               ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92))]))

    def footer(canvas, doc) -> None:
        canvas.setFont(fonts.SANS, 7)
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 8 * mm,
                               f"Реестр {school}, {year} — лист {doc.page}")

    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=12 * mm,
                            rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=14 * mm,
                            title=f"Реестр {school} {year}")
    story = [Paragraph(f"Реестр бумажных копий электронных журналов<br/>{school}, "
                       f"{year} учебный год", title), table]
    if not rows:
        story.append(Paragraph("Записей нет.", cell))
    from reportlab.pdfgen.canvas import Canvas

    def canvasmaker(*args, **kwargs) -> Canvas:  # every font embedded: no Helvetica default
        return Canvas(*args, **{**kwargs, "initialFontName": fonts.SANS,
                                "initialFontSize": 7})

    pdf.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=canvasmaker)
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as doc:
        pikepdf.pdfa.prepare(doc, "2b")
        out = io.BytesIO()
        doc.save(out, **pikepdf.pdfa.resolve_save_kwargs("2b"))
    return out.getvalue()


def write(rows: list[RegisterRow], path: Path, *, school: str, year: str) -> None:
    """Write by the file's suffix: .xlsx or .pdf."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        path.write_bytes(to_xlsx(rows, school=school, year=year))
    elif suffix == ".pdf":
        path.write_bytes(to_pdf(rows, school=school, year=year))
    else:
        from archive_service.errors import ConfigError

        raise ConfigError(f"Реестр выгружается в .xlsx или .pdf, а не в «{path.name}».")
