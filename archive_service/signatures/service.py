"""The signature chain: the school PKI, signing users, signing in order, verification.

Order (seed 000, section 4): the steps stored with each document, in the school's chain
order; teachers sign in any order among themselves, every later step waits until all
earlier steps are done. A teacher's one action signs all of their fields. Signing a
document is serialised per document (a row lock on PostgreSQL, plus a unique field per
signature record), so two signers acting at once never lose a signature.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import bindparam, func, select

from archive_service.actors import Actor
from archive_service.audit.service import record
from archive_service.db import Archive
from archive_service.errors import (
    ArchiveError,
    ConfigError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    SignatureRefusedError,
    SigningBatchError,
)
from archive_service.journals.models import School, SchoolClass
from archive_service.journals.values import given_class as norm_class_name
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures import lockout
from archive_service.signatures.models import (
    ArchivalTimestampState,
    DocumentReturn,
    DocumentVerification,
    SchoolPki,
    SignatureRecord,
    SigningRole,
    SigningUser,
)
from archive_service.signatures.state import (
    ROLE_OF_STEP,
    STEP_TITLES,
    ChainState,
    StepState,
    assemble,
    current_pieces,
    read_document,
    read_state,
    read_user,
    user_roles,
)
from archive_service.snapshots.models import PeriodSnapshot
from archive_service.storage.base import sha256_hex
from signing import pades, pki
from signing.errors import SigningError, WrongPassphraseError
from signing.verify import ChainResult, verify_pdf

UNNAMED = Actor("не указан", "unknown")  # service calls made without a person (tests, scripts)
TSA_NAME = "служба штампов времени школы"


def _school(s, code: str | None) -> School:
    from archive_service.journals.lookup import find_school

    return find_school(s, code)


def init_pki(archive: Archive, *, school_code: str | None, ca_passphrase: str,
             seal_passphrase: str | None, tsa_passphrase: str, now: dt.datetime | None = None,
             actor: Actor | None = None, school_id: int | None = None) -> x509.Certificate:
    """Create the school root, TSA and seal (once per school).

    ``seal_passphrase`` None (the web): no seal yet; the secretary makes the seal key under
    her own passphrase and the root certifies it later (``signatures.enrolment``).
    ``school_id``: the school by id instead of ``school_code``.
    """
    now = now or dt.datetime.now(dt.UTC)
    if not tsa_passphrase:
        raise ConfigError(f"Не задан ARCHIVE_TSA_PASSPHRASE — пароль ключа ({TSA_NAME}), "
                          "который задаёт администратор сервера.")
    with archive.unit_of_work() as uow:
        school = uow.session.get(School, school_id) if school_id is not None else \
            _school(uow.session, school_code)
        if uow.session.get(SchoolPki, school.id) is not None:
            raise ConflictError(f"У школы {school.code} уже есть корневой сертификат; "
                                "повторное создание запрещено.")
        try:
            root = pki.create_root(school.name, now=now)
            tsa = pki.issue_tsa(root, school=school.name, now=now)
            seal = None if seal_passphrase is None else \
                pki.issue_organisation(root, school=school.name, now=now)
            row = SchoolPki(
                school_id=school.id, root_cert=pki.pem(root.certificate),
                root_key=pki.encrypt_key(root.private_key, ca_passphrase),
                tsa_cert=pki.pem(tsa.certificate),
                tsa_key=pki.encrypt_key(tsa.private_key, tsa_passphrase),
                seal_cert=None if seal is None else pki.pem(seal.certificate),
                seal_key=None if seal is None else pki.encrypt_key(seal.private_key,
                                                                   seal_passphrase),
                crl=pki.issue_crl(root, now=now).public_bytes(serialization.Encoding.DER),
                created_at=now)
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        uow.session.add(row)
        uow.audit(actor or UNNAMED, "pki.init", "school", school.code, chain=school.id,
                  details={"root_serial": format(root.certificate.serial_number, "X"),
                           "seal": "создана" if seal else "по запросу секретаря"})
    return root.certificate


def open_root(row: SchoolPki, ca_passphrase: str) -> pki.Credential:
    """The school root's certificate and key (a wrong passphrase is a clear refusal)."""
    try:
        return pki.Credential(x509.load_pem_x509_certificate(row.root_cert),
                              pki.decrypt_key(row.root_key, ca_passphrase,
                                              owner="корневой сертификат школы"))
    except SigningError as exc:
        raise SignatureRefusedError(exc.message) from None


