"""Drawing the paper-equivalent documents on a reportlab canvas (no I/O, no database).

Pages are planned first (so every sheet can say «Лист N из M»), then drawn directly on the
canvas: platypus tables are several times slower. A4 landscape for the grids. One PDF page
is one sheet of the copy (printed one-sided), so sheets = pages.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from archive_service.rendering.fonts import SANS, SANS_BOLD, SERIF_BOLD, register, width, wrap

PAGE_W, PAGE_H = landscape(A4)
MARGIN = 28.0
FOOTER = 40.0
TOP = PAGE_H - MARGIN
BOTTOM = MARGIN + FOOTER
GRID_W = PAGE_W - 2 * MARGIN
NUM_W, NAME_W, COL_W, PM_W = 16.0, 150.0, 19.0, 27.0
ROW_H = 11.0  # summary rows
FIELD_W, FIELD_H = 186.0, 116.0  # the stamp: eleven lines at 7 pt (signing.pades)
MONTHS = ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]
KIND_TITLES = {"year": "Год", "exam": "Экз.", "final": "Итог."}
ROLE_TITLES = {"teacher": "Учитель", "class_leader": "Классный руководитель",
               "deputy": "Заместитель директора по УВР", "director": "Директор",
               "seal": "Печать организации"}


@dataclass(frozen=True)
class DocumentMeta:
    """What every sheet says about the document (the mark of electronic origin)."""

    kind: str  # "journal" or "summary"
    number: str
    snapshot_sha256: str
    source_system: str
    render_date: dt.date
    verify_ref: str


@dataclass(frozen=True)
class FieldSpec:
    """A signature field to create where the handwritten signature would go."""

    name: str
    page: int  # 0-based
    rect: tuple[float, float, float, float]
    step: str  # teachers, class_leader, deputy, director, seal
    role: str
    label: str
    signer: str | None = None
    course: str | None = None


@dataclass
class Rendered:
    """A drawn document before PDF/A finishing."""

    pdf: bytes
    pages: int
    fields: list[FieldSpec] = field(default_factory=list)


# --- what the snapshot says, arranged for the page ------------------------------------------

ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV"}
SHORT = {"Q": "ч.", "H": "п/г", "T": "тр."}


def short_period(code: str) -> str:
    """A period code as a column header: Q1 → «I ч.», H2 → «II п/г», T3 → «III тр.»."""
    return f"{ROMAN[code[1]]} {SHORT[code[0]]}"


def _title(course: dict) -> str:
    return course["subject"] + (f" ({course['subgroup']})" if course["subgroup"] else "")


def _mark_columns(content: dict, course: dict) -> list[tuple[str, str, str]]:
    """(period, kind, header) of the period mark columns after the last lesson."""
    period = content["period"]["code"]
    if period != "Y":
        return [(period, "period", content["period"]["name"])]
    present = {(m["period"], m["kind"]) for m in course["period_marks"]}
    periods = sorted({p for p, k in present if k == "period"})
    cols = [(p, "period", short_period(p)) for p in periods]
    cols += [("Y", k, KIND_TITLES[k]) for k in ("year", "exam", "final") if ("Y", k) in present]
    return cols


def _roster(content: dict, course: dict) -> list[dict]:
    students = content["students"]
    if course["students"] is None:
        return students
    members = set(course["students"])
    return [s for s in students if s["record_number"] in members]


def _cell_texts(course: dict) -> dict[tuple[int, str], str]:
    out: dict[tuple[int, str], list[str]] = defaultdict(list)
    for i, lesson in enumerate(course["lessons"]):
        for a in lesson["attendance"]:
            out[(i, a["student"])].insert(0, a["code"])
        for m in lesson["marks"]:
            out[(i, m["student"])].append(m["raw"])
    return {k: "/".join(v) for k, v in out.items()}


# --- the drawing ----------------------------------------------------------------------------

class _PageText:
    """A canvas stand-in that collects a page's strings and writes them in one text object.

    reportlab's drawString opens a text object per string; a journal page has ~160 strings,
    and doing them in one object makes drawing about a fifth faster. Everything else is
    passed to the canvas; the text is written on top of the page's graphics.
    """

    def __init__(self, canvas: Canvas, encoded: dict) -> None:
        self._c = canvas
        self._encoded = encoded  # per document: (font, text) -> [(subset font, escaped)]
        self._font = (SANS, 8.0)
        self._items: list[tuple[str, float, float, float, str]] = []

    def __getattr__(self, name: str):
        return getattr(self._c, name)

    def setFont(self, name: str, size: float) -> None:  # noqa: N802 (reportlab's name)
        self._font = (name, size)

    def drawString(self, x: float, y: float, text: str) -> None:  # noqa: N802
        self._items.append((*self._font, x, y, text))

    def drawRightString(self, x: float, y: float, text: str) -> None:  # noqa: N802
        self._items.append((*self._font, x - width(text, *self._font), y, text))

    def drawCentredString(self, x: float, y: float, text: str) -> None:  # noqa: N802
        self._items.append((*self._font, x - width(text, *self._font) / 2, y, text))

    def flush(self) -> None:
        """Write the collected strings as one BT…ET block of Tm/Tf/Tj operators.

        This is what reportlab's text object writes for a TrueType font (its subsets come
        from ``splitString``), without re-encoding a string already seen in the document.
        """
        c = self._c
        doc = c._doc
        c.setFillGray(0)
        out = ["BT"]
        current = None
        for font_name, size, x, y, text in self._items:
            segments = self._encoded.get((font_name, text))
            if segments is None:
                font = pdfmetrics.getFont(font_name)
                segments = [(font.getSubsetInternalName(subset, doc), c._escape(part))
                            for subset, part in font.splitString(text, doc)]
                self._encoded[(font_name, text)] = segments
            out.append(f"1 0 0 1 {fp_str(x)} {fp_str(y)} Tm")
            for subset_name, escaped in segments:
                if (subset_name, size) != current:
                    out.append(f"{subset_name} {fp_str(size)} Tf")
                    current = (subset_name, size)
                out.append(f"({escaped}) Tj")
        out.append("ET")
        c._code.append("\n".join(out))
        self._items.clear()


class _Doc:
    """A planned document: page drawers run after the total page count is known."""

    def __init__(self, content: dict, meta: DocumentMeta, chain: tuple[str, ...]) -> None:
        register()
        self.content = content
        self.meta = meta
        self.chain = chain
        self.pages: list[Callable[[Canvas, int], None]] = []
        self.fields: list[FieldSpec] = []

    def add_page(self, draw: Callable[[Canvas, int], None]) -> int:
        self.pages.append(draw)
        return len(self.pages) - 1

    def field(self, page: int, x: float, y: float, step: str, role: str, name: str,
              signer: str | None = None, course: str | None = None) -> None:
        if step not in self.chain:
            return
        label = ROLE_TITLES[role] + (f": {signer}" if signer else "") + (
            f" ({course})" if course and self.meta.kind == "summary" else "")
        self.fields.append(FieldSpec(name, page, (x, y, x + FIELD_W, y + FIELD_H), step, role,
                                     label, signer, course))

    def draw_field_frame(self, c: Canvas, page: int) -> None:
        for f in self.fields:
            if f.page != page:
                continue
            x1, y1, x2, y2 = f.rect
            c.setDash(2, 2)
            c.setStrokeGray(0.55)
            c.rect(x1, y1, x2 - x1, y2 - y1)
            c.setDash()
            c.setStrokeGray(0)
            c.setFont(SANS, 6.5)
            y = y2 + 2.5
            for line in reversed(wrap(f"{f.label} — подпись, расшифровка, дата", SANS, 6.5,
                                      x2 - x1)):
                c.drawString(x1, y, line)
                y += 7.5

    def build(self) -> Rendered:
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1,
                   initialFontName=SANS, initialFontSize=8)
        c.setTitle(f"{self.meta.number}")
        total = len(self.pages)
        qr = self._qr_form(c)
        encoded: dict = {}
        for number, draw in enumerate(self.pages):
            page = _PageText(c, encoded)
            draw(page, number)
            self.draw_field_frame(page, number)
            self._footer(page, number + 1, total, qr)
            page.flush()
            c.showPage()
        c.save()
        ordered = sorted(self.fields, key=lambda f: self.chain.index(f.step))  # stable
        return Rendered(buf.getvalue(), total, ordered)

    def _qr_form(self, c: Canvas) -> str:
        """The verification QR code as one form XObject, drawn module by module.

        reportlab's own QR encoder; its widget (and renderPDF) is not used: building a
        shape per module cost 0.1 s a document, and renderPDF declares an unembedded
        Helvetica, which PDF/A forbids. Mask pattern 0 instead of the best of eight: every
        mask is valid, and choosing took another 0.06 s a document.
        """
        qr = QRCode(None, QRErrorCorrectLevel.M)
        qr.addData(self.meta.verify_ref)
        qr.version = qr.calculate_version()
        qr.makeImpl(False, 0)
        count = qr.getModuleCount()
        size = 34.0
        module = size / (count + 2)  # a quiet zone of one module
        c.beginForm("qr")
        c.setFillGray(0)
        path = c.beginPath()
        for row in range(count):
            for col in range(count):
                if qr.isDark(row, col):
                    path.rect((col + 1) * module, size - (row + 2) * module, module, module)
        c.drawPath(path, stroke=0, fill=1)
        c.endForm()
        return "qr"

    def _footer(self, c: Canvas, n: int, total: int, qr: str) -> None:
        m = self.meta
        c.setStrokeGray(0.6)
        c.line(MARGIN, MARGIN + FOOTER - 6, PAGE_W - MARGIN, MARGIN + FOOTER - 6)
        c.setStrokeGray(0)
        c.setFont(SANS_BOLD, 9)
        c.drawRightString(PAGE_W - MARGIN - 42, MARGIN + 16, f"Лист {n} из {total}")
        c.setFont(SANS, 6.5)
        c.drawString(MARGIN, MARGIN + 18,
                     f"Электронный документ № {m.number}. Создан из среза журнала "
                     f"sha256:{m.snapshot_sha256[:16]}… системы «{m.source_system}».")
        c.drawString(MARGIN, MARGIN + 9,
                     f"Дата формирования: {m.render_date:%d.%m.%Y}. Проверка подлинности: "
                     f"{m.verify_ref}")
        c.saveState()
        c.translate(PAGE_W - MARGIN - 34, MARGIN)
        c.doForm(qr)
        c.restoreState()


def _fit(c: Canvas, text: str, x: float, y_top: float, w: float, h: float, *,
         size: float = 7.0, font: str = SANS, min_size: float = 6.0) -> None:
    """Draw text in a box, wrapping (and shrinking to min_size) instead of overflowing."""
    s = size
    while True:
        lines = wrap(text, font, s, w - 2)
        if len(lines) * (s + 1) <= h or s <= min_size:
            break
        s -= 0.5
    c.setFont(font, s)
    y = y_top - s - (h - len(lines) * (s + 1)) / 2
    for line in lines:  # never drop text: an archival copy must show all of it
        c.drawString(x + 1, y, line)
        y -= s + 1


def _table_lines(c: Canvas, xs: list[float], y_top: float, y_bottom: float,
                 ys: list[float]) -> None:
    for x in xs:
        c.line(x, y_top, x, y_bottom)
    for y in ys:
        c.line(xs[0], y, xs[-1], y)


def _header(c: Canvas, text: str, sub: str | None = None) -> float:
    c.setFont(SANS_BOLD, 11)
    c.drawString(MARGIN, TOP - 11, text)
    y = TOP - 16
    if sub:
        c.setFont(SANS, 8)
        c.drawString(MARGIN, TOP - 24, sub)
        y = TOP - 30
    return y


#: The default signature chain (seed 000, section 4): subject teachers, class leader, deputy
#: director, director, school seal. A school may configure another (``signature_chain``).
DEFAULT_CHAIN = ("teachers", "class_leader", "deputy", "director", "seal")


def render_journal(content: dict[str, Any], meta: DocumentMeta,
                   chain: tuple[str, ...] = DEFAULT_CHAIN) -> Rendered:
    """The journal copy of one class for one period, with a field per step of the chain."""
    doc = _Doc(content, meta, chain)
    cls = content["class"]
    contents: list[tuple[str, str, int]] = []  # title, teacher, first page (1-based)
    title_page = doc.add_page(lambda c, n: _title_page(c, doc, contents))
    doc.field(title_page, PAGE_W - MARGIN - FIELD_W, BOTTOM + 20, "class_leader",
              "class_leader", "class_leader", cls["class_leader"])
    teacher_fields = 0
    for course in content["courses"]:
        first = len(doc.pages) + 1
        last_right = _course_spreads(doc, course)
        contents.append((_title(course), ", ".join(course["teachers"]), first))
        for ti, teacher in enumerate(course["teachers"]):
            teacher_fields += 1
            doc.field(last_right, PAGE_W - MARGIN - FIELD_W - ti * (FIELD_W + 10), BOTTOM + 6,
                      "teachers", "teacher", f"teacher_{teacher_fields}", teacher, _title(course))
    contents.append(("Сведения о пропусках уроков", "", len(doc.pages) + 1))
    _attendance_pages(doc)
    contents.append(("Сводная ведомость итоговых отметок", "", len(doc.pages) + 1))
    _summary_pages(doc, with_fields=False)
    contents.append(("Заверительный лист", "", len(doc.pages) + 1))
    cert = doc.add_page(lambda c, n: _certification(c, doc))
    for i, (step, role) in enumerate((("deputy", "deputy"), ("director", "director"),
                                      ("seal", "seal"))):
        doc.field(cert, MARGIN + i * (FIELD_W + 40), BOTTOM + 90, step, role, step)
    return doc.build()


def render_summary(content: dict[str, Any], meta: DocumentMeta,
                   chain: tuple[str, ...] = DEFAULT_CHAIN) -> Rendered:
    """The summary sheet of period marks, standing on its own (kept 75 years), with its own
    signature sheet: the subject teachers confirm the marks they gave, the class leader who
    collected their signatures checks the sheet (seed 000, 4.2), then the deputy, the
    director and the seal, as far as ``chain`` (the school's summary chain) has them."""
    doc = _Doc(content, meta, chain)
    _summary_pages(doc, with_fields=True)
    return doc.build()


def _title_page(c: Canvas, doc: _Doc, contents: list[tuple[str, str, int]]) -> None:
    content = doc.content
    cls, period = content["class"], content["period"]
    y = TOP - 20
    c.setFont(SANS, 11)
    c.drawCentredString(PAGE_W / 2, y, content["school"]["name"])
    c.setFont(SERIF_BOLD, 22)
    c.drawCentredString(PAGE_W / 2, y - 40, f"Классный журнал {cls['name']} класса")
    c.setFont(SANS, 12)
    c.drawCentredString(PAGE_W / 2, y - 62, f"{content['academic_year']} учебный год · "
                        f"{period['name']} ({_d(period['start'])} – {_d(period['end'])})")
    c.drawCentredString(PAGE_W / 2, y - 80, f"Классный руководитель: {cls['class_leader'] or '—'}")
    c.setFont(SANS_BOLD, 10)
    y -= 110
    c.drawString(MARGIN + 60, y, "Оглавление")
    c.setFont(SANS, 8.5)
    y -= 14
    c.drawString(MARGIN + 60, y, "Лист")
    c.drawString(MARGIN + 100, y, "Предмет")
    c.drawString(MARGIN + 400, y, "Учитель")
    rows = len(contents)
    step = min(12.5, (y - BOTTOM - 90) / max(rows, 1))
    for title, teacher, page in contents:
        y -= step
        c.drawRightString(MARGIN + 80, y, str(page))
        c.drawString(MARGIN + 100, y, title)
        c.drawString(MARGIN + 400, y, teacher)


def _d(iso: str | None) -> str:
    return dt.date.fromisoformat(iso).strftime("%d.%m.%Y") if iso else ""


def _moves(content: dict, student: dict) -> str:
    """«прибыл 05.09.2025», «выбыл 01.10.2025»: a move within the copy's period only (a
    first-quarter copy never shows what happened after the quarter)."""
    start, end = content["period"]["start"], content["period"]["end"]
    moves = [f"{word} {_d(day)}" for word, day in (("прибыл", student.get("joined")),
                                                   ("выбыл", student.get("left")))
             if day and start <= day <= end]
    return ", ".join(moves)


def _chunks(course: dict, indices: list[int], mark_cols: int) -> list[list[int]]:
    """Split lessons (``indices`` into the course's lessons) into spreads that fit both
    pages, the last with room for ``mark_cols`` period mark columns."""
    lessons = course["lessons"]
    max_cols = int((GRID_W - NUM_W - NAME_W) // COL_W)
    max_last = int((GRID_W - NUM_W - NAME_W - mark_cols * PM_W) // COL_W)
    avail = TOP - 40 - BOTTOM - FIELD_H - 20
    chunks: list[list[int]] = []
    cur: list[int] = []
    used = 0.0
    for i in indices:
        h = _topic_row_height(lessons[i])
        if cur and (len(cur) >= max_cols or used + h > avail):
            chunks.append(cur)
            cur, used = [], 0.0
        cur.append(i)
        used += h
    if cur or not chunks:
        chunks.append(cur)
    if len(chunks[-1]) > max_last:  # the period mark columns need room on the last spread
        last = chunks.pop()
        chunks += [last[:max_last], last[max_last:]]
    return chunks


def _period_groups(content: dict, course: dict, marks: list[tuple[str, str, str]]
                   ) -> list[tuple[list[int], list[tuple[str, str, str]]]]:
    """The course's lessons in groups, each with the mark columns that follow it.

    In a year copy whose snapshot lists the year's periods, each quarter's (half-year's)
    marks come right after that period's last lesson, as in the paper journal (seed 002,
    6.1), and the year, exam and final marks after the last lesson of the year; a lesson
    between periods (in the holidays) belongs to the period before it. Otherwise (a
    period's own copy, or a snapshot made before snapshots listed the periods) every
    column follows the last lesson."""
    every = list(range(len(course["lessons"])))
    periods = sorted(content.get("periods") or (), key=lambda p: p["start"])
    if content["period"]["code"] != "Y" or not periods:
        return [(every, marks)]
    groups: list[tuple[list[int], list[tuple[str, str, str]]]] = [
        ([], [c for c in marks if c[1] == "period" and c[0] == p["code"]]) for p in periods]
    for i, lesson in enumerate(course["lessons"]):
        at = max((k for k, p in enumerate(periods) if p["start"] <= lesson["date"]),
                 default=0)
        groups[at][0].append(i)
    placed = {c for _lessons, cols in groups for c in cols}
    groups[-1][1].extend(c for c in marks if c not in placed)  # year, exam, final
    merged: list[tuple[list[int], list[tuple[str, str, str]]]] = []
    for lessons, cols in groups:  # a period without lessons: its marks after the previous
        if not lessons and merged:
            merged[-1][1].extend(cols)
        elif not lessons and not cols:
            continue
        else:
            merged.append((lessons, list(cols)))
    return merged or [(every, marks)]


TOPIC_W, HW_W, DATE_W = 390.0, GRID_W - 390.0 - 52.0, 52.0


def _topic_row_height(lesson: dict) -> float:
    lines = max(len(wrap(lesson["topic"] or "—", SANS, 7, TOPIC_W - 4)),
                len(wrap(lesson["homework"] or "—", SANS, 7, HW_W - 4)))
    return lines * 8.5 + 4


def _course_spreads(doc: _Doc, course: dict) -> int:
    marks = _mark_columns(doc.content, course)
    pm = {(m["student"], m["period"], m["kind"]): m["raw"] for m in course["period_marks"]}
    has_marks = bool(course["period_marks"]) or any(le["marks"] for le in course["lessons"])
    if not has_marks:
        marks = []
    spreads = [(chunk, cols if k == len(chunks) - 1 else [])
               for lessons, cols in _period_groups(doc.content, course, marks)
               for chunks in [_chunks(course, lessons, len(cols))]
               for k, chunk in enumerate(chunks)]
    cells = _cell_texts(course)
    roster = _roster(doc.content, course)
    right = 0
    signed: dict[str, int] = {}  # the sheet of the teachers' fields, known once planned

    def mark(c: Canvas) -> None:
        _teacher_mark(c, doc, course, signed["sheet"])

    for k, (chunk, cols) in enumerate(spreads):
        part = f" (часть {k + 1} из {len(spreads)})" if len(spreads) > 1 else ""
        doc.add_page(lambda c, n, chunk=chunk, cols=cols, part=part: (_grid_page(
            c, doc, course, roster, chunk, cells, cols, pm, part), mark(c)))
        right = doc.add_page(lambda c, n, chunk=chunk, part=part: (_topics_page(
            c, doc, course, chunk, part), mark(c)))
    signed["sheet"] = right + 1
    return right


def _teacher_mark(c: Canvas, doc: _Doc, course: dict, sheet: int) -> None:
    """On every sheet of a subject, whose electronic signature it carries (seed 000, 4.3:
    the teacher signs every sheet of their subject): one PAdES signature per teacher covers
    the whole file; its stamp stands on the subject's last sheet, named here."""
    if "teachers" not in doc.chain or not course["teachers"]:
        return
    c.setFont(SANS, 7)
    c.drawRightString(PAGE_W - MARGIN, TOP - 9,
                      f"Лист подписывает электронной подписью учитель: "
                      f"{', '.join(course['teachers'])} (штамп подписи — лист {sheet})")


def _grid_page(c: Canvas, doc: _Doc, course: dict, roster: list[dict], chunk: list[int],
               cells: dict, marks: list, pm: dict, part: str) -> None:
    y0 = _header(c, f"{_title(course)}{part}",
                 f"{doc.content['class']['name']} класс · {doc.content['period']['name']} "
                 f"{doc.content['academic_year']} · Учитель: {', '.join(course['teachers'])}")
    lessons = course["lessons"]
    head_h = 22.0
    n = max(len(roster), 1)
    row_h = min(13.0, (y0 - BOTTOM - head_h - 4) / n)
    xs = [MARGIN, MARGIN + NUM_W, MARGIN + NUM_W + NAME_W]
    for _ in chunk:
        xs.append(xs[-1] + COL_W)
    for _ in marks:
        xs.append(xs[-1] + PM_W)
    top, mid = y0, y0 - head_h / 2
    bottom = y0 - head_h - row_h * len(roster)
    ys = [top, y0 - head_h] + [y0 - head_h - row_h * (i + 1) for i in range(len(roster))]
    c.setLineWidth(0.4)
    _table_lines(c, xs, top, bottom, ys)
    c.line(xs[2], mid, xs[2 + len(chunk)], mid)
    c.setFont(SANS_BOLD, 7)
    c.drawString(xs[0] + 2, y0 - 14, "№")
    c.drawString(xs[1] + 2, y0 - 14, "Фамилия, имя ученика")
    prev_month = None
    for j, i in enumerate(chunk):
        day = dt.date.fromisoformat(lessons[i]["date"])
        x = xs[2 + j]
        c.setFont(SANS, 6.5)
        if day.month != prev_month:
            c.drawString(x + 1.5, mid + 3, MONTHS[day.month - 1])
            prev_month = day.month
        c.setFont(SANS, 7)
        c.drawCentredString(x + COL_W / 2, y0 - head_h + 3.5, f"{day.day:02d}")
    for j, (_p, _k, title) in enumerate(marks):
        x = xs[2 + len(chunk) + j]
        _fit(c, title, x, top, PM_W, head_h, size=6.5, font=SANS_BOLD)
    for r, student in enumerate(roster):
        y_top = y0 - head_h - row_h * r
        base = y_top - row_h + (row_h - 7) / 2 + 1
        c.setFont(SANS, 7)
        c.drawRightString(xs[1] - 2, base, str(r + 1))
        name = student["full_name"]
        joined, left = student.get("joined"), student.get("left")
        note = _moves(doc.content, student)
        _fit(c, name + (f" ({note})" if note else ""), xs[1], y_top, NAME_W, row_h, size=7)
        rec = student["record_number"]
        for j, i in enumerate(chunk):
            day = lessons[i]["date"]
            x = xs[2 + j]
            if (left and day > left) or (joined and day < joined):
                c.setFillGray(0.85)
                c.rect(x, y_top - row_h, COL_W, row_h, stroke=0, fill=1)
                c.setFillGray(0)
                continue
            text = cells.get((i, rec))
            if text:
                c.setFont(SANS, 7 if len(text) < 4 else 6)
                c.drawCentredString(x + COL_W / 2, base, text)
        for j, (p, k, _t) in enumerate(marks):
            value = pm.get((rec, p, k))
            if value:
                c.setFont(SANS_BOLD, 7.5)
                c.drawCentredString(xs[2 + len(chunk) + j] + PM_W / 2, base, value)


def _topics_page(c: Canvas, doc: _Doc, course: dict, chunk: list[int], part: str) -> None:
    y = _header(c, f"{_title(course)}{part}: записи уроков",
                f"Учитель: {', '.join(course['teachers'])}")
    xs = [MARGIN, MARGIN + DATE_W, MARGIN + DATE_W + TOPIC_W, PAGE_W - MARGIN]
    c.setLineWidth(0.4)
    head = 14.0
    ys = [y, y - head]
    c.setFont(SANS_BOLD, 7.5)
    c.drawString(xs[0] + 2, y - 10, "Дата")
    c.drawString(xs[1] + 2, y - 10, "Что пройдено на уроке (тема)")
    c.drawString(xs[2] + 2, y - 10, "Задание на дом")
    cur = y - head
    lessons = course["lessons"]
    for i in chunk:
        lesson = lessons[i]
        h = _topic_row_height(lesson)
        c.setFont(SANS, 7)
        c.drawString(xs[0] + 2, cur - 9, _d(lesson["date"]))
        for x, w, text in ((xs[1], TOPIC_W, lesson["topic"]), (xs[2], HW_W, lesson["homework"])):
            yy = cur - 9
            for line in wrap(text or "—", SANS, 7, w - 4):
                c.drawString(x + 2, yy, line)
                yy -= 8.5
        cur -= h
        ys.append(cur)
    _table_lines(c, xs, y, cur, ys)


def _attendance_pages(doc: _Doc) -> None:
    content = doc.content
    counts: dict[str, Counter] = defaultdict(Counter)
    for course in content["courses"]:
        for lesson in course["lessons"]:
            for a in lesson["attendance"]:
                counts[a["student"]][a["code"]] += 1
    students = content["students"]
    per_page = int((TOP - 40 - BOTTOM) // 13) - 2
    for start in range(0, max(len(students), 1), per_page):
        part = students[start:start + per_page]
        doc.add_page(lambda c, n, part=part, start=start: _attendance_page(c, doc, part, start,
                                                                           counts))


def _attendance_page(c: Canvas, doc: _Doc, students: list[dict], start: int,
                     counts: dict) -> None:
    y = _header(c, "Сведения о пропусках уроков",
                "Б — по болезни, У — по уважительной причине, Н — без уважительной причины, "
                "О — опоздание")
    heads = ["№", "Фамилия, имя ученика", "Б", "У", "Н", "Всего пропущено уроков", "О"]
    widths = [NUM_W, 260, 50, 50, 50, 120, 50]
    xs = [MARGIN]
    for w in widths:
        xs.append(xs[-1] + w)
    ys = [y, y - 14]
    c.setFont(SANS_BOLD, 7.5)
    for x, h in zip(xs, heads, strict=False):
        c.drawString(x + 2, y - 10, h)
    cur = y - 14
    for i, s in enumerate(students):
        k = counts.get(s["record_number"], Counter())
        row = [str(start + i + 1), s["full_name"], k["Б"], k["У"], k["Н"],
               k["Б"] + k["У"] + k["Н"], k["О"]]
        c.setFont(SANS, 7.5)
        for x, v in zip(xs, row, strict=False):
            c.drawString(x + 2, cur - 9.5, str(v))
        cur -= 13
        ys.append(cur)
    c.setLineWidth(0.4)
    _table_lines(c, xs, y, cur, ys)


def _subjects(content: dict) -> list[str]:
    return sorted({c["subject"] for c in content["courses"]})


def _summary_columns(content: dict) -> list[tuple[str, str, str]]:
    """(period, kind, header) per subject in the summary."""
    period = content["period"]
    if period["code"] != "Y":
        return [(period["code"], "period", period["name"])]
    present = {(m["period"], m["kind"]) for c in content["courses"] for m in c["period_marks"]}
    cols = [(p, "period", short_period(p))
            for p in sorted({p for p, k in present if k == "period"})]
    return cols + [("Y", k, KIND_TITLES[k]) for k in ("year", "exam", "final")
                   if ("Y", k) in present]


#: What tells namesakes apart decades later on the summary sheet (kept 75 years): the date
#: of birth, the personal file's number, and a move within the period.
IDENTITY = (44.0, 46.0, 58.0)
IDENTITY_TITLES = ("Дата рождения", "№ личного дела", "Прибыл / выбыл")
IDENTITY_W = sum(IDENTITY)


def _summary_pages(doc: _Doc, *, with_fields: bool) -> None:
    content = doc.content
    subjects = _subjects(content)
    cols = _summary_columns(content)
    marks: dict[tuple[str, str, str, str], str] = {}
    for course in content["courses"]:
        for m in course["period_marks"]:
            marks[(course["subject"], m["student"], m["period"], m["kind"])] = m["raw"]
    sub_w = 21.0 if len(cols) > 1 else 36.0
    if not cols or content["class"]["grade"] == 1:  # no marks in grade 1 (seed 004 p. 1.3)
        subjects = []
    per_page = max(1, int((GRID_W - NUM_W - NAME_W - IDENTITY_W)
                          // (sub_w * max(len(cols), 1))))
    groups = [subjects[i:i + per_page] for i in range(0, len(subjects), per_page)] or [[]]
    students = content["students"]
    rows_per_page = max(1, int((TOP - 100 - BOTTOM) // ROW_H))
    pages = [(g, students[s:s + rows_per_page]) for g in groups
             for s in range(0, max(len(students), 1), rows_per_page)]
    for idx, (group, rows) in enumerate(pages):
        doc.add_page(lambda c, n, group=group, rows=rows, idx=idx: _summary_page(
            c, doc, group, rows, cols, marks, sub_w, idx, len(pages), with_fields))
    if with_fields:
        _summary_signatures(doc)


#: The summary's signature sheet: fields in rows of four, three rows a sheet (a row: two
#: lines of label, the field, a gap).
SIGN_ROW_H = FIELD_H + 26.0
SIGN_PER_ROW, SIGN_ROWS = 4, 3


def _summary_signatures(doc: _Doc) -> None:
    """The summary's own signature sheet(s): a field per subject teacher (their subjects
    named), then the class leader, the deputy, the director and the seal."""
    content = doc.content
    subjects: dict[str, list[str]] = {}
    for course in content["courses"]:
        for teacher in course["teachers"]:
            subjects.setdefault(teacher, [])
            if course["subject"] not in subjects[teacher]:
                subjects[teacher].append(course["subject"])
    wanted = [("teachers", "teacher", f"teacher_{i + 1}", name, ", ".join(subjects[name]))
              for i, name in enumerate(sorted(subjects))]
    wanted += [(role, role, role, content["class"]["class_leader"] if role == "class_leader"
                else None, None) for role in ("class_leader", "deputy", "director", "seal")]
    wanted = [w for w in wanted if w[0] in doc.chain]
    if not wanted:
        return
    per_page = SIGN_PER_ROW * SIGN_ROWS
    gap = (GRID_W - SIGN_PER_ROW * FIELD_W) / (SIGN_PER_ROW - 1)
    first = TOP - 72 - 18 - FIELD_H  # the first row's field, under the text and its label
    for start in range(0, len(wanted), per_page):
        page = doc.add_page(lambda c, n: _signature_sheet(c, doc))
        for k, (step, role, name, signer, course) in enumerate(wanted[start:start + per_page]):
            row, col = divmod(k, SIGN_PER_ROW)
            doc.field(page, MARGIN + col * (FIELD_W + gap), first - row * SIGN_ROW_H,
                      step, role, name, signer, course)


def _signature_sheet(c: Canvas, doc: _Doc) -> None:
    content = doc.content
    c.setFont(SANS, 9)
    c.drawString(MARGIN, TOP - 9, content["school"]["name"])
    c.setFont(SERIF_BOLD, 14)
    c.drawString(MARGIN, TOP - 30, f"Сводная ведомость итоговых отметок учеников "
                                   f"{content['class']['name']} класса: подписи")
    c.setFont(SANS, 8.5)
    y = TOP - 48
    for line in wrap(f"{content['academic_year']} учебный год · {content['period']['name']}. "
                     "Учителя-предметники подтверждают достоверность выставленных ими итоговых "
                     "отметок; классный руководитель проверил ведомость и собрал их подписи "
                     "(Положение о порядке работы с бумажными копиями ЭЖ, п. 4.2); ведомость "
                     "заверяют заместитель директора, директор и печать организации.",
                     SANS, 8.5, GRID_W):
        c.drawString(MARGIN, y, line)
        y -= 11


def _summary_page(c: Canvas, doc: _Doc, subjects: list[str], students: list[dict],
                  cols: list, marks: dict, sub_w: float, idx: int, total: int,
                  standalone: bool) -> None:
    content = doc.content
    title = "Сводная ведомость итоговых отметок"
    if standalone:  # the separate document names its school and class itself
        c.setFont(SANS, 9)
        c.drawString(MARGIN, TOP - 9, content["school"]["name"])
        c.setFont(SERIF_BOLD, 14)
        c.drawString(MARGIN, TOP - 30, f"{title} учеников {content['class']['name']} класса")
        y = TOP - 36
    else:
        y = _header(c, title)
    c.setFont(SANS, 8)
    c.drawString(MARGIN, y - 10,
                 f"{content['academic_year']} учебный год · {content['period']['name']} · "
                 f"классный руководитель: {content['class']['class_leader'] or '—'}"
                 + (f" · часть {idx + 1} из {total}" if total > 1 else ""))
    y -= 18
    head = 44.0 if len(cols) > 1 else 34.0
    xs = [MARGIN, MARGIN + NUM_W, MARGIN + NUM_W + NAME_W]
    for w in IDENTITY:
        xs.append(xs[-1] + w)
    first = 2 + len(IDENTITY)  # the first subject column
    for _ in subjects:
        for _ in cols:
            xs.append(xs[-1] + sub_w)
    c.setLineWidth(0.4)
    c.setFont(SANS_BOLD, 7)
    c.drawString(xs[0] + 2, y - head + 4, "№")
    c.drawString(xs[1] + 2, y - head + 4, "Фамилия, имя ученика")
    for i, title in enumerate(IDENTITY_TITLES):
        _fit(c, title, xs[2 + i], y, IDENTITY[i], head, size=6.5, font=SANS_BOLD)
    sub_head = 12.0 if len(cols) > 1 else 0.0
    for s_i, subject in enumerate(subjects):
        x = xs[first + s_i * len(cols)]
        _fit(c, subject, x, y, sub_w * len(cols), head - sub_head, size=6.5, font=SANS_BOLD)
        if len(cols) > 1:
            c.line(x, y - head + sub_head, x + sub_w * len(cols), y - head + sub_head)
            for k, (_p, _kind, h) in enumerate(cols):
                c.setFont(SANS, 6)
                c.drawCentredString(x + k * sub_w + sub_w / 2, y - head + 3, h)
    if not subjects:
        c.setFont(SANS, 8)
        c.drawString(xs[first] + 6, y - head + 4, "Отметки не выставляются (1 класс: Положение о ЭКЖ, "
                     "п. 1.3)")
    ys = [y, y - head]
    cur = y - head
    for st in students:
        c.setFont(SANS, 7)
        base = cur - 8.5
        c.drawRightString(xs[1] - 2, base, str(content["students"].index(st) + 1))
        _fit(c, st["full_name"], xs[1], cur, NAME_W, ROW_H, size=7)
        for i, text in enumerate((_d(st.get("birth_date")), st["record_number"],
                                  _moves(content, st))):
            _fit(c, text, xs[2 + i], cur, IDENTITY[i], ROW_H, size=6.5, min_size=5.5)
        for s_i, subject in enumerate(subjects):
            for k, (p, kind, _h) in enumerate(cols):
                value = marks.get((subject, st["record_number"], p, kind))
                if value:
                    c.setFont(SANS_BOLD if kind != "period" else SANS, 7)
                    c.drawCentredString(xs[first + s_i * len(cols) + k] + sub_w / 2, base,
                                        value)
        cur -= ROW_H
        ys.append(cur)
    # Thin lines between a subject's sub-columns, full lines between subjects.
    _table_lines(c, xs[:first + 1] + [xs[first + (s + 1) * len(cols)]
                                      for s in range(len(subjects))], y, cur, ys)
    c.setLineWidth(0.2)
    for i in range(first, len(xs)):
        c.line(xs[i], y - head + sub_head, xs[i], cur)
    c.setLineWidth(0.4)


def _certification(c: Canvas, doc: _Doc) -> None:
    total = len(doc.pages)
    content = doc.content
    _header(c, "Заверительный лист")
    c.setFont(SERIF_BOLD, 14)
    c.drawCentredString(PAGE_W / 2, TOP - 90,
                        f"В настоящем журнале пронумеровано, прошнуровано и скреплено печатью "
                        f"{total} листов.")
    c.setFont(SANS, 10)
    c.drawCentredString(PAGE_W / 2, TOP - 115,
                        f"Классный журнал {content['class']['name']} класса, "
                        f"{content['period']['name']} {content['academic_year']} учебного года, "
                        f"{content['school']['name']}.")
    c.drawCentredString(PAGE_W / 2, TOP - 132,
                        "Электронная копия заверяется электронными подписями в порядке: учителя — "
                        "классный руководитель — заместитель директора — директор — печать.")
