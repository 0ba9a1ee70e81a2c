"""Fixtures: an archive per test on SQLite and on PostgreSQL, and a real SeaweedFS server."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive_service.config import Settings
from archive_service.db import Archive, make_engine, upgrade
from tests.support import prepared
from tests.support.pgpool import DatabasePool
from tests.support.postgres import DEFAULT_URL, Throwaway, reachable
from tests.support.seaweed import start_seaweed

IN_CI = os.environ.get("CI") == "true"
_LOUD: list[str] = []


def _unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing component is a failure, not a skip)")
    _LOUD.append(message)
    pytest.skip(message)


def pytest_terminal_summary(terminalreporter) -> None:
    """Make skipped infrastructure impossible to miss."""
    for message in dict.fromkeys(_LOUD):
        terminalreporter.write_sep("!", f"SKIPPED: {message}", red=True, bold=True)


@pytest.fixture(scope="session", autouse=True)
def _light_password_hashing():
    """Argon2id with its smallest parameters in this process's tests.

    The product hashes with RFC 9106's (t=3, 64 MiB, p=4: about 0.1 s a hash here); the
    tests log people in and add accounts hundreds of times, which at that cost was a third
    of the web tests' time. The same algorithm and code run, on less work: a hash records its
    parameters and verifies as before. The product's parameters and their cost are checked in
    tests/accounts/test_login.py; commands the tests run as separate processes hash with them.
    """
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from archive_service.accounts import service

    product = service._hasher
    service._hasher = PasswordHasher.from_parameters(CHEAPEST)
    service._dummy_hash.cache_clear()
    yield
    service._hasher = product
    service._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def postgres_admin_url():
    """A PostgreSQL server URL whose user may create databases."""
    url = os.environ.get("ARCHIVE_TEST_POSTGRES_URL", DEFAULT_URL)
    if reachable(url):
        prepared.ADMIN_URL = url
        yield url
        prepared.drop_all()
        return
    cluster = Throwaway()
    try:
        url = cluster.start()
    except Exception as exc:  # noqa: BLE001
        cluster.stop()
        _unavailable(f"PostgreSQL is not reachable and no throwaway cluster could start "
                     f"({exc}); PostgreSQL tests were not run")
    prepared.ADMIN_URL = url
    yield url
    prepared.drop_all()
    cluster.stop()


def _admin(url: str):
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template(postgres_admin_url):
    """A migrated database used as the template of every test database."""
    name = f"archive_tpl_{uuid.uuid4().hex[:8]}"
    admin = _admin(postgres_admin_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(sa.make_url(postgres_admin_url).set(database=name)
                         .render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_pool(postgres_admin_url, pg_template):
    """Copies of the template made one test ahead (tests/support/pgpool.py)."""
    pool = DatabasePool(postgres_admin_url, pg_template, "archive_t")
    yield pool
    pool.close()


@pytest.fixture
def pg_url(postgres_admin_url, pg_pool):
    """A fresh, migrated PostgreSQL database for one test."""
    name = pg_pool.take()
    yield sa.make_url(postgres_admin_url).set(database=name).render_as_string(
        hide_password=False)
    pg_pool.give_back(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file copied for every test."""
    path = tmp_path_factory.mktemp("tpl") / "archive.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template) -> str:
    """Each database test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "archive.sqlite3"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    return request.getfixturevalue("pg_url")


def make_archive(home: Path, database_url: str, storage_url: str | None = None) -> Archive:
    """An archive instance with the given parts."""
    return Archive(Settings(home=home, database_url=database_url,
                            storage_url=storage_url or f"file://{home / 'objects'}"))


@pytest.fixture
def archive(tmp_path, database_url):
    """A migrated archive with local storage, on each database."""
    a = make_archive(tmp_path, database_url)
    yield a
    a.dispose()


@pytest.fixture
def sqlite_archive(tmp_path, sqlite_template):
    """A migrated archive on SQLite only (for tests about formats, not databases)."""
    target = tmp_path / "archive.sqlite3"
    shutil.copy(sqlite_template, target)
    a = make_archive(tmp_path, f"sqlite:///{target}")
    yield a
    a.dispose()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A real SeaweedFS S3 server on 127.0.0.1 for the whole session."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    try:
        server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    except Exception as exc:  # noqa: BLE001
        _unavailable(f"SeaweedFS S3 server could not start ({exc}); S3 tests were not run")
    yield server
    server.stop()
