"""The deputies' completeness report: per class and subject and per teacher, in percent.

Seed 000, 3.5 and seed 004, 3.7.2: the deputy director controls how the journal is kept —
the share of students with no mark or one mark, whether topics and homework are recorded,
how teachers take part. The figures are the completeness check's own (``course_stats``),
so the report and ``archive check`` never disagree. Decisions:

- Students: of the course's students in the period, the percent with no mark, with one
  mark, and (of those still in the class at its end) without the period mark. Lessons: the
  percent without a topic, without homework (grade 1: no marks, no homework expected).
- «Worst first»: a course's badness is its largest percent; ties by the sum of them.
- Unexcused absences (Н) are not completeness gaps of the teacher: they are listed apart,
  per class, so that they do not bury the real problems.
- A teacher's figures add up the students and lessons of every course they teach (a course
  with two teachers counts for each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from archive_service.checks.service import CourseStats, course_stats
from archive_service.db import Archive
from archive_service.errors import NotFoundError
from archive_service.journals.lookup import PeriodRef, classes_for, find_period
from archive_service.journals.models import AcademicYear, Period, School

#: The report's measures: (key, heading, what it is a percent of).
MEASURES = (("no_marks", "без отметок", "учеников"),
            ("one_mark", "с одной отметкой", "учеников"),
            ("no_period_mark", "без отметки за период", "учеников"),
            ("no_topic", "уроков без темы", "уроков"),
            ("no_homework", "уроков без домашнего задания", "уроков"))


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class Figures:
    """Counts of one course, one teacher or one class, and their percents."""

    students: int
    expected: int  # students expected to have a period mark
    lessons: int
    no_marks: int
    one_mark: int
    no_period_mark: int
    no_topic: int
    no_homework: int

    @classmethod
    def of(cls, stats: CourseStats) -> Figures:
        expected = 0 if stats.grade1 or not stats.lessons else sum(
            1 for r, _n in stats.students if r in stats.expected_mark)
        return cls(len(stats.students), expected, stats.lessons, len(stats.no_marks),
                   len(stats.one_mark), len(stats.no_period_mark), len(stats.no_topic),
                   len(stats.no_homework))

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self.counts(), other.counts(), strict=True)))

    def counts(self) -> tuple[int, ...]:
        return (self.students, self.expected, self.lessons, self.no_marks, self.one_mark,
                self.no_period_mark, self.no_topic, self.no_homework)

    def percent(self, key: str) -> float:
        """The percent of a measure (``MEASURES``)."""
        whole = {"no_period_mark": self.expected, "no_topic": self.lessons,
                 "no_homework": self.lessons}.get(key, self.students)
        return _pct(getattr(self, key), whole)

    @property
    def percents(self) -> dict[str, float]:
        return {key: self.percent(key) for key, _h, _w in MEASURES}

    @property
    def badness(self) -> tuple[float, float]:
        """What «worst first» sorts by: the largest percent, then their sum."""
        values = list(self.percents.values())
        return max(values), sum(values)


ZERO = Figures(0, 0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class CourseLine:
    """One course of a class in the report."""

    stats: CourseStats
    figures: Figures

    @property
    def teachers(self) -> str:
        return ", ".join(self.stats.teachers) or "учитель не указан"


@dataclass(frozen=True)
class TeacherLine:
    """One teacher: their courses added up."""

    teacher: str
    courses: int
    figures: Figures


@dataclass(frozen=True)
class AbsenceLine:
    """Unexcused absences (Н) of one class: the total and the students with most."""

    class_name: str
    total: int
    students: tuple[tuple[str, int], ...]  # (name, absences), most first


@dataclass(frozen=True)
class ClassLine:
    """One class: its courses and the class's figures added up."""

    class_name: str
    courses: tuple[CourseLine, ...]
    figures: Figures


