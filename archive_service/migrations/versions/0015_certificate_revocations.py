"""certificate revocations

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 21:30:00

The certificates a school revoked (``archive user revoke``; ``archive user reissue`` revokes
the replaced one as superseded). Append-only like the signature records: the school's
revocation list is issued anew from these rows.
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_revocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("cert_sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"],
                                name=op.f("fk_certificate_revocation_school_id_school")),
        sa.ForeignKeyConstraint(["user_id"], ["signing_user.id"],
                                name=op.f("fk_certificate_revocation_user_id_signing_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_revocation")),
        sa.UniqueConstraint("school_id", "serial",
                            name=op.f("uq_certificate_revocation_school_id_serial")),
    )
    immutability.make_immutable("certificate_revocation")


def downgrade() -> None:
    immutability.drop_immutable("certificate_revocation")
    op.drop_table("certificate_revocation")