def _pki(s, school_id: int) -> SchoolPki:
    row = s.get(SchoolPki, school_id)
    if row is None:
        raise NotFoundError("У школы нет корневого сертификата: сначала archive pki init.")
    return row


@dataclass(frozen=True)
class NewUser:
    """A signing user to create: roles are (role, class) pairs, class "" for the school."""

    login: str
    full_name: str
    position: str
    roles: list[tuple[str, str]]
    passphrase: str


def add_user(archive: Archive, *, school_code: str | None, login: str, full_name: str,
             position: str, roles: list[tuple[str, str]], passphrase: str, ca_passphrase: str,
             now: dt.datetime | None = None, days: int = 365 * 3,
             actor: Actor | None = None) -> x509.Certificate:
    """A signing user with a certificate issued by the school root."""
    [cert] = add_users(archive, school_code=school_code,
                       users=[NewUser(login, full_name, position, roles, passphrase)],
                       ca_passphrase=ca_passphrase, now=now, days=days, actor=actor)
    return cert


def add_users(archive: Archive, *, school_code: str | None, users: list[NewUser],
              ca_passphrase: str, now: dt.datetime | None = None, days: int = 365 * 3,
              kdf_rounds: int = pki.KDF_ROUNDS, actor: Actor | None = None
              ) -> list[x509.Certificate]:
    """Signing users with certificates issued by the school root, all or none.

    The root key is opened once. ``kdf_rounds`` below the default is for throw-away keys
    only (the demo's, whose passphrase is printed anyway).
    """
    now = now or dt.datetime.now(dt.UTC)
    for u in users:
        for role, cls in u.roles:
            if role not in ROLE_OF_STEP.values():
                raise ConflictError(f"Неизвестная роль «{role}»: допустимы "
                                    f"{', '.join(ROLE_OF_STEP.values())}.")
            if role == "class_leader" and not cls:
                raise ConflictError("Для роли class_leader укажите класс: class_leader:7А.")
    certificates = []
    with archive.unit_of_work() as uow:
        s = uow.session
        school = _school(s, school_code)
        root = open_root(_pki(s, school.id), ca_passphrase)
        for u in users:
            if s.scalars(select(SigningUser).filter_by(login=u.login)).first():
                raise ConflictError(f"Пользователь «{u.login}» уже есть.")
            try:
                person = pki.issue_person(root, name=u.full_name, position=u.position,
                                          school=school.name, now=now, days=days)
                key = pki.encrypt_key(person.private_key, u.passphrase, rounds=kdf_rounds)
            except SigningError as exc:
                raise SignatureRefusedError(f"{u.login}: {exc.message}") from None
            user = SigningUser(school_id=school.id, login=u.login, full_name=u.full_name,
                               position=u.position, cert=pki.pem(person.certificate), key=key,
                               created_at=now)
            s.add(user)
            s.flush()
            for role, cls in u.roles:
                s.add(SigningRole(user_id=user.id, role=role,
                                  class_name=norm_class_name(cls) if cls else ""))
            uow.audit(actor or UNNAMED, "user.add", "user", u.login, chain=school.id,
                      details={"name": u.full_name, "position": u.position,
                               "roles": [f"{r}:{c}" if c else r for r, c in u.roles],
                               "certificate": format(person.certificate.serial_number, "X")})
            certificates.append(person.certificate)
    return certificates


