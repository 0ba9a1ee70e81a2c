"""people set their own password and key passphrase; key requests; close runs of chosen classes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 17:00:00

- ``account.position`` (the position printed in the signing certificate),
  ``account.password_set`` (False while the account only opens with the one-time code the
  administrator handed over; existing accounts have set theirs) and
  ``account.setup_expires`` (when that code stops opening it).
- ``key_request``: a key pair its owner made under their own passphrase (a person's, or the
  school seal's), waiting until the holder of the school root certifies it.
- ``school_pki.seal_cert`` / ``seal_key`` may be empty: a school whose keys were set up in
  the web gets its seal when the secretary has set the seal key's passphrase and the root
  has certified it.
- ``close_run.classes``: the classes a close run covers (None: every class of the period).
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("position", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("password_set", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column("setup_expires", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("school_pki") as batch:
        batch.alter_column("seal_cert", existing_type=sa.LargeBinary(), nullable=True)
        batch.alter_column("seal_key", existing_type=sa.LargeBinary(), nullable=True)
    with op.batch_alter_table("close_run") as batch:
        batch.add_column(sa.Column("classes", sa.JSON(), nullable=True))
    op.create_table(
        "key_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=300), nullable=True),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"],
                                name=op.f("fk_key_request_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_request")),
    )
    op.create_index(op.f("ix_key_request_login"), "key_request", ["login"])


def downgrade() -> None:
    op.drop_index(op.f("ix_key_request_login"), table_name="key_request")
    op.drop_table("key_request")
    with op.batch_alter_table("close_run") as batch:
        batch.drop_column("classes")
    with op.batch_alter_table("school_pki") as batch:
        batch.alter_column("seal_key", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("seal_cert", existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table("account") as batch:
        batch.drop_column("setup_expires")
        batch.drop_column("password_set")
        batch.drop_column("position")
