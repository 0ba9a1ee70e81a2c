"""document returns

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:25:19.140124
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["rendered_document.id"],
            name=op.f("fk_document_return_document_id_rendered_document"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["signing_user.id"], name=op.f("fk_document_return_user_id_signing_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_return")),
        sa.UniqueConstraint("document_id", name=op.f("uq_document_return_document_id")),
    )
    immutability.make_immutable("document_return")


def downgrade() -> None:
    immutability.drop_immutable("document_return")
    op.drop_table("document_return")
