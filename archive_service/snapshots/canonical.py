"""The canonical serialisation of a period snapshot (archive-journal-snapshot/1).

A year's snapshot also lists the year's periods (``periods``: code, name, first and last
day), so that its copy places each period's marks after that period's last lesson; older
year snapshots without the list stay valid (their copies put every mark at the end).

JSON, UTF-8, keys sorted, no insignificant whitespace, lists in a defined order, no
database ids: the same journal content always gives the same bytes and the same SHA-256,
whichever format it was imported from.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from archive_service.journals.document import courses_content, student_content
from archive_service.journals.loader import load_courses, load_students
from archive_service.journals.models import (
    AcademicYear,
    Period,
    School,
    SchoolClass,
    Staff,
)

FORMAT = "archive-journal-snapshot/1"


def periods_within(session: Session, period: Period) -> list[Period]:
    """The periods whose marks belong to a snapshot of ``period`` (itself, or all for Y)."""
    if period.code != "Y":
        return [period]
    return list(session.query(Period).filter_by(academic_year_id=period.academic_year_id))


def snapshot_content(session: Session, school_class: SchoolClass, period: Period) -> dict[str, Any]:
    """What a snapshot of this class and period freezes, as a canonical dictionary."""
    school = session.get(School, school_class.school_id)
    year = session.get(AcademicYear, school_class.academic_year_id)
    leader = session.get(Staff, school_class.class_leader_id) if school_class.class_leader_id \
        else None
    within = periods_within(session, period)
    marks_periods = [p.id for p in within]
    courses = load_courses(session, school_class.id, ((period.start_date, period.end_date),),
                           marks_periods)
    students = load_students(session, school_class.id, period.start_date, period.end_date)
    enrolled = {s.record_number for s in students}
    for c in courses:
        if c.students is not None:
            c.students = [r for r in c.students if r in enrolled]
    return {
        "format": FORMAT,
        "school": {"code": school.code, "name": school.name},
        "academic_year": year.label,
        "period": _period(period),
        "class": {"name": school_class.name, "grade": school_class.grade,
                  "period_scheme": school_class.period_scheme,
                  "class_leader": leader.full_name if leader else None},
        "students": sorted((student_content(s) for s in students),
                           key=lambda s: (s["full_name"], s["record_number"])),
        "courses": courses_content(courses),
    } | ({"periods": [_period(p) for p in sorted(within, key=lambda p: p.start_date)
                      if p.code != "Y"]} if period.code == "Y" else {})


def _period(period: Period) -> dict[str, str]:
    """A period as a snapshot names it: code, name, first and last day."""
    return {"code": period.code, "name": period.name, "start": period.start_date.isoformat(),
            "end": period.end_date.isoformat()}


def canonical_bytes(content: dict[str, Any]) -> bytes:
    """The canonical bytes of a content dictionary."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8")
