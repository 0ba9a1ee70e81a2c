"""Holds, destruction acts, their items, and the tombstones of destroyed items."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class RetentionHold(Base):
    """A hold (проверка, спор) on a school, or on one of its years, classes or documents.

    While it is not lifted, nothing it covers is planned, listed in an act, executed or
    deleted. Only the lift columns are ever written after placing; both are audited.
    """

    __tablename__ = "retention_hold"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    year: Mapped[str | None] = mapped_column(String(9))
    class_name: Mapped[str | None] = mapped_column(String(16))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("rendered_document.id"))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(300))
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(300))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    lift_reason: Mapped[str | None] = mapped_column(Text)


class DisposalAct(Base):
    """An act on selecting documents for destruction (акт о выделении к уничтожению).

    draft -> reviewed (the expert commission agreed) or rejected -> approved (the director
    signed the final PDF) -> executed. The act and its PDFs are kept permanently.
    """

    __tablename__ = "disposal_act"
    __table_args__ = (UniqueConstraint("school_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    number: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    draft_key: Mapped[str] = mapped_column(String(200))
    review_decision: Mapped[str | None] = mapped_column(String(16))
    review_protocol: Mapped[str | None] = mapped_column(String(100))
    review_members: Mapped[str | None] = mapped_column(Text)
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(300))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(300))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    signed_key: Mapped[str | None] = mapped_column(String(200))
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    executed_by: Mapped[str | None] = mapped_column(String(300))
    executed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DisposalItem(Base):
    """One item listed in an act (immutable once the act is drafted)."""

    __tablename__ = "disposal_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("disposal_act.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("rendered_document.id"))
    register_entry_id: Mapped[int | None] = mapped_column(ForeignKey("register_entry.id"))
    retention_class: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    register_number: Mapped[str | None] = mapped_column(String(40))
    year: Mapped[str] = mapped_column(String(9))
    sheets: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    object_keys: Mapped[list[str]] = mapped_column(JSON)


class Tombstone(Base):
    """What a destroyed item was, under which act, when and by whom (immutable, permanent)."""

    __tablename__ = "tombstone"
    __table_args__ = (UniqueConstraint("item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("disposal_item.id"))
    act_id: Mapped[int] = mapped_column(ForeignKey("disposal_act.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("rendered_document.id"),
                                                    index=True)
    register_entry_id: Mapped[int | None] = mapped_column(ForeignKey("register_entry.id"))
    title: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    object_keys: Mapped[list[Any]] = mapped_column(JSON)
    destroyed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    destroyed_by: Mapped[str] = mapped_column(String(300))