@dataclass(frozen=True)
class CompletenessReport:
    """The report of one school's period."""

    school: str
    year: str
    period_code: str
    period_name: str
    start: dt.date
    end: dt.date
    classes: tuple[ClassLine, ...]
    courses: tuple[CourseLine, ...]  # every course, worst first
    teachers: tuple[TeacherLine, ...]  # worst first
    absences: tuple[AbsenceLine, ...]

    @property
    def ref(self) -> str:
        return f"{self.year}/{self.period_code}"

    @property
    def clean(self) -> bool:
        return all(c.figures.badness[0] == 0 for c in self.courses)

    def course(self, class_name: str, subject: str) -> CourseLine:
        """One course of the report (the drill-down)."""
        for c in self.courses:
            if c.stats.class_name == class_name and c.stats.subject == subject:
                return c
        raise NotFoundError(f"В отчёте нет предмета «{subject}» класса {class_name}.")


def school_periods(archive: Archive, school_id: int) -> list[tuple[str, str, dt.date, dt.date]]:
    """(«2025-2026/Q1», «1 четверть 2025-2026», start, end) of the school, newest first."""
    with archive.sessions() as s:
        rows = s.execute(select(AcademicYear.label, Period.code, Period.name, Period.start_date,
                                Period.end_date)
                         .join(Period, Period.academic_year_id == AcademicYear.id)
                         .where(AcademicYear.school_id == school_id)).all()
    rows = sorted(rows, key=lambda r: (r.label, r.code != "Y", r.start_date), reverse=True)
    return [(f"{r.label}/{r.code}", f"{r.name} {r.label}", r.start_date, r.end_date)
            for r in rows]


def default_period(archive: Archive, school_id: int, today: dt.date | None = None) -> str | None:
    """The period a person most likely means: the last one ended by today (not the year),
    else the current one, else the newest."""
    today = today or dt.date.today()
    periods = school_periods(archive, school_id)
    terms = [p for p in periods if not p[0].endswith("/Y")]
    ended = [p for p in terms if p[3] <= today]
    current = [p for p in terms if p[2] <= today <= p[3]]
    chosen = max(ended, key=lambda p: p[3], default=None) or next(iter(current), None) or \
        next(iter(periods), None)
    return chosen[0] if chosen else None


def completeness_report(archive: Archive, *, school_id: int, period: str,
                        class_name: str | None = None) -> CompletenessReport:
    """The report of a period of the school (all its classes, or one)."""
    ref = PeriodRef.parse(period)
    with archive.sessions() as s:
        school = s.get(School, school_id)
        year, per = find_period(s, school, ref)
        lines, teachers, absences = [], {}, []
        for sc in classes_for(s, year, per, class_name):
            stats = course_stats(s, sc, per)
            courses = tuple(CourseLine(c, Figures.of(c)) for c in stats)
            total = ZERO
            for c in courses:
                total = total + c.figures
                for t in c.stats.teachers:
                    n, f = teachers.get(t, (0, ZERO))
                    teachers[t] = (n + 1, f + c.figures)
            lines.append(ClassLine(sc.name, courses, total))
            absent: dict[str, int] = {}
            for c in stats:
                names = dict(c.students)
                for rec, n in c.absences.items():
                    who = names.get(rec, rec)
                    absent[who] = absent.get(who, 0) + n
            if absent:
                absences.append(AbsenceLine(sc.name, sum(absent.values()), tuple(sorted(
                    absent.items(), key=lambda kv: (-kv[1], kv[0])))))
        worst = sorted((c for line in lines for c in line.courses),
                       key=lambda c: c.figures.badness, reverse=True)
        by_teacher = sorted((TeacherLine(t, n, f) for t, (n, f) in teachers.items()),
                            key=lambda t: (t.figures.badness, t.teacher), reverse=True)
        return CompletenessReport(school.name, year.label, per.code, per.name, per.start_date,
                                  per.end_date, tuple(lines), tuple(worst),
                                  tuple(by_teacher), tuple(absences))


HEADERS = ("Класс", "Предмет", "Учитель", "Учеников", "Уроков",
           *(f"% {heading}" for _k, heading, _w in MEASURES))


def export_rows(report: CompletenessReport) -> list[tuple]:
    """The report's course lines (worst first) as rows of ``HEADERS``."""
    return [(c.stats.class_name, c.stats.subject, c.teachers, c.figures.students,
             c.figures.lessons, *(c.figures.percent(k) for k, _h, _w in MEASURES))
            for c in report.courses]
