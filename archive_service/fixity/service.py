"""Fixity: re-hash stored objects against their records, in batches, on a cycle.

Items and what each is checked against (all SHA-256 recorded when the bytes were written):
snapshots (``period_snapshot.sha256``), documents (the rendered file plus every signature
piece, assembled, against the hash after the last signature), period folders (the hash in
the register), approved destruction acts (the signed file's hash), raw import files
(``import_batch.sha256``); plus the audit trail's hash chains, recomputed on every run.
Items destroyed under an act are skipped (their tombstones say so).

Each run checks the items checked longest ago (never-checked first): ``share`` percent of
them, by default ``100 / ARCHIVE_FIXITY_CYCLE_DAYS`` (14 days: about 7 % a day), so a daily
run checks every object within the cycle (InvenioRDM's practice). Every result is kept
(``fixity_state``: the latest per item; ``fixity_run``: each run, its problems). A mismatch or
a missing object fails the run loudly, naming the object; a failure of the checker itself
(storage unreachable, a crash) marks the run crashed and exits non-zero too, and a run that
was killed stays «running» until the next run or ``status`` reports it interrupted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import ArchiveError, StorageObjectMissingError
from archive_service.fixity.models import FixityRun, FixityState

WORKERS = 4


@dataclass(frozen=True)
class Item:
    """One checked thing: its stored objects (in order) and the hash of their bytes."""

    kind: str
    id: int
    keys: tuple[str, ...]
    sha256: str
    label: str


@dataclass(frozen=True)
class RunReport:
    """What a run did."""

    run_id: int
    status: str
    items: int
    total: int
    bytes: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class FixityCrashedError(ArchiveError):
    """The checker itself failed (not the archive's bytes)."""


def items(s) -> list[Item]:  # noqa: ANN001 - a Session
    """Every item fixity covers, except those destroyed under an act."""
    from archive_service.disposition.models import DisposalAct, Tombstone
    from archive_service.journals.models import ImportBatch
    from archive_service.register.models import RegisterEntry
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import SignatureRecord
    from archive_service.snapshots.models import PeriodSnapshot

    gone = {k for keys in s.scalars(select(Tombstone.object_keys)) for k in keys}
    gone_docs = set(s.scalars(select(Tombstone.document_id)))
    gone_entries = set(s.scalars(select(Tombstone.register_entry_id)))
    out = [Item("snapshot", i, (key,), sha, f"срез № {i}")
           for i, key, sha in s.execute(select(PeriodSnapshot.id, PeriodSnapshot.storage_key,
                                               PeriodSnapshot.sha256)) if key not in gone]
    pieces: dict[int, list[str]] = {}
    final: dict[int, str] = {}
    for doc_id, key, after in s.execute(
            select(SignatureRecord.document_id, SignatureRecord.storage_key,
                   SignatureRecord.hash_after).order_by(SignatureRecord.document_id,
                                                        SignatureRecord.sequence)):
        keys = pieces.setdefault(doc_id, [])
        if not keys or keys[-1] != key:
            keys.append(key)
        final[doc_id] = after
    for i, number, key, sha in s.execute(select(RenderedDocument.id, RenderedDocument.number,
                                                RenderedDocument.storage_key,
                                                RenderedDocument.sha256)):
        if i not in gone_docs:
            out.append(Item("document", i, (key, *pieces.get(i, ())), final.get(i, sha),
                            f"документ № {i} ({number})"))
    out += [Item("folder", i, (key,), sha, f"общая папка № {number} ({year})")
            for i, year, number, key, sha in s.execute(
                select(RegisterEntry.id, RegisterEntry.year, RegisterEntry.number,
                       RegisterEntry.storage_key, RegisterEntry.handover_hash)
                .where(RegisterEntry.kind == "folder")) if key and i not in gone_entries]
    out += [Item("act", i, (key,), sha, f"акт № {number} о выделении к уничтожению")
            for i, number, key, sha in s.execute(
                select(DisposalAct.id, DisposalAct.number, DisposalAct.signed_key,
                       DisposalAct.signed_sha256).where(DisposalAct.signed_key.is_not(None)))]
    out += [Item("import", i, (key,), sha, f"загруженный файл № {i} ({name})")
            for i, name, key, sha in s.execute(
                select(ImportBatch.id, ImportBatch.file_name, ImportBatch.storage_key,
                       ImportBatch.sha256))]
    return out


def _check(archive: Archive, item: Item) -> tuple[int, str | None]:
    """(bytes read, problem or None). Storage failures other than a missing object are the
    checker's own and propagate."""
    digest, size = hashlib.sha256(), 0
    for key in item.keys:
        try:
            data = archive.storage.get(key)
        except StorageObjectMissingError:
            return size, f"{item.label}: объект {key} отсутствует в хранилище"
        digest.update(data)
        size += len(data)
    if digest.hexdigest() != item.sha256:
        return size, (f"{item.label}: содержимое изменено — SHA-256 не совпадает с записанным "
                      f"(объекты {', '.join(item.keys)})")
    return size, None


def _interrupt_stale(archive: Archive) -> list[int]:
    """Runs left «running» by a killed process become «interrupted»."""
    with archive.unit_of_work() as uow:
        stale = uow.session.scalars(select(FixityRun).filter_by(status="running")).all()
        for run in stale:
            run.status, run.error = "interrupted", "проверка прервана: процесс остановлен"
        return [r.id for r in stale]


def run_fixity(archive: Archive, *, actor: Actor, share: float | None = None,
               now: dt.datetime | None = None,
               progress: Callable[[int, int], None] = lambda _done, _total: None
               ) -> RunReport:
    """Check the ``share`` percent of items checked longest ago, the audit chains, and the
    register against the audit trail (``register.recheck``)."""
    from archive_service.audit.service import verify as verify_audit

    share = 100.0 / archive.settings.fixity_cycle_days if share is None else share
    if not 0 < share <= 100:
        raise ArchiveError("Доля проверки (--share) — число процентов от 0 до 100.")
    now = now or dt.datetime.now(dt.UTC)
    interrupted = _interrupt_stale(archive)
    with archive.unit_of_work() as uow:
        run = FixityRun(started_at=now, status="running", share=share, started_by=actor.name,
                        problems=[])
        uow.session.add(run)
        uow.session.flush()
        run_id = run.id
    try:
        with archive.sessions() as s:
            everything = items(s)
            last = {(k, i): at for k, i, at in s.execute(
                select(FixityState.kind, FixityState.item_id, FixityState.checked_at))}
        never = dt.datetime.min
        everything.sort(key=lambda it: (last.get((it.kind, it.id)) or never).replace(
            tzinfo=None))
        chosen = everything[:math.ceil(len(everything) * share / 100)]
        problems: list[str] = [f"проверка № {i} была прервана и не завершилась"
                               for i in interrupted]
        results: list[tuple[Item, bool]] = []
        total_bytes = 0
        with ThreadPoolExecutor(WORKERS) as pool:
            for n, (item, (size, problem)) in enumerate(
                    zip(chosen, pool.map(lambda it: _check(archive, it), chosen),
                        strict=True), 1):
                total_bytes += size
                results.append((item, problem is None))
                if problem:
                    problems.append(problem)
                progress(n, len(chosen))
        from archive_service.audit.anchor import verify_anchors

        checked, audit_problems = verify_audit(archive)
        audit_problems += verify_anchors(archive)
        problems += [f"журнал аудита: {p.message}" for p in audit_problems]
        from archive_service.register.recheck import verify_register

        problems += [f"школа {p.school}, {p.message}" for p in verify_register(archive)]
    except Exception as exc:
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        with archive.unit_of_work() as uow:
            run = uow.session.get(FixityRun, run_id)
            run.status, run.finished_at, run.error = "crashed", dt.datetime.now(dt.UTC), message
        raise FixityCrashedError(f"Проверка целостности № {run_id} не выполнена: {message}. "
                                 "Результат не получен — это сбой самой проверки.") from exc
    status = "failed" if problems else "ok"
    with archive.unit_of_work() as uow:
        s = uow.session
        _record(s, [(it.kind, it.id, ok) for it, ok in results], now, run_id)
        run = s.get(FixityRun, run_id)
        run.status, run.finished_at = status, dt.datetime.now(dt.UTC)
        run.items, run.bytes, run.problems = len(results), total_bytes, problems
        uow.audit(actor, "fixity.run", "fixity_run", run_id, chain=0,
                  details={"status": status, "items": len(results), "bytes": total_bytes,
                           "problems": problems[:20]})
    return RunReport(run_id, status, len(results), len(everything), total_bytes, problems)


def _record(s, rows: list[tuple[str, int, bool]], now: dt.datetime, run_id: int) -> None:  # noqa: ANN001
    """Upsert the latest result of each checked item."""
    if not rows:
        return
    if s.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(FixityState)
    statement = statement.on_conflict_do_update(
        index_elements=["kind", "item_id"],
        set_={"checked_at": statement.excluded.checked_at, "ok": statement.excluded.ok,
              "run_id": statement.excluded.run_id})
    for at in range(0, len(rows), 5000):
        s.execute(statement, [{"kind": k, "item_id": i, "ok": ok, "checked_at": now,
                               "run_id": run_id} for k, i, ok in rows[at:at + 5000]])


@dataclass(frozen=True)
class Status:
    """The daily summary: the last run, coverage of the cycle, what is failing."""

    last: FixityRun | None
    total: int
    within_cycle: int
    never_checked: int
    failing: list[str]
    cycle_days: int

    @property
    def ok(self) -> bool:
        return (self.last is not None and self.last.status == "ok" and not self.failing)


def status(archive: Archive, *, now: dt.datetime | None = None) -> Status:
    """The last run and how much of the archive was checked within the cycle."""
    now = now or dt.datetime.now(dt.UTC)
    days = archive.settings.fixity_cycle_days
    with archive.sessions() as s:
        last = s.scalars(select(FixityRun).order_by(FixityRun.id.desc()).limit(1)).first()
        everything = items(s)
        state = {(k, i): (at, ok) for k, i, at, ok in s.execute(
            select(FixityState.kind, FixityState.item_id, FixityState.checked_at,
                   FixityState.ok))}
    since = (now - dt.timedelta(days=days)).replace(tzinfo=None)
    within = never = 0
    failing = []
    for it in everything:
        seen = state.get((it.kind, it.id))
        if seen is None:
            never += 1
            continue
        if seen[0].replace(tzinfo=None) >= since:
            within += 1
        if not seen[1]:
            failing.append(it.label)
    return Status(last, len(everything), within, never, failing, days)


def last_run(archive: Archive) -> FixityRun | None:
    """The latest run (for the dashboard; cheap: one row)."""
    with archive.sessions() as s:
        return s.scalars(select(FixityRun).order_by(FixityRun.id.desc()).limit(1)).first()
