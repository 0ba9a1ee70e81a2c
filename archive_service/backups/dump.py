"""A portable, consistent dump of the archive database (restores into SQLite or PostgreSQL).

The dump is JSON lines: a header line (format, Alembic revision, dialect), then for each
table in dependency order a ``{"table": …, "columns": […]}`` line followed by one JSON
array per row, ordered by primary key. Values are written in one canonical form whatever
the database: times in UTC as ``YYYY-MM-DD HH:MM:SS.ffffff``, dates as ISO dates, bytes as
base64, JSON columns as JSON (keys in stored order). So a dump of a restored database is
byte-identical per table to the original dump, which is how a restore proves that every
row came back unchanged (``table_digests``).

Consistency: the whole dump is read in one transaction (PostgreSQL ``REPEATABLE READ READ
ONLY``; SQLite's read transaction in WAL mode sees one snapshot).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    LargeBinary,
    Numeric,
    Table,
    select,
    text,
)

from archive_service.orm import Base

FORMAT = "school-archive-dump/1"

# What never goes into a backup (issue 30): the erasure shares of object keys (an executed
# act deletes them; a copy inside an immutable backup would undo that) and the manifest
# signing key's private half (whoever opened an old backup could sign manifests). The SQLite
# image is redacted the same way (``backups.create._redact_image``).
NOT_IN_BACKUPS = frozenset({"backup_object_share"})
REDACTED = {"backup_keyring": {"signing_private": ""}}


def tables() -> list[Table]:
    """Every table of the archive, parents before children."""
    import archive_service.models  # noqa: F401  (registers every table)

    return list(Base.metadata.sorted_tables)


STAMP = "%Y-%m-%d %H:%M:%S.%f"  # canonical time: UTC, microseconds (SQLite's own form)


def _stamp(value: Any) -> str:
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            return value  # already canonical (SQLAlchemy's SQLite storage format)
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime(STAMP)


def _encoder(column) -> Any:
    """Raw driver value -> canonical JSON value (None: unchanged)."""
    kind = column.type
    if isinstance(kind, DateTime):
        return _stamp
    if isinstance(kind, Date):
        return lambda v: v if isinstance(v, str) else v.isoformat()
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, JSON):
        return lambda v: json.loads(v) if isinstance(v, str) else v
    if isinstance(kind, LargeBinary):
        return lambda v: base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(kind, Numeric) and kind.asdecimal:
        return str
    return None


def _decoder(column, dialect: str) -> Any:
    """Canonical JSON value -> what the driver stores, as SQLAlchemy would have stored it."""
    kind = column.type
    if isinstance(kind, DateTime):
        if dialect == "sqlite":
            return None
        return lambda v: dt.datetime.strptime(v, STAMP).replace(tzinfo=dt.UTC)
    if isinstance(kind, Date):
        return None if dialect == "sqlite" else dt.date.fromisoformat
    if isinstance(kind, Boolean):
        return int if dialect == "sqlite" else None
    if isinstance(kind, JSON):
        if dialect == "sqlite":
            return json.dumps  # SQLAlchemy's default JSON serializer
        from psycopg.types.json import Json

        return Json
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    if isinstance(kind, Numeric) and kind.asdecimal:
        return decimal.Decimal
    return None


def _line(value: Any) -> bytes:
    # orjson: compact UTF-8, keys in their stored order (a JSON column comes back exactly as
    # it was), about ten times faster than the json module on a dump of 10^5 rows.
    return orjson.dumps(value, default=str, option=orjson.OPT_APPEND_NEWLINE)


def alembic_revision(conn) -> str | None:
    """The schema revision of the database (None when it was never migrated)."""
    from sqlalchemy import inspect

    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def dump(engine: Engine, out: IO[bytes]) -> dict[str, dict[str, Any]]:
    """Write the dump to ``out``; returns per table the row count and the SHA-256 of its
    lines (what a restore is compared with)."""
    summary: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                          postgresql_readonly=True)
        with conn.begin():
            out.write(_line({"format": FORMAT, "revision": alembic_revision(conn),
                             "dialect": conn.dialect.name}))
            for table in tables():
                if table.name in NOT_IN_BACKUPS:
                    continue
                columns = [c.name for c in table.columns]
                out.write(_line({"table": table.name, "columns": columns}))
                digest, count = hashlib.sha256(), 0
                for line in _rows(conn, table, REDACTED.get(table.name, {})):
                    out.write(line)
                    digest.update(line)
                    count += 1
                summary[str(table.name)] = {"rows": count, "sha256": digest.hexdigest()}
    return summary


def _rows(conn, table: Table, redacted: dict[str, Any]) -> Iterator[bytes]:
    """The table's rows as canonical lines, from raw driver values (no ORM, no type
    processing: a dump of 200,000 audit entries takes about a second, not six); the
    ``redacted`` columns get the value given instead of theirs."""
    encoders = [_encoder(c) for c in table.columns]
    for i, column in enumerate(table.columns):
        if column.name in redacted:
            encoders[i] = lambda _v, blank=redacted[column.name]: blank
    order = list(table.primary_key.columns) or list(table.columns)
    sql = str(select(table).order_by(*order).compile(dialect=conn.dialect))
    result = conn.execution_options(stream_results=True).exec_driver_sql(sql)
    convert = [(i, enc) for i, enc in enumerate(encoders) if enc is not None]
    while batch := result.fetchmany(5000):
        for row in batch:
            if convert:
                row = list(row)
                for i, enc in convert:
                    if row[i] is not None:
                        row[i] = enc(row[i])
            yield _line(tuple(row))


def table_digests(engine: Engine) -> dict[str, dict[str, Any]]:
    """The same per-table summary as ``dump`` returns, without writing the dump."""
    class _Null:
        def write(self, _data: bytes) -> None:
            pass

    return dump(engine, _Null())  # type: ignore[arg-type]


def read_header(lines: Iterable[bytes]) -> dict[str, Any]:
    """The header of a dump."""
    header = json.loads(next(iter(lines)))
    if header.get("format") != FORMAT:
        raise ValueError(f"unknown dump format {header.get('format')!r}")
    return header


def load(engine: Engine, lines: Iterator[bytes], *, batch: int = 5000) -> dict[str, int]:
    """Insert the rows of a dump (after its header line) into an empty, migrated database,
    in one transaction (PostgreSQL: COPY; SQLite: the driver's executemany); PostgreSQL
    sequences are moved past the restored ids."""
    by_name = {t.name: t for t in tables()}
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        dialect = conn.dialect.name
        driver = conn.connection.driver_connection
        table, decoders, names, pending = None, [], [], []

        def flush() -> None:
            if not pending:
                return
            quote = conn.dialect.identifier_preparer.quote
            columns = ", ".join(quote(n) for n in names)  # "left" is a reserved word
            if dialect == "postgresql":
                with driver.cursor() as cur, cur.copy(
                        f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
                    for row in pending:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(names))
                driver.executemany(f"INSERT INTO {quote(table.name)} ({columns}) "
                                   f"VALUES ({marks})", pending)
            pending.clear()

        for raw in lines:
            item = orjson.loads(raw)
            if isinstance(item, dict):
                flush()
                table = by_name[item["table"]]
                names = item["columns"]
                decoders = [_decoder(table.c[n], dialect) for n in names]
                counts[table.name] = 0
                continue
            pending.append(tuple(None if v is None else (d(v) if d else v)
                                 for v, d in zip(item, decoders, strict=True)))
            counts[table.name] += 1
            if len(pending) >= batch:
                flush()
        flush()
        if dialect == "postgresql":
            for t in by_name.values():
                pk = list(t.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement in (True, "auto") \
                        and pk[0].type.python_type is int:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{t.name}', '{pk[0].name}'), "
                        f"COALESCE((SELECT MAX({pk[0].name}) FROM {t.name}), 0) + 1, false)"))
    return counts


def is_empty(engine: Engine) -> bool:
    """Whether no archive table holds a row (a database fit to restore into)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return all(conn.execute(select(t).limit(1)).first() is None
                   for t in tables() if t.name in present)

