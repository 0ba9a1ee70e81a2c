"""The retention plan: every archived item with its decision as of a date.

One streaming query per item source (documents, period folders) plus a handful of small
queries (holds, tombstones, the state of each class's year summary sheet); decisions are
memoised by what they depend on (class, closing year, holds, summary state), so planning a
million items costs one pass over the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

import retention
from archive_service.config import Settings
from archive_service.disposition.models import DisposalAct, DisposalItem, RetentionHold, Tombstone
from archive_service.journals.models import AcademicYear, Period, School, SchoolClass
from archive_service.register.models import RegisterEntry
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import DocumentReturn, DocumentVerification, SignatureRecord
from archive_service.snapshots.models import PeriodSnapshot

KIND_TITLES = {"journal": "Копия классного журнала", "summary": "Сводная ведомость учёта "
               "успеваемости", "folder": "Общая папка за период"}
PERIOD_NAMES = {"Q1": "I четверть", "Q2": "II четверть", "Q3": "III четверть",
                "Q4": "IV четверть", "H1": "I полугодие", "H2": "II полугодие",
                "T1": "I триместр", "T2": "II триместр", "T3": "III триместр",
                "Y": "учебный год"}
STATUS_TEXT = {retention.Status.DUE: "срок истёк", retention.Status.HELD: "на удержании",
               retention.Status.SUMMARY_MISSING: "ждёт сводную ведомость",
               retention.Status.NOT_YET_DUE: "хранится",
               retention.Status.PERMANENT: "постоянно",
               retention.Status.DESTROYED: "уничтожен"}


def rules(settings: Settings) -> dict[str, retention.RetentionClass]:
    """This deployment's retention classes (terms from ARCHIVE_RETENTION_*_YEARS)."""
    return retention.classes(journal_years=settings.retention_journal_years,
                             summary_years=settings.retention_summary_years)


@dataclass(frozen=True)
class PlanRow:
    """One archived item and its decision."""

    source: str  # "document" or "folder" (a register entry)
    ref: int  # the document id or the folder's register entry id
    school: str
    year: str
    class_name: str | None
    period_code: str
    retention_class: str
    title: str
    register_number: str | None
    sheets: int
    status: str
    action: str
    due_on: dt.date | None
    reason: str
    in_act: int | None  # the number of an open act that already lists it


@dataclass(frozen=True)
class _Hold:
    school_id: int
    year: str | None
    class_name: str | None
    document_id: int | None
    reason: str

    def covers(self, year: str, class_name: str | None, document_id: int | None, *,
               folder: bool = False) -> bool:
        """Whether the hold covers an item; a period folder holds every class's copies of
        its year, so any hold on that year (or on the whole school) covers it."""
        if self.year is not None and self.year != year:
            return False
        if folder:
            return True
        return ((self.class_name is None or self.class_name == class_name)
                and (self.document_id is None or self.document_id == document_id))


def active_holds(s: Session, school_ids: set[int] | None = None) -> dict[int, list[_Hold]]:
    """Holds not lifted, by school."""
    query = select(RetentionHold).where(RetentionHold.lifted_at.is_(None))
    out: dict[int, list[_Hold]] = {}
    for h in s.scalars(query):
        if school_ids is None or h.school_id in school_ids:
            out.setdefault(h.school_id, []).append(
                _Hold(h.school_id, h.year, h.class_name, h.document_id, f"№ {h.id}: {h.reason}"))
    return out


def summary_states(s: Session, school_ids: set[int] | None = None
                   ) -> dict[int, retention.SummaryState]:
    """The state of each class's year summary sheet (class id -> state).

    The year summary is the summary sheet of the class's latest not-returned snapshot of
    period Y. It is OK when sealed (the chain's last step) and the latest verification of
    its sealed bytes succeeded.
    """
    query = (select(RenderedDocument.id, PeriodSnapshot.school_class_id, PeriodSnapshot.version)
             .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
             .join(Period, Period.id == PeriodSnapshot.period_id)
             .where(RenderedDocument.kind == "summary", Period.code == "Y")
             .where(~RenderedDocument.id.in_(select(DocumentReturn.document_id))))
    if school_ids is not None:
        query = query.where(RenderedDocument.school_id.in_(school_ids))
    latest: dict[int, tuple[int, int]] = {}
    for doc_id, class_id, version in s.execute(query):
        if class_id not in latest or latest[class_id][1] < version:
            latest[class_id] = (doc_id, version)
    doc_ids = [d for d, _v in latest.values()]
    sealed: dict[int, str] = {}
    verified: dict[tuple[int, str], bool] = {}
    for at in range(0, len(doc_ids), 500):
        chunk = doc_ids[at:at + 500]
        sealed.update(s.execute(select(SignatureRecord.document_id, SignatureRecord.hash_after)
                                .where(SignatureRecord.document_id.in_(chunk),
                                       SignatureRecord.step == "seal")).all())
        for doc_id, sha, ok in s.execute(
                select(DocumentVerification.document_id, DocumentVerification.sha256,
                       DocumentVerification.ok)
                .where(DocumentVerification.document_id.in_(chunk))
                .order_by(DocumentVerification.id)):
            verified[(doc_id, sha)] = ok  # the latest verification of those bytes wins
    out = {}
    for class_id, (doc_id, _v) in latest.items():
        if doc_id not in sealed:
            out[class_id] = retention.SummaryState.UNSIGNED
        else:
            ok = verified.get((doc_id, sealed[doc_id]))
            out[class_id] = (retention.SummaryState.UNVERIFIED if ok is None else
                             retention.SummaryState.OK if ok else retention.SummaryState.FAILED)
    return out


