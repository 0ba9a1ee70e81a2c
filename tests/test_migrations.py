"""The Alembic migrations create exactly what the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import archive_service.models  # noqa: F401
from archive_service.db import Base


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
