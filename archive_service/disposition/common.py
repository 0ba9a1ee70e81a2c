"""What the disposition modules share: the records staff's roles and the school an
action is for.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import (
    NotFoundError,
    PermissionDeniedError,
)
from archive_service.journals.models import (
    School,
)

#: Roles that may draft, review and execute acts and place or lift holds.
RECORDS_ROLES = {"administrator", "secretary", "director", "deputy"}


def school_by_code(s: Session, code: str | None) -> School:
    """The school of that code; without one, the archive's only school."""
    schools = s.scalars(select(School).order_by(School.code)).all()
    if code is None:
        if len(schools) != 1:
            raise NotFoundError("Укажите школу (--school): в архиве их " f"{len(schools)}.")
        return schools[0]
    for sc in schools:
        if sc.code == code:
            return sc
    raise NotFoundError(f"Школа «{code}» не найдена.")


def school_code_of(archive: Archive, school_id: int | None) -> str:
    """The code of a person's school (web and API users act on their own school only)."""
    with archive.sessions() as s:
        school = s.get(School, school_id) if school_id is not None else None
        if school is None:
            raise PermissionDeniedError("Сроки хранения и акты ведёт персонал школы.")
        return school.code


def check_may_manage(actor: Actor) -> None:
    """Refuse anyone but the records staff (RECORDS_ROLES)."""
    if actor.role not in RECORDS_ROLES:
        from archive_service.accounts.service import ROLE_NAMES

        raise PermissionDeniedError(
            f"{actor.name}: акты и удержания ведут директор, заместитель директора, секретарь "
            f"или администратор, а не {ROLE_NAMES.get(actor.role, actor.role)}.")

