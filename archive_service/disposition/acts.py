"""Destruction acts from draft to the director's signature: drafted from the plan,
reviewed by the commission (ЭК), signed by the director, with their PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.disposition import act_pdf
from archive_service.disposition.common import check_may_manage, school_by_code
from archive_service.disposition.locks import PERMANENT_LOCK_YEARS, document_keys, midnight
from archive_service.disposition.models import DisposalAct, DisposalItem
from archive_service.disposition.plan import plan, rules
from archive_service.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
)
from archive_service.journals.models import (
    School,
)
from archive_service.register.models import RegisterEntry
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import SignatureRecord, SigningUser
from archive_service.snapshots.models import PeriodSnapshot
from archive_service.storage.base import sha256_hex


@dataclass(frozen=True)
class ActInfo:
    """An act as listed."""

    id: int
    school: str
    number: int
    as_of: dt.date
    status: str
    items: int
    sheets: int
    created_by: str
    created_at: dt.datetime
    review: str | None
    approved_by: str | None
    executed_at: dt.datetime | None


STATUS_NAMES = {"draft": "проект", "reviewed": "согласован ЭК", "rejected": "отклонён ЭК",
                "approved": "утверждён", "executed": "исполнен"}


def act_info(s: Session, act: DisposalAct) -> ActInfo:
    """An act as listed."""
    items = s.scalars(select(DisposalItem).filter_by(act_id=act.id)).all()
    return ActInfo(act.id, s.get(School, act.school_id).code, act.number, act.as_of,
                   act.status, len(items), sum(i.sheets for i in items), act.created_by,
                   act.created_at, _review_text(act), act.approved_by, act.executed_at)


def _review_text(act: DisposalAct) -> str | None:
    if act.review_decision is None:
        return None
    verdict = "СОГЛАСОВАНО" if act.review_decision == "agree" else "ОТКЛОНЕНО"
    text = (f"{verdict} экспертной комиссией, протокол от {act.reviewed_at:%d.%m.%Y} "
            f"№ {act.review_protocol}. Члены комиссии: {act.review_members.rstrip('.')}.")
    return text + (f" {act.review_note}" if act.review_note else "")


def find_act(s: Session, school_code: str | None, number: int, *, lock: bool = False
             ) -> DisposalAct:
    """A school's act by its number (locked for update if asked)."""
    school = school_by_code(s, school_code)
    if not 0 < number < 2**31:
        raise NotFoundError(f"Акт № {number} не найден.")
    query = select(DisposalAct).filter_by(school_id=school.id, number=number)
    act = s.scalars(query.with_for_update() if lock else query).one_or_none()
    if act is None:
        raise NotFoundError(f"Акт № {number} школы {school.code} не найден "
                            "(archive retention act list).")
    return act


def _director_name(s: Session, school_id: int) -> str:
    from archive_service.signatures.models import SigningRole

    name = s.scalar(select(SigningUser.full_name).join(
        SigningRole, SigningRole.user_id == SigningUser.id).where(
        SigningUser.school_id == school_id, SigningRole.role == "director"))
    return name or "____________"


def _render(s: Session, act: DisposalAct, classes: dict, *, with_field: bool) -> bytes:
    items = s.scalars(select(DisposalItem).filter_by(act_id=act.id)
                      .order_by(DisposalItem.position)).all()
    school = s.get(School, act.school_id)
    lines = [act_pdf.ActLine(i.title, i.year, i.register_number, i.sheets, i.rule,
                             f"SHA-256 {i.sha256[:16]}…") for i in items]
    bases = tuple(dict.fromkeys(classes[i.retention_class].basis for i in items
                                if i.retention_class in classes))
    text = act_pdf.ActText(act.number, school.name, _director_name(s, act.school_id),
                           act.as_of, act.created_by, act.created_at, _review_text(act), bases)
    return act_pdf.render(text, lines, with_field=with_field)


