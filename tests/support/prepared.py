"""Archive states built once per test session and copied into each test's fresh archive.

Many tests start from the same state (the tiny school imported, frozen, rendered, its PKI
and signers; the web fixture's schools and accounts): building it takes seconds of key
generation, Argon2 and rendering each time. ``prepared(archive, name, build)`` builds it the
first time for each kind of database, directly in that test's archive, and keeps a copy; every
later test's fresh archive gets the copy instead (SQLite: the database file; PostgreSQL: a
database created from the copy as its template; the local storage's files in both cases).
The test sees exactly what ``build`` would have made, the same ids included (issue 29: the
app and its database built once per session, not once per test).

An archive on S3 storage, or one that is not fresh, is built directly, never copied.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from archive_service.storage import LocalStorage
from tests.support.pgpool import DatabasePool

#: Set by tests/conftest.py's ``postgres_admin_url``: a user who may create databases.
ADMIN_URL: str | None = None


@dataclass
class _Copy:
    files: Path  # the storage's files (and, for SQLite, the database file)
    database: str | None  # PostgreSQL: the template database's name
    value: Any
    pool: DatabasePool | None = None  # PostgreSQL: its copies, one made ahead


_COPIES: dict[tuple[str, str], _Copy] = {}
_ROOT = Path(tempfile.mkdtemp(prefix="archive-prepared-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)


def prepared(archive, name: str, build: Callable[[Any], Any]) -> Any:  # noqa: ANN001
    """Fill the fresh ``archive`` with the state ``build(archive)`` makes; returns its value."""
    kind = archive.engine.dialect.name
    if not isinstance(archive.storage, LocalStorage) or not _fresh(archive) \
            or (kind == "postgresql" and ADMIN_URL is None):
        return build(archive)
    copy = _COPIES.get((name, kind))
    if copy is None:
        value = build(archive)
        _COPIES[name, kind] = _keep(archive, name, kind, value)
        return value
    _restore(archive, copy)
    return copy.value


def _fresh(archive) -> bool:  # noqa: ANN001
    from archive_service.journals.models import School

    with archive.sessions() as s:
        return s.scalar(sa.select(School.id).limit(1)) is None


def _dispose(archive) -> None:  # noqa: ANN001
    archive.dispose()  # no connection may stay open on a template or a replaced file


def _keep(archive, name: str, kind: str, value: Any) -> _Copy:  # noqa: ANN001
    files = _ROOT / f"{name}-{kind}"
    database = None
    if kind == "sqlite":
        with archive.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        _dispose(archive)
        files.mkdir(parents=True)
        shutil.copy(archive.engine.url.database, files / "archive.sqlite3")
    else:
        _dispose(archive)
        database = f"archive_prep_{uuid.uuid4().hex[:10]}"
        source = archive.engine.url.database
        _admin_execute(f'CREATE DATABASE "{database}" TEMPLATE "{source}"')
    shutil.copytree(archive.storage.root, files / "objects", dirs_exist_ok=True)
    pool = DatabasePool(ADMIN_URL, database, f"archive_p_{name}") if database else None
    return _Copy(files, database, value, pool)


def _restore(archive, copy: _Copy) -> None:  # noqa: ANN001
    _dispose(archive)
    if copy.database is None:
        target = Path(archive.engine.url.database)
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)  # the fresh file's journal must not outlive it
        shutil.copy(copy.files / "archive.sqlite3", target)
    else:
        copy.pool.take(name=archive.engine.url.database)
    shutil.copytree(copy.files / "objects", archive.storage.root, dirs_exist_ok=True)


def _admin_execute(statement: str) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def drop_all() -> None:
    """Drop the template databases and the kept files (at the end of the session)."""
    for copy in _COPIES.values():
        if copy.pool is not None:
            copy.pool.close()
        if copy.database is not None:
            _admin_execute(f'DROP DATABASE IF EXISTS "{copy.database}" WITH (FORCE)')
    _COPIES.clear()
    shutil.rmtree(_ROOT, ignore_errors=True)
