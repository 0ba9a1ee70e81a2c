"""What a person sees: their dashboard and a document page (permissions checked here).

The five-day schedule of seed 000, section 4 (``state.DAYS_AFTER_RENDER``) marks a step
not done by the end of its day as overdue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import aliased

from archive_service.accounts import access
from archive_service.accounts.service import Principal
from archive_service.audit.service import record
from archive_service.db import Archive
from archive_service.errors import NotFoundError, PermissionDeniedError
from archive_service.journals.models import AcademicYear, Period, SchoolClass
from archive_service.register.models import RegisterEntry
from archive_service.register.service import AFTER_REGISTRATION
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import DocumentReturn, SignatureRecord, SigningUser
from archive_service.signatures.service import (
    latest_verification,
    open_documents,
    reuse_verification,
    signed_pdf,
    signing_queue,
    stored,
)
from archive_service.signatures.state import (
    DAYS_AFTER_RENDER,
    KIND_NAMES,
    STEP_TITLES,
    ChainState,
    read_state,
    returned_text,
)
from archive_service.snapshots.models import PeriodSnapshot
from signing.clock import local_time


@dataclass(frozen=True)
class DocumentLine:
    """A document as a line of a list."""

    id: int
    number: str
    kind: str
    class_name: str
    period: str
    year: str
    next_step: str | None
    overdue: bool
    registered: int | None
    returned: str | None = None  # «reason; вернул(а) who, when» (``returned_text``)
    period_code: str = ""

    @property
    def period_ref(self) -> str:
        """«2025-2026/Q1»: how pages name the document's period."""
        return f"{self.year}/{self.period_code}"

    @property
    def sealed(self) -> bool:
        """The chain is complete (not returned: a returned copy's chain stops unfinished)."""
        return self.next_step is None and self.returned is None


@dataclass(frozen=True)
class Dashboard:
    """What waits for this person."""

    to_sign: list[DocumentLine]
    to_register: list[DocumentLine]
    overdue: list[DocumentLine]
    recent: list[DocumentLine]
    #: Returned copies not yet replaced by a new version, that this person takes part in
    #: correcting (the deputies, the director and the administrator see the school's).
    returned: list[DocumentLine] = ()


def _placed(stmt: Select) -> Select:
    """``stmt`` (on documents) joined to each document's class, period and academic year."""
    return (stmt.join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
            .join(SchoolClass, SchoolClass.id == PeriodSnapshot.school_class_id)
            .join(Period, Period.id == PeriodSnapshot.period_id)
            .join(AcademicYear, AcademicYear.id == Period.academic_year_id))


_WHERE = _placed(select(SchoolClass.name, Period.name, AcademicYear.label, Period.code)
                 .select_from(RenderedDocument)
                 .where(RenderedDocument.id == bindparam("document_id")))


def _where(s, doc: RenderedDocument) -> tuple[str, str, str, str]:
    """The document's class, period name, academic year and period code, in one query."""
    return tuple(s.execute(_WHERE, {"document_id": doc.id}).one())


_UNKNOWN: Any = object()


def _line(s, doc: RenderedDocument, now: dt.datetime, state: ChainState | None = None, *,
          where: tuple[str, str, str, str] | None = None, entry: int | None = _UNKNOWN
          ) -> DocumentLine:
    """The document's line in lists; ``where``, ``entry`` (its register number or None):
    what the caller has already read."""
    class_name, period_name, year, period_code = where or _where(s, doc)
    state = state or read_state(s, doc)
    created = doc.created_at if doc.created_at.tzinfo else doc.created_at.replace(tzinfo=dt.UTC)
    due = created + dt.timedelta(days=DAYS_AFTER_RENDER.get(state.next_step or "", 99))
    if entry is _UNKNOWN:
        entry = s.scalar(select(RegisterEntry.number).filter_by(document_id=doc.id))
    return DocumentLine(doc.id, doc.number, KIND_NAMES.get(doc.kind, doc.kind),
                        class_name, period_name, year,
                        None if state.returned else state.next_step,
                        bool(state.next_step and not state.returned and now > due), entry,
                        state.returned, period_code)