@dataclass(frozen=True)
class SignOutcome:
    """What one signing action did to one document."""

    document_id: int
    number: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class _Keys:
    """The keys a signer opened once for one action over many documents."""

    root: x509.Certificate
    person: pki.Credential | None
    seal: pki.Credential | None
    timestamper: object
    validation: object
    crl: x509.CertificateRevocationList | None = None  # the school's current list
    time_zone: str = "Europe/Moscow"  # the school's: the stamps' signing times


def sign_document(archive: Archive, *, document_id: int, login: str, passphrase: str,
                  tsa_passphrase: str, actor: Actor, now: dt.datetime | None = None
                  ) -> list[str]:
    """Sign every field of the current step that belongs to this user; returns the fields."""
    [outcome] = sign_documents(archive, document_ids=[document_id], login=login,
                               passphrase=passphrase, tsa_passphrase=tsa_passphrase,
                               actor=actor, now=now)
    return list(outcome.fields)


def is_sealed():  # noqa: ANN201 - an SQL expression
    """SQL: the ``RenderedDocument`` of the query has its seal (the chain's last step)."""
    return (select(SignatureRecord.id)
            .where(SignatureRecord.document_id == RenderedDocument.id,
                   SignatureRecord.step == "seal")
            .correlate(RenderedDocument).exists())


def open_documents(s, school_id: int) -> list[int]:
    """The school's documents whose chain is still open: not sealed, not returned (a school
    keeps years of closed ones; queues and dashboards look only at these)."""
    returned = select(DocumentReturn.id).where(
        DocumentReturn.document_id == RenderedDocument.id).exists()
    return list(s.scalars(select(RenderedDocument.id).where(
        RenderedDocument.school_id == school_id, ~is_sealed(), ~returned)
        .order_by(RenderedDocument.id)))


def next_sequence(s, document_id: int) -> int:
    """The sequence number of the next piece appended to the document."""
    return (s.scalar(select(func.count(SignatureRecord.id)).filter_by(
        document_id=document_id)) or 0) + 1


def note_archival_timestamp(s, document_id: int, digest: str,
                            last: pades.ArchivalTimestamp | None, now: dt.datetime) -> None:
    """Keep when the copy's last document timestamp expires (``ArchivalTimestampState``,
    the renewal run's schedule): ``last``, read from the bytes whose hash is ``digest``."""
    if last is not None:
        s.merge(ArchivalTimestampState(document_id=document_id, sha256=digest,
                                       expires_at=last.expires, read_at=now))


def signing_queue(archive: Archive, login: str) -> list[int]:
    """Documents whose current step waits for this user (oldest first)."""
    with archive.sessions() as s:
        user = read_user(s, login)
        ids = open_documents(s, user.school_id)
        queue = []
        for doc_id in ids:
            try:
                _pending_fields(s, read_document(s, doc_id), login)
            except (ConflictError, PermissionDeniedError):
                continue
            queue.append(doc_id)
        return queue


def sign_documents(archive: Archive, *, document_ids: list[int] | None, login: str,
                   passphrase: str, tsa_passphrase: str, actor: Actor,
                   now: dt.datetime | None = None,
                   progress: Callable[[SignOutcome], None] = lambda _o: None
                   ) -> list[SignOutcome]:
    """One signing action: open the keys once, then sign each document in its own unit of work.

    ``document_ids=None`` signs the user's whole queue. Every document is checked before
    anything is signed (order, role, not returned, not yet signed) and the passphrase is
    checked by opening the key, so a refusal leaves everything as it was. A document whose
    check fails under its lock (someone else acted in between) is reported in a
    ``SigningBatchError`` after the others are signed.
    """
    now = now or dt.datetime.now(dt.UTC)
    if document_ids is None:
        document_ids = signing_queue(archive, login)
        if not document_ids:
            return []
    with archive.sessions() as s:
        steps = {_pending_fields(s, read_document(s, doc_id), login)[1][0].step
                 for doc_id in document_ids}
    keys = open_keys_guarded(archive, login, steps, passphrase, tsa_passphrase, actor=actor,
                             now=now)
    done: list[SignOutcome] = []
    failures: list[tuple[str, ArchiveError]] = []
    for doc_id in document_ids:
        try:
            outcome = _sign_one(archive, doc_id, login, keys, actor, now)
        except ArchiveError as exc:
            if len(document_ids) == 1:
                raise
            failures.append((f"документ № {doc_id}", exc))
            continue
        done.append(outcome)
        progress(outcome)
    if failures:
        raise SigningBatchError(done, failures)
    return done


