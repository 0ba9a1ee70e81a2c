"""The signature chain: the school PKI, signing users, signing in order, verification.

Order (seed 000, section 4): the steps stored with each document, in the school's chain
order; teachers sign in any order among themselves, every later step waits until all
earlier steps are done. A teacher's one action signs all of their fields. Signing a
document is serialised per document (a row lock on PostgreSQL, plus a unique field per
signature record), so two signers acting at once never lose a signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    SignatureRefusedError,
)
from archive_service.journals.models import School, SchoolClass
from archive_service.journals.values import class_name as norm_class_name
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import (
    DocumentReturn,
    SchoolPki,
    SignatureRecord,
    SigningRole,
    SigningUser,
)
from archive_service.snapshots.models import PeriodSnapshot
from archive_service.storage.base import sha256_hex
from signing import pades, pki
from signing.errors import SigningError
from signing.verify import ChainResult, verify_pdf

ROLE_OF_STEP = {"teachers": "teacher", "class_leader": "class_leader", "deputy": "deputy",
                "director": "director", "seal": "secretary"}
STEP_TITLES = {"teachers": "учителя-предметники", "class_leader": "классный руководитель",
               "deputy": "заместитель директора", "director": "директор",
               "seal": "печать (секретарь)"}


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


def _school(s, code: str | None) -> School:
    from archive_service.snapshots.service import find_school

    return find_school(s, code)


def init_pki(archive: Archive, *, school_code: str | None, ca_passphrase: str,
             seal_passphrase: str, tsa_passphrase: str, now: dt.datetime | None = None
             ) -> x509.Certificate:
    """Create the school root, TSA and seal (once per school)."""
    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        school = _school(uow.session, school_code)
        if uow.session.get(SchoolPki, school.id) is not None:
            raise ConflictError(f"У школы {school.code} уже есть корневой сертификат; "
                                "повторное создание запрещено.")
        try:
            root = pki.create_root(school.name, now=now)
            tsa = pki.issue_tsa(root, school=school.name, now=now)
            seal = pki.issue_organisation(root, school=school.name, now=now)
            row = SchoolPki(
                school_id=school.id, root_cert=pki.pem(root.certificate),
                root_key=pki.encrypt_key(root.private_key, ca_passphrase),
                tsa_cert=pki.pem(tsa.certificate),
                tsa_key=pki.encrypt_key(tsa.private_key, tsa_passphrase),
                seal_cert=pki.pem(seal.certificate),
                seal_key=pki.encrypt_key(seal.private_key, seal_passphrase),
                crl=pki.issue_crl(root, now=now).public_bytes(serialization.Encoding.DER),
                created_at=now)
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        uow.session.add(row)
    return root.certificate


def _pki(s, school_id: int) -> SchoolPki:
    row = s.get(SchoolPki, school_id)
    if row is None:
        raise NotFoundError("У школы нет корневого сертификата: сначала archive pki init.")
    return row


def add_user(archive: Archive, *, school_code: str | None, login: str, full_name: str,
             position: str, roles: list[tuple[str, str]], passphrase: str, ca_passphrase: str,
             now: dt.datetime | None = None, days: int = 365 * 3) -> x509.Certificate:
    """A signing user with a certificate issued by the school root."""
    now = now or dt.datetime.now(dt.UTC)
    roles = [(role, norm_class_name(cls) if cls else "") for role, cls in roles]
    for role, cls in roles:
        if role not in ROLE_OF_STEP.values():
            raise ConflictError(f"Неизвестная роль «{role}»: допустимы "
                                f"{', '.join(ROLE_OF_STEP.values())}.")
        if role == "class_leader" and not cls:
            raise ConflictError("Для роли class_leader укажите класс: class_leader:7А.")
    with archive.unit_of_work() as uow:
        s = uow.session
        school = _school(s, school_code)
        row = _pki(s, school.id)
        if s.scalars(select(SigningUser).filter_by(login=login)).first():
            raise ConflictError(f"Пользователь «{login}» уже есть.")
        try:
            root = pki.Credential(x509.load_pem_x509_certificate(row.root_cert),
                                  pki.decrypt_key(row.root_key, ca_passphrase,
                                                  owner="корневой сертификат школы"))
            person = pki.issue_person(root, name=full_name, position=position,
                                      school=school.name, now=now, days=days)
            key = pki.encrypt_key(person.private_key, passphrase)
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        user = SigningUser(school_id=school.id, login=login, full_name=full_name,
                           position=position, cert=pki.pem(person.certificate), key=key,
                           created_at=now)
        s.add(user)
        s.flush()
        for role, cls in roles:
            s.add(SigningRole(user_id=user.id, role=role, class_name=cls))
    return person.certificate


def _document(s, document_id: int, *, lock: bool = False) -> RenderedDocument:
    query = select(RenderedDocument).where(RenderedDocument.id == document_id)
    doc = s.scalars(query.with_for_update() if lock else query).one_or_none()
    if doc is None:
        raise NotFoundError(f"Документ № {document_id} не найден (archive document list).")
    return doc


def _current(s, doc: RenderedDocument) -> tuple[str, str]:
    """Storage key and hash of the document as signed so far."""
    last = s.scalars(select(SignatureRecord).filter_by(document_id=doc.id)
                     .order_by(SignatureRecord.sequence.desc()).limit(1)).one_or_none()
    return (last.storage_key, last.hash_after) if last else (doc.storage_key, doc.sha256)


def chain_state(archive: Archive, document_id: int) -> ChainState:
    """What is signed, what is pending, and which step is next."""
    with archive.sessions() as s:
        doc = _document(s, document_id)
        return _state(s, doc)


def _state(s, doc: RenderedDocument) -> ChainState:
    done = {r.field: r for r in s.scalars(select(SignatureRecord).filter_by(document_id=doc.id))}
    names = {u.id: u.full_name for u in s.scalars(select(SigningUser).where(
        SigningUser.id.in_([r.user_id for r in done.values()])))} if done else {}
    fields = tuple(StepState(
        st["step"], st["name"], st.get("signer"),
        names.get(done[st["name"]].user_id) if st["name"] in done else None,
        done[st["name"]].signed_at.isoformat(timespec="seconds") if st["name"] in done else None)
        for st in doc.steps)
    pending = next((f.step for f in fields if f.signed_by is None), None)
    back = s.scalars(select(DocumentReturn).filter_by(document_id=doc.id)).one_or_none()
    returned = None
    if back is not None:
        who = s.get(SigningUser, back.user_id).full_name
        returned = f"{who}, {back.returned_at:%d.%m.%Y %H:%M}: {back.reason}"
    return ChainState(doc.id, doc.number, fields, None if back else pending, returned)


def sign_document(archive: Archive, *, document_id: int, login: str, passphrase: str,
                  tsa_passphrase: str, actor: Actor, now: dt.datetime | None = None
                  ) -> list[str]:
    """Sign every field of the current step that belongs to this user; returns the fields."""
    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        doc = _document(s, document_id, lock=True)  # one signer at a time per document
        user, state, mine = _signer_fields(s, doc, login)
        if state.returned:
            raise ConflictError(
                f"Документ {doc.number} возвращён на исправление ({state.returned}); "
                "подписывается новая версия после исправления журнала.")
        if not mine:
            raise PermissionDeniedError(
                f"{user.full_name} не может подписывать документ {doc.number}: в цепочке нет "
                "поля для этой роли и этого класса.")
        pending_mine = [f for f in mine if f.signed_by is None]
        if not pending_mine:
            raise ConflictError(f"{user.full_name} уже подписал(а) документ {doc.number}; "
                                "повторная подпись не ставится.")
        if state.next_step != pending_mine[0].step:
            waiting = [f.expected_signer or STEP_TITLES[f.step] for f in state.fields
                       if f.step == state.next_step and f.signed_by is None]
            raise ConflictError(
                f"Сейчас очередь шага «{STEP_TITLES[state.next_step]}», а не "
                f"«{STEP_TITLES[pending_mine[0].step]}». Ещё не подписали: "
                f"{', '.join(waiting)}.")
        fields = [f for f in pending_mine if f.step == state.next_step]
        pki_row = _pki(s, doc.school_id)
        root = x509.load_pem_x509_certificate(pki_row.root_cert)
        try:
            if fields[0].step == "seal":
                cert = x509.load_pem_x509_certificate(pki_row.seal_cert)
                key = pki.decrypt_key(pki_row.seal_key, passphrase, owner="печать организации")
            else:
                cert = x509.load_pem_x509_certificate(user.cert)
                key = pki.decrypt_key(user.key, passphrase, owner=user.full_name)
            tsa = pki.Credential(x509.load_pem_x509_certificate(pki_row.tsa_cert),
                                 pki.decrypt_key(pki_row.tsa_key, tsa_passphrase,
                                                 owner="служба штампов времени школы"))
            credential = pki.Credential(cert, key)
            key_in, hash_before = _current(s, doc)
            data = archive.storage.get(key_in)
            if sha256_hex(data) != hash_before:
                raise IntegrityError(f"Документ {doc.number} изменён в хранилище: подпись не "
                                     "ставится.")
            timestamper = pades.school_timestamper(tsa, [root])
            vc = pades.validation_context(
                [root], crls=[x509.load_der_x509_crl(pki_row.crl)])
            sequence = s.scalar(select(func.count(SignatureRecord.id)).filter_by(
                document_id=doc.id)) or 0
            for f in fields:
                before = sha256_hex(data)
                data = pades.sign(data, pades.SignRequest(
                    f.field, pades.local_signer(credential, [root]), cert,
                    user.position if f.step != "seal" else "Печать организации", timestamper,
                    vc, archival=f.step == "seal"), now=now)
                sequence += 1
                s.add(SignatureRecord(
                    document_id=doc.id, sequence=sequence, step=f.step, field=f.field,
                    user_id=user.id, role=ROLE_OF_STEP[f.step], signed_at=now,
                    cert_sha256=hashlib.sha256(pki.pem(cert)).hexdigest(), hash_before=before,
                    hash_after=sha256_hex(data), storage_key=uow.put_blob(data),
                    note=f"подписано по команде {actor.name}"))
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
    return [f.field for f in fields]


def return_document(archive: Archive, *, document_id: int, login: str, reason: str,
                    now: dt.datetime | None = None) -> ChainState:
    """Send a document back with a reason instead of signing it (any signer of it may).

    The returned version is kept as it is; after the journal is corrected, a new snapshot
    (``snapshot create --reason``) and its new documents go through the chain.
    """
    now = now or dt.datetime.now(dt.UTC)
    if not reason.strip():
        raise ConflictError("Укажите причину возврата: что нужно исправить в журнале.")
    with archive.unit_of_work() as uow:
        s = uow.session
        doc = _document(s, document_id, lock=True)
        user, state, mine = _signer_fields(s, doc, login)
        if not mine:
            raise PermissionDeniedError(
                f"{user.full_name} не участвует в подписании документа {doc.number} и не может "
                "его вернуть.")
        if state.returned:
            raise ConflictError(f"Документ {doc.number} уже возвращён: {state.returned}.")
        if state.next_step is None:
            raise ConflictError(f"Документ {doc.number} уже заверен печатью; вернуть его нельзя.")
        s.add(DocumentReturn(document_id=doc.id, user_id=user.id, reason=reason.strip(),
                             returned_at=now))
        s.flush()
        return _state(s, doc)


def _signer_fields(s, doc: RenderedDocument, login: str
                   ) -> tuple[SigningUser, ChainState, list[StepState]]:
    """The user, the document's chain, and the fields of it this user may sign."""
    user = s.scalars(select(SigningUser).filter_by(login=login)).one_or_none()
    if user is None:
        raise NotFoundError(f"Пользователь «{login}» не найден (archive user add).")
    snapshot = s.get(PeriodSnapshot, doc.snapshot_id)
    class_name = s.get(SchoolClass, snapshot.school_class_id).name
    roles = {(r.role, r.class_name) for r in s.scalars(
        select(SigningRole).filter_by(user_id=user.id))}
    state = _state(s, doc)
    return user, state, [f for f in state.fields if _may_sign(f, user, roles, class_name)]


def _may_sign(field: StepState, user: SigningUser, roles: set[tuple[str, str]],
              class_name: str) -> bool:
    role = ROLE_OF_STEP[field.step]
    if field.step == "teachers":
        return field.expected_signer == user.full_name and (
            ("teacher", "") in roles or ("teacher", class_name) in roles)
    if field.step == "class_leader":
        return (role, class_name) in roles
    return (role, "") in roles


def signed_pdf(archive: Archive, document_id: int) -> bytes:
    """The document as signed so far (verified against its recorded hash)."""
    with archive.sessions() as s:
        key, digest = _current(s, _document(s, document_id))
    data = archive.storage.get(key)
    if sha256_hex(data) != digest:
        raise IntegrityError(f"Документ № {document_id} изменён в хранилище.")
    return data


def verify_document(archive: Archive, document_id: int) -> ChainResult:
    """Verify the stored document's signatures against the school root."""
    data = signed_pdf(archive, document_id)
    with archive.sessions() as s:
        root = x509.load_pem_x509_certificate(_pki(s, _document(s, document_id).school_id)
                                              .root_cert)
    return verify_pdf(data, roots=[root])
