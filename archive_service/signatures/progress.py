"""Where each class of a period stands in the five days of seed 000, section 4.

Read-only: the latest snapshot of each class the period applies to, that snapshot's
documents (journal copy, summary sheet), and for each document the step its chain waits
for, who must act, since when, and whether that is overdue by the schedule
(``state.DAYS_AFTER_RENDER``: teachers the day after the copy is made, the class
leader two days after, the deputy, the director and the seal three days after). The close
page, the progress picture of the director and deputies, and the period folder's refusal
all read this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from archive_service.db import Archive
from archive_service.journals.lookup import PeriodRef, classes_for, find_period
from archive_service.journals.models import School
from archive_service.orm import aware
from archive_service.register.models import RegisterEntry
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import SigningRole, SigningUser
from archive_service.signatures.state import (
    DAYS_AFTER_RENDER,
    KIND_NAMES,
    ROLE_OF_STEP,
    STEP_TITLES,
    state_in,
)
from archive_service.snapshots.models import PeriodSnapshot

#: The stages of a class, in the order of the procedure.
STAGES = {"no_snapshot": "срез не сделан", "no_documents": "копии не сформированы",
          "returned": "возвращён на исправление", "signing": "на подписи",
          "sealed": "заверен печатью"}



@dataclass(frozen=True)
class DocState:
    """One document of a class: the step it waits for, whom, since when."""

    id: int
    kind: str
    number: str
    pages: int
    created_at: dt.datetime
    next_step: str | None
    waiting_for: tuple[str, ...]
    since: dt.datetime | None
    due: dt.datetime | None
    overdue: bool
    returned: str | None
    sealed: bool
    registered: int | None

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    @property
    def step_title(self) -> str | None:
        return STEP_TITLES.get(self.next_step) if self.next_step else None

    @property
    def status(self) -> str:
        """The document's state as one line a person reads."""
        if self.returned:
            return f"возвращён: {self.returned}"
        if self.sealed:
            return "заверен печатью" + (f", № {self.registered} по реестру"
                                        if self.registered else "")
        who = ", ".join(self.waiting_for)
        return f"ждёт: {self.step_title}" + (f" — {who}" if who else "")


@dataclass(frozen=True)
class ClassState:
    """One class of the period."""

    class_name: str
    grade: int
    snapshot_id: int | None
    version: int | None
    snapshot_at: dt.datetime | None
    snapshot_by: str | None
    reason: str | None
    documents: tuple[DocState, ...]

    @property
    def stage(self) -> str:
        """One of ``STAGES``: the least advanced of its documents."""
        if self.snapshot_id is None:
            return "no_snapshot"
        if not self.documents:
            return "no_documents"
        if any(d.returned for d in self.documents):
            return "returned"
        if all(d.sealed for d in self.documents):
            return "sealed"
        return "signing"

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.documents)


@dataclass(frozen=True)
class PeriodOverview:
    """Every class of a school's period."""

    school: str
    year: str
    period_code: str
    period_name: str
    end: dt.date
    classes: tuple[ClassState, ...]

    @property
    def ref(self) -> str:
        return f"{self.year}/{self.period_code}"

    def stages(self) -> dict[str, int]:
        """How many classes stand at each stage (every stage, zeros included)."""
        counts = dict.fromkeys(STAGES, 0)
        for c in self.classes:
            counts[c.stage] += 1
        return counts

    def steps(self) -> dict[str, int]:
        """How many documents wait at each step of the chain (every step, zeros included)."""
        counts = dict.fromkeys(STEP_TITLES, 0)
        for c in self.classes:
            for d in c.documents:
                if d.next_step and not d.returned:
                    counts[d.next_step] = counts.get(d.next_step, 0) + 1
        return counts

    def overdue(self) -> list[tuple[ClassState, DocState]]:
        return [(c, d) for c in self.classes for d in c.documents if d.overdue]

    def not_ready(self) -> list[tuple[str, str]]:
        """(class, why) of every class without a sealed copy, or with a returned one: what
        keeps the period's folder from being complete."""
        out = []
        for c in self.classes:
            if c.stage == "sealed":
                continue
            if c.stage == "returned":
                why = "; ".join(f"{d.kind_name.lower()} {d.status}" for d in c.documents
                                if d.returned)
            elif c.stage == "signing":
                why = "; ".join(f"{d.kind_name.lower()} {d.status}" for d in c.documents
                                if not d.sealed)
            else:
                why = STAGES[c.stage]
            out.append((c.class_name, why))
        return out


