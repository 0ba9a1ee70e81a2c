"""Revoking a signer's certificate and issuing a new one; the school's revocation list.

Decisions:

- A revocation is a row of ``certificate_revocation`` (append-only, immutable in the
  database) and a new revocation list (``SchoolPki.crl``) signed by the school root, issued
  from all the school's rows; the root's passphrase is needed, as for issuing certificates.
  The school's PKI row is locked first, so two revocations at once give two lists in turn,
  the second naming both.
- From the moment of revocation the certificate signs nothing (``signing.pki.check_valid``;
  the refusal names the date and the reason). Signatures it made before stay valid: their
  timestamps prove they were made before the revocation, and verification says so
  (``signing.verify``).
- ``reissue_certificate`` gives the person a new certificate and key (after an expiry, a
  revocation, a new position, a forgotten passphrase); a certificate it replaces that is
  still valid and not revoked is revoked as superseded in the same unit of work, so a person
  never holds two usable certificates.
- The seal and the TSA are not revoked here. The TSA's certificate can be replaced
  (``signatures.renewal.reissue_tsa``), which leaves the old one valid; the seal's
  cannot yet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.db import UnitOfWork
from archive_service.errors import ConflictError, NotFoundError, SignatureRefusedError
from archive_service.journals.models import School
from archive_service.signatures.models import CertificateRevocation, SchoolPki, SigningUser
from archive_service.signatures.service import UNNAMED, _school, open_root
from archive_service.signatures.state import read_user
from signing import pki
from signing.errors import SigningError


@dataclass(frozen=True)
class Revoked:
    """A revoked certificate as the register of revocations shows it."""

    serial: str
    login: str
    owner: str
    reason: str
    reason_text: str
    revoked_at: dt.datetime
    revoked_by: str


def _locked_pki(s, school_id: int) -> SchoolPki:
    row = s.scalars(select(SchoolPki).where(SchoolPki.school_id == school_id)
                    .with_for_update()).one_or_none()
    if row is None:
        raise NotFoundError("У школы нет корневого сертификата: сначала archive pki init.")
    return row


def _revoke(uow: UnitOfWork, row: SchoolPki, root: pki.Credential, user: SigningUser,
            cert: x509.Certificate, reason: str, now: dt.datetime, actor: Actor) -> int:
    """Record the revocation and issue the school's list anew; returns the list's number."""
    s = uow.session
    serial = format(cert.serial_number, "X")
    s.add(CertificateRevocation(
        school_id=row.school_id, serial=serial, user_id=user.id,
        cert_sha256=hashlib.sha256(pki.pem(cert)).hexdigest(), reason=reason, revoked_at=now,
        revoked_by=actor.name))
    s.flush()
    rows = s.scalars(select(CertificateRevocation).filter_by(school_id=row.school_id)
                     .order_by(CertificateRevocation.id)).all()
    number = len(rows) + 1  # the first list (pki init, nothing revoked) has number 1
    try:
        crl = pki.issue_crl(root, now=now, number=number, revoked=[
            pki.Revocation(int(r.serial, 16), r.revoked_at, r.reason) for r in rows])
    except SigningError as exc:
        raise SignatureRefusedError(exc.message) from None
    row.crl = crl.public_bytes(serialization.Encoding.DER)
    uow.audit(actor, "certificate.revoke", "user", user.login, chain=row.school_id,
              details={"certificate": serial, "owner": user.full_name, "reason": reason,
                       "crl_number": {"old": number - 1, "new": number}})
    return number


def _check_reason(reason: str) -> None:
    if reason not in pki.REVOCATION_REASONS:
        raise ConflictError(f"Неизвестная причина отзыва «{reason}»: допустимы "
                            + ", ".join(f"{k} ({v[1]})" for k, v in
                                        pki.REVOCATION_REASONS.items()) + ".")


def _revoked_serial(s, school_id: int, serial: str) -> CertificateRevocation | None:
    return s.scalars(select(CertificateRevocation).filter_by(school_id=school_id,
                                                             serial=serial)).one_or_none()


def _whole_second(now: dt.datetime) -> dt.datetime:
    """The moment of a revocation as the list can write it (whole seconds), rounded up: a
    signature made in the same second, before the revocation, stays before it."""
    whole = now.replace(microsecond=0)
    return whole if whole == now else whole + dt.timedelta(seconds=1)


def revoke_certificate(archive, *, login: str, reason: str, ca_passphrase: str,  # noqa: ANN001
                       actor: Actor | None = None, now: dt.datetime | None = None) -> Revoked:
    """Revoke the user's current certificate (all or nothing)."""
    now = _whole_second(now or dt.datetime.now(dt.UTC))
    actor = actor or UNNAMED
    _check_reason(reason)
    with archive.unit_of_work() as uow:
        s = uow.session
        user = read_user(s, login)
        row = _locked_pki(s, user.school_id)
        cert = x509.load_pem_x509_certificate(user.cert)
        serial = format(cert.serial_number, "X")
        earlier = _revoked_serial(s, user.school_id, serial)
        if earlier is not None:
            raise ConflictError(f"Сертификат {serial} ({user.full_name}) уже отозван "
                                f"{earlier.revoked_at:%d.%m.%Y}; новый сертификат: "
                                f"archive user reissue --login {login}.")
        _revoke(uow, row, open_root(row, ca_passphrase), user, cert, reason, now, actor)
        text = pki.REVOCATION_REASONS[reason][1]
        return Revoked(serial, login, user.full_name, reason, text, now, actor.name)


