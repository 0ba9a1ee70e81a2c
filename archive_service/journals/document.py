"""The journal as one format-neutral structure (what every importer produces).

Both importers (canonical JSON, spreadsheet) produce a :class:`JournalDocument`; the
database loader produces the same :class:`ClassJournal` shape, and :func:`class_content`
turns it into the canonical dictionary that snapshots hash. So the same journal content
gives the same hash whichever format it came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PeriodDef:
    """A reporting period of the academic year."""

    code: str
    name: str
    start: dt.date
    end: dt.date


@dataclass
class StudentRec:
    """A student as listed in a class (record_number is № личного дела)."""

    record_number: str
    full_name: str
    birth_date: dt.date | None = None
    joined: dt.date | None = None
    left: dt.date | None = None
    where: str = field(default="", compare=False, repr=False)


@dataclass
class MarkRec:
    """A current mark of one student in one lesson."""

    student: str
    raw: str
    value: str
    scale: str
    date: dt.date
    kind_of_work: str | None = None
    weight: str = "1"
    where: str = field(default="", compare=False, repr=False)


@dataclass
class AttendanceRec:
    """An attendance code of one student in one lesson."""

    student: str
    code: str
    raw: str
    where: str = field(default="", compare=False, repr=False)


@dataclass
class LessonRec:
    """A lesson; ``number`` is its ordinal among this course's lessons on that date."""

    date: dt.date
    number: int
    topic: str | None
    homework: str | None
    teacher: str | None
    marks: list[MarkRec] = field(default_factory=list)
    attendance: list[AttendanceRec] = field(default_factory=list)
    where: str = field(default="", compare=False, repr=False)


@dataclass
class PeriodMarkRec:
    """A period, year, exam or final mark."""

    student: str
    period: str
    kind: str
    raw: str
    value: str
    where: str = field(default="", compare=False, repr=False)


@dataclass
class CourseRec:
    """A subject taught to the class or a subgroup; students is None for the whole class."""

    subject: str
    subgroup: str
    teachers: list[str]
    students: list[str] | None = None
    lessons: list[LessonRec] = field(default_factory=list)
    period_marks: list[PeriodMarkRec] = field(default_factory=list)
    where: str = field(default="", compare=False, repr=False)


@dataclass
class ClassJournal:
    """The journal of one class (within the scope of a file or a snapshot)."""

    name: str
    grade: int
    period_scheme: str
    class_leader: str | None
    students: list[StudentRec] = field(default_factory=list)
    courses: list[CourseRec] = field(default_factory=list)
    where: str = field(default="", compare=False, repr=False)


@dataclass
class StaffRec:
    """A member of staff with school-level roles (director, deputy, secretary…)."""

    full_name: str
    position: str | None = None
    roles: list[str] = field(default_factory=list)


@dataclass
class JournalDocument:
    """One import file, parsed and validated: what it says and which periods it covers."""

    file_name: str
    file_format: str
    school_code: str
    school_name: str
    source_system: str | None
    year_label: str
    year_start: dt.date
    year_end: dt.date
    periods: list[PeriodDef]
    covers: list[str]
    staff: list[StaffRec]
    classes: list[ClassJournal]
    covers_year_marks: bool = False
    year_dates_given: bool = True
    #: What the importer read in a way the person should know of (a skipped helper sheet,
    #: Latin letters read as Cyrillic), for the import report.
    notes: list[str] = field(default_factory=list, compare=False)

    def period(self, code: str) -> PeriodDef:
        """The period with this code."""
        return next(p for p in self.periods if p.code == code)


@dataclass(frozen=True)
class Scope:
    """What part of a class journal a file replaces: lesson dates and period-mark periods."""

    ranges: tuple[tuple[dt.date, dt.date], ...]
    mark_periods: frozenset[str]

    def has_date(self, day: dt.date) -> bool:
        """Whether a lesson on this day falls in the scope."""
        return any(a <= day <= b for a, b in self.ranges)


def scope_of(
    covers: list[str], periods: list[PeriodDef], *, year_marks: bool = False
) -> Scope:
    """The scope of a list of covered periods.

    A covered period brings its lesson dates and its period marks; a covered Y (year) brings
    the whole year's lessons and every period mark. A file for the last period of the year
    may also carry year, exam and final marks: those belong to Y and are in ``mark_periods``
    only when ``year_marks`` is set (the workbook has Год/Экзамен/Итоговая columns).
    """
    by_code = {p.code: p for p in periods}
    ranges: list[tuple[dt.date, dt.date]] = []
    marks: set[str] = set()
    if year_marks:
        marks.add("Y")
    for code in covers:
        p = by_code[code]
        ranges.append((p.start, p.end))
        marks.add(code)
        if code == "Y":
            marks.update(by_code)
    return Scope(tuple(sorted(set(ranges))), frozenset(marks))


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def course_content(course: CourseRec) -> dict[str, Any]:
    """Canonical dictionary of one course: lists sorted, no database ids."""
    lessons = []
    for lesson in sorted(course.lessons, key=lambda x: (x.date, x.number)):
        marks = [
            {"student": m.student, "raw": m.raw, "value": m.value, "scale": m.scale,
             "date": _iso(m.date), "kind_of_work": m.kind_of_work, "weight": m.weight}
            for m in lesson.marks  # order within a student is meaningful («4/5»)
        ]
        marks.sort(key=lambda m: m["student"])  # stable: keeps each student's order
        lessons.append({
            "date": _iso(lesson.date), "number": lesson.number, "topic": lesson.topic,
            "homework": lesson.homework, "teacher": lesson.teacher, "marks": marks,
            "attendance": sorted(
                ({"student": a.student, "code": a.code, "raw": a.raw} for a in lesson.attendance),
                key=lambda a: a["student"],
            ),
        })
    period_marks = sorted(
        ({"student": m.student, "period": m.period, "kind": m.kind, "raw": m.raw,
          "value": m.value} for m in course.period_marks),
        key=lambda m: (m["period"], m["kind"], m["student"]),
    )
    return {
        "subject": course.subject,
        "subgroup": course.subgroup,
        "teachers": list(course.teachers),
        "students": sorted(course.students) if course.students is not None else None,
        "lessons": lessons,
        "period_marks": period_marks,
    }


def courses_content(courses: list[CourseRec]) -> list[dict[str, Any]]:
    """Canonical list of courses, sorted by subject and subgroup."""
    return [course_content(c) for c in sorted(courses, key=lambda c: (c.subject, c.subgroup))]


def student_content(s: StudentRec) -> dict[str, Any]:
    """Canonical dictionary of a student in a class list."""
    return {"record_number": s.record_number, "full_name": s.full_name,
            "birth_date": _iso(s.birth_date), "joined": _iso(s.joined), "left": _iso(s.left)}
