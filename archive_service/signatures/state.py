"""The signature chain's state, read: documents, their signature records and pieces, what is
signed, what waits, who returned it, and the signing users and their roles.

The public readers the register, progress, backups and pages use (issue 29): they import
this module, never private names of signatures.service, and it imports no service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from archive_service.db import Archive
from archive_service.errors import IntegrityError, NotFoundError
from archive_service.journals.models import DEFAULT_TIME_ZONE, School
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import (
    DocumentReturn,
    SignatureRecord,
    SigningRole,
    SigningUser,
)
from archive_service.storage.base import sha256_hex
from signing.clock import local_time

ROLE_OF_STEP = {"teachers": "teacher", "class_leader": "class_leader", "deputy": "deputy",
                "director": "director", "seal": "secretary"}


STEP_TITLES = {"teachers": "учителя-предметники", "class_leader": "классный руководитель",
               "deputy": "заместитель директора", "director": "директор",
               "seal": "печать (секретарь)"}


#: The step of a renewed archival timestamp's record (``signatures.renewal``): not a step
#: of the chain, a piece the school's TSA appended to a sealed copy.
ARCHIVAL_TIMESTAMP_STEP = "archive_timestamp"


#: The five-day schedule of seed 000, section 4: the copy is rendered on day 2; teachers sign
#: on day 3, the class leader on day 4, the deputy, the director and the seal on day 5. A step
#: not done by the end of its day (counted from the rendering) is overdue.
DAYS_AFTER_RENDER = {"teachers": 1, "class_leader": 2, "deputy": 3, "director": 3, "seal": 3}


KIND_NAMES = {"journal": "Копия журнала", "summary": "Сводная ведомость"}


@dataclass(frozen=True)
class StepState:
    """One field of the chain and who signed it."""

    step: str
    field: str
    expected_signer: str | None
    signed_by: str | None
    signed_at: str | None


@dataclass(frozen=True)
class ChainState:
    """Done and pending fields of a document, and which step is next."""

    document_id: int
    number: str
    fields: tuple[StepState, ...]
    next_step: str | None
    returned: str | None = None  # who returned it, when and why

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def read_document(s, document_id: int, *, lock: bool = False) -> RenderedDocument:
    query = select(RenderedDocument).where(RenderedDocument.id == document_id)
    doc = s.scalars(query.with_for_update() if lock else query).one_or_none()
    if doc is None:
        raise NotFoundError(f"Документ № {document_id} не найден (archive document list).")
    return doc


def read_records(s, doc: RenderedDocument) -> list[SignatureRecord]:
    """The document's signature records in signing order."""
    return list(s.scalars(select(SignatureRecord).filter_by(document_id=doc.id)
                          .order_by(SignatureRecord.sequence)))


def read_signed(s, doc: RenderedDocument) -> tuple[list[SignatureRecord], dict[int, str]]:
    """``read_records`` and their signers' names by user id, in one statement (a renewed
    archival timestamp has no user)."""
    found = s.execute(select(SignatureRecord, SigningUser.full_name)
                      .outerjoin(SigningUser, SigningUser.id == SignatureRecord.user_id)
                      .where(SignatureRecord.document_id == doc.id)
                      .order_by(SignatureRecord.sequence)).all()
    return [r for r, _name in found], {r.user_id: name for r, name in found}


def current_pieces(s, doc: RenderedDocument, records: list[SignatureRecord] | None = None
             ) -> tuple[list[str], str]:
    """The stored pieces of the document as signed so far, in order, and its hash.

    The rendered file, then the incremental update each signing action appended (records of
    one action share their piece). ``records``: ``read_records`` if the caller has them.
    """
    records = read_records(s, doc) if records is None else records
    keys = [doc.storage_key]
    for r in records:
        if r.storage_key != keys[-1]:
            keys.append(r.storage_key)
    return keys, records[-1].hash_after if records else doc.sha256


def assemble(archive: Archive, keys: list[str], digest: str, number: str) -> bytes:
    data = b"".join(archive.storage.get(k) for k in keys)
    if sha256_hex(data) != digest:
        raise IntegrityError(f"Документ {number} изменён в хранилище: его хеш не совпадает с "
                             "записанным при последней подписи.")
    return data


def chain_state(archive: Archive, document_id: int) -> ChainState:
    """What is signed, what is pending, and which step is next."""
    with archive.sessions() as s:
        doc = read_document(s, document_id)
        return read_state(s, doc)


#: ``read_state``'s ``returned`` when the caller has not read the document's return.
UNREAD: Any = object()


def returned_text(who: str, at: dt.datetime, reason: str, zone: str = DEFAULT_TIME_ZONE
                  ) -> str:
    """How a return is shown after «возвращён: »: why, by whom, when (in the school's time
    zone ``zone``, as the stamps)."""
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return f"{reason}; вернул(а) {who}, {local_time(at, zone)}"


def school_zone(s, school_id: int) -> str:
    """The school's time zone (``School.time_zone``)."""
    school = s.get(School, school_id)
    return school.time_zone if school is not None else DEFAULT_TIME_ZONE


def state_in(s, doc: RenderedDocument) -> ChainState:
    """The chain's state of ``doc`` read in the caller's session (for pages and services
    that read many documents in one session)."""
    return read_state(s, doc)


def read_state(s, doc: RenderedDocument,
           signed: tuple[list[SignatureRecord], dict[int, str]] | None = None,
           returned: str | None = UNREAD) -> ChainState:
    """The chain's state; ``signed``: ``read_signed(s, doc)`` if the caller has read it;
    ``returned``: the document's return as ``returned_text`` shows it, or None if it was not
    returned, if the caller has read that."""
    records, names = read_signed(s, doc) if signed is None else signed
    done = {r.field: r for r in records}
    fields = tuple(StepState(
        st["step"], st["name"], st.get("signer"),
        names.get(done[st["name"]].user_id) if st["name"] in done else None,
        done[st["name"]].signed_at.isoformat(timespec="seconds") if st["name"] in done else None)
        for st in doc.steps)
    pending = next((f.step for f in fields if f.signed_by is None), None)
    if returned is UNREAD:
        back = s.scalars(select(DocumentReturn).filter_by(document_id=doc.id)).one_or_none()
        returned = None if back is None else returned_text(
            s.get(SigningUser, back.user_id).full_name, back.returned_at, back.reason,
            school_zone(s, doc.school_id))
    return ChainState(doc.id, doc.number, fields, None if returned else pending, returned)


def read_user(s, login: str) -> SigningUser:
    user = s.scalars(select(SigningUser).filter_by(login=login)).one_or_none()
    if user is None:
        raise NotFoundError(f"Пользователь «{login}» не найден (archive user add).")
    return user


def user_roles(s, user: SigningUser) -> set[tuple[str, str]]:
    """The user's (role, class) pairs; class "" for school-wide roles."""
    return {(r.role, r.class_name) for r in s.scalars(
        select(SigningRole).filter_by(user_id=user.id))}
