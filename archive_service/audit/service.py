"""Appending to the audit trail and verifying it.

Entries are buffered by the unit of work (``uow.audit(...)``) and appended just before it
commits, so an action and its audit entries commit together or not at all, and the chain's
head is locked only for that last moment, not for the whole action.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from archive_service.actors import Actor
from archive_service.audit.models import AuditEntry, AuditHead
from archive_service.db import Archive, insert_missing

GENESIS = "0" * 64


@dataclass(frozen=True)
class Pending:
    """An entry waiting for its unit of work to commit."""

    actor: Actor
    action: str
    object_type: str
    object_id: str
    chain: int
    details: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def entry_hash(*, chain: int, seq: int, at: dt.datetime, actor: str, role: str, action: str,
               object_type: str, object_id: str, details: str, prev_hash: str) -> str:
    """SHA-256 of the entry's canonical JSON (sorted keys, UTC time in microseconds)."""
    at_utc = at if at.tzinfo else at.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC
    body = {"chain": chain, "seq": seq, "at": at_utc.astimezone(dt.UTC).isoformat(),
            "actor": actor, "role": role, "action": action, "object_type": object_type,
            "object_id": object_id, "details": details, "prev_hash": prev_hash}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


_HEAD = (select(AuditHead.last_seq, AuditHead.last_hash)
         .where(AuditHead.chain == bindparam("chain")).with_for_update())
_MOVE_HEAD = (update(AuditHead.__table__).where(AuditHead.chain == bindparam("head"))
              .values(last_seq=bindparam("seq"), last_hash=bindparam("hash")))


def append(session, pending: list[Pending]) -> None:
    """Append the entries at the end of their chains (called by the unit of work).

    Plain statements, no ORM objects: every audited read of a document passes here."""
    session.flush()  # the unit's own changes first, as the ORM would before a query
    for chain in sorted({p.chain for p in pending}):
        head = session.execute(_HEAD, {"chain": chain}).one_or_none()
        if head is None:  # the chain's first entry: created race-free, then locked
            insert_missing(session, AuditHead, chain=chain, last_seq=0, last_hash=GENESIS)
            head = session.execute(_HEAD, {"chain": chain}).one()
        seq, prev = head
        rows = []
        for p in (p for p in pending if p.chain == chain):
            seq += 1
            values = dict(chain=chain, seq=seq, at=p.at, actor=p.actor.name, role=p.actor.role,
                          action=p.action, object_type=p.object_type,
                          object_id=str(p.object_id),
                          details=json.dumps(p.details, sort_keys=True, ensure_ascii=False,
                                             default=str),
                          prev_hash=prev)
            prev = entry_hash(**values)
            rows.append({**values, "hash": prev})
        session.execute(insert(AuditEntry.__table__), rows)
        session.execute(_MOVE_HEAD, {"head": chain, "seq": seq, "hash": prev})


def record(archive: Archive, actor: Actor, action: str, object_type: str, object_id: Any, *,
           chain: int, details: dict[str, Any] | None = None) -> None:
    """Append one entry on its own (for reads, which change nothing else)."""
    with archive.unit_of_work() as uow:
        uow.audit(actor, action, object_type, object_id, chain=chain, details=details)


@dataclass(frozen=True)
class AuditProblem:
    """A broken place in a chain, named for a person."""

    chain: int
    seq: int
    message: str


def verify(archive: Archive) -> tuple[int, list[AuditProblem]]:
    """Recompute every chain; returns the number of entries checked and the problems.

    A changed entry fails its own hash; a removed one leaves a gap in ``seq`` and a
    ``prev_hash`` that no longer matches; reordered entries break ``prev_hash``; entries
    removed from the end leave the chain shorter than its head.
    """
    problems: list[AuditProblem] = []
    checked = 0
    with archive.sessions() as s:
        heads = {h.chain: h for h in s.scalars(select(AuditHead))}
        chains = sorted(set(heads) | set(s.scalars(select(AuditEntry.chain).distinct())))
        for chain in chains:
            expected_seq, prev = 1, GENESIS
            # Plain rows, streamed: 10^5 entries without building an ORM object for each.
            entries = s.connection().execution_options(yield_per=5000).execute(
                select(AuditEntry.__table__).where(AuditEntry.chain == chain)
                .order_by(AuditEntry.seq))
            for e in entries:
                checked += 1
                if e.seq != expected_seq:
                    problems.append(AuditProblem(chain, e.seq, (
                        f"перед записью № {e.seq} нет записей № {expected_seq}–{e.seq - 1}: "
                        "записи удалены")))
                if e.prev_hash != prev:
                    problems.append(AuditProblem(chain, e.seq, (
                        f"{_where(e)}: не продолжает предыдущую запись (записи удалены или "
                        "переставлены)")))
                recomputed = entry_hash(
                    chain=e.chain, seq=e.seq, at=e.at, actor=e.actor, role=e.role,
                    action=e.action, object_type=e.object_type, object_id=e.object_id,
                    details=e.details, prev_hash=e.prev_hash)
                if recomputed != e.hash:
                    problems.append(AuditProblem(chain, e.seq, f"{_where(e)}: запись изменена"))
                expected_seq, prev = e.seq + 1, e.hash
            head = heads.get(chain)
            if head is None:
                problems.append(AuditProblem(chain, 0, "нет головы цепочки: таблица изменена"))
            elif head.last_seq != expected_seq - 1 or head.last_hash != prev:
                problems.append(AuditProblem(chain, head.last_seq, (
                    f"цепочка кончается записью № {expected_seq - 1}, а последней была "
                    f"№ {head.last_seq}: последние записи удалены или изменены")))
    return checked, problems


def _where(e) -> str:  # noqa: ANN001 - an audit row
    return f"запись № {e.seq} ({e.action}, {e.actor}, {_local(e.at)})"


def _local(at: dt.datetime) -> str:
    return f"{at:%d.%m.%Y %H:%M:%S}"


def entries(archive: Archive, *, chain: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest entries, newest first."""
    with archive.sessions() as s:
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if chain is not None:
            query = query.where(AuditEntry.chain == chain)
        rows = s.scalars(query.limit(limit)).all()
        s.expunge_all()
        return list(rows)
