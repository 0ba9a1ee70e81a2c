"""The usage log of backups (who made, copied, handed over, verified, restored which copy),
certified with signatures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.backups.common import AUDIT_CHAIN, _b64, _now, _unb64
from archive_service.backups.models import Backup, BackupEvent
from archive_service.db import Archive
from archive_service.errors import (
    ConflictError,
    NotFoundError,
)

# --- the usage log ---------------------------------------------------------------------------

def list_backups(archive: Archive) -> list[Backup]:
    """Backups recorded in this archive, newest first."""
    with archive.sessions() as s:
        return list(s.scalars(select(Backup).order_by(Backup.created_at.desc())))


def _event(uow, actor: Actor, backup_id: str, action: str, *, medium: str = "",
           handed_by: str = "", received_by: str = "", outcome: str = "ok",
           details: dict | None = None) -> BackupEvent:
    details = details or {}
    event = BackupEvent(
        backup_id=backup_id, at=_now(), action=action, actor=actor.name, role=actor.role,
        medium=medium, handed_by=handed_by, received_by=received_by, outcome=outcome,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str))
    uow.session.add(event)
    uow.audit(actor, f"backup.{action}", "backup", backup_id or "keys", chain=AUDIT_CHAIN,
              details={"medium": medium, "handed_by": handed_by, "received_by": received_by,
                       "outcome": outcome, **details})
    return event


def log_event(archive: Archive, *, backup_id: str, action: str, actor: Actor, medium: str = "",
              handed_by: str = "", received_by: str = "", outcome: str = "ok",
              details: dict | None = None) -> None:
    """Append a line to the backup usage log (and the audit trail)."""
    with archive.unit_of_work() as uow:
        _event(uow, actor, backup_id, action, medium=medium, handed_by=handed_by,
               received_by=received_by, outcome=outcome, details=details)


def event_text(e: BackupEvent) -> bytes:
    """The canonical text of a usage-log line: what a person's signature certifies."""
    at = e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)
    return json.dumps({"id": e.id, "backup": e.backup_id, "at": at.astimezone(dt.UTC).strftime(
        "%Y-%m-%d %H:%M:%S.%f"), "action": e.action, "actor": e.actor, "role": e.role,
        "medium": e.medium, "handed_by": e.handed_by, "received_by": e.received_by,
        "outcome": e.outcome, "details": json.loads(e.details or "{}")},
        ensure_ascii=False, sort_keys=True).encode()


@dataclass(frozen=True)
class Certification:
    """A person's certification of a log line, checked now."""

    full_name: str
    login: str
    valid: bool


def _certify(s, event: BackupEvent, login: str, passphrase: str) -> None:  # noqa: ANN001
    """Sign a log line with the person's key from the school PKI (refused clearly)."""
    from cryptography import x509

    from archive_service.backups.models import BackupEventCertificate
    from archive_service.errors import SignatureRefusedError
    from archive_service.signatures.models import SigningUser
    from signing import pki
    from signing.errors import SigningError

    user = s.scalars(select(SigningUser).filter_by(login=login)).one_or_none()
    if user is None:
        raise NotFoundError(f"Пользователь «{login}» не найден: заверяет запись участник с "
                            "ключом подписи (archive user add).")
    try:
        key = pki.decrypt_key(user.key, passphrase, owner=user.full_name)
    except SigningError as exc:
        raise SignatureRefusedError(exc.message + " Запись в журнал не сделана.") from None
    s.flush()  # the line's id is part of what is signed
    s.add(BackupEventCertificate(
        event_id=event.id, login=login, full_name=user.full_name,
        cert_sha256=hashlib.sha256(pki.pem(x509.load_pem_x509_certificate(user.cert)))
        .hexdigest(), signature=_b64(pki.sign_bytes(key, event_text(event))),
        signed_at=_now()))


def certifications(archive: Archive, events: list[BackupEvent]
                   ) -> dict[int, list[Certification]]:
    """Each line's certifications, every signature verified against the signer's
    certificate now (a changed line or a forged signature shows as not valid)."""
    from cryptography import x509

    from archive_service.backups.models import BackupEventCertificate
    from archive_service.signatures.models import SigningUser
    from signing import pki

    by_id = {e.id: e for e in events}
    out: dict[int, list[Certification]] = {}
    with archive.sessions() as s:
        certs = {u.login: u.cert for u in s.scalars(select(SigningUser))}
        for c in s.scalars(select(BackupEventCertificate).order_by(BackupEventCertificate.id)):
            event = by_id.get(c.event_id)
            if event is None:
                continue
            pem = certs.get(c.login)
            cert = x509.load_pem_x509_certificate(pem) if pem else None
            valid = cert is not None and hashlib.sha256(pki.pem(cert)).hexdigest() == \
                c.cert_sha256 and pki.verify_bytes(cert, event_text(event), _unb64(c.signature))
            out.setdefault(c.event_id, []).append(Certification(c.full_name, c.login, valid))
    return out


def record_copy(archive: Archive, *, backup_id: str, medium: str, handed_by: str,
                received_by: str, actor: Actor, certify: tuple[str, str] | None = None) -> None:
    """A backup written to a medium and handed over (seed 004: the secretary keeps the log
    and the safe): which disk, who handed it over, who received it. ``certify`` (login,
    passphrase): the person responsible signs the line with their key."""
    with archive.sessions() as s:
        if s.get(Backup, backup_id) is None:
            raise NotFoundError(f"Резервной копии {backup_id} нет в архиве "
                                "(«archive backup list»).")
    for name, value in (("носитель", medium), ("кто передал", handed_by),
                        ("кто принял", received_by)):
        if not value.strip():
            raise ConflictError(f"Не указано: {name}. Запись в журнал не сделана.")
    with archive.unit_of_work() as uow:
        event = _event(uow, actor, backup_id, "copy", medium=medium, handed_by=handed_by,
                       received_by=received_by)
        if certify is not None:
            _certify(uow.session, event, *certify)


def usage_log(archive: Archive, *, backup_id: str | None = None) -> list[BackupEvent]:
    """The backup usage log, oldest first."""
    with archive.sessions() as s:
        q = select(BackupEvent).order_by(BackupEvent.id)
        if backup_id:
            q = q.where(BackupEvent.backup_id == backup_id)
        return list(s.scalars(q))


