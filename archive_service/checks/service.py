"""What the deputy director controls before printing (seed 000 p. 3.5, seed 004 p. 3.7.2).

The check warns; it blocks a snapshot only when the school sets
``block_snapshot_on_incomplete`` in its settings.
"""

from __future__ import annotations

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


def check_class(session: Session, school_class: SchoolClass, period: Period) -> list[Finding]:
    """Every finding for one class and period."""
    findings: list[Finding] = []
    cname = school_class.name
    grade1 = school_class.grade == 1  # seed 004 p. 1.3: no marks and no homework in grade 1
    mark_periods = periods_within(session, period)
    courses = load_courses(session, school_class.id, ((period.start_date, period.end_date),),
                           [p.id for p in mark_periods])
    students = load_students(session, school_class.id, period.start_date, period.end_date)
    names = {s.record_number: s.full_name for s in students}
    at_end = {s.record_number for s in students if s.left is None or s.left > period.end_date}
    mark_code, mark_kind = (period.code, "period") if period.code != "Y" else ("Y", "year")
    for c in courses:
        title = c.subject + (f" ({c.subgroup})" if c.subgroup else "")
        members = [r for r in (c.students if c.students is not None else names) if r in names]
        counts: Counter = Counter()
        absences: Counter = Counter()
        for lesson in sorted(c.lessons, key=lambda x: (x.date, x.number)):
            day = lesson.date.strftime("%d.%m.%Y")
            if not lesson.topic:
                findings.append(Finding("no_topic", cname, title, f"{day}: {KINDS['no_topic']}",
                                        date=lesson.date.isoformat()))
            if not lesson.homework and not grade1:
                findings.append(Finding("no_homework", cname, title,
                                        f"{day}: {KINDS['no_homework']}",
                                        date=lesson.date.isoformat()))
            for m in lesson.marks:
                counts[m.student] += 1
                if m.date > period.end_date:
                    findings.append(Finding(
                        "mark_after_period", cname, title,
                        f"отметка {m.raw} за урок {day} датирована {m.date:%d.%m.%Y}, "
                        f"после окончания периода {period.end_date:%d.%m.%Y}",
                        names.get(m.student, m.student), m.date.isoformat()))
            for a in lesson.attendance:
                if a.code == "Н":
                    absences[a.student] += 1
        for rec, n in sorted(absences.items()):
            findings.append(Finding("absence_without_reason", cname, title,
                                    f"пропусков без указания причины: {n}",
                                    names.get(rec, rec)))
        if grade1 or not c.lessons:
            continue
        with_mark = {pm.student for pm in c.period_marks
                     if pm.period == mark_code and pm.kind == mark_kind}
        for rec in sorted(members, key=lambda r: names[r]):
            if counts[rec] == 0:
                findings.append(Finding("no_marks", cname, title, KINDS["no_marks"], names[rec]))
            elif counts[rec] == 1:
                findings.append(Finding("one_mark", cname, title, KINDS["one_mark"], names[rec]))
            if rec in at_end and rec not in with_mark:
                findings.append(Finding("missing_period_mark", cname, title,
                                        f"нет отметки за период «{period.name}»", names[rec]))
    return findings


def summarise(findings: list[Finding]) -> dict[str, int]:
    """Counts of findings per kind."""
    return dict(Counter(f.kind for f in findings))