def _open_keys(s, user: SigningUser, steps: set[str], passphrase: str,
               tsa_passphrase: str, tsa_url: str | None, *, now: dt.datetime | None = None
               ) -> _Keys:
    """The keys of one action; an expired or revoked certificate is refused before its key
    is opened (one clear message for the whole action, nothing written)."""
    now = now or dt.datetime.now(dt.UTC)
    pki_row = _pki(s, user.school_id)
    root = x509.load_pem_x509_certificate(pki_row.root_cert)
    crl = x509.load_der_x509_crl(pki_row.crl)
    try:
        seal = person = None
        if "seal" in steps:
            if pki_row.seal_cert is None:
                raise SignatureRefusedError(
                    "Ключ печати школы ещё не выпущен: секретарь задаёт его пароль на странице "
                    "«Моя учётная запись», администратор выпускает сертификат на странице "
                    "«Сотрудники».")
            seal_cert = x509.load_pem_x509_certificate(pki_row.seal_cert)
            pki.check_valid(seal_cert, now, crl)
            seal = pki.Credential(seal_cert, _decrypt(pki_row.seal_key, passphrase,
                                                      "печать организации", "seal"))
        if steps - {"seal"}:
            cert = x509.load_pem_x509_certificate(user.cert)
            pki.check_valid(cert, now, crl)
            person = pki.Credential(cert, _decrypt(user.key, passphrase, user.full_name,
                                                   "person"))
        tsa = tsa_credential(pki_row.tsa_cert, pki_row.tsa_key, tsa_passphrase)
    except SigningError as exc:
        raise SignatureRefusedError(exc.message) from None
    return _Keys(root, person, seal, timestamper(tsa, root, tsa_url),
                 pades.validation_context([root], crls=[crl]), crl,
                 s.get(School, user.school_id).time_zone)


def _decrypt(blob: bytes, passphrase: str, owner: str, kind: str):
    """A signing key opened; a wrong passphrase is told apart (it counts: lockout)."""
    try:
        return pki.decrypt_key(blob, passphrase, owner=owner)
    except WrongPassphraseError as exc:
        raise lockout.WrongKeyPassphrase(exc.message, kind) from None


def open_keys_guarded(archive: Archive, login: str, steps: set[str], passphrase: str,
                      tsa_passphrase: str, *, actor: Actor, now: dt.datetime | None = None
                      ) -> _Keys:
    """The keys of one action of ``login``, unless a key is locked after wrong passphrases;
    a wrong one is counted (five in a row lock that key for 15 minutes: lockout)."""
    now = now or dt.datetime.now(dt.UTC)
    kinds = lockout.kinds_of(steps)
    with archive.sessions() as s:
        user = read_user(s, login)
        lockout.check(s, school_id=user.school_id, login=login, kinds=kinds, now=now)
        try:
            keys = _open_keys(s, user, steps, passphrase, tsa_passphrase,
                              archive.settings.tsa_url, now=now)
            wrong = None
        except lockout.WrongKeyPassphrase as exc:
            wrong = exc
        school_id = user.school_id
    if wrong is not None:
        raise lockout.failed(archive, school_id=school_id, login=login, kind=wrong.kind,
                             actor=actor, message=wrong.message, now=now)
    lockout.succeeded(archive, school_id=school_id, login=login, kinds=kinds, now=now)
    return keys


