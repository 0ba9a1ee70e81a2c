"""A portable, consistent dump of the archive database (restores into SQLite or PostgreSQL).

The dump is JSON lines: a header line (format, Alembic revision, dialect), then for each
table in dependency order a ``{"table": …, "columns": […]}`` line followed by one JSON
array per row, ordered by primary key. Values are written in one canonical form whatever
the database: times as UTC ISO 8601, dates as ISO dates, bytes as base64, JSON columns as
JSON. So a dump of a restored database is byte-identical per table to the original dump,
which is how a restore proves that every row came back unchanged (``table_digests``).

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

from sqlalchemy import Date, DateTime, Engine, LargeBinary, Numeric, Table, select, text

from archive_service.db import Base

FORMAT = "school-archive-dump/1"


def tables() -> list[Table]:
    """Every table of the archive, parents before children."""
    import archive_service.models  # noqa: F401  (registers every table)

    return list(Base.metadata.sorted_tables)


def _encoder(column) -> Any:
    kind = column.type
    if isinstance(kind, DateTime):
        def enc(v):
            if v.tzinfo is None:  # SQLite gives naive UTC
                v = v.replace(tzinfo=dt.UTC)
            return v.astimezone(dt.UTC).isoformat()
        return enc
    if isinstance(kind, Date):
        return lambda v: v.isoformat()
    if isinstance(kind, LargeBinary):
        return lambda v: base64.b64encode(v).decode("ascii")
    if isinstance(kind, Numeric) and kind.asdecimal:
        return str
    return None


def _decoder(column) -> Any:
    kind = column.type
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat
    if isinstance(kind, Date):
        return dt.date.fromisoformat
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    if isinstance(kind, Numeric) and kind.asdecimal:
        return decimal.Decimal
    return None


def _line(value: Any) -> bytes:
    # Keys keep their stored order: a JSON column comes back exactly as it was.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode() + b"\n"


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
                columns = [c.name for c in table.columns]
                out.write(_line({"table": table.name, "columns": columns}))
                digest, count = hashlib.sha256(), 0
                for line in _rows(conn, table):
                    out.write(line)
                    digest.update(line)
                    count += 1
                summary[table.name] = {"rows": count, "sha256": digest.hexdigest()}
    return summary


def _rows(conn, table: Table) -> Iterator[bytes]:
    encoders = [_encoder(c) for c in table.columns]
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        select(table).order_by(*order))
    for row in result:
        yield _line([None if v is None else (enc(v) if enc else v)
                     for v, enc in zip(row, encoders, strict=True)])


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
    in one transaction; PostgreSQL sequences are moved past the restored ids."""
    by_name = {t.name: t for t in tables()}
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        table, decoders, names, pending = None, [], [], []

        def flush() -> None:
            if pending:
                conn.execute(table.insert(), pending)
                pending.clear()

        for raw in lines:
            item = json.loads(raw)
            if isinstance(item, dict):
                flush()
                table = by_name[item["table"]]
                names = item["columns"]
                decoders = [_decoder(table.c[n]) for n in names]
                counts[table.name] = 0
                continue
            pending.append({n: (None if v is None else (d(v) if d else v))
                            for n, v, d in zip(names, item, decoders, strict=True)})
            counts[table.name] += 1
            if len(pending) >= batch:
                flush()
        flush()
        if conn.dialect.name == "postgresql":
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

