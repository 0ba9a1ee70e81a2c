"""backup keys, backups and the backup usage log

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 20:00:00
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backup_keyring",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("director_public", sa.String(length=64), nullable=False),
        sa.Column("director_locked", sa.Text(), nullable=False),
        sa.Column("escrow_public", sa.String(length=64), nullable=False),
        sa.Column("signing_public", sa.String(length=64), nullable=False),
        sa.Column("signing_private", sa.String(length=64), nullable=False),
        sa.Column("dedup_secret", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_keyring")),
    )
    op.create_table(
        "backup",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes_total", sa.Integer(), nullable=False),
        sa.Column("bytes_written", sa.Integer(), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup")),
    )
    immutability.make_immutable("backup")
    op.create_table(
        "backup_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("backup_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("medium", sa.String(length=300), nullable=False),
        sa.Column("handed_by", sa.String(length=300), nullable=False),
        sa.Column("received_by", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_event")),
    )
    immutability.make_immutable("backup_event")


def downgrade() -> None:
    immutability.drop_immutable("backup_event")
    op.drop_table("backup_event")
    immutability.drop_immutable("backup")
    op.drop_table("backup")
    op.drop_table("backup_keyring")