@functools.lru_cache(maxsize=64)
def tsa_credential(cert_pem: bytes, key_blob: bytes, passphrase: str) -> pki.Credential:
    """The school TSA's key, opened once per process: it is the server's own key (its
    passphrase is the server secret ``ARCHIVE_TSA_PASSPHRASE``), needed for every
    signature, and opening it costs a quarter of a second by design."""
    return pki.Credential(x509.load_pem_x509_certificate(cert_pem),
                          pki.decrypt_key(key_blob, passphrase,
                                          owner=TSA_NAME))


def timestamper(tsa: pki.Credential, root: x509.Certificate, url: str | None):  # noqa: ANN201
    """The configured TSA: an external RFC 3161 service (``ARCHIVE_TSA_URL``) or the school's."""
    return pades.external_timestamper(url) if url else pades.school_timestamper(tsa, [root])


def _sign_one(archive: Archive, document_id: int, login: str, keys: _Keys, actor: Actor,
              now: dt.datetime) -> SignOutcome:
    with archive.unit_of_work() as uow:
        s = uow.session
        doc = read_document(s, document_id, lock=True)  # one signer at a time per document
        user, fields = _pending_fields(s, doc, login)
        data = original = assemble(archive, *current_pieces(s, doc), doc.number)
        sequence = next_sequence(s, doc.id) - 1
        records = []
        try:
            for f in fields:
                credential = keys.seal if f.step == "seal" else keys.person
                before = sha256_hex(data)
                data = pades.sign(data, pades.SignRequest(
                    f.field, pades.local_signer(credential, [keys.root]), credential.certificate,
                    user.position if f.step != "seal" else "Печать организации",
                    keys.timestamper, keys.validation, archival=f.step == "seal",
                    crl=keys.crl, time_zone=keys.time_zone), now=now)
                sequence += 1
                records.append(SignatureRecord(
                    document_id=doc.id, sequence=sequence, step=f.step, field=f.field,
                    user_id=user.id, role=ROLE_OF_STEP[f.step], signed_at=now,
                    cert_sha256=hashlib.sha256(pki.pem(credential.certificate)).hexdigest(),
                    hash_before=before, hash_after=sha256_hex(data), storage_key="",
                    note=f"подписано по команде {actor.name}"))
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        # Signing only appends (incremental updates), so what is stored per action is the
        # appended part; the document is the rendered file plus these pieces in order.
        if not data.startswith(original):
            raise IntegrityError(f"Подпись документа {doc.number} изменила уже подписанную "
                                 "часть файла; подпись не сохранена.")
        key_out = uow.put_blob(data[len(original):])
        from archive_service.disposition.locks import lock_new_objects

        uow.committed.append(lambda: lock_new_objects(archive, document_ids=[document_id]))
        for record in records:
            record.storage_key = key_out
            s.add(record)
        if any(f.step == "seal" for f in fields):
            note_archival_timestamp(s, doc.id, records[-1].hash_after,
                                    pades.last_archival_timestamp(data), now)
        uow.audit(actor, "document.sign", "document", doc.id, chain=doc.school_id,
                  details={"number": doc.number, "login": login,
                           "fields": [f.field for f in fields], "step": fields[0].step,
                           "hash_before": records[0].hash_before,
                           "hash_after": records[-1].hash_after})
        return SignOutcome(doc.id, doc.number, tuple(f.field for f in fields))


def _pending_fields(s, doc: RenderedDocument, login: str) -> tuple[SigningUser, list[StepState]]:
    """The user's fields of the current step; refuses with the reason if there are none."""
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
    from archive_service.register.service import AFTER_REGISTRATION, is_registered

    if state.next_step in AFTER_REGISTRATION and not is_registered(s, doc.id):
        raise ConflictError(
            f"Документ {doc.number} ещё не зарегистрирован: секретарь принимает копию от "
            "заместителя директора и заносит её в реестр (archive register add), затем "
            "представляет директору.")
    return user, [f for f in pending_mine if f.step == state.next_step]


