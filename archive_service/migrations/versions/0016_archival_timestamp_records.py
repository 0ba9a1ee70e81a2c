"""archival timestamp renewals recorded as signature records

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00

A renewed document timestamp (``archive timestamps renew``) is a signature of the copy made
by the school's time-stamping authority, not by a person: its ``signature_record`` row has
no user. SQLite rebuilds the table to change the column, which drops its triggers; they are
made again.
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _user_id(nullable: bool) -> None:
    immutability.drop_immutable("signature_record")
    with op.batch_alter_table("signature_record", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=nullable)
    immutability.make_immutable("signature_record")


def upgrade() -> None:
    _user_id(True)


def downgrade() -> None:
    _user_id(False)
