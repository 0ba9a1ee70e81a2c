"""Snapshot content of the small journal without a database (for pure library tests)."""

from __future__ import annotations

from typing import Any


def tiny_content() -> dict[str, Any]:
    """The canonical content a snapshot of tests.support.journal.tiny() holds."""
    import tempfile
    from pathlib import Path

    from archive_service.actors import Actor
    from archive_service.config import Settings
    from archive_service.db import Archive, upgrade
    from archive_service.journals.service import import_file
    from archive_service.snapshots.service import create_snapshots, show_snapshot
    from tests.support.journal import tiny, write_json

    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(Settings.from_env({"ARCHIVE_HOME": tmp}))
        upgrade(archive.engine)
        import_file(archive, write_json(tiny(), Path(tmp) / "j.json"), actor=Actor("t"))
        [outcome] = create_snapshots(archive, period="2025-2026/Q1", class_name=None,
                                     school_code=None, actor=Actor("t"))
        _info, content = show_snapshot(archive, outcome.snapshot.id)
        archive.dispose()
    return content
