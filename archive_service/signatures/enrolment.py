"""Keys their owners make under their own passphrases, certified by the school root.

Seed 001, XII: credentials are personal and never shared. So in the web a signing key is
made only when its owner sets its passphrase (at the first login, after a forgotten
passphrase, or when a certificate was revoked or expired): the key pair is generated then,
the private half encrypted at once under that passphrase, and the public half waits in a
``KeyRequest`` until the holder of the school root's passphrase (the administrator, on the
page «Сотрудники») certifies it. The administrator therefore never learns a passphrase,
and nobody holds a usable key before its owner has chosen the passphrase.

Decisions:

- A person's request certifies their ``SigningUser`` (made at the first issue, with the
  signing roles of their account; later issues replace the certificate and key and set the
  roles again). A certificate it replaces that is still valid is revoked as superseded in
  the same unit of work (``revocation``), so a person never holds two usable certificates.
- The seal's request is the secretary's (she applies the seal, seed 000 4.5); it is issued
  once per school: replacing a school's seal is not supported yet (as in ``revocation``).
- A newer request of the same owner withdraws the older pending one; issuing takes every
  pending request of the school with one opening of the root key, each recorded in the
  audit trail.
- A passphrase change re-encrypts the same key (the certificate stays); a forgotten one
  needs a new key and so a new certificate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import ConflictError, NotFoundError, SignatureRefusedError
from archive_service.journals.models import School
from archive_service.signatures import lockout
from archive_service.signatures.models import KeyRequest, SchoolPki, SigningRole, SigningUser
from archive_service.signatures.revocation import (
    _locked_pki,
    _revoke,
    _revoked_serial,
    _whole_second,
)
from archive_service.signatures.service import UNNAMED, open_root
from archive_service.signatures.state import ROLE_OF_STEP
from signing import pki
from signing.errors import SigningError, WrongPassphraseError

#: The account roles that sign (the others log in only).
SIGNING_ROLES = frozenset(ROLE_OF_STEP.values())
KINDS = {"person": "ключ подписи", "seal": "ключ печати школы"}


@dataclass(frozen=True)
class RequestLine:
    """A pending key request as the administrator's page lists it."""

    id: int
    kind: str
    login: str
    full_name: str
    position: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Issued:
    """A certificate issued from a request."""

    request_id: int
    kind: str
    login: str
    full_name: str
    serial: str
    valid_to: dt.datetime
    superseded: str | None  # the serial this issue revoked as superseded


def _key(passphrase: str, rounds: int) -> tuple[bytes, bytes]:
    """A fresh key pair: (public PEM, private key encrypted under the passphrase)."""
    key = pki.new_key()
    try:
        return pki.public_pem(key), pki.encrypt_key(key, passphrase, rounds=rounds)
    except SigningError as exc:
        raise SignatureRefusedError(exc.message) from None


def add_request(s, *, school_id: int, kind: str, login: str, full_name: str, position: str,
                passphrase: str, now: dt.datetime, rounds: int = pki.KDF_ROUNDS) -> KeyRequest:
    """Make the owner's key under ``passphrase`` and record its request in session ``s``
    (the caller's unit of work); an older pending request of the same owner is withdrawn."""
    if kind not in KINDS:
        raise ConflictError(f"Неизвестный вид ключа «{kind}».")
    if kind == "seal":
        row = s.get(SchoolPki, school_id)
        if row is not None and row.seal_cert is not None:
            raise ConflictError("У школы уже есть ключ печати; замена ключа печати пока не "
                                "поддерживается. Сменить его пароль: «Сменить пароль ключа "
                                "печати».")
    public, key = _key(passphrase, rounds)
    for old in s.scalars(select(KeyRequest).filter_by(school_id=school_id, kind=kind,
                                                      login=login, status="pending")):
        old.status, old.decided_at, old.decided_by = "withdrawn", now, full_name
    request = KeyRequest(school_id=school_id, kind=kind, login=login, full_name=full_name,
                         position=position, public_key=public, key=key, created_at=now,
                         status="pending")
    s.add(request)
    s.flush()
    return request


