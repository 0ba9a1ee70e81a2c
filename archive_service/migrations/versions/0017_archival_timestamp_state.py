"""the expiry of each sealed copy's last document timestamp

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:00:00

A schedule kept for the monthly timestamp renewal (``signatures.renewal``): which sealed
copy's last document timestamp expires when, read from its bytes at the seal and at each
renewal. Not archived content: rows are replaced when a copy is renewed, and copies sealed
before this migration get theirs on the first renewal run.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archival_timestamp_state",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["rendered_document.id"],
            name=op.f("fk_archival_timestamp_state_document_id_rendered_document")),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_archival_timestamp_state")),
    )


def downgrade() -> None:
    op.drop_table("archival_timestamp_state")