def _holders(s, school_id: int) -> dict[str, list[str]]:
    """The names of the school's signers by role (who the deputy's, director's and seal's
    steps wait for)."""
    out: dict[str, list[str]] = {}
    for role, name in s.execute(select(SigningRole.role, SigningUser.full_name)
                                .join(SigningUser, SigningUser.id == SigningRole.user_id)
                                .where(SigningUser.school_id == school_id)
                                .order_by(SigningUser.full_name)):
        out.setdefault(role, []).append(name)
    return out


def _doc_state(s, doc: RenderedDocument, holders: dict[str, list[str]], now: dt.datetime,
               registered: int | None) -> DocState:
    state = state_in(s, doc)
    created = aware(doc.created_at)
    sealed = state.next_step is None and state.returned is None and bool(state.fields)
    waiting: tuple[str, ...] = ()
    since = due = None
    if state.next_step and not state.returned:
        pending = [f for f in state.fields if f.step == state.next_step and f.signed_by is None]
        named = [f.expected_signer for f in pending if f.expected_signer]
        waiting = tuple(dict.fromkeys(named)) or tuple(
            holders.get(ROLE_OF_STEP[state.next_step], [])) or (
            STEP_TITLES[state.next_step] + " (нет ключа подписи)",)
        earlier = [dt.datetime.fromisoformat(f.signed_at) for f in state.fields
                   if f.signed_at and f.step != state.next_step]
        since = max([aware(t) for t in earlier], default=created)
        due = created + dt.timedelta(days=DAYS_AFTER_RENDER.get(state.next_step, 99))
    return DocState(doc.id, doc.kind, doc.number, doc.pages, created, state.next_step,
                    waiting, since, due, bool(due and now > due), state.returned, sealed,
                    registered)


def period_overview(archive: Archive, *, school_id: int, period: str,
                    now: dt.datetime | None = None) -> PeriodOverview:
    """Every class of the school's period with its latest snapshot and documents."""
    now = now or dt.datetime.now(dt.UTC)
    ref = PeriodRef.parse(period)
    with archive.sessions() as s:
        school = s.get(School, school_id)
        year, per = find_period(s, school, ref)
        holders = _holders(s, school_id)
        latest: dict[int, PeriodSnapshot] = {}
        for snap in s.scalars(select(PeriodSnapshot).filter_by(period_id=per.id)
                              .order_by(PeriodSnapshot.version)):
            latest[snap.school_class_id] = snap
        ids = [snap.id for snap in latest.values()]
        # One document per kind: the newest (a copy rendered again by a newer renderer
        # replaces the older one in the chain).
        newest: dict[tuple[int, str], RenderedDocument] = {}
        for d in s.scalars(select(RenderedDocument).where(RenderedDocument.snapshot_id.in_(ids))
                           .order_by(RenderedDocument.id)):
            newest[(d.snapshot_id, d.kind)] = d
        docs: dict[int, list[RenderedDocument]] = {}
        for (snapshot_id, _kind), d in sorted(newest.items()):
            docs.setdefault(snapshot_id, []).append(d)
        numbers = dict(s.execute(select(RegisterEntry.document_id, RegisterEntry.number).where(
            RegisterEntry.document_id.in_([d.id for ds in docs.values() for d in ds]))).all())
        classes = []
        for sc in classes_for(s, year, per, None):
            snap = latest.get(sc.id)
            documents = tuple(_doc_state(s, d, holders, now, numbers.get(d.id))
                              for d in docs.get(snap.id, [])) if snap else ()
            classes.append(ClassState(
                sc.name, sc.grade, snap.id if snap else None, snap.version if snap else None,
                aware(snap.created_at) if snap else None, snap.created_by if snap else None,
                snap.reason if snap else None, documents))
        return PeriodOverview(school.name, year.label, per.code, per.name, per.end_date,
                              tuple(classes))
