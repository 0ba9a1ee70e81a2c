"""rendered documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:36:32.035429
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendered_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("renderer_version", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("sheets", sa.Integer(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_rendered_document_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["period_snapshot.id"],
            name=op.f("fk_rendered_document_snapshot_id_period_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rendered_document")),
        sa.UniqueConstraint(
            "snapshot_id",
            "kind",
            "renderer_version",
            name=op.f("uq_rendered_document_snapshot_id_kind_renderer_version"),
        ),
    )
    _immutable("rendered_document")


def _immutable(table: str) -> None:
    """Rendered documents are immutable in the database itself (as snapshots are)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable'); END"
            )
    else:
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION archive_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION archive_refuse_change()"
        )


def downgrade() -> None:
    op.drop_table("rendered_document")
