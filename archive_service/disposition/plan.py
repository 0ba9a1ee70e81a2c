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
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

import retention
from archive_service.config import Settings
from archive_service.disposition.models import DisposalAct, DisposalItem, RetentionHold, Tombstone
from archive_service.disposition.rules import rules
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


class PlanRow(NamedTuple):
    """One archived item and its decision (a named tuple: a plan has a million of them)."""

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

    def as_dict(self) -> dict:
        """The row as a plain dict (JSON output)."""
        return self._asdict()


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
    # One pass: every year summary with its seal (if any) and the verifications of the
    # sealed bytes, oldest first so that the latest verification wins.
    seal = aliased(SignatureRecord)
    check = aliased(DocumentVerification)
    query = (select(RenderedDocument.id, PeriodSnapshot.school_class_id, PeriodSnapshot.version,
                    seal.hash_after, check.ok)
             .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
             .join(Period, Period.id == PeriodSnapshot.period_id)
             .outerjoin(seal, (seal.document_id == RenderedDocument.id) & (seal.step == "seal"))
             .outerjoin(check, (check.document_id == RenderedDocument.id)
                        & (check.sha256 == seal.hash_after))
             .where(RenderedDocument.kind == "summary", Period.code == "Y")
             .where(~RenderedDocument.id.in_(select(DocumentReturn.document_id)))
             .order_by(check.id.nulls_first()))
    if school_ids is not None:
        query = query.where(RenderedDocument.school_id.in_(school_ids))
    latest: dict[int, tuple[int, int]] = {}
    sealed: dict[int, str] = {}
    verified: dict[tuple[int, str], bool] = {}
    for doc_id, class_id, version, sealed_hash, ok in s.execute(query):
        if class_id not in latest or latest[class_id][1] < version:
            latest[class_id] = (doc_id, version)
        if sealed_hash is not None:
            sealed[doc_id] = sealed_hash
            if ok is not None:
                verified[(doc_id, sealed_hash)] = ok
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
    memo: dict[tuple, tuple[str, str, dt.date | None, str]] = {}

    def decision(code: str, year_closed: int, held: tuple[str, ...],
                 summary: retention.SummaryState | None, destroyed: bool
                 ) -> tuple[str, str, dt.date | None, str]:
        """(status, action, due_on, reason), memoised: most items share their inputs."""
        key = (code, year_closed, held, summary, destroyed)
        found = memo.get(key)
        if found is None:
            d = retention.decide(retention.Item(year_closed, held, summary, destroyed),
                                 classes[code], as_of)
            found = memo[key] = (d.status.value, d.action.value, d.due_on, d.reason)
        return found

    def held_by(sid: int, year: str, class_name: str | None, doc_id: int | None,
                folder: bool = False) -> tuple[str, ...]:
        school_holds = holds.get(sid)
        if not school_holds:
            return ()
        return tuple(h.reason for h in school_holds
                     if h.covers(year, class_name, doc_id, folder=folder))

    # Documents: journal copies and summary sheets. The big query joins nothing it can look
    # up in a small table (years, periods, classes, register numbers) and is read through
    # the driver's own cursor: a million rows of five integers and a word.
    where = "" if school_id is None else f" WHERE d.school_id = {int(school_id)}"
    years: dict[int, tuple[str, dt.date]] = {}
    year_ends: dict[tuple[int, str], dt.date] = {}
    for i, sid, label, end in session.execute(
            select(AcademicYear.id, AcademicYear.school_id, AcademicYear.label,
                   AcademicYear.end_date)
            .where(True if school_id is None else AcademicYear.school_id == school_id)):
        years[i] = (label, end)
        year_ends[(sid, label)] = end
    # Per period: its code, the year's label, the closing year, and the words of the title.
    period_info = {
        i: (code, years[ay][0], years[ay][1].year,
            f" класса, {PERIOD_NAMES.get(code, code)} {years[ay][0]}")
        for i, code, ay in session.execute(select(Period.id, Period.code,
                                                  Period.academic_year_id))
        if ay in years}
    class_names = dict(session.execute(
        select(SchoolClass.id, SchoolClass.name)
        .where(True if school_id is None else SchoolClass.school_id == school_id)).all())
    numbers = dict(session.execute(select(RegisterEntry.document_id, RegisterEntry.number)
                                   .where(RegisterEntry.document_id.is_not(None))).all())
    needs_summary = {code: c.needs_summary for code, c in classes.items()}
    titles = {code: f"{KIND_TITLES[code]} " for code in KIND_TITLES}
    raw = session.connection().connection
    # PostgreSQL: a server-side cursor, so memory stays flat however many rows there are
    # (SQLite's cursor already streams).
    cursor = (raw.driver_connection.cursor(name="retention_plan")
              if session.bind.dialect.name == "postgresql" else raw.cursor())
    try:
        cursor.execute("SELECT d.id, d.school_id, d.kind, d.sheets, s.period_id, "
                       "s.school_class_id FROM rendered_document d JOIN period_snapshot s "
                       "ON s.id = d.snapshot_id" + where)
        while batch := cursor.fetchmany(20000):
            for doc_id, sid, kind, sheets, period_id, class_id in batch:
                period, year, closed, words = period_info[period_id]
                class_name = class_names[class_id]
                key = (kind, closed,
                       held_by(sid, year, class_name, doc_id) if sid in holds else (),
                       summaries.get(class_id) if needs_summary[kind] else None,
                       doc_id in destroyed_docs)
                status, action, due_on, reason = memo.get(key) or decision(*key)
                number = numbers.get(doc_id)
                yield PlanRow("document", doc_id, schools[sid], year, class_name, period, kind,
                              titles[kind] + class_name + words,
                              None if number is None else f"{year}/{number}", sheets,
                              status, action, due_on, reason, in_act_docs.get(doc_id))
    finally:
        cursor.close()
    # Period folders: they bundle the full journal copies, so they follow the copies' rule
    # and wait for the summary sheets of every class of their year.
    query = select(RegisterEntry).where(RegisterEntry.kind == "folder").order_by(RegisterEntry.id)
    if school_id is not None:
        query = query.where(RegisterEntry.school_id == school_id)
    folders = session.scalars(query).all()
    classes_of_year: dict[tuple[int, str], set[int]] = {}
    if folders:  # the classes that have documents, by school and year
        for sid, label, class_id in session.execute(
                select(PeriodSnapshot.school_id, AcademicYear.label,
                       PeriodSnapshot.school_class_id).distinct()
                .join(SchoolClass, SchoolClass.id == PeriodSnapshot.school_class_id)
                .join(AcademicYear, AcademicYear.id == SchoolClass.academic_year_id)):
            classes_of_year.setdefault((sid, label), set()).add(class_id)
    for e in folders:
        end = year_ends[(e.school_id, e.year)]
        states = {summaries.get(c) for c in classes_of_year.get((e.school_id, e.year), ())}
        state = (retention.SummaryState.OK if states == {retention.SummaryState.OK} else
                 next((st for st in states if st is not retention.SummaryState.OK), None))
        status, action, due_on, reason = decision(
            "folder", end.year, held_by(e.school_id, e.year, None, None, True), state,
            e.id in destroyed_folders)
        yield PlanRow("folder", e.id, schools[e.school_id], e.year, None, e.period_code,
                      "folder", e.title, f"{e.year}/{e.number}", e.sheets, status, action,
                      due_on, reason, in_act_folders.get(e.id))
