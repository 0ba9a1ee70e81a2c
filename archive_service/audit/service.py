"""Recording reads in the audit trail, listing it and verifying its hash chains.

The appending itself (the entries a unit of work buffers, the chain's hashes) is in
archive_service.audit.chain, which db.py uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.audit.chain import GENESIS, entry_hash
from archive_service.audit.models import AuditEntry, AuditHead
from archive_service.db import Archive


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