def _open_acts(s: Session) -> tuple[dict[int, int], dict[int, int]]:
    """Items listed in acts that are neither rejected nor executed: doc id / entry id -> act."""
    docs, folders = {}, {}
    for doc_id, entry_id, number in s.execute(
            select(DisposalItem.document_id, DisposalItem.register_entry_id, DisposalAct.number)
            .join(DisposalAct, DisposalAct.id == DisposalItem.act_id)
            .where(DisposalAct.status.in_(("draft", "reviewed", "approved")))):
        if doc_id is not None:
            docs[doc_id] = number
        if entry_id is not None:
            folders[entry_id] = number
    return docs, folders


def plan(session: Session, settings: Settings, *, as_of: dt.date,
         school_id: int | None = None) -> Iterator[PlanRow]:
    """Every archived document and period folder (of one school or all) with its decision."""
    classes = rules(settings)
    schools = {sc.id: sc.code for sc in session.scalars(select(School))}
    wanted = None if school_id is None else {school_id}
    holds = active_holds(session, wanted)
    summaries = summary_states(session, wanted)
    destroyed_docs = set(session.scalars(select(Tombstone.document_id)
                                         .where(Tombstone.document_id.is_not(None))))
    destroyed_folders = set(session.scalars(select(Tombstone.register_entry_id)
                                            .where(Tombstone.register_entry_id.is_not(None))))
    in_act_docs, in_act_folders = _open_acts(session)
    memo: dict[tuple, retention.Decision] = {}

    def decision(code: str, year_closed: int, held: tuple[str, ...],
                 summary: retention.SummaryState | None, destroyed: bool) -> retention.Decision:
        key = (code, year_closed, held, summary, destroyed)
        found = memo.get(key)
        if found is None:
            found = memo[key] = retention.decide(
                retention.Item(year_closed, held, summary, destroyed), classes[code], as_of)
        return found

    def held_by(sid: int, year: str, class_name: str | None, doc_id: int | None,
                folder: bool = False) -> tuple[str, ...]:
        return tuple(h.reason for h in holds.get(sid, ())
                     if h.covers(year, class_name, doc_id, folder=folder))

    # Documents: journal copies and summary sheets, with their register numbers.
    query = (select(RenderedDocument.id, RenderedDocument.school_id, RenderedDocument.kind,
                    RenderedDocument.sheets, AcademicYear.label, AcademicYear.end_date,
                    SchoolClass.id, SchoolClass.name, Period.code, RegisterEntry.number)
             .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
             .join(Period, Period.id == PeriodSnapshot.period_id)
             .join(AcademicYear, AcademicYear.id == Period.academic_year_id)
             .join(SchoolClass, SchoolClass.id == PeriodSnapshot.school_class_id)
             .outerjoin(RegisterEntry, RegisterEntry.document_id == RenderedDocument.id)
             .order_by(RenderedDocument.id))
    if school_id is not None:
        query = query.where(RenderedDocument.school_id == school_id)
    classes_of_year: dict[tuple[int, str], set[int]] = {}
    year_ends: dict[tuple[int, str], dt.date] = {}
    result = session.execute(query.execution_options(stream_results=True, yield_per=20000))
    for (doc_id, sid, kind, sheets, year, year_end, class_id, class_name, period,
         number) in result:
        year_ends[(sid, year)] = year_end
        classes_of_year.setdefault((sid, year), set()).add(class_id)
        rule = classes[kind]
        d = decision(kind, year_end.year, held_by(sid, year, class_name, doc_id),
                     summaries.get(class_id) if rule.needs_summary else None,
                     doc_id in destroyed_docs)
        yield PlanRow("document", doc_id, schools[sid], year, class_name, period, kind,
                      f"{KIND_TITLES[kind]} {class_name} класса, "
                      f"{PERIOD_NAMES.get(period, period)} {year}",
                      f"{year}/{number}" if number is not None else None, sheets,
                      d.status.value, d.action.value, d.due_on, d.reason,
                      in_act_docs.get(doc_id))
    # Period folders: they bundle the full journal copies, so they follow the copies' rule
    # and wait for the summary sheets of every class of their year.
    query = select(RegisterEntry).where(RegisterEntry.kind == "folder").order_by(RegisterEntry.id)
    if school_id is not None:
        query = query.where(RegisterEntry.school_id == school_id)
    for e in session.scalars(query):
        end = year_ends.get((e.school_id, e.year)) or session.scalar(
            select(AcademicYear.end_date).filter_by(school_id=e.school_id, label=e.year))
        states = {summaries.get(c) for c in classes_of_year.get((e.school_id, e.year), ())}
        state = (retention.SummaryState.OK if states == {retention.SummaryState.OK} else
                 next((st for st in states if st is not retention.SummaryState.OK), None))
        d = decision("folder", end.year, held_by(e.school_id, e.year, None, None, True), state,
                     e.id in destroyed_folders)
        yield PlanRow("folder", e.id, schools[e.school_id], e.year, None, e.period_code,
                      "folder", e.title, f"{e.year}/{e.number}", e.sheets, d.status.value,
                      d.action.value, d.due_on, d.reason, in_act_folders.get(e.id))
