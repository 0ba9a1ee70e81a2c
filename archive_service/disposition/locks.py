"""Storage-level retention locks: every archived object locked until its term ends.

A lower module of the disposition package (issue 29): signatures, the register and backups
lock what they have just written through it without importing the acts' service.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.db import Archive
from archive_service.disposition.models import DisposalAct
from archive_service.disposition.plan import plan, rules
from archive_service.journals.models import AcademicYear, Period
from archive_service.register.models import RegisterEntry
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import SignatureRecord
from archive_service.snapshots.models import PeriodSnapshot

#: S3 Object Lock has no "forever": permanent items are locked this far ahead and the lock is
#: extended by every ``archive retention lock`` run.
PERMANENT_LOCK_YEARS = 100


def midnight(day: dt.date) -> dt.datetime:
    """The first moment of a day (UTC): where a retention lock ends."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


def document_keys(s: Session, doc_ids: list[int]) -> dict[int, list[str]]:
    """Every stored object of each document: the rendered file and its signature pieces."""
    out: dict[int, list[str]] = {}
    for at in range(0, len(doc_ids), 500):
        chunk = doc_ids[at:at + 500]
        for doc_id, key in s.execute(select(RenderedDocument.id, RenderedDocument.storage_key)
                                     .where(RenderedDocument.id.in_(chunk))):
            out.setdefault(doc_id, []).insert(0, key)
        for doc_id, key in s.execute(select(SignatureRecord.document_id,
                                            SignatureRecord.storage_key)
                                     .where(SignatureRecord.document_id.in_(chunk))
                                     .order_by(SignatureRecord.sequence)):
            if key not in out.setdefault(doc_id, []):
                out[doc_id].append(key)
    return out


def snapshot_keys(s: Session, doc_ids: list[int]) -> dict[int, str]:
    """The snapshot object of each journal copy among the documents (destroyed with it)."""
    out: dict[int, str] = {}
    for at in range(0, len(doc_ids), 500):
        out.update(s.execute(
            select(RenderedDocument.id, PeriodSnapshot.storage_key)
            .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
            .where(RenderedDocument.id.in_(doc_ids[at:at + 500]),
                   RenderedDocument.kind == "journal")).all())
    return out


def lock_objects(archive: Archive, *, now: dt.date | None = None) -> int:
    """Lock every archived object until its retention ends (``archive retention lock``).

    On S3 this is Object Lock COMPLIANCE (the server refuses deletion and shortening); on a
    local disk a lock file the application honours. Idempotent, never shortens a lock, and
    fails loudly (unlike the lock set after each write, which only logs). Returns the number
    of objects locked.
    """
    today = now or dt.date.today()
    forever = midnight(today.replace(year=today.year + PERMANENT_LOCK_YEARS))
    with archive.sessions() as s:
        docs: dict[int, dt.datetime] = {}
        locks: list[tuple[str, dt.datetime]] = []
        for r in plan(s, archive.settings, as_of=today):
            if r.status == "destroyed":
                continue
            until = midnight(r.due_on) if r.due_on else forever
            if r.source == "document":
                docs[r.ref] = until
            else:
                key = s.get(RegisterEntry, r.ref).storage_key
                if key:
                    locks.append((key, until))
        ids = list(docs)
        for doc_id, keys in document_keys(s, ids).items():
            locks += [(k, docs[doc_id]) for k in keys]
        locks += [(k, docs[d]) for d, k in snapshot_keys(s, ids).items()]
        for act in s.scalars(select(DisposalAct)):
            locks += [(k, forever) for k in (act.draft_key, act.signed_key) if k]
    for key, until in locks:
        if archive.storage.exists(key):
            archive.storage.extend_retention(key, until)
    return len(locks)


def _document_locks(s: Session, settings, doc_ids: list[int]  # noqa: ANN001 - Settings
                    ) -> dict[int, dt.datetime]:
    """The retain-until date of each document (its class's first destruction date)."""
    from retention import first_allowed

    classes = rules(settings)
    out = {}
    for at in range(0, len(doc_ids), 500):
        for doc_id, kind, end in s.execute(
                select(RenderedDocument.id, RenderedDocument.kind, AcademicYear.end_date)
                .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
                .join(Period, Period.id == PeriodSnapshot.period_id)
                .join(AcademicYear, AcademicYear.id == Period.academic_year_id)
                .where(RenderedDocument.id.in_(doc_ids[at:at + 500]))):
            out[doc_id] = midnight(first_allowed(classes[kind], end.year))
    return out


def lock_new_objects(archive: Archive, *, document_ids: list[int] = (),
                     folder_ids: list[int] = ()) -> None:
    """Lock the objects of just-written documents or folders (called after their unit of
    work commits). A failure does not undo the committed work: it is logged, and
    ``archive retention lock`` (which fails loudly) sets every missing lock."""
    import logging

    try:
        with archive.sessions() as s:
            until = _document_locks(s, archive.settings, list(document_ids))
            locks = [(k, until[d]) for d, keys in document_keys(s, list(until)).items()
                     for k in keys]
            locks += [(k, until[d]) for d, k in snapshot_keys(s, list(until)).items()]
            for entry_id in folder_ids:
                entry = s.get(RegisterEntry, entry_id)
                end = s.scalar(select(AcademicYear.end_date).filter_by(
                    school_id=entry.school_id, label=entry.year))
                from retention import first_allowed

                if entry.storage_key and end is not None:
                    locks.append((entry.storage_key, midnight(first_allowed(
                        rules(archive.settings)["folder"], end.year))))
        for key, when in locks:
            archive.storage.extend_retention(key, when)
    except Exception as exc:  # noqa: BLE001 - the work is committed; the sweep repairs
        logging.getLogger("archive.retention").warning(
            "Блокировка хранения не установлена (%s); выполните archive retention lock.", exc)
