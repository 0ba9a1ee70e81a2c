"""initial journal and snapshot tables

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 09:46:08.411663
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("source_system", sa.String(length=200), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("code", name=op.f("uq_school_code")),
    )
    op.create_table(
        "academic_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=9), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("dates_given", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_academic_year_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_academic_year")),
        sa.UniqueConstraint("school_id", "label", name=op.f("uq_academic_year_school_id_label")),
    )
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_format", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_import_batch_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_staff_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("school_id", "name_key", name=op.f("uq_staff_school_id_name_key")),
    )
    op.create_table(
        "student",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("record_number", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_student_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student")),
        sa.UniqueConstraint(
            "school_id", "record_number", name=op.f("uq_student_school_id_record_number")
        ),
    )
    op.create_table(
        "subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_subject_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject")),
        sa.UniqueConstraint("school_id", "name_key", name=op.f("uq_subject_school_id_name_key")),
    )
    op.create_table(
        "period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_period_academic_year_id_academic_year"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period")),
        sa.UniqueConstraint(
            "academic_year_id", "code", name=op.f("uq_period_academic_year_id_code")
        ),
    )
    op.create_table(
        "school_class",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("period_scheme", sa.String(length=16), nullable=False),
        sa.Column("class_leader_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["academic_year_id"],
            ["academic_year.id"],
            name=op.f("fk_school_class_academic_year_id_academic_year"),
        ),
        sa.ForeignKeyConstraint(
            ["class_leader_id"], ["staff.id"], name=op.f("fk_school_class_class_leader_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_school_class_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_class")),
        sa.UniqueConstraint(
            "academic_year_id", "name", name=op.f("uq_school_class_academic_year_id_name")
        ),
    )
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_class_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subgroup", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_class_id"],
            ["school_class.id"],
            name=op.f("fk_course_school_class_id_school_class"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_course_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
        sa.UniqueConstraint(
            "school_class_id",
            "subject_id",
            "subgroup",
            name=op.f("uq_course_school_class_id_subject_id_subgroup"),
        ),
    )
    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_class_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("joined", sa.Date(), nullable=True),
        sa.Column("left", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_class_id"],
            ["school_class.id"],
            name=op.f("fk_enrolment_school_class_id_school_class"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_enrolment_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
        sa.UniqueConstraint(
            "school_class_id", "student_id", name=op.f("uq_enrolment_school_class_id_student_id")
        ),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index("ix_enrolment_student", ["student_id"], unique=False)

    op.create_table(
        "period_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_class_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_period_snapshot_period_id_period")
        ),
        sa.ForeignKeyConstraint(
            ["school_class_id"],
            ["school_class.id"],
            name=op.f("fk_period_snapshot_school_class_id_school_class"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_period_snapshot_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["period_snapshot.id"],
            name=op.f("fk_period_snapshot_supersedes_id_period_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_snapshot")),
        sa.UniqueConstraint(
            "school_class_id",
            "period_id",
            "version",
            name=op.f("uq_period_snapshot_school_class_id_period_id_version"),
        ),
    )
    op.create_table(
        "staff_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("school_class_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_class_id"],
            ["school_class.id"],
            name=op.f("fk_staff_role_school_class_id_school_class"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_role_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_role")),
        sa.UniqueConstraint(
            "staff_id",
            "role",
            "school_class_id",
            name=op.f("uq_staff_role_staff_id_role_school_class_id"),
        ),
    )
    op.create_table(
        "course_student",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_student_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_course_student_student_id_student")
        ),
        sa.PrimaryKeyConstraint("course_id", "student_id", name=op.f("pk_course_student")),
    )
    op.create_table(
        "course_teacher",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_teacher_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_course_teacher_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("course_id", "staff_id", name=op.f("pk_course_teacher")),
    )
    op.create_table(
        "lesson",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("homework", sa.Text(), nullable=True),
        sa.Column("teacher_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_lesson_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["staff.id"], name=op.f("fk_lesson_teacher_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson")),
        sa.UniqueConstraint(
            "course_id", "date", "number", name=op.f("uq_lesson_course_id_date_number")
        ),
    )
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.create_index("ix_lesson_course_date", ["course_id", "date"], unique=False)

    op.create_table(
        "period_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("raw", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_period_mark_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["period.id"], name=op.f("fk_period_mark_period_id_period")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_period_mark_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_mark")),
        sa.UniqueConstraint(
            "course_id",
            "student_id",
            "period_id",
            "kind",
            name=op.f("uq_period_mark_course_id_student_id_period_id_kind"),
        ),
    )
    with op.batch_alter_table("period_mark", schema=None) as batch_op:
        batch_op.create_index("ix_period_mark_course", ["course_id"], unique=False)

    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("raw", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_attendance_lesson_id_lesson"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_attendance_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint(
            "lesson_id", "student_id", name=op.f("uq_attendance_lesson_id_student_id")
        ),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_lesson", ["lesson_id"], unique=False)

    op.create_table(
        "mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("raw", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("scale", sa.String(length=16), nullable=False),
        sa.Column("kind_of_work", sa.String(length=200), nullable=True),
        sa.Column("weight", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lesson.id"], name=op.f("fk_mark_lesson_id_lesson"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_mark_student_id_student")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mark")),
        sa.UniqueConstraint(
            "lesson_id",
            "student_id",
            "position",
            name=op.f("uq_mark_lesson_id_student_id_position"),
        ),
    )
    with op.batch_alter_table("mark", schema=None) as batch_op:
        batch_op.create_index("ix_mark_lesson", ["lesson_id"], unique=False)

    immutability.create_function()
    immutability.make_immutable("period_snapshot")


def downgrade() -> None:
    immutability.drop_immutable("period_snapshot")
    immutability.drop_function()
    with op.batch_alter_table("mark", schema=None) as batch_op:
        batch_op.drop_index("ix_mark_lesson")

    op.drop_table("mark")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_lesson")

    op.drop_table("attendance")
    with op.batch_alter_table("period_mark", schema=None) as batch_op:
        batch_op.drop_index("ix_period_mark_course")

    op.drop_table("period_mark")
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_index("ix_lesson_course_date")

    op.drop_table("lesson")
    op.drop_table("course_teacher")
    op.drop_table("course_student")
    op.drop_table("staff_role")
    op.drop_table("period_snapshot")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolment_student")

    op.drop_table("enrolment")
    op.drop_table("course")
    op.drop_table("school_class")
    op.drop_table("period")
    op.drop_table("subject")
    op.drop_table("student")
    op.drop_table("staff")
    op.drop_table("import_batch")
    op.drop_table("academic_year")
    op.drop_table("school")
