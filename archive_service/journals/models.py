"""Journal tables: schools, years, periods, classes, people, courses, lessons and marks.

Multi-school from the start: every row hangs off a school, so a region runs one
deployment. Natural keys (school code, record number, class name, subject name, lesson
date and number) are unique, which makes imports idempotent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base

#: The time zone of a school that has not set its own (``archive school set --time-zone``).
DEFAULT_TIME_ZONE = "Europe/Moscow"


class School(Base):
    """A school (образовательная организация)."""

    __tablename__ = "school"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    source_system: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def time_zone(self) -> str:
        """The school's time zone (``settings.time_zone``, an IANA name such as
        Asia/Yekaterinburg; ``DEFAULT_TIME_ZONE`` when unset): signature stamps say the
        signing time in it."""
        return (self.settings or {}).get("time_zone") or DEFAULT_TIME_ZONE


class AcademicYear(Base):
    """An academic year (учебный год), e.g. 2025-2026."""

    __tablename__ = "academic_year"
    __table_args__ = (UniqueConstraint("school_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    label: Mapped[str] = mapped_column(String(9))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    #: False while the dates are the default 1 September - 31 August (a workbook without
    #: them); the first file that gives the dates fixes them.
    dates_given: Mapped[bool] = mapped_column(Boolean, default=True)


class Period(Base):
    """A reporting period (четверть, полугодие, триместр, учебный год).

    ``code`` is Q1-Q4, H1-H2, T1-T3 or Y; year, exam and final marks belong to Y.
    """

    __tablename__ = "period"
    __table_args__ = (UniqueConstraint("academic_year_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    code: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)


class Staff(Base):
    """A member of staff (сотрудник): teacher, class leader, deputy, director…"""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("school_id", "name_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    full_name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300))
    position: Mapped[str | None] = mapped_column(String(300))


class StaffRole(Base):
    """A role held by a member of staff, at school level or for one class."""

    __tablename__ = "staff_role"
    __table_args__ = (UniqueConstraint("staff_id", "role", "school_class_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    role: Mapped[str] = mapped_column(String(32))
    school_class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))


class Subject(Base):
    """A subject (учебный предмет)."""

    __tablename__ = "subject"
    __table_args__ = (UniqueConstraint("school_id", "name_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    name: Mapped[str] = mapped_column(String(300))
    name_key: Mapped[str] = mapped_column(String(300))


class Student(Base):
    """A student (обучающийся), identified in a school by the personal file number."""

    __tablename__ = "student"
    __table_args__ = (UniqueConstraint("school_id", "record_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    record_number: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(300))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)


class SchoolClass(Base):
    """A class (класс) in one academic year, with its class leader and period scheme."""

    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("academic_year_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    name: Mapped[str] = mapped_column(String(20))
    grade: Mapped[int] = mapped_column(Integer)
    period_scheme: Mapped[str] = mapped_column(String(16))
    class_leader_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Enrolment(Base):
    """A student's membership of a class, with the dates joined and left (прибыл/выбыл)."""

    __tablename__ = "enrolment"
    __table_args__ = (UniqueConstraint("school_class_id", "student_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    joined: Mapped[dt.date | None] = mapped_column(Date)
    left: Mapped[dt.date | None] = mapped_column(Date)


class Course(Base):
    """A subject taught to a class or a subgroup of it; ``subgroup`` is '' for the whole class."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("school_class_id", "subject_id", "subgroup"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_class_id: Mapped[int] = mapped_column(ForeignKey("school_class.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    subgroup: Mapped[str] = mapped_column(String(100), default="")


class CourseTeacher(Base):
    """A teacher of a course; ``position`` keeps the order given in the source."""

    __tablename__ = "course_teacher"
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class CourseStudent(Base):
    """A student of a subgroup course (for whole-class courses the class list applies)."""

    __tablename__ = "course_student"
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), primary_key=True)


class Lesson(Base):
    """A lesson (урок): date, ordinal on that date, topic, homework, teacher."""

    __tablename__ = "lesson"
    __table_args__ = (UniqueConstraint("course_id", "date", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(Text)
    homework: Mapped[str | None] = mapped_column(Text)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Mark(Base):
    """A current mark (текущая отметка); several per lesson and student keep their order."""

    __tablename__ = "mark"
    __table_args__ = (UniqueConstraint("lesson_id", "student_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    position: Mapped[int] = mapped_column(Integer)
    raw: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(16))
    scale: Mapped[str] = mapped_column(String(16))
    kind_of_work: Mapped[str | None] = mapped_column(String(200))
    weight: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date)


class Attendance(Base):
    """An attendance record (Б ill, У valid reason, Н no valid reason, О late), raw code kept."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("lesson_id", "student_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    code: Mapped[str] = mapped_column(String(2))
    raw: Mapped[str] = mapped_column(String(16))


class PeriodMark(Base):
    """A period mark: kind 'period' (четверть/полугодие/триместр), 'year', 'exam' or 'final'."""

    __tablename__ = "period_mark"
    __table_args__ = (UniqueConstraint("course_id", "student_id", "period_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    kind: Mapped[str] = mapped_column(String(8))
    raw: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(16))


class ImportBatch(Base):
    """One accepted import that changed something: the source file is kept in storage."""

    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    file_name: Mapped[str] = mapped_column(String(500))
    file_format: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(200))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


Index("ix_lesson_course_date", Lesson.course_id, Lesson.date)
Index("ix_mark_lesson", Mark.lesson_id)
Index("ix_attendance_lesson", Attendance.lesson_id)
Index("ix_period_mark_course", PeriodMark.course_id)
Index("ix_enrolment_student", Enrolment.student_id)