def reissue_certificate(archive, *, login: str, passphrase: str,  # noqa: ANN001
                        ca_passphrase: str, actor: Actor | None = None,
                        now: dt.datetime | None = None, days: int = 365 * 3
                        ) -> tuple[x509.Certificate, str | None]:
    """A new certificate and key for the user, under a new passphrase.

    Returns the new certificate and the serial of the replaced one when this call revoked
    it (as superseded); None when it was revoked or expired already.
    """
    now = now or dt.datetime.now(dt.UTC)
    actor = actor or UNNAMED
    with archive.unit_of_work() as uow:
        s = uow.session
        user = read_user(s, login)
        school = s.get(School, user.school_id)
        row = _locked_pki(s, user.school_id)
        root = open_root(row, ca_passphrase)
        old = x509.load_pem_x509_certificate(user.cert)
        old_serial = format(old.serial_number, "X")
        superseded = None
        if (_revoked_serial(s, user.school_id, old_serial) is None
                and now <= old.not_valid_after_utc):
            _revoke(uow, row, root, user, old, "superseded", _whole_second(now), actor)
            superseded = old_serial
        try:
            person = pki.issue_person(root, name=user.full_name, position=user.position,
                                      school=school.name, now=now, days=days)
            key = pki.encrypt_key(person.private_key, passphrase)
        except SigningError as exc:
            raise SignatureRefusedError(f"{login}: {exc.message}") from None
        user.cert, user.key = pki.pem(person.certificate), key
        new_serial = format(person.certificate.serial_number, "X")
        uow.audit(actor, "user.reissue", "user", login, chain=user.school_id,
                  details={"certificate": {"old": old_serial, "new": new_serial},
                           "valid_to": f"{person.certificate.not_valid_after_utc:%Y-%m-%d}"})
        return person.certificate, superseded


def revocation_list(archive, school_code: str | None  # noqa: ANN001
                    ) -> tuple[x509.CertificateRevocationList, list[Revoked]]:
    """The school's current revocation list and what it names (oldest first)."""
    with archive.sessions() as s:
        school = _school(s, school_code)
        row = s.get(SchoolPki, school.id)
        if row is None:
            raise NotFoundError("У школы нет корневого сертификата: сначала archive pki init.")
        found = s.execute(select(CertificateRevocation, SigningUser.login, SigningUser.full_name)
                          .join(SigningUser, SigningUser.id == CertificateRevocation.user_id)
                          .where(CertificateRevocation.school_id == school.id)
                          .order_by(CertificateRevocation.id)).all()
        return x509.load_der_x509_crl(row.crl), [
            Revoked(r.serial, login, name, r.reason, pki.REVOCATION_REASONS[r.reason][1],
                    r.revoked_at, r.revoked_by) for r, login, name in found]
