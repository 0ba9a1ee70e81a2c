"""Holds, destruction acts (draft -> commission review -> director's signature -> execution),
tombstones, and the storage-level retention locks.

Decisions written down here:

- The items are the rendered documents (journal copies and summary sheets, including
  superseded versions) and the period folders. A journal copy's snapshot (the frozen journal
  data it was drawn from, holding every daily mark) is destroyed with it; the summary sheet,
  a self-contained signed PDF, is what stays for 75 years.
- Only items due for destruction enter an act; summary sheets reaching the end of their
  term are due for review by the commission (action ``review``), never destroyed here.
- A journal copy or folder is destroyed only when its class's year summary sheet is sealed
  and verifies: the plan reads the recorded verifications, execution verifies again.
- Execution re-checks everything under the act's lock (status, holds, dates, storage locks,
  the summary sheets, the director's signature on the act); any refusal deletes nothing.
  Objects are deleted inside the unit of work, before the tombstones commit: if the commit
  fails, the act stays approved and running it again finishes the work.
- When every journal copy of a class is destroyed, the class's daily records (lessons,
  marks, attendance) are deleted from the journal tables too; students, enrolments and the
  period marks (what the summary sheet shows) stay.
- Holds block the plan, the act's drafting and its execution. There is no other way to
  delete an archived object in this service.
- Backups: see ``record_disposal`` (a signed disposal record on every backup target, which
  restore obeys).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.disposition import act_pdf
from archive_service.disposition.locks import PERMANENT_LOCK_YEARS, document_keys, midnight
from archive_service.disposition.models import DisposalAct, DisposalItem, RetentionHold, Tombstone
from archive_service.disposition.plan import PlanRow, active_holds, plan, rules
from archive_service.disposition.tombstones import clear_daily_records
from archive_service.errors import (
    ArchiveError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    StorageReadOnlyError,
)
from archive_service.journals.models import (
    AcademicYear,
    Period,
    School,
    SchoolClass,
)
from archive_service.register.models import RegisterEntry
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import SignatureRecord, SigningUser
from archive_service.snapshots.models import PeriodSnapshot
from archive_service.storage.base import sha256_hex

#: Roles that may draft, review and execute acts and place or lift holds.
RECORDS_ROLES = {"administrator", "secretary", "director", "deputy"}


def _school(s: Session, code: str | None) -> School:
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


def _may_manage(actor: Actor) -> None:
    if actor.role not in RECORDS_ROLES:
        from archive_service.accounts.service import ROLE_NAMES

        raise PermissionDeniedError(
            f"{actor.name}: акты и удержания ведут директор, заместитель директора, секретарь "
            f"или администратор, а не {ROLE_NAMES.get(actor.role, actor.role)}.")


# --- the plan -----------------------------------------------------------------------------

def retention_plan(archive: Archive, *, as_of: dt.date, school_code: str | None = None
                   ) -> Iterator[PlanRow]:
    """Every archived item with its decision as of ``as_of`` (streamed)."""
    with archive.sessions() as s:
        school_id = _school(s, school_code).id if school_code else None
        yield from plan(s, archive.settings, as_of=as_of, school_id=school_id)


# --- storage-level locks ------------------------------------------------------------------


# --- holds --------------------------------------------------------------------------------

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
    _may_manage(actor)
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
                               and doc.school_id != _school(s, school_code).id):
                raise NotFoundError(f"Документ № {document_id} не найден.")
            school_id = doc.school_id
        else:
            school_id = _school(s, school_code).id
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
    _may_manage(actor)
    if not reason.strip() or len(reason) > 2000:
        raise ConflictError("Укажите, почему удержание снимается (--reason, до 2000 знаков).")
    if not 0 < hold_id < 2**31:
        raise NotFoundError(f"Удержание № {hold_id} не найдено.")
    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        hold = s.get(RetentionHold, hold_id, with_for_update=True)
        if hold is not None and school_code is not None and \
                hold.school_id != _school(s, school_code).id:
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
            query = query.where(RetentionHold.school_id == _school(s, school_code).id)
        return [_hold_info(s, h) for h in s.scalars(query)]


# --- acts ---------------------------------------------------------------------------------

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


def _act_info(s: Session, act: DisposalAct) -> ActInfo:
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


def _act(s: Session, school_code: str | None, number: int, *, lock: bool = False
         ) -> DisposalAct:
    school = _school(s, school_code)
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
    _may_manage(actor)
    now = now or dt.datetime.now(dt.UTC)
    classes = rules(archive.settings)
    with archive.unit_of_work() as uow:
        s = uow.session
        school = _school(s, school_code)
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
        return _act_info(s, act)


def review_act(archive: Archive, *, actor: Actor, number: int, agree: bool, protocol: str,
               members: str, note: str | None = None, school_code: str | None = None,
               now: dt.datetime | None = None) -> ActInfo:
    """Record the expert commission's decision on a draft act (ЭК: согласовано/отклонено)."""
    _may_manage(actor)
    if not protocol.strip() or not members.strip():
        raise ConflictError("Укажите номер протокола ЭК (--protocol) и членов комиссии "
                            "(--members).")
    if len(protocol) > 100 or len(members) > 2000 or (note and len(note) > 2000):
        raise ConflictError("Слишком длинный номер протокола (до 100 знаков) или список "
                            "членов комиссии (до 2000).")
    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        act = _act(s, school_code, number, lock=True)
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
        return _act_info(s, act)


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
        act = _act(s, school_code, number)
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
        act = _act(s, school_code, number, lock=True)
        if act.status != "reviewed":  # someone acted in between
            raise ConflictError(f"Акт № {number} уже {STATUS_NAMES[act.status]}.")
        act.signed_key = uow.put_blob(signed)
        act.signed_sha256 = sha256_hex(signed)
        act.status, act.approved_by, act.approved_at = "approved", user.full_name, now
        uow.audit(actor, "retention.act.approve", "act", act.id, chain=act.school_id,
                  details={"number": number, "director": user.full_name,
                           "sha256": act.signed_sha256})
        info = _act_info(s, act)
    forever = midnight(now.date().replace(year=now.year + PERMANENT_LOCK_YEARS))
    for key in (act.draft_key, act.signed_key):
        archive.storage.extend_retention(key, forever)
    return info


