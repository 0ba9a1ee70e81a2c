"""Close runs and their per-school and per-class progress.

A run is one ``archive close-period`` (or one scheduled close): the period, its scope (one
school's code, or ``*`` for every school), and where it stands. Its rows are the memory that
makes it resumable: a school row says whether the school's import and dispatch are done, a
class row whether that class is snapshotted and rendered. A second start of the same period
and scope continues the unfinished run instead of making a new one.

Statuses: run ``running`` -> ``done`` | ``attention`` (something needs a person: listed in
the rows' ``message``); school ``pending`` -> ``dispatched`` | ``attention``; class
``pending`` -> ``running`` -> ``done`` | ``attention`` (``failed`` while a retry waits).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class CloseRun(Base):
    """One period close over a scope of schools."""

    __tablename__ = "close_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20))  # «2025-2026/Q1»
    scope: Mapped[str] = mapped_column(String(40))  # a school code or «*»
    trigger: Mapped[str] = mapped_column(String(16))  # manual | schedule
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(300))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    backup_id: Mapped[str | None] = mapped_column(String(80))
    message: Mapped[str | None] = mapped_column(Text)
    #: The classes the run covers, by name (None: every class the period applies to); a
    #: run started for some classes grows when the same close is started for others.
    classes: Mapped[list[str] | None] = mapped_column(JSON)


class CloseSchool(Base):
    """One school of a run: import from its source, then its classes dispatched."""

    __tablename__ = "close_school"
    __table_args__ = (UniqueConstraint("run_id", "school_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("close_run.id"))
    school_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    imported: Mapped[int] = mapped_column(Integer, default=0)
    classes: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CloseClass(Base):
    """One class of a run: completeness check, snapshot, both documents, chain opened."""

    __tablename__ = "close_class"
    __table_args__ = (UniqueConstraint("run_id", "school_class_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("close_run.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    school_class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"))
    class_name: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    findings: Mapped[dict] = mapped_column(JSON, default=dict)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("period_snapshot.id"))
    documents: Mapped[list[int]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