def dashboard(archive: Archive, who: Principal, *, now: dt.datetime | None = None) -> Dashboard:
    """The person's queue, the secretary's registrations, overdue steps of their school."""
    now = now or dt.datetime.now(dt.UTC)
    if who.is_inspector or who.school_id is None:
        return Dashboard([], [], [], [])
    with archive.sessions() as s:
        signer = s.scalars(select(SigningUser).filter_by(login=who.login)).one_or_none()
    queue = signing_queue(archive, who.login) if signer else []
    with archive.sessions() as s:
        scope = access.read_scope(s, who, who.school_id)
        latest = select(RenderedDocument.id).filter_by(school_id=who.school_id)
        if not scope.whole:  # a teacher's or class leader's classes, and what they sign
            latest = latest.join(
                PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id).where(or_(
                PeriodSnapshot.school_class_id.in_(scope.class_ids),
                RenderedDocument.id.in_(queue or [-1])))
        recent = s.scalars(latest.order_by(RenderedDocument.id.desc()).limit(10)).all()
        # The school's open documents make the secretary's and the heads' lists only.
        open_ = open_documents(s, who.school_id) if scope.whole else []
        ids = sorted(set(open_) | set(recent) | set(queue))
        lines = {i: _line(s, s.get(RenderedDocument, i), now) for i in ids}
        recent_lines = [lines[i] for i in sorted(recent)]
        returned = [_line(s, s.get(RenderedDocument, i), now)
                    for i in returned_documents(s, who, signer)]
    to_register = []
    if who.has("secretary"):
        to_register = [ln for ln in lines.values() if ln.registered is None
                       and ln.next_step in AFTER_REGISTRATION]
    overdue = [ln for ln in lines.values() if ln.overdue] if scope.whole else []
    return Dashboard([lines[i] for i in queue], to_register, overdue, recent_lines, returned)


#: Who sees every returned copy of the school (the correction is theirs to start or watch).
CORRECTORS = ("deputy", "director", "administrator")


def returned_documents(s, who: Principal, signer: SigningUser | None) -> list[int]:
    """The school's returned copies that no newer snapshot version has replaced yet, that
    this person corrects: all of them for ``CORRECTORS``, else those of their class (a class
    leader) or bearing their name in a field (a teacher)."""
    from sqlalchemy import func

    latest = (select(PeriodSnapshot.school_class_id, PeriodSnapshot.period_id,
                     func.max(PeriodSnapshot.version).label("version"))
              .where(PeriodSnapshot.school_id == who.school_id)
              .group_by(PeriodSnapshot.school_class_id, PeriodSnapshot.period_id).subquery())
    rows = s.execute(
        select(RenderedDocument.id, RenderedDocument.steps, SchoolClass.name)
        .join(DocumentReturn, DocumentReturn.document_id == RenderedDocument.id)
        .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
        .join(SchoolClass, SchoolClass.id == PeriodSnapshot.school_class_id)
        .join(latest, (latest.c.school_class_id == PeriodSnapshot.school_class_id)
              & (latest.c.period_id == PeriodSnapshot.period_id)
              & (latest.c.version == PeriodSnapshot.version))
        .where(RenderedDocument.school_id == who.school_id)
        .order_by(RenderedDocument.id)).all()
    if who.has(*CORRECTORS):
        return [r.id for r in rows]
    leads = {c for role, c in who.roles if role == "class_leader"}
    name = signer.full_name if signer else who.full_name
    return [r.id for r in rows if r.name in leads
            or any(st.get("signer") == name for st in r.steps)]


@dataclass(frozen=True)
class SignatureLine:
    """A signature on the document page with its verification."""

    field: str
    step: str
    signer: str
    time: str
    ok: bool
    summary: str


@dataclass(frozen=True)
class DocumentView:
    """Everything the document page shows."""

    line: DocumentLine
    pages: int
    sha256: str
    chain: ChainState
    signatures: list[SignatureLine]
    verified: bool
    verified_at: dt.datetime
    register: RegisterMark | None
    may_sign: bool
    may_register: bool
    may_return: bool
    replaced_by: int | None = None  # the same kind of copy of a newer snapshot version
    may_correct: bool = False  # a deputy: the correction path (new version) is theirs


@dataclass(frozen=True)
class RegisterMark:
    """The document's register entry as its page shows it."""

    number: int
    year: str
    handed_over_by: str
    received_by: str
    location: str


_RETURNER = aliased(SigningUser)

