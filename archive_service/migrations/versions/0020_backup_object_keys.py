"""backup objects with their own keys, wrapped for the holders; erasure shares

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 12:00:00

Issue 30: an object's key was derived from the keyring's dedup secret, stored in clear here
and inside every backup's database image, so the server alone (or an old escrow sheet and
an old backup) opened every object on a medium.

- ``backup_object``: each object written to a medium, its key wrapped for the director's and
  the escrow public keys (the server cannot unwrap it), for deduplication.
- ``backup_object_share``: the erasure half of each object's key, never in a backup's
  database image; an executed act deletes the shares of what it destroyed.
- ``backup_keyring.dedup_secret`` is blanked: the objects of earlier backups keep their keys
  in their own sealed indexes and still open with the director's code or the escrow sheet.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backup_object",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("keyring_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=False),
        sa.Column("plain_size", sa.Integer(), nullable=False),
        sa.Column("zstd", sa.Boolean(), nullable=False),
        sa.Column("erasable", sa.Boolean(), nullable=False),
        sa.Column("wrap", sa.Text(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["keyring_id"], ["backup_keyring.id"],
                                name=op.f("fk_backup_object_keyring_id_backup_keyring")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_backup_object")),
    )
    op.create_index(op.f("ix_backup_object_sha256"), "backup_object", ["sha256"])
    op.create_table(
        "backup_object_share",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("share", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["name"], ["backup_object.name"],
                                name=op.f("fk_backup_object_share_name_backup_object")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_backup_object_share")),
    )
    op.execute("UPDATE backup_keyring SET dedup_secret = ''")


def downgrade() -> None:
    op.drop_table("backup_object_share")
    op.drop_index(op.f("ix_backup_object_sha256"), table_name="backup_object")
    op.drop_table("backup_object")
