"""Engine, sessions, migrations and the unit of work (the only place that commits)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from archive_service.config import Settings
from archive_service.storage import Storage, open_storage


def make_engine(url: str) -> Engine:
    """An engine for SQLite (embedded default) or PostgreSQL (psycopg 3)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache for bulk imports
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()
            # SQLAlchemy's recipe for SQLite transactions: the driver does not begin them,
            # SQLAlchemy does (below), so a unit of work can begin IMMEDIATE.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # A unit of work takes the write lock when it begins: two transactions that both
            # read first and write later would otherwise fail at once with "database is
            # locked" (a read snapshot cannot be upgraded after another writer committed),
            # which a threaded web server meets as soon as two people act at once.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return _postgres_engine(url)


#: A pooled PostgreSQL connection idle at least this long is pinged before it is used again.
IDLE_PING_SECONDS = 5.0


def _postgres_engine(url: str, **options) -> Engine:
    """A PostgreSQL engine whose pool tests a connection before use only if it sat idle.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip for every unit of
    work and every read, two per web request. Under load a connection comes back within
    milliseconds and was working then; one idle for ``IDLE_PING_SECONDS`` or more (the
    server may have restarted or dropped it since) is pinged, and if it is gone the whole
    pool is renewed (after a restart every pooled connection is gone), invisibly to the
    caller. What is left: a server restarting while connections are busy fails the
    statements in flight, as it does with pre-ping.
    """
    engine = create_engine(url, **options)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return  # fresh from connect, or back a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError(f"connection lost while idle: {error}") from error

    return engine


def alembic_config(url: str):
    """Alembic configuration pointing at the packaged migrations."""
    from alembic.config import Config

    here = Path(__file__).parent / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(here))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every migration up to head (``archive init``)."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Archive:
    """One configured instance: database engine, session factory and storage."""

    def __init__(self, settings: Settings, *, storage: Storage | None = None) -> None:
        settings.ensure_home()
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: Reads on every request (the principal, register searches): on PostgreSQL without a
        #: transaction (autocommit), which saves the BEGIN and ROLLBACK round trips of each.
        #: Under READ COMMITTED every statement has its own snapshot inside a transaction too,
        #: so nothing read changes meaning; nothing locks or streams on these. A pool of its
        #: own whose connections stay in autocommit (switching a pooled connection there and
        #: back on every use cost more than it saved). SQLite keeps its transaction (one WAL
        #: snapshot across statements; our listener begins it) and its one engine.
        self.read_engine = self.engine if self.engine.dialect.name == "sqlite" else \
            _postgres_engine(settings.database_url, isolation_level="AUTOCOMMIT")
        self.reads = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writers = sessionmaker(self.engine.execution_options(sqlite_begin="IMMEDIATE"),
                                     expire_on_commit=False)
        self.storage = storage or open_storage(settings.storage_url)

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """Open a unit of work: commit at the end, roll back everything on any exception."""
        uow = UnitOfWork(self._writers(), self.storage)
        try:
            yield uow
            uow.flush_audit()
            uow.session.commit()
        except BaseException:
            uow.rollback()
            raise
        finally:
            uow.session.close()
        for hook in uow.committed:
            hook()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


class UnitOfWork:
    """A database transaction plus the blobs written during it.

    Blobs are written before the commit (so the database never points at a missing
    object); on rollback, the blobs this unit created are removed again, so a failed
    operation leaves neither rows nor objects behind.
    """

    def __init__(self, session: Session, storage: Storage) -> None:
        self.session = session
        self.storage = storage
        self._created: list[str] = []
        self._audit: list = []
        #: Run after a successful commit (storage retention locks: a lock set before the
        #: commit could not be undone if the unit of work failed).
        self.committed: list = []

    def audit(self, actor, action: str, object_type: str, object_id, *, chain: int,
              details: dict | None = None) -> None:
        """Record an audit entry, appended when this unit commits (chain = school id)."""
        from archive_service.audit.chain import Pending

        self._audit.append(Pending(actor, action, object_type, str(object_id), chain,
                                   details or {}))

    def flush_audit(self) -> None:
        """Append the buffered audit entries (just before the commit)."""
        if self._audit:
            from archive_service.audit.chain import append

            append(self.session, self._audit)
            self._audit.clear()

    def put_blob(self, data: bytes) -> str:
        """Store bytes, remembering whether this unit created them."""
        from archive_service.storage.base import content_key, sha256_hex

        key = content_key(sha256_hex(data))
        if not self.storage.exists(key):
            self.storage.put(data)
            self._created.append(key)
        return key

    def rollback(self) -> None:
        """Undo the transaction and the blobs it created."""
        self.session.rollback()
        self._audit.clear()
        for key in self._created:
            self.storage.delete(key)
        self._created.clear()


def bulk_insert(session: Session, table, rows: list[dict]) -> None:
    """Insert many rows in the session's transaction, skipping per-row SQLAlchemy work.

    Used for lessons, marks and attendance (10^5 rows a school year): PostgreSQL gets
    ``COPY … FROM STDIN`` (psycopg), SQLite the driver's executemany, with dates written as
    ISO text, which is how SQLAlchemy's Date type stores them there.
    """
    if not rows:
        return
    conn = session.connection()
    cols = list(rows[0])
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        with driver.cursor() as cur, cur.copy(
                f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in cols))
        return
    from sqlalchemy import Date

    dates = {i for i, c in enumerate(cols) if isinstance(table.c[c].type, Date)}
    getters = [(c, i in dates) for i, c in enumerate(cols)]
    params = [tuple(r[c].isoformat() if is_date and r[c] is not None else r[c]
                    for c, is_date in getters) for r in rows]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(cols)}) "
                         f"VALUES ({', '.join([mark] * len(cols))})", params)


