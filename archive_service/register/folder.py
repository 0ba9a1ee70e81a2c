"""The period folder (общая папка за четверть, полугодие или год) as one PDF/A-3b file.

Seed 000, 4.5: the secretary «формирует общую папку за четверть, полугодие или год». Merging
the signed copies into one document would break every signature (each covers the bytes of
its own file), so the folder is a PDF/A-3b file whose pages are the contents (register
number, title, sheets, SHA-256 of each signed copy) and which carries every signed copy
unchanged as an embedded file (PDF/A-3 associated files, /AFRelationship /Source). Anyone
can take a copy out of the folder and check its signatures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class FolderItem:
    """One signed copy in the folder."""

    register_number: int
    title: str
    sheets: int
    file_name: str
    pdf: bytes


def build(items: list[FolderItem], *, school: str, period: str, year: str,
          formed_by: str, formed_at: dt.datetime, incomplete: list[str] | None = None,
          reason: str | None = None) -> tuple[bytes, int]:
    """The folder file and its number of contents pages. ``incomplete``: what the folder
    lacks (classes without a sealed copy), printed with the secretary's ``reason``."""
    from xml.sax.saxutils import escape

    import pikepdf
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table, TableStyle

    from archive_service.rendering import fonts

    fonts.register()
    cell = ParagraphStyle("cell", fontName=fonts.SANS, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName=fonts.SANS_BOLD)
    title = ParagraphStyle("title", fontName=fonts.SERIF_BOLD, fontSize=13, leading=17,
                           spaceAfter=3 * mm)
    rows = [[Paragraph(h, head) for h in ("№ по реестру", "Документ", "Листов",
                                          "Вложенный файл и его SHA-256")]]
    rows += [[Paragraph(str(i.register_number), cell), Paragraph(escape(i.title), cell),
              Paragraph(str(i.sheets), cell),
              Paragraph(f"{escape(i.file_name)}<br/>{hashlib.sha256(i.pdf).hexdigest()}", cell)]
             for i in items]
    table = Table(rows, colWidths=[22 * mm, 70 * mm, 14 * mm, 76 * mm], repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS),
                               ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [Paragraph(f"Общая папка за период: {escape(period)} {escape(year)}<br/>"
                       f"{escape(school)}", title),
             Paragraph(f"Сформирована {formed_at:%d.%m.%Y} секретарём {escape(formed_by)}. "
                       f"Документов: {len(items)}, листов: {sum(i.sheets for i in items)}. "
                       "Подписанные копии вложены в этот файл без изменений (вложения "
                       "PDF/A-3); их подписи проверяются после извлечения.", cell)]
    if incomplete:
        story.append(Paragraph(
            "<b>Папка сформирована неполной.</b> Нет заверенных копий: "
            + escape("; ".join(incomplete)) + f". Основание: {escape(reason or '')}.", cell))
    story += [Paragraph("&nbsp;", cell), table]
    drawn, pages = fonts.story_pdf(story, top_mm=14)
    with pikepdf.open(io.BytesIO(drawn)) as pdf:
        for i in items:
            spec = pikepdf.AttachedFileSpec(pdf, i.pdf, description=i.title,
                                            filename=i.file_name, mime_type="application/pdf")
            pdf.attachments[i.file_name] = spec
        pikepdf.pdfa.prepare(pdf, "3b")
        out = io.BytesIO()
        pdf.save(out, **pikepdf.pdfa.resolve_save_kwargs("3b", deterministic_id=True))
    return out.getvalue(), pages


def attachments(folder: bytes) -> dict[str, bytes]:
    """The embedded copies of a folder, by file name."""
    import pikepdf

    with pikepdf.open(io.BytesIO(folder)) as pdf:
        return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