def create_act(archive: Archive, *, actor: Actor, as_of: dt.date,
               school_code: str | None = None, now: dt.datetime | None = None) -> ActInfo:
    """Draft an act listing every item due for destruction as of the date."""
    check_may_manage(actor)
    now = now or dt.datetime.now(dt.UTC)
    classes = rules(archive.settings)
    with archive.unit_of_work() as uow:
        s = uow.session
        school = school_by_code(s, school_code)
        due = [r for r in plan(s, archive.settings, as_of=as_of, school_id=school.id)
               if r.status == "due" and r.action == "destroy" and r.in_act is None]
        if not due:
            raise ConflictError(
                f"На {as_of:%d.%m.%Y} в школе {school.code} нет документов с истёкшим сроком "
                "хранения, которые можно включить в акт (archive retention plan).")
        number = (s.scalar(select(DisposalAct.number).filter_by(school_id=school.id)
                           .order_by(DisposalAct.number.desc()).limit(1)) or 0) + 1
        act = DisposalAct(school_id=school.id, number=number, as_of=as_of, status="draft",
                          created_by=actor.name, created_at=now, draft_key="")
        s.add(act)
        s.flush()
        doc_keys = document_keys(s, [r.ref for r in due if r.source == "document"])
        for position, r in enumerate(due, 1):
            rule = classes[r.retention_class]
            text = (f"{rule.years} лет ({rule.reference}); уничтожение не ранее "
                    f"{r.due_on:%d.%m.%Y}")
            if r.source == "document":
                doc = s.get(RenderedDocument, r.ref)
                keys = list(doc_keys[r.ref])
                if doc.kind == "journal":
                    keys.append(s.get(PeriodSnapshot, doc.snapshot_id).storage_key)
                sha = s.scalar(select(SignatureRecord.hash_after).filter_by(
                    document_id=doc.id).order_by(SignatureRecord.sequence.desc()).limit(1)
                ) or doc.sha256
            else:
                entry = s.get(RegisterEntry, r.ref)
                keys = [entry.storage_key] if entry.storage_key else []
                sha = (sha256_hex(archive.storage.get(entry.storage_key))
                       if entry.storage_key else "")
            s.add(DisposalItem(
                act_id=act.id, position=position,
                document_id=r.ref if r.source == "document" else None,
                register_entry_id=r.ref if r.source == "folder" else None,
                retention_class=r.retention_class, title=r.title,
                register_number=r.register_number, year=r.year, sheets=r.sheets,
                due_on=r.due_on, rule=text, sha256=sha, object_keys=keys))
        s.flush()
        act.draft_key = uow.put_blob(_render(s, act, classes, with_field=False))
        uow.audit(actor, "retention.act.create", "act", act.id, chain=school.id,
                  details={"number": number, "as_of": as_of.isoformat(), "items": len(due)})
        return act_info(s, act)


def review_act(archive: Archive, *, actor: Actor, number: int, agree: bool, protocol: str,
               members: str, note: str | None = None, school_code: str | None = None,
               now: dt.datetime | None = None) -> ActInfo:
    """Record the expert commission's decision on a draft act (ЭК: согласовано/отклонено)."""
    check_may_manage(actor)
    if not protocol.strip() or not members.strip():
        raise ConflictError("Укажите номер протокола ЭК (--protocol) и членов комиссии "
                            "(--members).")
    if len(protocol) > 100 or len(members) > 2000 or (note and len(note) > 2000):
        raise ConflictError("Слишком длинный номер протокола (до 100 знаков) или список "
                            "членов комиссии (до 2000).")
    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        act = find_act(s, school_code, number, lock=True)
        if act.status != "draft":
            raise ConflictError(f"Акт № {number} уже {STATUS_NAMES[act.status]}: рассмотреть "
                                "можно только проект.")
        act.status = "reviewed" if agree else "rejected"
        act.review_decision = "agree" if agree else "reject"
        act.review_protocol, act.review_members = protocol.strip(), members.strip()
        act.review_note, act.reviewed_by, act.reviewed_at = note, actor.name, now
        uow.audit(actor, "retention.act.review", "act", act.id, chain=act.school_id,
                  details={"number": number, "decision": act.review_decision,
                           "protocol": act.review_protocol, "members": act.review_members})
        return act_info(s, act)