#: A document (the columns its page and its services use), where it belongs, its register
#: entry (None before registration) and its return (who, when, why; None if not returned):
#: what the document page needs before anything else, in one statement built once (a
#: document is returned at most once). Plain rows, no ORM objects: the document page is the
#: most read page of the service; a row answers the same attribute names as the document.
_READ = _placed(select(RenderedDocument.id, RenderedDocument.school_id, RenderedDocument.kind,
                       RenderedDocument.snapshot_id,
                       RenderedDocument.number, RenderedDocument.sha256,
                       RenderedDocument.storage_key, RenderedDocument.pages,
                       RenderedDocument.steps, RenderedDocument.created_at,
                       PeriodSnapshot.school_class_id, SchoolClass.name.label("class_name"),
                       Period.name.label("period_name"),
                       AcademicYear.label.label("year"), Period.code.label("period_code"),
                       RegisterEntry.number.label("entry_number"),
                       RegisterEntry.year.label("entry_year"), RegisterEntry.handed_over_by,
                       RegisterEntry.received_by, RegisterEntry.location,
                       _RETURNER.full_name.label("returner"), DocumentReturn.returned_at,
                       DocumentReturn.reason)
                .outerjoin(RegisterEntry, RegisterEntry.document_id == RenderedDocument.id)
                .outerjoin(DocumentReturn, DocumentReturn.document_id == RenderedDocument.id)
                .outerjoin(_RETURNER, _RETURNER.id == DocumentReturn.user_id)
                .where(RenderedDocument.id == bindparam("document_id")))

#: The document's signatures in signing order with their signers' names, as plain rows
#: (what ``read_state`` and ``stored`` read of a signature record).
_SIGNED = (select(SignatureRecord.field, SignatureRecord.user_id, SignatureRecord.signed_at,
                  SignatureRecord.storage_key, SignatureRecord.hash_after,
                  SigningUser.full_name)
           .outerjoin(SigningUser, SigningUser.id == SignatureRecord.user_id)
           .where(SignatureRecord.document_id == bindparam("document_id"))
           .order_by(SignatureRecord.sequence))


@dataclass(frozen=True)
class _Read:
    """What ``_read`` found: the document's row, where it belongs, its register entry and
    its return (``returned_text``)."""

    doc: Any
    where: tuple[str, str, str, str]
    entry: RegisterMark | None
    returned: str | None


def _read(s, who: Principal, document_id: int) -> _Read:
    """The document and what belongs to it, if this person may read it (``access``: their
    school or grant, and for a teacher or a class leader their classes)."""
    found = s.connection().execute(_READ, {"document_id": document_id}).one_or_none()
    if found is None or not access.read_scope(s, who, found.school_id, found.year).covers(
            found.school_class_id, found.steps):
        # The same answer as for a missing document: documents another school's, or
        # another class's, do not exist for this person.
        raise NotFoundError(f"Документ № {document_id} не найден.")
    entry = None if found.entry_number is None else RegisterMark(
        found.entry_number, found.entry_year, found.handed_over_by, found.received_by,
        found.location)
    returned = None if found.returned_at is None else returned_text(
        found.returner, found.returned_at, found.reason, who.time_zone)
    return _Read(found, (found.class_name, found.period_name, found.year, found.period_code),
                 entry, returned)


def readable(archive: Archive, who: Principal, document_id: int):
    """The document's row (``_READ``: number, kind, pages, class, period, year) if this
    person may read it; the same 404 as a missing document otherwise."""
    with archive.reads() as s:
        return _read(s, who, document_id).doc


def document_view(archive: Archive, who: Principal, document_id: int, *,
                  max_age: dt.timedelta | None = None) -> DocumentView:
    """The document page with every signature's verification (made now, or the latest one
    of the same bytes up to ``max_age`` old, by default ``ARCHIVE_VERIFY_MAX_AGE_HOURS``);
    the view is audited."""
    if max_age is None:
        max_age = dt.timedelta(hours=archive.settings.verify_max_age_hours)
    # One transaction: what the page shows and, when a verification of these bytes is young
    # enough, the audit entry of this view (a page viewed is a read of the document).
    with archive.unit_of_work() as uow:
        s = uow.session
        found = _read(s, who, document_id)
        doc, entry = found.doc, found.entry
        rows = s.connection().execute(_SIGNED, {"document_id": document_id}).all()
        state = read_state(s, doc, (rows, {r.user_id: r.full_name for r in rows}), found.returned)
        known = stored(s, doc, rows)
        line = _line(s, doc, dt.datetime.now(dt.UTC), state, where=found.where,
                     entry=entry.number if entry is not None else None)
        replaced_by = newer_version(s, doc)
        checked = reuse_verification(archive, uow, document_id, known, reader=who.actor,
                                     max_age=max_age)
    if checked is None:  # verified now, outside the transaction (about a second)
        checked = latest_verification(archive, document_id, reader=who.actor, max_age=max_age)
    result = checked.result
    steps = {f.field: f.step for f in state.fields}
    # A document timestamp (the seal's, a renewal's) has no step; its field name is
    # pyHanko's ("Timestamp-<uuid>"), which tells a reader nothing.
    sigs = [SignatureLine(r.field if r.field in steps else "",
                          STEP_TITLES.get(steps.get(r.field, ""), "архивный штамп времени"),
                          r.signer, local_time(r.timestamp_time or r.signing_time,
                                                     who.time_zone)
                          if (r.timestamp_time or r.signing_time) else "",
                          r.holds, r.summary) for r in result.signatures]
    mine = {f.field for f in state.fields if f.expected_signer == who.full_name}
    may_sign = (not who.is_inspector and state.next_step is not None and (
        any(f.step == state.next_step and f.field in mine and not f.signed_by
            for f in state.fields)
        or (state.next_step == "class_leader" and who.has("class_leader"))
        or (state.next_step in ("deputy", "director") and who.has(state.next_step))
        or (state.next_step == "seal" and who.has("secretary"))))
    return DocumentView(line, doc.pages, doc.sha256,
                        state, sigs, result.ok, checked.verified_at, entry, may_sign,
                        who.has("secretary") and entry is None and not who.is_inspector
                        and state.next_step in AFTER_REGISTRATION,
                        not who.is_inspector and state.next_step is not None, replaced_by,
                        not who.is_inspector and who.has("deputy") and bool(state.returned)
                        and replaced_by is None)