def pending_requests(archive: Archive, school_id: int) -> list[RequestLine]:
    """The school's requests waiting for the root, oldest first."""
    with archive.sessions() as s:
        return [RequestLine(r.id, r.kind, r.login, r.full_name, r.position, r.created_at)
                for r in s.scalars(select(KeyRequest).filter_by(
                    school_id=school_id, status="pending").order_by(KeyRequest.id))]


def pending_for(s, login: str) -> set[str]:
    """The kinds of key this person has asked for and not yet received."""
    return set(s.scalars(select(KeyRequest.kind).filter_by(login=login, status="pending")))


def issue_requests(archive: Archive, *, school_id: int, ca_passphrase: str, actor: Actor,
                   roles_of: dict[str, list[tuple[str, str]]], now: dt.datetime | None = None,
                   days: int = 365 * 3) -> list[Issued]:
    """Certify every pending request of the school with one opening of the root key, all
    or nothing. ``roles_of``: each requesting person's roles (from their active account), by
    login; the request of a person with no signing role (deactivated, or no longer signing)
    is withdrawn instead, recorded in the audit trail."""
    now = now or dt.datetime.now(dt.UTC)
    issued = []
    with archive.unit_of_work() as uow:
        s = uow.session
        row = _locked_pki(s, school_id)
        school = s.get(School, school_id)
        requests = list(s.scalars(select(KeyRequest).filter_by(
            school_id=school_id, status="pending").order_by(KeyRequest.id)))
        if not requests:
            raise ConflictError("Запросов на выпуск сертификатов нет.")
        root = open_root(row, ca_passphrase)
        for r in requests:
            try:
                public = pki.load_public(r.public_key)
                if r.kind == "seal":
                    cert = pki.certify_organisation(root, public, school=school.name, now=now,
                                                    days=days + 365 * 2)
                else:
                    cert = pki.certify_person(root, public, name=r.full_name,
                                              position=r.position, school=school.name,
                                              now=now, days=days)
            except SigningError as exc:
                raise SignatureRefusedError(f"{r.full_name}: {exc.message}") from None
            superseded = None
            signs = any(role in SIGNING_ROLES for role, _c in roles_of.get(r.login) or ())
            if (r.kind == "seal" and row.seal_cert is not None) or (
                    r.kind == "person" and not signs):
                # The seal was made meanwhile (archive pki init); the person was deactivated
                # or no longer signs: the request is withdrawn, the others go on.
                r.status, r.decided_at, r.decided_by = "withdrawn", now, actor.name
                uow.audit(actor, "certificate.withdraw", "user", r.login, chain=school_id,
                          details={"kind": r.kind, "request": r.id, "owner": r.full_name})
                continue
            if r.kind == "seal":
                row.seal_cert, row.seal_key = pki.pem(cert), r.key
            else:
                superseded = _certify_person(uow, row, root, r, cert, roles_of.get(r.login),
                                             now, actor)
            serial = format(cert.serial_number, "X")
            r.status, r.decided_at, r.decided_by, r.serial = "issued", now, actor.name, serial
            uow.audit(actor, "certificate.issue", "user", r.login, chain=school_id,
                      details={"kind": r.kind, "request": r.id, "owner": r.full_name,
                               "certificate": serial, "superseded": superseded,
                               "valid_to": f"{cert.not_valid_after_utc:%Y-%m-%d}"})
            issued.append(Issued(r.id, r.kind, r.login, r.full_name, serial,
                                 cert.not_valid_after_utc, superseded))
    return issued


