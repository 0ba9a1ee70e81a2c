"""Executing a signed act: everything checked again under the act's lock, then the
objects deleted and the tombstones written in one unit of work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.disposition.acts import STATUS_NAMES, ActInfo, act_info, find_act
from archive_service.disposition.common import check_may_manage
from archive_service.disposition.models import DisposalAct, DisposalItem, Tombstone
from archive_service.disposition.plan import active_holds
from archive_service.disposition.records import record_disposal
from archive_service.disposition.tombstones import clear_daily_records
from archive_service.errors import (
    ConflictError,
    IntegrityError,
    StorageReadOnlyError,
)
from archive_service.journals.models import (
    AcademicYear,
    Period,
    SchoolClass,
)
from archive_service.register.models import RegisterEntry
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import SignatureRecord
from archive_service.snapshots.models import PeriodSnapshot
from archive_service.storage.base import sha256_hex


@dataclass(frozen=True)
class ExecuteOutcome:
    """What an execution destroyed."""

    act: ActInfo
    items: int
    objects_deleted: int
    classes_cleared: tuple[str, ...]
    #: Backup targets the disposal record could not be written to (``resend_disposal``).
    disposal_failures: tuple[str, ...] = ()


def _check_signed_act(archive: Archive, s: Session, act: DisposalAct) -> None:
    from archive_service.signatures.models import SchoolPki
    from signing.verify import verify_pdf

    data = archive.storage.get(act.signed_key)
    if sha256_hex(data) != act.signed_sha256:
        raise IntegrityError(f"Подписанный акт № {act.number} изменён в хранилище; "
                             "исполнение невозможно.")
    pki_row = s.scalars(select(SchoolPki).filter_by(school_id=act.school_id)).one()
    result = verify_pdf(data, roots=[x509.load_pem_x509_certificate(pki_row.root_cert)])
    if not result.ok:
        raise IntegrityError(f"Подпись директора на акте № {act.number} не проходит "
                             "проверку; исполнение невозможно.")


def _summary_docs(s: Session, class_ids: set[int]) -> dict[int, int]:
    """The year summary document of each class (class id -> document id)."""
    from archive_service.signatures.models import DocumentReturn

    out: dict[int, tuple[int, int]] = {}
    for doc_id, class_id, version in s.execute(
            select(RenderedDocument.id, PeriodSnapshot.school_class_id, PeriodSnapshot.version)
            .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
            .join(Period, Period.id == PeriodSnapshot.period_id)
            .where(RenderedDocument.kind == "summary", Period.code == "Y",
                   PeriodSnapshot.school_class_id.in_(class_ids))
            .where(~RenderedDocument.id.in_(select(DocumentReturn.document_id)))):
        if class_id not in out or out[class_id][1] < version:
            out[class_id] = (doc_id, version)
    return {c: d for c, (d, _v) in out.items()}


def _classes_of(s: Session, items: list[DisposalItem]) -> set[int]:
    """The classes whose year summary the items need."""
    ids: set[int] = set()
    for i in items:
        if i.document_id is not None:
            ids.add(s.scalar(select(PeriodSnapshot.school_class_id).join(
                RenderedDocument, RenderedDocument.snapshot_id == PeriodSnapshot.id).where(
                RenderedDocument.id == i.document_id)))
        elif i.register_entry_id is not None:
            entry = s.get(RegisterEntry, i.register_entry_id)
            year_id = s.scalar(select(AcademicYear.id).filter_by(school_id=entry.school_id,
                                                                 label=entry.year))
            ids.update(s.scalars(select(SchoolClass.id).filter_by(academic_year_id=year_id)))
    return ids


def execute_act(archive: Archive, *, actor: Actor, number: int,
                school_code: str | None = None, now: dt.datetime | None = None
                ) -> ExecuteOutcome:
    """Destroy what an approved act lists; keep a tombstone per item and the act forever."""
    from archive_service.signatures.service import verify_document

    check_may_manage(actor)
    now = now or dt.datetime.now(dt.UTC)
    with archive.sessions() as s:
        act = find_act(s, school_code, number)
        if act.status == "executed":
            raise ConflictError(f"Акт № {number} уже исполнен {act.executed_at:%d.%m.%Y}.")
        if act.status != "approved":
            raise ConflictError(f"Акт № {number} {STATUS_NAMES[act.status]}: исполнить можно "
                                "только акт, утверждённый подписью директора.")
        _check_signed_act(archive, s, act)
        items = s.scalars(select(DisposalItem).filter_by(act_id=act.id)
                          .order_by(DisposalItem.position)).all()
        _check_items(archive, s, act, items, now)  # before anything is verified or written
        need_summary = [i for i in items if i.retention_class in ("journal", "folder")]
        summaries = _summary_docs(s, _classes_of(s, need_summary)) if need_summary else {}
        missing = _classes_of(s, need_summary) - set(summaries)
        if missing:
            names = sorted(s.scalars(select(SchoolClass.name).where(
                SchoolClass.id.in_(missing))))
            raise ConflictError("Нет сводной ведомости за год у классов "
                                f"{', '.join(names)}: копии журналов не уничтожаются.")
    # The summary sheets are verified now, for real, before anything is destroyed.
    for _class_id, doc_id in sorted(summaries.items()):
        with archive.sessions() as s:
            sealed = s.scalar(select(SignatureRecord.id).filter_by(document_id=doc_id,
                                                                    step="seal").limit(1))
        result = verify_document(archive, doc_id, reader=actor)
        if sealed is None or not result.ok:
            raise IntegrityError(f"Сводная ведомость (документ № {doc_id}) не прошла проверку "
                                 "подписей: копии журналов её класса не уничтожаются.")
    with archive.unit_of_work() as uow:
        s = uow.session
        act = find_act(s, school_code, number, lock=True)
        if act.status != "approved":
            raise ConflictError(f"Акт № {number} уже {STATUS_NAMES[act.status]}.")
        items = s.scalars(select(DisposalItem).filter_by(act_id=act.id)
                          .order_by(DisposalItem.position)).all()
        keys = _check_items(archive, s, act, items, now)
        # Objects still needed by something that stays (the same bytes elsewhere) are kept.
        leaving = {i.document_id for i in items if i.document_id is not None}
        kept = set(_shared_keys(s, keys, leaving))
        deleted = 0
        for key in dict.fromkeys(keys):
            if key in kept or not archive.storage.exists(key):
                continue
            archive.storage.delete(key, now=now)
            deleted += 1
        for i in items:
            s.add(Tombstone(item_id=i.id, act_id=act.id, document_id=i.document_id,
                            register_entry_id=i.register_entry_id, title=i.title,
                            sha256=i.sha256, object_keys=i.object_keys, destroyed_at=now,
                            destroyed_by=actor.name))
        s.flush()
        cleared = clear_daily_records(s, items)
        act.status, act.executed_by, act.executed_at = "executed", actor.name, now
        uow.audit(actor, "retention.act.execute", "act", act.id, chain=act.school_id,
                  details={"number": number, "items": len(items), "objects": deleted,
                           "classes_cleared": cleared})
        info = act_info(s, act)
    failed = record_disposal(archive, act_id=info.id)
    return ExecuteOutcome(info, len(items), deleted, tuple(cleared), tuple(failed))


def _check_items(archive: Archive, s: Session, act: DisposalAct, items: list[DisposalItem],
                 now: dt.datetime) -> list[str]:
    """Refuse when any item is not yet due, held, or locked in storage; else its keys."""
    holds = active_holds(s, {act.school_id}).get(act.school_id, [])
    keys: list[str] = []
    for i in items:
        if now.date() < i.due_on:
            raise ConflictError(f"«{i.title}»: уничтожать можно с {i.due_on:%d.%m.%Y}; до "
                                "этой даты акт не исполняется, ничего не уничтожено.")
        class_name = None
        if i.document_id is not None:
            class_name = s.scalar(select(SchoolClass.name).join(
                PeriodSnapshot, PeriodSnapshot.school_class_id == SchoolClass.id).join(
                RenderedDocument, RenderedDocument.snapshot_id == PeriodSnapshot.id).where(
                RenderedDocument.id == i.document_id))
        covering = [h.reason for h in holds if h.covers(
            i.year, class_name, i.document_id, folder=i.register_entry_id is not None)]
        if covering:
            raise ConflictError(f"«{i.title}» на удержании ({'; '.join(covering)}): акт не "
                                "исполнен, ничего не уничтожено.")
        for key in i.object_keys:
            until = archive.storage.retained_until(key)
            if until is not None and until > now:
                raise StorageReadOnlyError(
                    f"«{i.title}»: объект {key} заблокирован в хранилище до "
                    f"{until:%d.%m.%Y}; ничего не уничтожено.")
        keys += i.object_keys
    return keys


def _shared_keys(s: Session, keys: list[str], leaving: set[int]) -> Iterator[str]:
    """Keys among ``keys`` that a document not being destroyed still uses."""
    wanted = sorted(set(keys))
    destroyed = set(s.scalars(select(Tombstone.document_id).where(
        Tombstone.document_id.is_not(None))))
    gone = leaving | destroyed
    for at in range(0, len(wanted), 500):
        chunk = wanted[at:at + 500]
        for doc_id, key in s.execute(select(RenderedDocument.id, RenderedDocument.storage_key)
                                     .where(RenderedDocument.storage_key.in_(chunk))):
            if doc_id not in gone:
                yield key
        for doc_id, key in s.execute(select(SignatureRecord.document_id,
                                            SignatureRecord.storage_key)
                                     .where(SignatureRecord.storage_key.in_(chunk))):
            if doc_id not in gone:
                yield key

