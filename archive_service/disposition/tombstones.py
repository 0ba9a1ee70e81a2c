"""What an executed act leaves: tombstones, and what reads of destroyed items are told.

A lower module of the disposition package (issue 29): snapshots, signatures, the register
and restore ask it whether something was destroyed without importing the acts' service.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive_service.disposition.models import DisposalAct, DisposalItem, Tombstone
from archive_service.journals.models import (
    AcademicYear,
    Attendance,
    Course,
    Lesson,
    Mark,
    SchoolClass,
)
from archive_service.rendering.models import RenderedDocument
from archive_service.snapshots.models import PeriodSnapshot


def clear_daily_records(s: Session, items: list[DisposalItem]) -> list[str]:
    """Delete lessons, marks and attendance of classes whose every journal copy is gone."""
    doc_ids = [i.document_id for i in items if i.retention_class == "journal"]
    if not doc_ids:
        return []
    class_ids: set[int] = set()
    for at in range(0, len(doc_ids), 500):
        class_ids.update(s.scalars(select(PeriodSnapshot.school_class_id).join(
            RenderedDocument, RenderedDocument.snapshot_id == PeriodSnapshot.id).where(
            RenderedDocument.id.in_(doc_ids[at:at + 500]))))
    destroyed = set(s.scalars(select(Tombstone.document_id).where(
        Tombstone.document_id.is_not(None))))
    cleared = []
    for class_id in sorted(class_ids):
        journals = set(s.scalars(select(RenderedDocument.id).join(
            PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id).where(
            PeriodSnapshot.school_class_id == class_id, RenderedDocument.kind == "journal")))
        if journals - destroyed:
            continue
        lessons = select(Lesson.id).join(Course, Course.id == Lesson.course_id).where(
            Course.school_class_id == class_id)
        s.execute(delete(Mark).where(Mark.lesson_id.in_(lessons)))
        s.execute(delete(Attendance).where(Attendance.lesson_id.in_(lessons)))
        s.execute(delete(Lesson).where(Lesson.id.in_(lessons)))
        cls = s.get(SchoolClass, class_id)
        year = s.get(AcademicYear, cls.academic_year_id).label
        cleared.append(f"{cls.name} ({year})")
    return cleared


def destroyed_keys(s: Session) -> set[str]:
    """Every storage key destroyed under an executed act."""
    return {k for keys in s.scalars(select(Tombstone.object_keys)) for k in keys}


def snapshot_destroyed(s: Session, snapshot_id: int) -> bool:
    """Whether a snapshot's data went with its journal copy under an act."""
    return s.scalar(select(Tombstone.id).join(
        RenderedDocument, RenderedDocument.id == Tombstone.document_id).where(
        RenderedDocument.snapshot_id == snapshot_id, RenderedDocument.kind == "journal")
        .limit(1)) is not None


def tombstone_of(s: Session, document_id: int) -> Tombstone | None:
    """The tombstone of a destroyed document, if it was destroyed."""
    return s.scalars(select(Tombstone).filter_by(document_id=document_id)).first()


def destroyed_message(s: Session, stone: Tombstone) -> str:
    """What to tell someone who asks for a destroyed item."""
    act = s.get(DisposalAct, stone.act_id)
    return (f"«{stone.title}» уничтожен {stone.destroyed_at:%d.%m.%Y} по акту № {act.number} "
            f"(утвердил {act.approved_by}); остались запись об уничтожении и акт.")
