"""What the deputy director controls before printing (seed 000 p. 3.5, seed 004 p. 3.7.2).

The check warns; it blocks a snapshot only when the school sets
``block_snapshot_on_incomplete`` in its settings.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from archive_service.journals.loader import load_courses, load_students
from archive_service.journals.models import Period, SchoolClass
from archive_service.snapshots.canonical import periods_within

KINDS = {
    "no_marks": "нет ни одной отметки",
    "one_mark": "только одна отметка",
    "no_topic": "урок без темы",
    "no_homework": "урок без домашнего задания",
    "missing_period_mark": "нет итоговой отметки за период",
    "mark_after_period": "отметка датирована после окончания периода",
    "absence_without_reason": "пропуск без указания причины (Н)",
}


@dataclass(frozen=True)
class Finding:
    """One thing a deputy director should look at before the period is frozen."""

    kind: str
    class_name: str
    subject: str
    message: str
    student: str | None = None
    date: str | None = None

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class LessonGap:
    """A lesson with something missing (no topic, no homework)."""

    date: dt.date
    number: int


@dataclass(frozen=True)
class LateMark:
    """A mark dated after the end of the period."""

    student: str
    raw: str
    lesson: dt.date
    dated: dt.date


@dataclass(frozen=True)
class CourseStats:
    """What the check counts in one course (a subject, or a subgroup of it) of a class.

    ``students``: the course's students of the period as (record number, name), sorted by
    name; ``expected_mark``: those still in the class at the period's end (a student who left
    before it gets no period mark). Grade 1 gets no marks and no homework (seed 002 5.5,
    004 1.3), so nothing is counted against them.
    """

    class_name: str
    subject: str
    teachers: tuple[str, ...]
    grade1: bool
    students: tuple[tuple[str, str], ...]
    expected_mark: frozenset[str]
    lessons: int
    marks: dict[str, int]
    no_topic: tuple[LessonGap, ...]
    no_homework: tuple[LessonGap, ...]
    late_marks: tuple[LateMark, ...]
    absences: dict[str, int]  # unexcused absences (Н) per student's record number
    with_period_mark: frozenset[str]

    @property
    def no_marks(self) -> list[tuple[str, str]]:
        """Students with no mark at all (none expected in grade 1 or a course without
        lessons)."""
        if self.grade1 or not self.lessons:
            return []
        return [st for st in self.students if self.marks.get(st[0], 0) == 0]

    @property
    def one_mark(self) -> list[tuple[str, str]]:
        """Students with exactly one mark."""
        if self.grade1 or not self.lessons:
            return []
        return [st for st in self.students if self.marks.get(st[0], 0) == 1]

    @property
    def no_period_mark(self) -> list[tuple[str, str]]:
        """Students at the period's end without their period mark."""
        if self.grade1 or not self.lessons:
            return []
        return [st for st in self.students
                if st[0] in self.expected_mark and st[0] not in self.with_period_mark]


def course_stats(session: Session, school_class: SchoolClass, period: Period
                 ) -> list[CourseStats]:
    """The figures of every course of one class and period (the check's one reading of
    the journal: the findings and the deputies' report both come from these)."""
    grade1 = school_class.grade == 1  # seed 004 p. 1.3: no marks and no homework in grade 1
    mark_periods = periods_within(session, period)
    courses = load_courses(session, school_class.id, ((period.start_date, period.end_date),),
                           [p.id for p in mark_periods])
    students = load_students(session, school_class.id, period.start_date, period.end_date)
    names = {s.record_number: s.full_name for s in students}
    at_end = frozenset(s.record_number for s in students
                       if s.left is None or s.left > period.end_date)
    mark_code, mark_kind = (period.code, "period") if period.code != "Y" else ("Y", "year")
    out = []
    for c in courses:
        members = [r for r in (c.students if c.students is not None else names) if r in names]
        marks: Counter = Counter()
        absences: Counter = Counter()
        no_topic, no_homework, late = [], [], []
        for lesson in sorted(c.lessons, key=lambda x: (x.date, x.number)):
            if not lesson.topic:
                no_topic.append(LessonGap(lesson.date, lesson.number))
            if not lesson.homework and not grade1:
                no_homework.append(LessonGap(lesson.date, lesson.number))
            for m in lesson.marks:
                marks[m.student] += 1
                if m.date > period.end_date:
                    late.append(LateMark(m.student, m.raw, lesson.date, m.date))
            for a in lesson.attendance:
                if a.code == "Н":
                    absences[a.student] += 1
        out.append(CourseStats(
            school_class.name, c.subject + (f" ({c.subgroup})" if c.subgroup else ""),
            tuple(c.teachers), grade1,
            tuple(sorted(((r, names[r]) for r in members), key=lambda st: st[1])), at_end,
            len(c.lessons), dict(marks), tuple(no_topic), tuple(no_homework), tuple(late),
            dict(absences),
            frozenset(pm.student for pm in c.period_marks
                      if pm.period == mark_code and pm.kind == mark_kind)))
    return out


def check_class(session: Session, school_class: SchoolClass, period: Period) -> list[Finding]:
    """Every finding for one class and period."""
    return findings_of(course_stats(session, school_class, period), period)


def findings_of(stats: list[CourseStats], period: Period) -> list[Finding]:
    """The findings the figures of a class's courses give, in the journal's order."""
    findings: list[Finding] = []
    for c in stats:
        cname, title = c.class_name, c.subject
        names = dict(c.students)
        for gap in _merged(c.no_topic, c.no_homework):
            day = gap[0].date.strftime("%d.%m.%Y")
            for kind in gap[1]:
                findings.append(Finding(kind, cname, title, f"{day}: {KINDS[kind]}",
                                        date=gap[0].date.isoformat()))
        for m in c.late_marks:
            findings.append(Finding(
                "mark_after_period", cname, title,
                f"отметка {m.raw} за урок {m.lesson:%d.%m.%Y} датирована {m.dated:%d.%m.%Y}, "
                f"после окончания периода {period.end_date:%d.%m.%Y}",
                names.get(m.student, m.student), m.dated.isoformat()))
        for rec, n in sorted(c.absences.items()):
            findings.append(Finding("absence_without_reason", cname, title,
                                    f"пропусков без указания причины: {n}",
                                    names.get(rec, rec)))
        no_marks = {r for r, _n in c.no_marks}
        one_mark = {r for r, _n in c.one_mark}
        missing = {r for r, _n in c.no_period_mark}
        for rec, name in c.students:
            if rec in no_marks:
                findings.append(Finding("no_marks", cname, title, KINDS["no_marks"], name))
            elif rec in one_mark:
                findings.append(Finding("one_mark", cname, title, KINDS["one_mark"], name))
            if rec in missing:
                findings.append(Finding("missing_period_mark", cname, title,
                                        f"нет отметки за период «{period.name}»", name))
    return findings


def _merged(no_topic: tuple[LessonGap, ...], no_homework: tuple[LessonGap, ...]
            ) -> list[tuple[LessonGap, list[str]]]:
    """The lessons with a gap, in date order, each with its kinds (topic before homework)."""
    kinds: dict[LessonGap, list[str]] = {}
    for gap in no_topic:
        kinds.setdefault(gap, []).append("no_topic")
    for gap in no_homework:
        kinds.setdefault(gap, []).append("no_homework")
    return sorted(kinds.items(), key=lambda kv: (kv[0].date, kv[0].number))


def summarise(findings: list[Finding]) -> dict[str, int]:
    """Counts of findings per kind."""
    return dict(Counter(f.kind for f in findings))