def act_file(archive: Archive, *, number: int, school_code: str | None = None,
             reader: Actor | None = None) -> tuple[ActInfo, bytes]:
    """The act's PDF: the signed one once approved, else the draft."""
    with archive.sessions() as s:
        act = _act(s, school_code, number)
        info = _act_info(s, act)
        key = act.signed_key or act.draft_key
        digest = act.signed_sha256
    data = archive.storage.get(key)
    if digest and sha256_hex(data) != digest:
        raise IntegrityError(f"Файл акта № {number} изменён в хранилище.")
    if reader is not None:
        from archive_service.audit.service import record

        with archive.sessions() as s:
            record(archive, reader, "retention.act.read", "act", info.id,
                   chain=_act(s, school_code, number).school_id)
    return info, data


def list_acts(archive: Archive, *, school_code: str | None = None) -> list[ActInfo]:
    """Every act, newest first."""
    with archive.sessions() as s:
        query = select(DisposalAct).order_by(DisposalAct.id.desc())
        if school_code:
            query = query.where(DisposalAct.school_id == _school(s, school_code).id)
        return [_act_info(s, a) for a in s.scalars(query)]


# --- execution ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ExecuteOutcome:
    """What an execution destroyed."""

    act: ActInfo
    items: int
    objects_deleted: int
    classes_cleared: tuple[str, ...]
    #: Backup targets the disposal record could not be written to (``resend_disposal``).
    disposal_failures: tuple[str, ...] = ()


def _check_signed_act(archive: Archive, s: Session, act: DisposalAct) -> None:
    from archive_service.signatures.models import SchoolPki
    from signing.verify import verify_pdf

    data = archive.storage.get(act.signed_key)
    if sha256_hex(data) != act.signed_sha256:
        raise IntegrityError(f"Подписанный акт № {act.number} изменён в хранилище; "
                             "исполнение невозможно.")
    pki_row = s.scalars(select(SchoolPki).filter_by(school_id=act.school_id)).one()
    result = verify_pdf(data, roots=[x509.load_pem_x509_certificate(pki_row.root_cert)])
    if not result.ok:
        raise IntegrityError(f"Подпись директора на акте № {act.number} не проходит "
                             "проверку; исполнение невозможно.")


def _summary_docs(s: Session, class_ids: set[int]) -> dict[int, int]:
    """The year summary document of each class (class id -> document id)."""
    from archive_service.signatures.models import DocumentReturn

    out: dict[int, tuple[int, int]] = {}
    for doc_id, class_id, version in s.execute(
            select(RenderedDocument.id, PeriodSnapshot.school_class_id, PeriodSnapshot.version)
            .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
            .join(Period, Period.id == PeriodSnapshot.period_id)
            .where(RenderedDocument.kind == "summary", Period.code == "Y",
                   PeriodSnapshot.school_class_id.in_(class_ids))
            .where(~RenderedDocument.id.in_(select(DocumentReturn.document_id)))):
        if class_id not in out or out[class_id][1] < version:
            out[class_id] = (doc_id, version)
    return {c: d for c, (d, _v) in out.items()}


