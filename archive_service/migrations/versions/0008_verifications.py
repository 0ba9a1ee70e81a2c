"""document verification history

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 16:00:00
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_by", sa.String(length=300), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["rendered_document.id"],
                                name=op.f("fk_document_verification_document_id_rendered_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_verification")),
    )
    op.create_index(op.f("ix_document_verification_document_id"), "document_verification",
                    ["document_id"])
    immutability.make_immutable("document_verification")


def downgrade() -> None:
    immutability.drop_immutable("document_verification")
    op.drop_index(op.f("ix_document_verification_document_id"), "document_verification")
    op.drop_table("document_verification")
