"""Rendered documents (архивные документы): immutable, content-addressed, one per snapshot,
kind and renderer version."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base

#: Bumped when the layout changes; documents of older versions stay as they were signed.
# 2: page resources inherited from the page tree; 3: the signature stamps' font once in the
# form's resources (signing.stampfont); 4: the paper journal's layout (each quarter's marks
# after its last lesson, the summary's identity columns and its own signature sheet with the
# subject teachers, stamps at 7 pt, Russian hyphenation, the school's local date)
RENDERER_VERSION = 4


class RenderedDocument(Base):
    """A rendered PDF/A document: the journal copy or the summary sheet of one snapshot.

    ``steps`` is the signature chain of this document (one entry per pre-created field:
    step, role, field name, expected signer, course), which the signing issue enforces.
    """

    __tablename__ = "rendered_document"
    __table_args__ = (UniqueConstraint("snapshot_id", "kind", "renderer_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("period_snapshot.id"))
    kind: Mapped[str] = mapped_column(String(16))
    renderer_version: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int] = mapped_column(Integer)
    sheets: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