def return_document(archive: Archive, *, document_id: int, login: str, reason: str,
                    now: dt.datetime | None = None, actor: Actor | None = None) -> ChainState:
    """Send a document back with a reason instead of signing it (any signer of it may).

    The returned version is kept as it is; after the journal is corrected, a new snapshot
    (``snapshot create --reason``) and its new documents go through the chain.
    """
    now = now or dt.datetime.now(dt.UTC)
    if not reason.strip():
        raise ConflictError("Укажите причину возврата: что нужно исправить в журнале.")
    with archive.unit_of_work() as uow:
        s = uow.session
        doc = read_document(s, document_id, lock=True)
        user, state, mine = _signer_fields(s, doc, login)
        if not mine:
            raise PermissionDeniedError(
                f"{user.full_name} не участвует в подписании документа {doc.number} и не может "
                "его вернуть.")
        if state.returned:
            raise ConflictError(f"Документ {doc.number} уже возвращён: {state.returned}.")
        if state.next_step is None:
            raise ConflictError(f"Документ {doc.number} уже заверен печатью; вернуть его нельзя.")
        _may_return(doc, state, mine)
        s.add(DocumentReturn(document_id=doc.id, user_id=user.id, reason=reason.strip(),
                             returned_at=now))
        s.flush()
        uow.audit(actor or Actor(login, "signer"), "document.return", "document", doc.id,
                  chain=doc.school_id, details={"number": doc.number, "login": login,
                                                "reason": reason.strip()})
        return read_state(s, doc)


def _may_return(doc: RenderedDocument, state: ChainState, mine: list[StepState]) -> None:
    """A signer returns a copy only while their own step or the one right after it is
    awaited: once the next step has signed too (the deputy certified what the class leader
    signed), only the people of the later steps may return it (they are named)."""
    order = list(dict.fromkeys(f.step for f in state.fields))
    own = max(order.index(f.step) for f in mine)
    awaited = order.index(state.next_step)
    if awaited > own + 1:
        raise ConflictError(
            f"Документ {doc.number} уже подписал шаг «{STEP_TITLES[order[own + 1]]}», "
            "следующий после вашего: вернуть его теперь может "
            f"«{STEP_TITLES[order[awaited - 1]]}» или «{STEP_TITLES[state.next_step]}».")


def _signer_fields(s, doc: RenderedDocument, login: str
                   ) -> tuple[SigningUser, ChainState, list[StepState]]:
    """The user, the document's chain, and the fields of it this user may sign."""
    user = read_user(s, login)
    if user.school_id != doc.school_id:  # another school's documents do not exist for them
        raise NotFoundError(f"Документ № {doc.id} не найден (archive document list).")
    snapshot = s.get(PeriodSnapshot, doc.snapshot_id)
    class_name = s.get(SchoolClass, snapshot.school_class_id).name
    roles = user_roles(s, user)
    state = read_state(s, doc)
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


def signed_pdf(archive: Archive, document_id: int, *, reader: Actor | None = None) -> bytes:
    """The document as signed so far (verified against its recorded hash).

    ``reader``: the person it is given to (recorded in the audit trail); None for the
    service's own reads.
    """
    from archive_service.disposition.tombstones import destroyed_message, tombstone_of

    with archive.sessions() as s:
        doc = read_document(s, document_id)
        stone = tombstone_of(s, document_id)
        if stone is not None:
            raise NotFoundError(destroyed_message(s, stone))
        keys, digest = current_pieces(s, doc)
        number, school_id = doc.number, doc.school_id
    data = assemble(archive, keys, digest, number)
    if reader is not None:
        record(archive, reader, "document.read", "document", document_id, chain=school_id,
               details={"number": number, "sha256": digest})
    return data


def verify_document(archive: Archive, document_id: int, *, reader: Actor | None = None
                    ) -> ChainResult:
    """Verify the stored document's signatures against the school root, now.

    The outcome is kept in the document's verification history (``DocumentVerification``).
    """
    return _verify_now(archive, document_id, reader=reader).result


@dataclass(frozen=True)
class Verification:
    """A verification of a document's bytes: when, and what it found."""

    document_id: int
    sha256: str
    verified_at: dt.datetime
    verified_by: str
    result: ChainResult
    reused: bool  # an earlier verification of the same bytes, young enough to show


