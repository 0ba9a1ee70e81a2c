"""Rendering snapshots into archival documents, storing and listing them.

Rendering reads the snapshot through ``show_snapshot``, which re-hashes the stored bytes
first: a snapshot that changed since it was frozen is refused. The same snapshot always
renders to the same bytes (fixed dates and identifiers derived from the snapshot), so
re-rendering returns the existing document.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import ConfigError, NotFoundError
from archive_service.journals.models import School
from archive_service.orm import aware
from archive_service.rendering.layout import (
    DEFAULT_CHAIN,
    DocumentMeta,
    render_journal,
    render_summary,
)
from archive_service.rendering.models import RENDERER_VERSION, RenderedDocument
from archive_service.rendering.pdfa import finish
from archive_service.snapshots.service import SnapshotInfo, list_snapshots, show_snapshot
from archive_service.storage.base import sha256_hex

KINDS = {"journal": "Ж", "summary": "СВ"}
VERIFY_BASE = os.environ.get("ARCHIVE_VERIFY_BASE", "urn:school-journal-archive:")


@dataclass(frozen=True)
class DocumentInfo:
    """A rendered document record as shown to people and written as JSON."""

    id: int
    snapshot_id: int
    kind: str
    number: str
    sha256: str
    size: int
    pages: int
    sheets: int
    storage_key: str
    created_at: str
    created_by: str
    steps: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class RenderOutcome:
    """The documents of one snapshot and whether they were rendered now."""

    snapshot: SnapshotInfo
    documents: list[DocumentInfo]
    created: bool


def _info(d: RenderedDocument) -> DocumentInfo:
    created = d.created_at if d.created_at.tzinfo else d.created_at.replace(tzinfo=dt.UTC)
    return DocumentInfo(d.id, d.snapshot_id, d.kind, d.number, d.sha256, d.size, d.pages,
                        d.sheets, d.storage_key, created.isoformat(timespec="seconds"),
                        d.created_by, list(d.steps))


def document_meta(snapshot: SnapshotInfo, kind: str, source_system: str | None,
                  time_zone: str = "UTC") -> DocumentMeta:
    """The fixed identity of a document, derived from its snapshot (and the school's time
    zone: the date of forming is the school's date of the snapshot's moment)."""
    from zoneinfo import ZoneInfo

    number = (f"{snapshot.school}-{snapshot.academic_year}-{snapshot.period}-"
              f"{snapshot.class_name}-{KINDS[kind]}-v{snapshot.version}")
    return DocumentMeta(
        kind=kind, number=number, snapshot_sha256=snapshot.sha256,
        source_system=source_system or "не указана",
        render_date=aware(dt.datetime.fromisoformat(snapshot.created_at)).astimezone(
            ZoneInfo(time_zone)).date(),
        verify_ref=f"{VERIFY_BASE}{snapshot.school}/{snapshot.sha256[:32]}/{kind}")


def _render(content: dict, metas: dict[str, DocumentMeta], validate: bool = False,
            chains: dict[str, tuple[str, ...]] | None = None
            ) -> dict[str, tuple[bytes, int, list]]:
    """Render both documents of a snapshot (runs in a worker process); ``chains``: each
    kind's signature chain (``signature_chain``)."""
    chains = chains or {}
    cls, period = content["class"], content["period"]
    out = {}
    for kind, meta in metas.items():
        if kind == "journal":
            drawn = render_journal(content, meta, chains.get(kind, DEFAULT_CHAIN))
            title = f"Классный журнал {cls['name']} класса, {period['name']} " \
                    f"{content['academic_year']}"
        else:
            drawn = render_summary(content, meta, chains.get(kind, DEFAULT_CHAIN))
            title = f"Сводная ведомость итоговых отметок {cls['name']} класса, " \
                    f"{period['name']} {content['academic_year']}"
        finished = finish(drawn, meta, title=title, validate=validate,
                          subject=f"{content['school']['name']}; срез sha256 {meta.snapshot_sha256}")
        out[kind] = (finished.pdf, finished.pages, [asdict(f) for f in drawn.fields])
    return out


def render_snapshots(archive: Archive, snapshot_ids: list[int], *, actor: Actor,
                     workers: int | None = None, validate: bool = False,
                     on_done: Callable[[RenderOutcome], None] | None = None,
                     ) -> list[RenderOutcome]:
    """Render the journal copy and the summary sheet of each snapshot, on every core.

    This process reads and verifies the snapshots and stores the results; the drawing runs
    in a pool of forked worker processes as soon as each snapshot is read.
    """
    workers = workers or os.cpu_count() or 1
    pool = None
    if workers > 1 and len(snapshot_ids) > 1:
        pool = ProcessPoolExecutor(min(workers, len(snapshot_ids)),
                                   mp_context=multiprocessing.get_context("fork"))
    outcomes: dict[int, RenderOutcome] = {}
    pending: list[tuple[SnapshotInfo, dict[str, DocumentMeta], Future]] = []

    def done(outcome: RenderOutcome) -> None:
        outcomes[outcome.snapshot.id] = outcome
        if on_done:
            on_done(outcome)

    try:
        for sid in snapshot_ids:
            existing = _existing(archive, sid)
            info, content = show_snapshot(archive, sid)  # refuses a tampered snapshot
            if len(existing) == len(KINDS):
                done(RenderOutcome(info, existing, False))
                continue
            with archive.sessions() as s:
                school = s.scalars(select(School).filter_by(code=info.school)).one()
                source = school.source_system
                chain = {kind: signature_chain(school, kind) for kind in KINDS}
            metas = {k: document_meta(info, k, source, school.time_zone) for k in KINDS}
            if pool is None:
                done(_store(archive, info, metas, _render(content, metas, validate, chain),
                            actor))
            else:
                pending.append((info, metas, pool.submit(_render, content, metas, validate,
                                                         chain)))
                # Bounded memory: at most two snapshots per worker in flight.
                while len(pending) >= 2 * workers:
                    info0, metas0, future0 = pending.pop(0)
                    done(_store(archive, info0, metas0, future0.result(), actor))
        for info, metas, future in pending:
            done(_store(archive, info, metas, future.result(), actor))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return [outcomes[sid] for sid in snapshot_ids]


