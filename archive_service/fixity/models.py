"""Fixity runs and the latest result per checked item."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class FixityRun(Base):
    """One run of ``archive fixity run``: started, finished (or not), what it found.

    ``status``: running (or interrupted, when it never finished), ok, failed (a mismatch or a
    missing object), crashed (the checker itself failed).
    """

    __tablename__ = "fixity_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    share: Mapped[float] = mapped_column(Float)
    items: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(300))


class FixityState(Base):
    """The latest check of one item (``kind`` snapshot, document, folder, act, import)."""

    __tablename__ = "fixity_state"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)
    run_id: Mapped[int] = mapped_column(Integer)