def _classes_of(s: Session, items: list[DisposalItem]) -> set[int]:
    """The classes whose year summary the items need."""
    ids: set[int] = set()
    for i in items:
        if i.document_id is not None:
            ids.add(s.scalar(select(PeriodSnapshot.school_class_id).join(
                RenderedDocument, RenderedDocument.snapshot_id == PeriodSnapshot.id).where(
                RenderedDocument.id == i.document_id)))
        elif i.register_entry_id is not None:
            entry = s.get(RegisterEntry, i.register_entry_id)
            year_id = s.scalar(select(AcademicYear.id).filter_by(school_id=entry.school_id,
                                                                 label=entry.year))
            ids.update(s.scalars(select(SchoolClass.id).filter_by(academic_year_id=year_id)))
    return ids


def execute_act(archive: Archive, *, actor: Actor, number: int,
                school_code: str | None = None, now: dt.datetime | None = None
                ) -> ExecuteOutcome:
    """Destroy what an approved act lists; keep a tombstone per item and the act forever."""
    from archive_service.signatures.service import verify_document

    _may_manage(actor)
    now = now or dt.datetime.now(dt.UTC)
    with archive.sessions() as s:
        act = _act(s, school_code, number)
        if act.status == "executed":
            raise ConflictError(f"Акт № {number} уже исполнен {act.executed_at:%d.%m.%Y}.")
        if act.status != "approved":
            raise ConflictError(f"Акт № {number} {STATUS_NAMES[act.status]}: исполнить можно "
                                "только акт, утверждённый подписью директора.")
        _check_signed_act(archive, s, act)
        items = s.scalars(select(DisposalItem).filter_by(act_id=act.id)
                          .order_by(DisposalItem.position)).all()
        _check_items(archive, s, act, items, now)  # before anything is verified or written
        need_summary = [i for i in items if i.retention_class in ("journal", "folder")]
        summaries = _summary_docs(s, _classes_of(s, need_summary)) if need_summary else {}
        missing = _classes_of(s, need_summary) - set(summaries)
        if missing:
            names = sorted(s.scalars(select(SchoolClass.name).where(
                SchoolClass.id.in_(missing))))
            raise ConflictError("Нет сводной ведомости за год у классов "
                                f"{', '.join(names)}: копии журналов не уничтожаются.")
    # The summary sheets are verified now, for real, before anything is destroyed.
    for _class_id, doc_id in sorted(summaries.items()):
        with archive.sessions() as s:
            sealed = s.scalar(select(SignatureRecord.id).filter_by(document_id=doc_id,
                                                                    step="seal").limit(1))
        result = verify_document(archive, doc_id, reader=actor)
        if sealed is None or not result.ok:
            raise IntegrityError(f"Сводная ведомость (документ № {doc_id}) не прошла проверку "
                                 "подписей: копии журналов её класса не уничтожаются.")
    with archive.unit_of_work() as uow:
        s = uow.session
        act = _act(s, school_code, number, lock=True)
        if act.status != "approved":
            raise ConflictError(f"Акт № {number} уже {STATUS_NAMES[act.status]}.")
        items = s.scalars(select(DisposalItem).filter_by(act_id=act.id)
                          .order_by(DisposalItem.position)).all()
        keys = _check_items(archive, s, act, items, now)
        # Objects still needed by something that stays (the same bytes elsewhere) are kept.
        leaving = {i.document_id for i in items if i.document_id is not None}
        kept = set(_shared_keys(s, keys, leaving))
        deleted = 0
        for key in dict.fromkeys(keys):
            if key in kept or not archive.storage.exists(key):
                continue
            archive.storage.delete(key, now=now)
            deleted += 1
        for i in items:
            s.add(Tombstone(item_id=i.id, act_id=act.id, document_id=i.document_id,
                            register_entry_id=i.register_entry_id, title=i.title,
                            sha256=i.sha256, object_keys=i.object_keys, destroyed_at=now,
                            destroyed_by=actor.name))
        s.flush()
        cleared = clear_daily_records(s, items)
        act.status, act.executed_by, act.executed_at = "executed", actor.name, now
        uow.audit(actor, "retention.act.execute", "act", act.id, chain=act.school_id,
                  details={"number": number, "items": len(items), "objects": deleted,
                           "classes_cleared": cleared})
        info = _act_info(s, act)
    failed = record_disposal(archive, act_id=info.id)
    return ExecuteOutcome(info, len(items), deleted, tuple(cleared), tuple(failed))


