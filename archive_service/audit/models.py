"""Audit entries (hash-chained per school) and the head of each chain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class AuditEntry(Base):
    """One action or read, appended and never changed (immutable by database triggers).

    ``chain`` is the school's id (0 for actions outside any school); ``seq`` counts from 1
    within the chain; ``hash`` is SHA-256 over the canonical JSON of the other fields
    including ``prev_hash``, the hash of the entry before it (64 zeros for the first).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON: old/new values, summary
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry of each chain (locked while appending, so appends never interleave).

    Also what verification compares the chain's end with: removing the newest entries
    leaves the head pointing past them.
    """

    __tablename__ = "audit_head"
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