def signature_chain(school: School, kind: str = "journal") -> tuple[str, ...]:
    """The school's signature chain of a kind of document: ``settings.signature_chain``
    for the journal copy, default teachers -> class leader -> deputy -> director -> seal
    (seed 000, section 4); ``settings.summary_chain`` for the summary sheet, by default the
    same (seed 000, 4.2: the class leader collects the subject teachers' signatures
    confirming the final marks)."""
    settings = school.settings or {}
    chain = tuple((settings.get("summary_chain") if kind == "summary" else None)
                  or settings.get("signature_chain") or DEFAULT_CHAIN)
    unknown = [step for step in chain if step not in DEFAULT_CHAIN]
    if unknown or len(set(chain)) != len(chain):
        raise ConfigError(f"Цепочка подписей школы {school.code} задана неверно: {list(chain)}; "
                          f"допустимые шаги: {', '.join(DEFAULT_CHAIN)}, каждый не более раза.")
    return chain


def _existing(archive: Archive, snapshot_id: int) -> list[DocumentInfo]:
    with archive.sessions() as s:
        return [_info(d) for d in s.scalars(
            select(RenderedDocument).filter_by(snapshot_id=snapshot_id,
                                               renderer_version=RENDERER_VERSION)
            .order_by(RenderedDocument.kind))]


def _store(archive: Archive, info: SnapshotInfo, metas: dict[str, DocumentMeta],
           rendered: dict, actor: Actor) -> RenderOutcome:
    with archive.unit_of_work() as uow:
        s = uow.session
        have = {d.kind for d in s.scalars(select(RenderedDocument).filter_by(
            snapshot_id=info.id, renderer_version=RENDERER_VERSION))}
        now = dt.datetime.now(dt.UTC)
        created: list[int] = []
        for kind, (pdf, pages, steps) in sorted(rendered.items()):
            if kind in have:
                continue
            school_id = s.scalars(select(School.id).filter_by(code=info.school)).one()
            doc = RenderedDocument(
                school_id=school_id,
                snapshot_id=info.id, kind=kind, renderer_version=RENDERER_VERSION,
                number=metas[kind].number, sha256=sha256_hex(pdf), size=len(pdf),
                storage_key=uow.put_blob(pdf), pages=pages, sheets=pages, steps=steps,
                created_at=now, created_by=actor.name)
            s.add(doc)
            s.flush()
            uow.audit(actor, "document.create", "document", doc.id, chain=school_id,
                      details={"number": doc.number, "kind": kind, "snapshot": info.id,
                               "sha256": doc.sha256, "pages": pages})
            created.append(doc.id)
        if created:
            from archive_service.disposition.locks import lock_new_objects

            uow.committed.append(lambda: lock_new_objects(archive, document_ids=created))
    return RenderOutcome(info, _existing(archive, info.id), True)


def snapshots_for_period(archive: Archive, *, period: str, school_code: str | None
                         ) -> list[int]:
    """The latest snapshot version of every class for a period."""
    latest: dict[str, SnapshotInfo] = {}
    for info in list_snapshots(archive, school_code=school_code, period=period):
        latest[info.class_name] = info
    if not latest:
        raise NotFoundError(f"За период {period} нет срезов: сначала archive snapshot create.")
    return [i.id for i in latest.values()]


def list_documents(archive: Archive, *, snapshot_id: int | None = None) -> list[DocumentInfo]:
    """Rendered documents, oldest first."""
    with archive.sessions() as s:
        query = select(RenderedDocument).order_by(RenderedDocument.id)
        if snapshot_id is not None:
            query = query.filter_by(snapshot_id=snapshot_id)
        return [_info(d) for d in s.scalars(query)]


def document_info(archive: Archive, document_id: int) -> DocumentInfo:
    """One document's record."""
    with archive.sessions() as s:
        d = s.get(RenderedDocument, document_id)
        if d is None:
            raise NotFoundError(f"Документ № {document_id} не найден (archive document list).")
        return _info(d)


def export_document(archive: Archive, document_id: int) -> tuple[DocumentInfo, bytes]:
    """A document's verified bytes."""
    from archive_service.disposition.tombstones import destroyed_message, tombstone_of
    from archive_service.errors import IntegrityError, NotFoundError

    with archive.sessions() as s:
        stone = tombstone_of(s, document_id)
        if stone is not None:
            raise NotFoundError(destroyed_message(s, stone))
    info = document_info(archive, document_id)
    data = archive.storage.get(info.storage_key)
    if sha256_hex(data) != info.sha256:
        raise IntegrityError(f"Документ № {info.id} ({info.number}) изменён в хранилище: хеш не "
                             "совпадает с записанным при создании.")
    return info, data