def approve_act(archive: Archive, *, actor: Actor, number: int, login: str, passphrase: str,
                school_code: str | None = None, tsa_passphrase: str | None = None,
                now: dt.datetime | None = None) -> ActInfo:
    """The director approves («УТВЕРЖДАЮ») by signing the final act with their key (with a
    timestamp of the school TSA, whose key opens with ``ARCHIVE_TSA_PASSPHRASE``)."""
    from archive_service.signatures.service import open_keys_guarded
    from archive_service.signatures.state import user_roles
    from signing import pades

    now = now or dt.datetime.now(dt.UTC)
    with archive.sessions() as s:
        act = find_act(s, school_code, number)
        user = s.scalars(select(SigningUser).filter_by(login=login)).one_or_none()
        if user is None:
            raise NotFoundError(f"Пользователь «{login}» не найден.")
        if user.school_id != act.school_id or ("director", "") not in user_roles(s, user):
            raise PermissionDeniedError(f"{user.full_name} не директор этой школы: утвердить "
                                        "акт может только директор.")
        if act.status != "reviewed":
            raise ConflictError(f"Акт № {number} {STATUS_NAMES[act.status]}: утвердить можно "
                                "только акт, согласованный экспертной комиссией "
                                "(archive retention act review).")
        unsigned = _render(s, act, rules(archive.settings), with_field=True)
    keys = open_keys_guarded(archive, login, {"director"}, passphrase,
                             tsa_passphrase or archive.settings.tsa_passphrase or "",
                             actor=actor, now=now)
    from archive_service.errors import SignatureRefusedError
    from signing.errors import SigningError

    try:
        signed = pades.sign(unsigned, pades.SignRequest(
            act_pdf.FIELD_NAME, pades.local_signer(keys.person, [keys.root]),
            keys.person.certificate, user.position, keys.timestamper, keys.validation,
            archival=True, crl=keys.crl, time_zone=keys.time_zone), now=now)
    except SigningError as exc:
        raise SignatureRefusedError(exc.message) from None
    with archive.unit_of_work() as uow:
        s = uow.session
        act = find_act(s, school_code, number, lock=True)
        if act.status != "reviewed":  # someone acted in between
            raise ConflictError(f"Акт № {number} уже {STATUS_NAMES[act.status]}.")
        act.signed_key = uow.put_blob(signed)
        act.signed_sha256 = sha256_hex(signed)
        act.status, act.approved_by, act.approved_at = "approved", user.full_name, now
        uow.audit(actor, "retention.act.approve", "act", act.id, chain=act.school_id,
                  details={"number": number, "director": user.full_name,
                           "sha256": act.signed_sha256})
        info = act_info(s, act)
    forever = midnight(now.date().replace(year=now.year + PERMANENT_LOCK_YEARS))
    for key in (act.draft_key, act.signed_key):
        archive.storage.extend_retention(key, forever)
    return info


def act_file(archive: Archive, *, number: int, school_code: str | None = None,
             reader: Actor | None = None) -> tuple[ActInfo, bytes]:
    """The act's PDF: the signed one once approved, else the draft."""
    with archive.sessions() as s:
        act = find_act(s, school_code, number)
        info = act_info(s, act)
        key = act.signed_key or act.draft_key
        digest = act.signed_sha256
    data = archive.storage.get(key)
    if digest and sha256_hex(data) != digest:
        raise IntegrityError(f"Файл акта № {number} изменён в хранилище.")
    if reader is not None:
        from archive_service.audit.service import record

        with archive.sessions() as s:
            record(archive, reader, "retention.act.read", "act", info.id,
                   chain=find_act(s, school_code, number).school_id)
    return info, data


def list_acts(archive: Archive, *, school_code: str | None = None) -> list[ActInfo]:
    """Every act, newest first."""
    with archive.sessions() as s:
        query = select(DisposalAct).order_by(DisposalAct.id.desc())
        if school_code:
            query = query.where(DisposalAct.school_id == school_by_code(s, school_code).id)
        return [act_info(s, a) for a in s.scalars(query)]

