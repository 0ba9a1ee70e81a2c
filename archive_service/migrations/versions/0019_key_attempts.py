"""wrong passphrases given for signing keys, for the lockout; sessions ended on the server

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 22:30:00

- ``key_attempt``: each wrong passphrase given for a person's signing key or the school
  seal's (and a success after wrong ones, which ends the count): five wrong in a row lock
  signing with that key for 15 minutes (signatures.lockout).
- ``account.session_version``: raised on logout, a new password or a new one-time code; a
  session cookie opened with an older version is dead (web.load_principal).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.create_table(
        "key_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"],
                                name=op.f("fk_key_attempt_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_attempt")),
    )
    op.create_index(op.f("ix_key_attempt_login"), "key_attempt", ["login"])


def downgrade() -> None:
    op.drop_index(op.f("ix_key_attempt_login"), table_name="key_attempt")
    op.drop_table("key_attempt")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("session_version")
