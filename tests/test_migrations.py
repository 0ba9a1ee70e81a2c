"""The Alembic migrations create exactly what the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import archive_service.models  # noqa: F401
from archive_service.orm import Base


def test_models_match_migrations(archive):
    with archive.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrations_go_down_and_up_again(archive):
    from alembic import command

    from archive_service.db import alembic_config

    cfg = alembic_config(archive.engine.url.render_as_string(hide_password=False))
    archive.engine.dispose()
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    with archive.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_register_lines_written_before_the_search_column_are_found(archive):
    """Migration 0014 fills the search text of the lines that exist (both databases)."""
    import datetime as dt

    import sqlalchemy as sa
    from alembic import command

    from archive_service.db import alembic_config
    from archive_service.register.service import register_list

    cfg = alembic_config(archive.engine.url.render_as_string(hide_password=False))
    archive.engine.dispose()
    command.downgrade(cfg, "0013")
    with archive.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO school (id, code, name, settings) "
                             "VALUES (1, 'S-1', 'Школа № 1', '{}')"))
        conn.execute(sa.text(
            "INSERT INTO register_entry (school_id, year, number, kind, title, class_name, "
            "period_code, sheets, handed_over_by, handover_hash, received_by, received_at, "
            "location) VALUES (1, '2024-2025', 7, 'summary', 'Сводная ведомость отметок 5Б', "
            "'5Б', 'Q2', 3, 'Кузьмина Елена Петровна', :h, 'Иванова Нина Львовна', :at, "
            "'Сейф № 2')"), {"h": "0" * 64, "at": dt.datetime(2024, 12, 28, 9, tzinfo=dt.UTC)})
    archive.engine.dispose()
    command.upgrade(cfg, "head")
    for query in ("СВОДНАЯ", "28.12.2024", "сейф № 2", "кузьмина"):
        assert [r.number for r in register_list(archive, query=query)] == [7], query
    assert register_list(archive, query="сейф № 1") == []

    for change in ("UPDATE register_entry SET location = 'Сейф № 1'", "DELETE FROM register_entry"):
        with pytest.raises(sa.exc.DatabaseError, match="immutable"), archive.engine.begin() as conn:
            conn.execute(sa.text(change))  # the lines are immutable again after the rewrite
