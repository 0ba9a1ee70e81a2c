"""Backup keys: the director's code and the escrow sheet that open every backup, rotation."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.backups import crypto
from archive_service.backups.common import BackupError, _b64, _now, _unb64
from archive_service.backups.crypto import BackupCryptoError, HolderKey
from archive_service.backups.log import _event
from archive_service.backups.models import BackupKeyring
from archive_service.db import Archive
from archive_service.errors import (
    ConflictError,
    NotFoundError,
)

# --- keys ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Keyring:
    """The active keys as the writer needs them (no private key of a person)."""

    id: int
    director_public: bytes
    director_locked: dict[str, Any]
    escrow_public: bytes
    signing_public: bytes
    signing_private: Ed25519PrivateKey | None  # None in a restored archive (never backed up)

    @property
    def signing(self) -> Ed25519PrivateKey:
        """The manifest key; refused in an archive restored from a backup, which carries it
        blank, until the director makes new keys."""
        if self.signing_private is None:
            raise BackupError(
                "Ключ подписи описей резервных копий не переносится резервными копиями, а этот "
                "архив восстановлен из копии: директору нужно выполнить «archive backup keys "
                "rotate --director-passphrase-file … --new-escrow-out …» (новый ключ подписи и "
                "новый лист ключа восстановления).")
        return self.signing_private


def _keyring(row: BackupKeyring) -> Keyring:
    private = Ed25519PrivateKey.from_private_bytes(_unb64(row.signing_private)) \
        if row.signing_private else None
    return Keyring(row.id, _unb64(row.director_public), json.loads(row.director_locked),
                   _unb64(row.escrow_public), _unb64(row.signing_public), private)


def active_keyring(archive: Archive) -> Keyring:
    """The active backup keys; a clear message when ``keys init`` was never run."""
    with archive.sessions() as s:
        row = s.scalars(select(BackupKeyring).filter_by(active=True)).first()
    if row is None:
        raise NotFoundError("Ключи резервных копий не созданы: директору нужно выполнить "
                            "«archive backup keys init».")
    return _keyring(row)


def _trusted_signing_keys(archive: Archive) -> set[bytes]:
    with archive.sessions() as s:
        return {_unb64(k) for k in s.scalars(select(BackupKeyring.signing_public))}


def _escrow_text(escrow: HolderKey, signing_public: bytes, school: str) -> str:
    fingerprint = hashlib.sha256(signing_public).hexdigest()
    return (
        "КЛЮЧ ВОССТАНОВЛЕНИЯ РЕЗЕРВНЫХ КОПИЙ АРХИВА ЭЛЕКТРОННЫХ ЖУРНАЛОВ\n"
        f"{school}\n\n"
        "Хранить в сейфе. Открывает любую резервную копию, сделанную с этим ключом, без кода\n"
        "директора. Кто владеет этим листом, может прочитать резервные копии.\n\n"
        f"Ключ: {escrow.to_paper()}\n"
        f"Ключ подписи описи: {_b64(signing_public)}\n"
        f"Отпечаток ключа подписи: {fingerprint[:16]}\n")


@dataclass(frozen=True)
class EscrowKey:
    """The escrow key as read back from its printed sheet."""

    holder: HolderKey
    signing_public: bytes

    @classmethod
    def parse(cls, text: str, *, source: str = "ключ восстановления") -> EscrowKey:
        values = {}
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep:
                values[name.strip()] = value.strip()
        if "Ключ" not in values or "Ключ подписи описи" not in values:
            raise BackupError(f"{source}: это не лист ключа восстановления (нет строк «Ключ:» "
                              "и «Ключ подписи описи:»).")
        try:
            holder = HolderKey.from_paper(values["Ключ"])
            signing = base64.b64decode(values["Ключ подписи описи"], validate=True)
        except (BackupCryptoError, ValueError) as exc:
            raise BackupError(f"{source}: {exc}") from None
        return cls(holder, signing)


def init_keys(archive: Archive, *, director_code: str, actor: Actor, school: str = "",
              scrypt_n: int = crypto.SCRYPT_N) -> str:
    """Create the backup keys once; returns the escrow sheet's text (print it, keep it in
    the safe: it is shown only now)."""
    with archive.sessions() as s:
        if s.scalars(select(BackupKeyring)).first() is not None:
            raise ConflictError("Ключи резервных копий уже созданы. Сменить код директора или "
                                "ключ восстановления: «archive backup keys rotate».")
    director, escrow, signing = HolderKey.generate(), HolderKey.generate(), \
        crypto.new_signing_key()
    signing_public = signing.public_key().public_bytes(serialization.Encoding.Raw,
                                                       serialization.PublicFormat.Raw)
    locked = director.lock(director_code, n=scrypt_n, context=signing_public)
    with archive.unit_of_work() as uow:
        row = BackupKeyring(
            created_at=_now(), created_by=actor.name, active=True,
            director_public=_b64(director.public_bytes), director_locked=json.dumps(locked),
            escrow_public=_b64(escrow.public_bytes), signing_public=_b64(signing_public),
            signing_private=_private_text(signing), dedup_secret="")
        uow.session.add(row)
        _event(uow, actor, "", "keys.init", details={"escrow": _b64(escrow.public_bytes)[:12]})
    return _escrow_text(escrow, signing_public, school)


def _private_text(signing: Ed25519PrivateKey) -> str:
    return _b64(signing.private_bytes(serialization.Encoding.Raw,
                                      serialization.PrivateFormat.Raw,
                                      serialization.NoEncryption()))


def rotate_keys(archive: Archive, *, director_code: str, new_director_code: str | None = None,
                new_escrow: bool = False, actor: Actor, school: str = "",
                scrypt_n: int = crypto.SCRYPT_N,
                _before_switch: Callable[[], None] | None = None) -> str | None:
    """Change the director's code and/or replace the escrow key.

    The new lock is written as a new keyring row, opened with the new code, and only then
    made active while the old row is retired, all in one transaction: if anything fails in
    between, the old code keeps working. Returns the new escrow sheet when one was made.
    Every change makes a new director key pair (issue 30: a change must shut out the old
    code): later backups are wrapped for it alone, and the retired pairs are locked with it,
    so the current code still opens earlier backups while a retired code, through the lock
    each backup keeps of its day, opens only the backups made while it was current. With a
    new escrow key, later backups have a slot for it only; the old sheet still opens the
    backups made with it. Objects already on a medium are not reused across a change
    (``create``): they are wrapped for the retired keys.

    In an archive restored from a backup the manifest key is missing (it never goes into a
    backup); the change then makes a new one, and because the escrow sheet prints the
    manifest key, a new escrow sheet is required too.
    """
    current = active_keyring(archive)
    holders = _unlock_director(current.director_locked, director_code, current.signing_public)
    signing_public, signing_private = current.signing_public, None
    if current.signing_private is None:
        if not new_escrow:
            raise BackupError(
                "Этот архив восстановлен из резервной копии, а ключ подписи описей в копии не "
                "переносится: вместе с кодом нужен новый лист ключа восстановления "
                "(--new-escrow-out), на котором будет напечатан новый ключ подписи.")
        signing = crypto.new_signing_key()
        signing_private = _private_text(signing)
        signing_public = signing.public_key().public_bytes(serialization.Encoding.Raw,
                                                           serialization.PublicFormat.Raw)
    escrow_public, sheet = current.escrow_public, None
    if new_escrow:
        escrow = HolderKey.generate()
        escrow_public = escrow.public_bytes
        sheet = _escrow_text(escrow, signing_public, school)
    code = new_director_code or director_code
    director = HolderKey.generate()
    with archive.unit_of_work() as uow:
        old = uow.session.get(BackupKeyring, current.id, with_for_update=True)
        if not old.active:
            raise ConflictError("Ключи резервных копий только что изменены другим "
                                "пользователем: повторите.")
        locked = director.lock(code, n=scrypt_n, context=signing_public,
                               earlier=tuple(holders))
        new = BackupKeyring(
            created_at=_now(), created_by=actor.name, active=False,
            director_public=_b64(director.public_bytes), director_locked=json.dumps(locked),
            escrow_public=_b64(escrow_public), signing_public=_b64(signing_public),
            signing_private=signing_private or old.signing_private, dedup_secret="")
        uow.session.add(new)
        uow.session.flush()
        if _before_switch is not None:
            _before_switch()
        # The new slot must open with the new code before the old one is retired.
        if HolderKey.unlock(locked, code).public_bytes != director.public_bytes:
            raise BackupError("Новая ячейка ключа не открылась: код не изменён.")
        old.active, new.active = False, True
        _event(uow, actor, "", "keys.rotate",
               details={"code_changed": new_director_code is not None, "new_escrow": new_escrow})
    return sheet


def _unlock_director(locked: dict[str, Any], code: str, signing_public: bytes
                     ) -> list[HolderKey]:
    """The director's key pairs in a lock (current first), the lock checked to vouch for
    ``signing_public``."""
    try:
        holders = HolderKey.unlock_all(locked, code)
    except BackupCryptoError as exc:
        raise BackupError(exc.args[0]) from None
    if _unb64(locked.get("context", "")) != signing_public:
        raise BackupError("Ключ директора привязан к другому ключу подписи описи: копия "
                          "сделана не этим архивом или подменена.")
    return holders


