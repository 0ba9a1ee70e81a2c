"""signing users and signature records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:15:06.474573
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "school_pki",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("root_cert", sa.LargeBinary(), nullable=False),
        sa.Column("root_key", sa.LargeBinary(), nullable=False),
        sa.Column("tsa_cert", sa.LargeBinary(), nullable=False),
        sa.Column("tsa_key", sa.LargeBinary(), nullable=False),
        sa.Column("seal_cert", sa.LargeBinary(), nullable=False),
        sa.Column("seal_key", sa.LargeBinary(), nullable=False),
        sa.Column("crl", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_school_pki_school_id_school")),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_school_pki")),
    )
    op.create_table(
        "signing_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=False),
        sa.Column("cert", sa.LargeBinary(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], name=op.f("fk_signing_user_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_user")),
        sa.UniqueConstraint("login", name=op.f("uq_signing_user_login")),
    )
    op.create_table(
        "signing_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("class_name", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["signing_user.id"], name=op.f("fk_signing_role_user_id_signing_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_role")),
        sa.UniqueConstraint(
            "user_id", "role", "class_name", name=op.f("uq_signing_role_user_id_role_class_name")
        ),
    )
    op.create_table(
        "signature_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cert_sha256", sa.String(length=64), nullable=False),
        sa.Column("hash_before", sa.String(length=64), nullable=False),
        sa.Column("hash_after", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["rendered_document.id"],
            name=op.f("fk_signature_record_document_id_rendered_document"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["signing_user.id"], name=op.f("fk_signature_record_user_id_signing_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_record")),
        sa.UniqueConstraint("document_id", "field", name=op.f("uq_signature_record_document_id_field")),
    )
    immutability.make_immutable("signature_record")


def downgrade() -> None:
    immutability.drop_immutable("signature_record")
    op.drop_table("signature_record")
    op.drop_table("signing_role")
    op.drop_table("signing_user")
    op.drop_table("school_pki")