def _certify_person(uow, row: SchoolPki, root: pki.Credential, r: KeyRequest,
                    cert: x509.Certificate, roles: list[tuple[str, str]] | None,
                    now: dt.datetime, actor: Actor) -> str | None:
    """Give the person's ``SigningUser`` the new certificate and key (made now if it is
    their first) and their signing roles; returns the serial of a replaced certificate
    revoked now as superseded."""
    s = uow.session
    signing = sorted({(role, cls) for role, cls in roles or () if role in SIGNING_ROLES})
    if not signing:
        raise ConflictError(f"{r.full_name} ({r.login}): у учётной записи нет роли, которая "
                            "подписывает документы; запрос не выполнен.")
    user = s.scalars(select(SigningUser).filter_by(login=r.login)).one_or_none()
    superseded = None
    if user is None:
        user = SigningUser(school_id=r.school_id, login=r.login, full_name=r.full_name,
                           position=r.position, cert=pki.pem(cert), key=r.key, created_at=now)
        s.add(user)
        s.flush()
    else:
        if user.school_id != r.school_id:
            raise ConflictError(f"Логин «{r.login}» подписывает в другой школе.")
        old = x509.load_pem_x509_certificate(user.cert)
        serial = format(old.serial_number, "X")
        if _revoked_serial(s, r.school_id, serial) is None and now <= old.not_valid_after_utc:
            _revoke(uow, row, root, user, old, "superseded", _whole_second(now), actor)
            superseded = serial
        user.cert, user.key = pki.pem(cert), r.key
        user.full_name, user.position = r.full_name, r.position
        for role in s.scalars(select(SigningRole).filter_by(user_id=user.id)):
            s.delete(role)
        s.flush()
    for role, cls in signing:
        s.add(SigningRole(user_id=user.id, role=role, class_name=cls))
    return superseded


def change_key_passphrase(archive: Archive, *, login: str, kind: str, school_id: int,
                          current: str, new: str, actor: Actor | None = None,
                          rounds: int = pki.KDF_ROUNDS) -> None:
    """Encrypt the same key under a new passphrase (the certificate stays); the key waiting
    in a pending request if it has not been certified yet. A wrong current passphrase is a
    refusal that changes nothing, and it counts towards the key's lockout like a wrong
    passphrase at signing (signatures.lockout: otherwise this form would let anyone at the
    person's desk try passphrases without end)."""
    now = dt.datetime.now(dt.UTC)
    with archive.sessions() as s:
        lockout.check(s, school_id=school_id, login=login, kinds={kind}, now=now)
    try:
        _rewrap(archive, login=login, kind=kind, school_id=school_id, current=current,
                new=new, actor=actor, rounds=rounds)
    except lockout.WrongKeyPassphrase as exc:
        raise lockout.failed(archive, school_id=school_id, login=login, kind=kind,
                             actor=actor or UNNAMED, message=exc.message, now=now) from None
    lockout.succeeded(archive, school_id=school_id, login=login, kinds={kind}, now=now)


def _rewrap(archive: Archive, *, login: str, kind: str, school_id: int, current: str, new: str,
            actor: Actor | None, rounds: int) -> None:
    with archive.unit_of_work() as uow:
        s = uow.session
        pending = s.scalars(select(KeyRequest).filter_by(
            school_id=school_id, kind=kind, login=login, status="pending")).first()
        if pending is not None:
            holder, owner = pending, pending.full_name
        elif kind == "seal":
            holder = s.get(SchoolPki, school_id)
            if holder is None or holder.seal_key is None:
                raise NotFoundError("Ключа печати школы ещё нет.")
            owner = "печать организации"
        else:
            holder = s.scalars(select(SigningUser).filter_by(login=login)).one_or_none()
            if holder is None:
                raise NotFoundError("Ключа подписи у вас ещё нет: задайте его пароль.")
            owner = holder.full_name
        attribute = "seal_key" if kind == "seal" and pending is None else "key"
        try:
            key = pki.decrypt_key(getattr(holder, attribute), current, owner=owner)
            setattr(holder, attribute, pki.encrypt_key(key, new, rounds=rounds))
        except WrongPassphraseError as exc:
            raise lockout.WrongKeyPassphrase(exc.message, kind) from None
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        uow.audit(actor or UNNAMED, "key.passphrase", "user", login, chain=school_id,
                  details={"kind": kind, "pending": pending is not None})

