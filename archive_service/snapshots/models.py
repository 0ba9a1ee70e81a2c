"""The period snapshot record. Rows are immutable: database triggers refuse UPDATE and DELETE."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class PeriodSnapshot(Base):
    """The frozen journal of one class for one period (срез журнала), one row per version."""

    __tablename__ = "period_snapshot"
    __table_args__ = (UniqueConstraint("school_class_id", "period_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    school_class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("period_snapshot.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


@event.listens_for(PeriodSnapshot, "before_update")
def _refuse_update(_mapper, _conn, target: PeriodSnapshot) -> None:
    raise RuntimeError(f"period snapshot {target.id} is immutable")


@event.listens_for(PeriodSnapshot, "before_delete")
def _refuse_delete(_mapper, _conn, target: PeriodSnapshot) -> None:
    raise RuntimeError(f"period snapshot {target.id} is immutable")
