"""Database triggers that make archived rows immutable (used by the migrations).

Archived records (snapshots, rendered documents, and later the audit trail) must not
change silently: the database itself refuses UPDATE, DELETE and TRUNCATE of their rows,
whatever the application does.
"""

from __future__ import annotations

from alembic import op

FUNCTION = "archive_refuse_change"


def create_function() -> None:
    """The PostgreSQL trigger function (SQLite needs none)."""
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME; END $$"
        )


def drop_function() -> None:
    """Drop the PostgreSQL trigger function."""
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


def make_immutable(table: str) -> None:
    """Refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of the table's rows."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable'); END"
            )
    else:
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def drop_immutable(table: str) -> None:
    """Remove the triggers of make_immutable."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
