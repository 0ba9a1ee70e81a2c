"""The declarative base of every model and two row helpers, below the database module.

Models and the audit chain import from here, not from ``archive_service.db``: db.py appends
the audit entries of each unit of work (archive_service.audit.chain), and the audit models
must not import db.py back (issue 29: no import circle).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING)


def aware(at: dt.datetime) -> dt.datetime:
    """A stored moment as an aware UTC datetime (SQLite gives it back naive)."""
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def insert_missing(session: Session, model, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING: create a row unless it exists (race-free)."""
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())