def newer_version(s, doc) -> int | None:  # noqa: ANN001 - a document row or object
    """The same kind of copy made from a newer snapshot version of the same class and
    period (the copy that took a returned one's place), or None."""
    snap = s.get(PeriodSnapshot, doc.snapshot_id)
    newest = s.scalars(select(PeriodSnapshot.id).filter_by(
        school_class_id=snap.school_class_id, period_id=snap.period_id)
        .order_by(PeriodSnapshot.version.desc()).limit(1)).one()
    if newest == snap.id:
        return None
    return s.scalars(select(RenderedDocument.id).filter_by(snapshot_id=newest, kind=doc.kind)
                     .order_by(RenderedDocument.id.desc()).limit(1)).first()


def document_pdf(archive: Archive, who: Principal, document_id: int) -> tuple[str, bytes]:
    """The signed file for download (the read is audited)."""
    doc = readable(archive, who, document_id)
    return doc.number, signed_pdf(archive, document_id, reader=who.actor)


# PDFium is not thread-safe, not even across different documents (pypdfium2's "Incompatibility
# with Threading"): concurrent page requests in a threaded server crashed the process. Every
# pdfium call happens under this lock, and rendered pages are kept in a small cache keyed by
# the file's hash, so the lock is rarely held for long.
_PDFIUM = threading.Lock()
_PAGES: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
_PAGES_KEPT = 256


def render_page(pdf: bytes, page: int, dpi: int) -> bytes:
    """One page of a PDF as PNG bytes (serialised: pdfium allows one call at a time)."""
    import pypdfium2

    key = (hashlib.sha256(pdf).hexdigest(), page, dpi)
    with _PDFIUM:
        if key in _PAGES:
            _PAGES.move_to_end(key)
            return _PAGES[key]
        document = pypdfium2.PdfDocument(pdf)
        try:
            document.init_forms()  # the signature stamps are form widgets: drawn only with forms
            sheet = document[page - 1]
            try:
                bitmap = sheet.render(scale=dpi / 72)
                try:
                    image = bitmap.to_pil().copy()  # the PIL image must not share pdfium memory
                finally:
                    bitmap.close()
            finally:
                sheet.close()
        finally:
            document.close()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        _PAGES[key] = out.getvalue()
        while len(_PAGES) > _PAGES_KEPT:
            _PAGES.popitem(last=False)
        return _PAGES[key]


def page_png(archive: Archive, who: Principal, document_id: int, page: int,
             *, dpi: int = 80) -> bytes:
    """One page as a PNG for the preview (pdfium; no external program)."""
    doc = readable(archive, who, document_id)
    if not 1 <= page <= doc.pages:
        raise NotFoundError(f"В документе нет листа {page}.")
    png = render_page(signed_pdf(archive, document_id), page, dpi)
    if page == 1:
        record(archive, who.actor, "document.preview", "document", document_id,
               chain=doc.school_id, details={"number": doc.number})
    return png


def require_signer(archive: Archive, who: Principal, document_id: int | None = None) -> None:
    """Inspectors and accounts without a signing key never sign, return or register; nobody
    acts on a document they may not read (``document_id``: the same 404 as a missing one)."""
    if document_id is not None:
        readable(archive, who, document_id)
    if who.is_inspector:
        raise PermissionDeniedError("Проверяющий только читает документы и не подписывает их.")
    with archive.sessions() as s:
        if s.scalars(select(SigningUser.id).filter_by(login=who.login)).first() is None:
            raise PermissionDeniedError(f"У {who.full_name} нет ключа подписи: подписывают, "
                                        "возвращают и регистрируют участники цепочки.")
