"""The archive's read sessions: on PostgreSQL without a transaction, on SQLite within one."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import make_archive


def test_reads_run_without_a_transaction_on_postgresql_and_within_one_on_sqlite(archive):
    with archive.reads() as s:
        if archive.engine.dialect.name == "postgresql":
            # Autocommit: each statement is a transaction of its own.
            first = s.scalar(text("SELECT txid_current()"))
            assert s.scalar(text("SELECT txid_current()")) != first
        else:
            assert archive.read_engine is archive.engine
            s.execute(text("SELECT 1"))
            assert s.connection().in_transaction()
    with archive.sessions() as s:  # the ordinary read session keeps its transaction
        s.execute(text("SELECT 1"))
        assert s.connection().in_transaction()
        if archive.engine.dialect.name == "postgresql":
            first = s.scalar(text("SELECT txid_current()"))
            assert s.scalar(text("SELECT txid_current()")) == first


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


@pytest.mark.parametrize("which", ["engine", "read_engine"])
def test_a_connection_lost_while_idle_is_replaced_unseen(pg_url, tmp_path, monkeypatch, which):
    from archive_service import db

    archive = make_archive(tmp_path, pg_url)
    engine = getattr(archive, which)
    try:
        pings = []
        real = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(1) or real(c))
        first = _backend_pid(engine)
        assert _backend_pid(engine) == first and pings == []  # back a moment ago: no ping
        other = create_engine(pg_url, poolclass=NullPool)  # the server drops the idle one
        with other.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        other.dispose()
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has been idle long enough
        second = _backend_pid(engine)  # no error: the ping found it gone, the pool renewed
        assert second != first and pings == [1]
        with archive.reads() as s:
            assert s.scalar(text("SELECT 1")) == 1
    finally:
        archive.dispose()
