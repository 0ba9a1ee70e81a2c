"""register of copies

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 14:40:00
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.String(length=9), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("class_name", sa.String(length=16), nullable=True),
        sa.Column("period_code", sa.String(length=4), nullable=False),
        sa.Column("sheets", sa.Integer(), nullable=False),
        sa.Column("handed_over_by", sa.String(length=300), nullable=False),
        sa.Column("handover_hash", sa.String(length=64), nullable=False),
        sa.Column("received_by", sa.String(length=300), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["rendered_document.id"],
                                name=op.f("fk_register_entry_document_id_rendered_document")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"],
                                name=op.f("fk_register_entry_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entry")),
        sa.UniqueConstraint("document_id", name=op.f("uq_register_entry_document_id")),
        sa.UniqueConstraint("school_id", "year", "number",
                            name=op.f("uq_register_entry_school_id_year_number")),
    )
    op.create_table(
        "register_counter",
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.String(length=9), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"],
                                name=op.f("fk_register_counter_school_id_school")),
        sa.PrimaryKeyConstraint("school_id", "year", name=op.f("pk_register_counter")),
    )
    immutability.make_immutable("register_entry")


def downgrade() -> None:
    immutability.drop_immutable("register_entry")
    op.drop_table("register_counter")
    op.drop_table("register_entry")
