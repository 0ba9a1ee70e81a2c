"""Everything an archive holds, to prove that a failed operation changed nothing."""

from __future__ import annotations

from archive_service.db import Archive
from archive_service.orm import Base


def archive_state(archive: Archive) -> dict:
    """All rows of all tables (as sorted text) and all stored object keys."""
    import archive_service.models  # noqa: F401

    state: dict = {}
    with archive.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(table.select()).all()
            state[table.name] = sorted(repr(tuple(r)) for r in rows)
    state["objects"] = sorted(archive.storage.keys())
    return state


def drop_immutability(archive: Archive, table: str) -> None:
    """What an intruder with database rights does first: drop the triggers that refuse
    UPDATE and DELETE of an archived table (migrations/immutability.py)."""
    import sqlalchemy as sa

    with archive.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(sa.text(f"DROP TRIGGER {table}_no_delete"))
        else:
            conn.execute(sa.text(f"DROP TRIGGER {table}_immutable ON {table}"))