def _verify_now(archive: Archive, document_id: int, *, reader: Actor | None) -> Verification:
    data = signed_pdf(archive, document_id, reader=reader)
    with archive.sessions() as s:
        row = _pki(s, read_document(s, document_id).school_id)
        root = x509.load_pem_x509_certificate(row.root_cert)
        crl = x509.load_der_x509_crl(row.crl)
    result = verify_pdf(data, roots=[root], crls=[crl])
    now, digest = dt.datetime.now(dt.UTC), sha256_hex(data)
    by = (reader or UNNAMED).name
    with archive.unit_of_work() as uow:
        uow.session.add(DocumentVerification(
            document_id=document_id, sha256=digest, verified_at=now, verified_by=by,
            ok=result.ok, result=json.dumps(result.as_dict(), ensure_ascii=False,
                                            sort_keys=True)))
    return Verification(document_id, digest, now, by, result, False)


@dataclass(frozen=True)
class Stored:
    """What the archive holds of a document now: its pieces, their hash, and the latest
    verification of exactly those bytes (read in one session by ``stored``)."""

    school_id: int
    number: str
    keys: list[str]
    digest: str
    latest: Any  # a row of _LATEST (verified_at, verified_by, result), or None


#: The latest verification of a document's bytes, as a plain row.
_LATEST = (select(DocumentVerification.verified_at, DocumentVerification.verified_by,
                  DocumentVerification.result)
           .where(DocumentVerification.document_id == bindparam("document_id"),
                  DocumentVerification.sha256 == bindparam("sha256"))
           .order_by(DocumentVerification.verified_at.desc()).limit(1))


def stored(s, doc: RenderedDocument, records: list[SignatureRecord] | None = None) -> Stored:
    """The document's ``Stored`` state, read in the caller's session. ``doc`` and
    ``records``: the ORM objects or rows with the same attribute names (``current_pieces``'s)."""
    keys, digest = current_pieces(s, doc, records)
    row = s.connection().execute(_LATEST, {"document_id": doc.id, "sha256": digest}).first()
    return Stored(doc.school_id, doc.number, keys, digest, row)


def latest_verification(archive: Archive, document_id: int, *, reader: Actor,
                        max_age: dt.timedelta, now: dt.datetime | None = None) -> Verification:
    """The latest verification of the document's current bytes if it is at most ``max_age``
    old (the view is audited as ``document.view``), else a verification made now.

    A new signature changes the bytes, so it is always verified afresh; trust can only change
    with time (a certificate expiring, a revocation), which ``max_age`` bounds.
    """
    with archive.unit_of_work() as uow:
        known = stored(uow.session, read_document(uow.session, document_id))
        reused = reuse_verification(archive, uow, document_id, known, reader=reader,
                                    max_age=max_age, now=now)
    return reused or _verify_now(archive, document_id, reader=reader)


def reuse_verification(archive: Archive, uow, document_id: int, known: Stored, *,
                       reader: Actor, max_age: dt.timedelta, now: dt.datetime | None = None
                       ) -> Verification | None:
    """``known.latest`` if it is at most ``max_age`` old, the view audited in ``uow`` (so a
    page that read the document in that unit commits its reads and their audit entry in one
    transaction); None if there is none young enough (then ``_verify_now``)."""
    row = known.latest
    if row is None:
        return None
    at = row.verified_at if row.verified_at.tzinfo else row.verified_at.replace(tzinfo=dt.UTC)
    if (now or dt.datetime.now(dt.UTC)) - at > max_age:
        return None
    # The stored bytes still hash as recorded.
    assemble(archive, known.keys, known.digest, known.number)
    uow.audit(reader, "document.view", "document", document_id, chain=known.school_id,
              details={"number": known.number, "sha256": known.digest,
                       "verified_at": at.isoformat(timespec="seconds")})
    return Verification(document_id, known.digest, at, row.verified_by,
                        ChainResult.from_dict(json.loads(row.result)), True)
