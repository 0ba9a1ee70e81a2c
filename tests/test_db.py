"""The archive's read sessions: on PostgreSQL without a transaction, on SQLite within one."""

from __future__ import annotations

from sqlalchemy import text


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
