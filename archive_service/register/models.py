"""Register entries (immutable) and the per-school, per-year number counter."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class RegisterEntry(Base):
    """One registered copy: its inventory number and how it reached the secretary.

    Seed 000, 4.5: «заместители директора заверенные своей подписью бумажные копии ...
    сдают делопроизводителю в общий реестр»; 5.2 в): «под подпись в журнале сдачи
    документов строгой отчётности». The handover is the deputy's certified copy
    (``handed_over_by``, ``handover_hash``: the document's hash as certified) accepted by
    the secretary (``received_by``) at ``received_at``. The number is unique and gapless per
    school and academic year.
    """

    __tablename__ = "register_entry"
    __table_args__ = (UniqueConstraint("school_id", "year", "number"),
                      UniqueConstraint("document_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    year: Mapped[str] = mapped_column(String(9))
    number: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("rendered_document.id"))
    kind: Mapped[str] = mapped_column(String(16))  # journal, summary, folder
    title: Mapped[str] = mapped_column(String(300))
    class_name: Mapped[str | None] = mapped_column(String(16))
    period_code: Mapped[str] = mapped_column(String(4))
    sheets: Mapped[int] = mapped_column(Integer)
    handed_over_by: Mapped[str] = mapped_column(String(300))
    handover_hash: Mapped[str] = mapped_column(String(64))
    received_by: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    location: Mapped[str] = mapped_column(String(300))
    storage_key: Mapped[str | None] = mapped_column(String(200))  # the folder's own PDF
    #: What the register search looks in (``searchable``), written with the entry.
    search_text: Mapped[str] = mapped_column(Text)

    def make_searchable(self, document_number: str | None) -> None:
        """Fill ``search_text`` from the entry's own fields and its document's number."""
        self.search_text = searchable(
            number=self.number, year=self.year, received_at=self.received_at,
            title=self.title, class_name=self.class_name, period_code=self.period_code,
            handed_over_by=self.handed_over_by, received_by=self.received_by,
            location=self.location, document_number=document_number)


def searchable(*, number: int, year: str, received_at: dt.datetime, title: str,
               class_name: str | None, period_code: str, handed_over_by: str, received_by: str,
               location: str, document_number: str | None) -> str:
    """The text the register search looks in: every field a paper register line has, the
    document's number, and the date as the page shows it (2025-11-03) and as people write it
    (03.11.2025), case-folded by Python so that Cyrillic matches whatever the database's
    locale; the search is then a plain ``LIKE`` inside one school's lines."""
    day = received_at if received_at.tzinfo else received_at.replace(tzinfo=dt.UTC)
    day = day.astimezone(dt.UTC)
    parts = (number, year, f"{day:%Y-%m-%d %H:%M}", f"{day:%d.%m.%Y}", title, class_name,
             period_code, handed_over_by, received_by, location, document_number)
    return " ".join(str(p) for p in parts if p is not None).casefold()


class RegisterCounter(Base):
    """The last number given per school and year (locked while numbering)."""

    __tablename__ = "register_counter"
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    year: Mapped[str] = mapped_column(String(9), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