def _check_items(archive: Archive, s: Session, act: DisposalAct, items: list[DisposalItem],
                 now: dt.datetime) -> list[str]:
    """Refuse when any item is not yet due, held, or locked in storage; else its keys."""
    holds = active_holds(s, {act.school_id}).get(act.school_id, [])
    keys: list[str] = []
    for i in items:
        if now.date() < i.due_on:
            raise ConflictError(f"«{i.title}»: уничтожать можно с {i.due_on:%d.%m.%Y}; до "
                                "этой даты акт не исполняется, ничего не уничтожено.")
        class_name = None
        if i.document_id is not None:
            class_name = s.scalar(select(SchoolClass.name).join(
                PeriodSnapshot, PeriodSnapshot.school_class_id == SchoolClass.id).join(
                RenderedDocument, RenderedDocument.snapshot_id == PeriodSnapshot.id).where(
                RenderedDocument.id == i.document_id))
        covering = [h.reason for h in holds if h.covers(
            i.year, class_name, i.document_id, folder=i.register_entry_id is not None)]
        if covering:
            raise ConflictError(f"«{i.title}» на удержании ({'; '.join(covering)}): акт не "
                                "исполнен, ничего не уничтожено.")
        for key in i.object_keys:
            until = archive.storage.retained_until(key)
            if until is not None and until > now:
                raise StorageReadOnlyError(
                    f"«{i.title}»: объект {key} заблокирован в хранилище до "
                    f"{until:%d.%m.%Y}; ничего не уничтожено.")
        keys += i.object_keys
    return keys


def _shared_keys(s: Session, keys: list[str], leaving: set[int]) -> Iterator[str]:
    """Keys among ``keys`` that a document not being destroyed still uses."""
    wanted = sorted(set(keys))
    destroyed = set(s.scalars(select(Tombstone.document_id).where(
        Tombstone.document_id.is_not(None))))
    gone = leaving | destroyed
    for at in range(0, len(wanted), 500):
        chunk = wanted[at:at + 500]
        for doc_id, key in s.execute(select(RenderedDocument.id, RenderedDocument.storage_key)
                                     .where(RenderedDocument.storage_key.in_(chunk))):
            if doc_id not in gone:
                yield key
        for doc_id, key in s.execute(select(SignatureRecord.document_id,
                                            SignatureRecord.storage_key)
                                     .where(SignatureRecord.storage_key.in_(chunk))):
            if doc_id not in gone:
                yield key


# --- backups ------------------------------------------------------------------------------

DISPOSALS = "disposals/"


def disposal_record(s: Session, act: DisposalAct) -> dict:
    """What a backup target keeps of an executed act: the act, its items and tombstones."""
    def row(obj) -> dict:  # noqa: ANN001 - any mapped row
        out = {}
        for c in obj.__table__.c:
            v = getattr(obj, c.name)
            out[c.name] = v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
        return out

    return {"format": "archive-disposal-1", "act": row(act),
            "items": [row(i) for i in s.scalars(select(DisposalItem).filter_by(act_id=act.id))],
            "tombstones": [row(t) for t in s.scalars(select(Tombstone).filter_by(
                act_id=act.id))]}


def record_disposal(archive: Archive, *, act_id: int) -> list[str]:
    """Write the executed act's disposal record to every backup target the archive knows.

    Backups are immutable (Object Lock), so destroyed items cannot be cut out of them.
    Instead every target carries a record of each executed act, written with the same
    lock, and restoring any backup from that target leaves the listed objects out and
    brings the act and its tombstones in (``backups.service.restore``). The record is
    sealed with the backup keyring's signing key, so it cannot be forged to hide data.
    Returns the targets it could not be written to (the act stays executed; run
    ``resend_disposal`` once they are back).
    """
    from archive_service.backups.models import Backup
    from archive_service.backups.service import open_target, seal_disposal

    with archive.sessions() as s:
        act = s.get(DisposalAct, act_id)
        targets = sorted(set(s.scalars(select(Backup.target))))
        if not targets:  # no backups yet: nothing on any medium to reach
            return []
        name = f"{DISPOSALS}{act.school_id}-{act.number}.json"
        data = seal_disposal(s, disposal_record(s, act))
    failed = []
    forever = midnight(dt.date.today().replace(year=dt.date.today().year
                                                  + PERMANENT_LOCK_YEARS))
    for url in targets:
        try:
            target = open_target(url)
            if not target.exists(name):
                target.write(name, data,
                             retain_until=forever if url.startswith("s3://") else None)
        except (ArchiveError, OSError) as exc:
            failed.append(f"{url}: {getattr(exc, 'message', None) or exc}")
    return failed


def resend_disposal(archive: Archive, *, number: int, school_code: str | None = None
                    ) -> list[str]:
    """Write the disposal record of an executed act to every backup target that lacks it
    (after a target was unreachable at execution); returns the targets still failing."""
    with archive.sessions() as s:
        act = _act(s, school_code, number)
        if act.status != "executed":
            raise ConflictError(f"Акт № {number} {STATUS_NAMES[act.status]}: записи об "
                                "уничтожении пишутся только для исполненного акта.")
        act_id = act.id
    return record_disposal(archive, act_id=act_id)


def load_disposals(data_items: list[bytes]) -> list[dict]:
    """Parse disposal records (already checked by the backup service)."""
    return [json.loads(d) for d in data_items]
