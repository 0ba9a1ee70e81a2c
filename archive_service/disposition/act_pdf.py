"""The act on selecting documents for destruction as a PDF/A-2b file (reportlab + pikepdf).

Layout of the Russian form (акт о выделении к уничтожению документов, не подлежащих
хранению): «УТВЕРЖДАЮ» with the director's signature in the top right, the act's number and
date, the basis, a table (№ п/п, заголовок дела, годы, № по реестру, листов, срок хранения и
основание, примечание), the total, the expert commission's decision, and who drew it up.
The approved version carries one signature field where the director signs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from archive_service.rendering.layout import DocumentMeta, FieldSpec, Rendered
from archive_service.rendering.pdfa import finish

#: Where the director's signature goes on page 1: the space reserved under «УТВЕРЖДАЮ»
#: (top right), in points on A4, clear of any text.
FIELD_RECT = (303.0, 684.0, 565.0, 748.0)
FIELD_NAME = "director_approval"


@dataclass(frozen=True)
class ActLine:
    """One row of the act's table."""

    title: str
    year: str
    register_number: str | None
    sheets: int
    rule: str
    note: str


@dataclass(frozen=True)
class ActText:
    """What the act says besides its rows."""

    number: int
    school: str
    director: str
    as_of: dt.date
    drawn_by: str
    drawn_at: dt.datetime
    review: str | None  # the commission's decision, once recorded
    bases: tuple[str, ...]  # the legal bases of the listed items, quoted once


def render(act: ActText, lines: list[ActLine], *, with_field: bool) -> bytes:
    """The act as PDF/A-2b; ``with_field`` adds the director's signature field."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    from archive_service.rendering import fonts
    from archive_service.rendering.tables import markup as e  # stored values are text

    fonts.register()
    cell = ParagraphStyle("cell", fontName=fonts.SANS, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName=fonts.SANS_BOLD)
    body = ParagraphStyle("body", fontName=fonts.SANS, fontSize=9.5, leading=12.5)
    right = ParagraphStyle("right", parent=body, leftIndent=95 * mm)
    title = ParagraphStyle("title", fontName=fonts.SERIF_BOLD, fontSize=12, leading=16,
                           alignment=1, spaceBefore=4 * mm, spaceAfter=3 * mm)
    story = [
        Paragraph(e(act.school), body),
        Paragraph("УТВЕРЖДАЮ<br/>Директор<br/>" + e(act.director), right),
        Spacer(1, 27 * mm),  # the director's electronic signature stamp goes here
        Paragraph(f"АКТ № {act.number} от {act.drawn_at:%d.%m.%Y}<br/>о выделении к уничтожению "
                  "документов, не подлежащих хранению", title),
        Paragraph("На основании: " + e("; ".join(act.bases)) + " — отобраны к уничтожению "
                  "как не имеющие научно-исторической ценности и утратившие практическое "
                  "значение электронные документы архива, срок хранения которых истёк по "
                  f"состоянию на {act.as_of:%d.%m.%Y}. Сводные ведомости учёта успеваемости "
                  "соответствующих классов и лет сохраняются.", body),
        Spacer(1, 3 * mm),
    ]
    rows = [[Paragraph(h, head) for h in ("№ п/п", "Заголовок дела", "Годы", "№ по реестру",
                                          "Листов", "Срок хранения и основание",
                                          "Примечание")]]
    rows += [[Paragraph(str(i), cell), Paragraph(e(x.title), cell), Paragraph(e(x.year), cell),
              Paragraph(e((x.register_number or "не зарег.").split("/")[-1]), cell),
              Paragraph(str(x.sheets), cell), Paragraph(e(x.rule), cell),
              Paragraph(e(x.note), cell)]
             for i, x in enumerate(lines, 1)]
    table = Table(rows, colWidths=[10 * mm, 56 * mm, 20 * mm, 16 * mm, 13 * mm, 45 * mm,
                                   26 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 4 * mm),
              Paragraph(f"Итого {len(lines)} дел, {sum(x.sheets for x in lines)} листов.",
                        body),
              Spacer(1, 3 * mm),
              Paragraph(e(act.review or "Экспертная комиссия акт ещё не рассмотрела."), body),
              Spacer(1, 3 * mm),
              Paragraph(f"Акт составил: {e(act.drawn_by)}, {act.drawn_at:%d.%m.%Y}.", body),
              Paragraph("Уничтожение выполняется сервисом архива после утверждения акта "
                        "электронной подписью директора: объекты удаляются из хранилища, "
                        "по каждому делу остаётся запись об уничтожении; акт хранится "
                        "постоянно.", body)]
    drawn, pages = fonts.story_pdf(story, top_mm=12)
    fields = [FieldSpec(FIELD_NAME, 0, FIELD_RECT, "director", "director",
                        "Утверждаю: директор")] if with_field else []
    meta = DocumentMeta("act", f"АКТ-{act.number}", "", "Архив электронных классных журналов",
                        act.drawn_at.date(), "")
    return finish(Rendered(drawn, pages, fields), meta,
                  title=f"Акт № {act.number} о выделении к уничтожению документов",
                  subject=act.school).pdf
