"""rendered documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:36:32.035429
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

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
    immutability.make_immutable("rendered_document")


def downgrade() -> None:
    immutability.drop_immutable("rendered_document")
    op.drop_table("rendered_document")
