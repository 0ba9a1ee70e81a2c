"""A school's own attendance spellings, added to the built-in table (journals.values).

Seed 000 gives four codes (Б, У, Н, О); e-journals write them in many ways, and the built-in
table reads the common ones (НБ, Н/Б, УП, ОП…: docs/import-format.md). A school whose
e-journal writes yet another spelling («ПР» for an unexcused absence, say) adds it here —
by ``archive attendance-codes add`` or on the upload page — instead of having every
export refused. A spelling is stored upper-case without spaces in ``school.settings``
(key ``attendance_codes``), each change audited; it may not be a mark, nor re-read a
built-in spelling as another code (an old file would then import differently).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import ConflictError, NotFoundError
from archive_service.journals.models import School
from archive_service.journals.values import (
    ATTENDANCE_CODES,
    ATTENDANCE_MEANINGS,
    PASS_FAIL,
    PERIOD_ONLY,
    attendance_table,
    code_key,
    name_key,
)

KEY = "attendance_codes"


def _spelling(text: str) -> str:
    spelling = code_key(text)
    if not re.fullmatch(r"[А-ЯA-Z/]{1,10}", spelling) or spelling.strip("/") != spelling:
        raise ConflictError(f"Написание «{text.strip()[:20]}»: от 1 до 10 букв (можно «/» "
                            "между ними), например ПР или Н/П.")
    if name_key(spelling) in PASS_FAIL or name_key(spelling) in PERIOD_ONLY:
        raise ConflictError(f"«{spelling}» — это отметка, а не код посещаемости.")
    return spelling


def school_codes(archive: Archive, school_code: str) -> tuple[tuple[str, str], ...]:
    """The school's own spellings as (spelling, code), sorted (empty for a new school)."""
    with archive.sessions() as s:
        settings = s.scalars(select(School.settings).filter_by(code=school_code)).first()
    return tuple(sorted((settings or {}).get(KEY, {}).items()))


def lookup(archive: Archive) -> Callable[[str], tuple[tuple[str, str], ...]]:
    """What the importer asks for a school's spellings (``parse_document(codes_for=)``)."""
    return lambda school_code: school_codes(archive, school_code)


def table(archive: Archive, school_code: str) -> list[tuple[str, str, str, bool]]:
    """Every spelling the school's imports read: (spelling, code, meaning, the school's)."""
    own = dict(school_codes(archive, school_code))
    merged = attendance_table(tuple(own.items()))
    return sorted(((sp, code, ATTENDANCE_MEANINGS[code], sp in own)
                   for sp, code in merged.items()), key=lambda r: (r[1], r[0]))


def _school(s, school_code: str) -> School:
    school = s.scalars(select(School).filter_by(code=school_code).with_for_update()).first()
    if school is None:
        raise NotFoundError(f"Школы с кодом {school_code} нет: сначала загрузите её журнал.")
    return school


def add_code(archive: Archive, *, school_code: str, spelling: str, code: str,
             actor: Actor) -> str:
    """Add (or change) a spelling of the school; returns it as stored."""
    spelling = _spelling(spelling)
    code = code.strip().upper()
    if code not in ATTENDANCE_MEANINGS:
        raise ConflictError("Код посещаемости: Б (болеет), У (уважительная причина), Н "
                            "(неуважительная причина) или О (опоздал).")
    if spelling in ATTENDANCE_CODES and ATTENDANCE_CODES[spelling] != code:
        raise ConflictError(f"«{spelling}» уже читается как {ATTENDANCE_CODES[spelling]} "
                            "(встроенная таблица); другое значение изменило бы уже "
                            "загруженные выгрузки.")
    with archive.unit_of_work() as uow:
        school = _school(uow.session, school_code)
        codes = dict((school.settings or {}).get(KEY, {}))
        codes[spelling] = code
        school.settings = {**(school.settings or {}), KEY: codes}
        uow.audit(actor, "journal.attendance_code", "school", school_code, chain=school.id,
                  details={"spelling": spelling, "code": code})
    return spelling


def remove_code(archive: Archive, *, school_code: str, spelling: str, actor: Actor) -> None:
    """Remove a spelling the school added (the built-in ones stay)."""
    spelling = _spelling(spelling)
    with archive.unit_of_work() as uow:
        school = _school(uow.session, school_code)
        codes = dict((school.settings or {}).get(KEY, {}))
        if spelling not in codes:
            raise NotFoundError(f"Своего написания «{spelling}» у школы нет.")
        del codes[spelling]
        school.settings = {**(school.settings or {}), KEY: codes}
        uow.audit(actor, "journal.attendance_code_removed", "school", school_code,
                  chain=school.id, details={"spelling": spelling})
