"""Holds: a school's, a year's, a class's or a document's archive kept past its term
(placed and lifted with a reason; they block the plan, the acts and their execution).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.disposition.common import check_may_manage, school_by_code
from archive_service.disposition.models import RetentionHold
from archive_service.errors import (
    ConflictError,
    NotFoundError,
)
from archive_service.journals.models import (
    AcademicYear,
    School,
)
from archive_service.rendering.models import RenderedDocument


@dataclass(frozen=True)
class HoldInfo:
    """A hold as listed."""

    id: int
    school: str
    year: str | None
    class_name: str | None
    document_id: int | None
    reason: str
    placed_by: str
    placed_at: dt.datetime
    lifted_by: str | None
    lifted_at: dt.datetime | None
    lift_reason: str | None


def _hold_info(s: Session, h: RetentionHold) -> HoldInfo:
    return HoldInfo(h.id, s.get(School, h.school_id).code, h.year, h.class_name, h.document_id,
                    h.reason, h.placed_by, h.placed_at, h.lifted_by, h.lifted_at,
                    h.lift_reason)


def place_hold(archive: Archive, *, actor: Actor, reason: str, school_code: str | None = None,
               year: str | None = None, class_name: str | None = None,
               document_id: int | None = None, now: dt.datetime | None = None) -> HoldInfo:
    """Place a hold on a school, a year, a class (of a year or of every year) or a document."""
    check_may_manage(actor)
    if not reason.strip():
        raise ConflictError("Укажите причину удержания (--reason), например «проверка "
                            "Рособрнадзора, предписание № 12».")
    if len(reason) > 2000 or (class_name is not None and len(class_name) > 16):
        raise ConflictError("Слишком длинное основание удержания (до 2000 знаков) или "
                            "название класса (до 16 знаков).")
    if document_id is not None and not 0 < document_id < 2**31:
        raise NotFoundError(f"Документ № {document_id} не найден.")
    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        if document_id is not None:
            doc = s.get(RenderedDocument, document_id)
            if doc is None or (school_code is not None
                               and doc.school_id != school_by_code(s, school_code).id):
                raise NotFoundError(f"Документ № {document_id} не найден.")
            school_id = doc.school_id
        else:
            school_id = school_by_code(s, school_code).id
        if year is not None and s.scalar(select(AcademicYear.id).filter_by(
                school_id=school_id, label=year)) is None:
            raise NotFoundError(f"Учебный год «{year}» в этой школе не найден.")
        hold = RetentionHold(school_id=school_id, year=year, class_name=class_name,
                             document_id=document_id, reason=reason.strip(),
                             placed_by=actor.name, placed_at=now)
        s.add(hold)
        s.flush()
        uow.audit(actor, "retention.hold.place", "hold", hold.id, chain=school_id,
                  details={"year": year, "class": class_name, "document": document_id,
                           "reason": hold.reason})
        return _hold_info(s, hold)


def lift_hold(archive: Archive, *, actor: Actor, hold_id: int, reason: str,
              school_code: str | None = None, now: dt.datetime | None = None) -> HoldInfo:
    """Lift a hold (recorded with who, when and why); ``school_code``: only a hold of that
    school (another school's hold does not exist for this person)."""
    check_may_manage(actor)
    if not reason.strip() or len(reason) > 2000:
        raise ConflictError("Укажите, почему удержание снимается (--reason, до 2000 знаков).")
    if not 0 < hold_id < 2**31:
        raise NotFoundError(f"Удержание № {hold_id} не найдено.")
    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        hold = s.get(RetentionHold, hold_id, with_for_update=True)
        if hold is not None and school_code is not None and \
                hold.school_id != school_by_code(s, school_code).id:
            hold = None
        if hold is None:
            raise NotFoundError(f"Удержание № {hold_id} не найдено (archive retention hold "
                                "list).")
        if hold.lifted_at is not None:
            raise ConflictError(f"Удержание № {hold_id} уже снято {hold.lifted_at:%d.%m.%Y} "
                                f"({hold.lifted_by}).")
        hold.lifted_by, hold.lifted_at, hold.lift_reason = actor.name, now, reason.strip()
        uow.audit(actor, "retention.hold.lift", "hold", hold.id, chain=hold.school_id,
                  details={"reason": hold.lift_reason, "placed_reason": hold.reason})
        return _hold_info(s, hold)


def list_holds(archive: Archive, *, include_lifted: bool = False,
               school_code: str | None = None) -> list[HoldInfo]:
    """Holds (of one school or all), newest first."""
    with archive.sessions() as s:
        query = select(RetentionHold).order_by(RetentionHold.id.desc())
        if not include_lifted:
            query = query.where(RetentionHold.lifted_at.is_(None))
        if school_code is not None:
            query = query.where(RetentionHold.school_id == school_by_code(s, school_code).id)
        return [_hold_info(s, h) for h in s.scalars(query)]

