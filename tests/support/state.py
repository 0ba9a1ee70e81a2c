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
