"""Appending to the audit trail: the entries a unit of work buffers and their hash chain.

Entries are buffered by the unit of work (``uow.audit(...)``) and appended just before it
commits, so an action and its audit entries commit together or not at all, and the chain's
head is locked only for that last moment, not for the whole action. db.py calls this module;
it imports only the audit models and archive_service.orm, never db.py (no import circle).
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
from archive_service.orm import insert_missing

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
