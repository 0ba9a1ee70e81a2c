"""Loading a class journal from the database into the format-neutral structure.

Used by snapshots (what to freeze) and by imports (is the file's content already there?).
Core queries rather than ORM objects: a school year holds hundreds of thousands of marks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from archive_service.journals.document import (
    AttendanceRec,
    CourseRec,
    LessonRec,
    MarkRec,
    PeriodMarkRec,
    StudentRec,
)
from archive_service.journals.models import (
    Attendance,
    Course,
    CourseStudent,
    CourseTeacher,
    Enrolment,
    Lesson,
    Mark,
    Period,
    PeriodMark,
    Staff,
    Student,
    Subject,
)


def _in_ranges(ranges: tuple[tuple[dt.date, dt.date], ...]):
    return or_(*(Lesson.date.between(a, b) for a, b in ranges)) if ranges else False


def load_courses(
    session: Session, class_id: int, ranges: tuple[tuple[dt.date, dt.date], ...],
    period_ids: list[int],
) -> list[CourseRec]:
    """Courses of a class with the lessons in ``ranges`` and period marks of ``period_ids``.

    Courses with neither lessons nor period marks in that scope are left out.
    """
    conn = session.connection()  # Core rows: no ORM loading overhead on 10^5 marks
    courses: dict[int, CourseRec] = {}
    for cid, subject, subgroup in conn.execute(
        select(Course.id, Subject.name, Course.subgroup)
        .join(Subject, Subject.id == Course.subject_id)
        .where(Course.school_class_id == class_id)
    ):
        courses[cid] = CourseRec(subject, subgroup, [], None if not subgroup else [])
    if not courses:
        return []
    ids = list(courses)
    for cid, name in conn.execute(
        select(CourseTeacher.course_id, Staff.full_name)
        .join(Staff, Staff.id == CourseTeacher.staff_id)
        .where(CourseTeacher.course_id.in_(ids))
        .order_by(CourseTeacher.course_id, CourseTeacher.position)
    ):
        courses[cid].teachers.append(name)
    for cid, rec in conn.execute(
        select(CourseStudent.course_id, Student.record_number)
        .join(Student, Student.id == CourseStudent.student_id)
        .where(CourseStudent.course_id.in_(ids))
    ):
        if courses[cid].students is not None:
            courses[cid].students.append(rec)

    lessons: dict[int, LessonRec] = {}
    lesson_filter = and_(Lesson.course_id.in_(ids), _in_ranges(ranges))
    for lid, cid, day, number, topic, homework, teacher in conn.execute(
        select(Lesson.id, Lesson.course_id, Lesson.date, Lesson.number, Lesson.topic,
               Lesson.homework, Staff.full_name)
        .outerjoin(Staff, Staff.id == Lesson.teacher_id)
        .where(lesson_filter)
    ):
        lessons[lid] = lesson = LessonRec(day, number, topic, homework, teacher)
        courses[cid].lessons.append(lesson)
    if lessons:
        for lid, rec, raw, value, scale, day, kind, weight in conn.execute(
            select(Mark.lesson_id, Student.record_number, Mark.raw, Mark.value, Mark.scale,
                   Mark.date, Mark.kind_of_work, Mark.weight)
            .join(Lesson, Lesson.id == Mark.lesson_id)
            .join(Student, Student.id == Mark.student_id)
            .where(lesson_filter)
            .order_by(Mark.lesson_id, Mark.student_id, Mark.position)
        ):
            lessons[lid].marks.append(MarkRec(rec, raw, value, scale, day, kind, weight))
        for lid, rec, code, raw in conn.execute(
            select(Attendance.lesson_id, Student.record_number, Attendance.code, Attendance.raw)
            .join(Lesson, Lesson.id == Attendance.lesson_id)
            .join(Student, Student.id == Attendance.student_id)
            .where(lesson_filter)
        ):
            lessons[lid].attendance.append(AttendanceRec(rec, code, raw))
    if period_ids:
        for cid, rec, code, kind, raw, value in conn.execute(
            select(PeriodMark.course_id, Student.record_number, Period.code, PeriodMark.kind,
                   PeriodMark.raw, PeriodMark.value)
            .join(Student, Student.id == PeriodMark.student_id)
            .join(Period, Period.id == PeriodMark.period_id)
            .where(PeriodMark.course_id.in_(ids), PeriodMark.period_id.in_(period_ids))
        ):
            courses[cid].period_marks.append(PeriodMarkRec(rec, code, kind, raw, value))
    return [c for c in courses.values() if c.lessons or c.period_marks]


def load_students(
    session: Session, class_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> list[StudentRec]:
    """The class list: students enrolled at some time between start and end (all if None)."""
    query = (
        select(Student.record_number, Student.full_name, Student.birth_date, Enrolment.joined,
               Enrolment.left)
        .join(Enrolment, Enrolment.student_id == Student.id)
        .where(Enrolment.school_class_id == class_id)
    )
    if start is not None and end is not None:
        query = query.where(or_(Enrolment.joined.is_(None), Enrolment.joined <= end),
                            or_(Enrolment.left.is_(None), Enrolment.left >= start))
    return [StudentRec(*row) for row in session.connection().execute(query)]


def lesson_ids_in_scope(session: Session, class_id: int,
                        ranges: tuple[tuple[dt.date, dt.date], ...]) -> list[int]:
    """Ids of the class's lessons dated within the ranges."""
    return list(session.scalars(
        select(Lesson.id).join(Course, Course.id == Lesson.course_id)
        .where(Course.school_class_id == class_id, _in_ranges(ranges))
    ))

