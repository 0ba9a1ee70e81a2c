"""Encrypted backups of the whole archive: keys, create, list, verify, restore, usage log.

The format is described in ``docs/backup-format.md``; the cryptography is in ``crypto``,
the database dump in ``dump``. A backup goes to a *target*: a directory (the external disk)
or an S3 prefix, opened with the same storage classes as the archive itself. On S3 every
object is written with an Object Lock (COMPLIANCE) retention, so the server refuses to delete
it before the backup's retention date.

Crash safety: the signed manifest is written last. A backup without a manifest is not a
backup (``list`` does not show it, ``verify`` and ``restore`` refuse it); its objects are
reused by the next run after their contents were checked.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import io
import json
import random
import secrets
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.backups import crypto, dump, subset
from archive_service.backups.crypto import BackupCryptoError, HolderKey
from archive_service.backups.models import Backup, BackupEvent, BackupKeyring
from archive_service.backups.subset import Selection
from archive_service.db import Archive, make_engine
from archive_service.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    StorageError,
    StorageObjectMissingError,
)
from archive_service.storage import Storage, open_storage, sha256_hex

FORMAT = "school-archive-backup/1"
DEFAULT_RETAIN_DAYS = 365
LOCK_MARGIN = dt.timedelta(days=60)  # objects stay locked this long past the backup's date
WORKERS = 4
AUDIT_CHAIN = 0  # backups concern the whole archive, not one school


class BackupError(IntegrityError):
    """A backup is incomplete, altered, forged, or does not open (message for people)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- keys ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Keyring:
    """The active keys as the writer needs them (no private key of a person)."""

    id: int
    director_public: bytes
    director_locked: dict[str, Any]
    escrow_public: bytes
    signing: Ed25519PrivateKey
    dedup_secret: bytes

    @property
    def signing_public(self) -> bytes:
        return self.signing.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)


def _keyring(row: BackupKeyring) -> Keyring:
    return Keyring(row.id, _unb64(row.director_public), json.loads(row.director_locked),
                   _unb64(row.escrow_public),
                   Ed25519PrivateKey.from_private_bytes(_unb64(row.signing_private)),
                   _unb64(row.dedup_secret))


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
            signing_private=_b64(signing.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption())),
            dedup_secret=_b64(secrets.token_bytes(32)))
        uow.session.add(row)
        _event(uow, actor, "", "keys.init", details={"escrow": _b64(escrow.public_bytes)[:12]})
    return _escrow_text(escrow, signing_public, school)


def rotate_keys(archive: Archive, *, director_code: str, new_director_code: str | None = None,
                new_escrow: bool = False, actor: Actor, school: str = "",
                scrypt_n: int = crypto.SCRYPT_N,
                _before_switch: Callable[[], None] | None = None) -> str | None:
    """Change the director's code and/or replace the escrow key.

    The new lock is written as a new keyring row, opened with the new code, and only then
    made active while the old row is retired, all in one transaction: if anything fails in
    between, the old code keeps working. Returns the new escrow sheet when one was made.
    Backups made earlier keep their own slots: the old escrow sheet still opens them, and
    the director's key pair itself does not change, so the new code opens them too.
    """
    current = active_keyring(archive)
    director = _unlock_director(current.director_locked, director_code, current.signing_public)
    escrow_public, sheet = current.escrow_public, None
    if new_escrow:
        escrow = HolderKey.generate()
        escrow_public = escrow.public_bytes
        sheet = _escrow_text(escrow, current.signing_public, school)
    code = new_director_code or director_code
    with archive.unit_of_work() as uow:
        old = uow.session.get(BackupKeyring, current.id, with_for_update=True)
        if not old.active:
            raise ConflictError("Ключи резервных копий только что изменены другим "
                                "пользователем: повторите.")
        locked = director.lock(code, n=scrypt_n, context=current.signing_public)
        new = BackupKeyring(
            created_at=_now(), created_by=actor.name, active=False,
            director_public=old.director_public, director_locked=json.dumps(locked),
            escrow_public=_b64(escrow_public), signing_public=old.signing_public,
            signing_private=old.signing_private, dedup_secret=old.dedup_secret)
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


def _unlock_director(locked: dict[str, Any], code: str, signing_public: bytes) -> HolderKey:
    try:
        holder = HolderKey.unlock(locked, code)
    except BackupCryptoError as exc:
        raise BackupError(exc.args[0]) from None
    if _unb64(locked.get("context", "")) != signing_public:
        raise BackupError("Ключ директора привязан к другому ключу подписи описи: копия "
                          "сделана не этим архивом или подменена.")
    return holder


# --- the usage log ---------------------------------------------------------------------------

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


# --- targets ---------------------------------------------------------------------------------

def open_target(url: str, *, create: bool = False) -> Storage:
    """A backup target: ``/path`` or ``file:///path`` (a disk) or ``s3://bucket/prefix?…``."""
    if "://" not in url:
        url = f"file://{Path(url).resolve()}"
    target = open_storage(url)
    if create and url.startswith("s3://"):
        target.ensure_bucket(object_lock=True)  # type: ignore[attr-defined]
    return target


def seal_disposal(session, record: dict[str, Any]) -> bytes:  # noqa: ANN001 - a Session
    """A disposal record signed with the backup manifest key (``record_disposal``)."""
    row = session.scalars(select(BackupKeyring).filter_by(active=True)).first()
    if row is None:
        raise NotFoundError("Ключи резервных копий не созданы («archive backup keys init»).")
    keys = _keyring(row)
    public = keys.signing.public_key().public_bytes_raw()
    return json.dumps(crypto.sign_manifest({**record, "keys": {"signing_public": _b64(public)}},
                                           keys.signing), ensure_ascii=False).encode()


def disposals_on(target: Storage, trusted: set[bytes]) -> list[dict[str, Any]]:
    """The executed acts recorded on a target, each checked against our signing keys.

    A record that does not verify is refused loudly: ignoring it would bring destroyed
    documents back."""
    out = []
    for name in sorted(target.keys("disposals/")):
        out.append(_check_manifest(json.loads(target.get(name)), trusted, name))
    return out


def _destroyed_keys(disposals: list[dict[str, Any]]) -> set[str]:
    return {k for d in disposals for t in d["tombstones"] for k in t["object_keys"]}


def _object_name(dedup_secret: bytes, sha256: str) -> str:
    oid = hmac.new(dedup_secret, b"object-id:" + sha256.encode(), hashlib.sha256).hexdigest()
    return f"data/{oid[:2]}/{oid}"


def _object_key(dedup_secret: bytes, name: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"object-key:" + name.encode()).derive(dedup_secret)


def _compressible(data: bytes) -> bool:
    """Whether zstd pays: tried on 16 KiB at the start, the middle and the end (deflated
    PDF streams do not shrink; the zero-padded signature containers, cross-reference tables
    and JSON snapshots do, wherever they sit in the file)."""
    if len(data) < 1024:
        return False
    step = 16384
    sample = b"".join(data[at:at + step] for at in
                      sorted({0, max(0, len(data) // 2 - step // 2), max(0, len(data) - step)}))
    return len(zstandard.ZstdCompressor(level=1).compress(sample)) < 0.95 * len(sample)


def _seal_object(key: bytes, data: bytes, *, backup_id: str, file_id: str) -> tuple[bytes, bool]:
    packed = _compressible(data)
    if packed:
        data = zstandard.ZstdCompressor(level=1).compress(data)
    return b"".join(crypto.seal_file(key, data, backup_id=backup_id, file_id=file_id)), packed


def _split(sealed: bytes) -> list[bytes]:
    """The sealed chunks of an object (each is nonce + ciphertext + 16-byte tag)."""
    step = crypto.NONCE + crypto.CHUNK_SIZE + 16
    return [sealed[i:i + step] for i in range(0, len(sealed), step)] or [b""]


def _open_object(key: bytes, sealed: bytes, *, backup_id: str, file_id: str,
                 packed: bool) -> bytes:
    data = crypto.open_file(key, _split(sealed), backup_id=backup_id, file_id=file_id)
    return zstandard.ZstdDecompressor().decompress(data, max_output_size=2**34) if packed \
        else data


# --- create ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupSummary:
    """What one ``backup create`` did."""

    id: str
    target: str
    files: int
    reused: int
    bytes_total: int
    bytes_written: int
    seconds: float


def _manifests(target: Storage, trusted: set[bytes]) -> Iterator[dict[str, Any]]:
    """The signed manifests on a target that one of our keys signed (newest last)."""
    for name in sorted(target.keys("backups/")):
        if name.endswith("/manifest.json"):
            try:
                yield _check_manifest(json.loads(target.get(name)), trusted, name)
            except (BackupError, ValueError, StorageError):
                continue


def _check_manifest(signed: dict[str, Any], trusted: set[bytes], name: str) -> dict[str, Any]:
    manifest = signed.get("manifest") or {}
    public = _unb64(manifest.get("keys", {}).get("signing_public", ""))
    if public not in trusted:
        raise BackupError(f"Опись {name} подписана не ключом этого архива: копия отвергнута.")
    try:
        return crypto.check_manifest(signed, Ed25519PublicKey.from_public_bytes(public))
    except BackupCryptoError as exc:
        raise BackupError(f"{name}: {exc}") from None


def create_backup(archive: Archive, *, target_url: str, actor: Actor,
                  retain_days: int = DEFAULT_RETAIN_DAYS,
                  progress: Callable[[int, int], None] | None = None) -> BackupSummary:
    """Back up the database and every stored object to the target."""
    started = _now()
    keys = active_keyring(archive)
    target = open_target(target_url, create=True)
    backup_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    retain_until = started + dt.timedelta(days=retain_days)
    lock_until = retain_until + LOCK_MARGIN
    locking = target.url.startswith("s3://")
    data_key = crypto.new_data_key()

    # What the target already holds, with hashes from manifests we signed.
    known: dict[str, dict[str, Any]] = {}
    for manifest in _manifests(target, {keys.signing_public}):
        for obj in manifest["objects"]:
            if obj["name"].startswith("data/"):
                known[obj["name"]] = obj
    present = {k: None for k in target.keys("data/")}

    prefix = f"backups/{backup_id}/"
    objects: list[dict[str, Any]] = []

    def put(name: str, sealed: bytes) -> dict[str, Any]:
        target.write(name, sealed, retain_until=lock_until if locking else None)
        return {"name": name, "size": len(sealed), "sha256": sha256_hex(sealed),
                **({"locked_until": lock_until.isoformat()} if locking else {})}

    files: list[dict[str, Any]] = []
    reused = 0
    written = bytes_total = 0

    def one(item: tuple[str, str, Callable[[], bytes]]
            ) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """One deduplicated object: (label, plaintext SHA-256, how to read the bytes)."""
        key, sha, read = item
        name = _object_name(keys.dedup_secret, sha)
        okey = _object_key(keys.dedup_secret, name)
        if name in known and name in present:
            entry = dict(known[name])
            if locking and entry.get("locked_until", "") < retain_until.isoformat():
                target.extend_retention(name, lock_until)
                entry["locked_until"] = lock_until.isoformat()
            return entry, {"key": key, "object": name, "sha256": sha,
                           "size": entry["plain_size"], "zstd": entry["zstd"],
                           "object_key": _b64(okey)}, True
        data = read()
        if sha256_hex(data) != sha:
            raise IntegrityError(f"Объект {key} архива не совпадает со своим хешем: резервная "
                                 "копия не сделана. Выполните проверку хранилища.")
        if name in present:  # left by an interrupted run: check it, then reuse it
            sealed = target.get(name)
            try:
                ok = _open_object(okey, sealed, backup_id="data", file_id=name,
                                  packed=_compressible(data)) == data
            except BackupCryptoError:
                ok = False
            if not ok:
                raise BackupError(f"На носителе {target.url} объект {name} испорчен и не может "
                                  "быть заменён: используйте другой носитель.")
            packed = _compressible(data)
            entry = {"name": name, "size": len(sealed), "sha256": sha256_hex(sealed)}
            if locking:
                target.extend_retention(name, lock_until)
                entry["locked_until"] = lock_until.isoformat()
            reuse = True
        else:
            sealed, packed = _seal_object(okey, data, backup_id="data", file_id=name)
            entry, reuse = put(name, sealed), False
        entry.update(plain_size=len(data), zstd=packed)
        return entry, {"key": key, "object": name, "sha256": sha, "size": len(data),
                       "zstd": packed, "object_key": _b64(okey)}, reuse

    def run(items: list, files_total: int = 0) -> list[dict[str, Any]]:
        """Store the items; ``files_total``: they are the archive's files (counted, shown)."""
        nonlocal reused, written, bytes_total
        out = []
        with ThreadPoolExecutor(WORKERS) as pool:
            for entry, file, was_reused in pool.map(one, items):
                objects.append(entry)
                out.append(file)
                bytes_total += file["size"]
                if not was_reused:
                    written += entry["size"]
                elif files_total:
                    reused += 1
                if progress and files_total:
                    progress(len(out), files_total)
        return out

    # A marker first, so that an interrupted run is recognisable on the medium as one.
    target.write(f"{prefix}started", dump._line({"backup": backup_id, "by": actor.name,
                                                  "at": started.isoformat()}),
                 retain_until=lock_until if locking else None)
    # Each object is made durable by the worker that wrote it (a disk's fsync overlaps the
    # other workers' encryption), all of them before the index and the manifest.
    with tempfile.TemporaryDirectory() as tmp:
        # 1. The database. SQLite: a consistent page copy (SQLite's online backup), cut into
        # 4 MiB pieces that are deduplicated like files, so an unchanged database costs
        # nothing to store again. PostgreSQL: the portable logical dump, sealed with this
        # backup's data key.
        if archive.engine.dialect.name == "sqlite":
            database = _sqlite_image(archive, Path(tmp) / "image.sqlite3", run)
        else:
            database = _dump_image(archive, Path(tmp) / "dump", data_key, backup_id, prefix,
                                   put, objects)
            written += sum(o["size"] for o in objects)
            bytes_total += database["size"]

        # 2. Every stored object, deduplicated by keyed name against the target.
        storage_keys = list(archive.storage.keys())
        files.extend(run([(k, k.rsplit("/", 1)[-1], functools.partial(archive.storage.get, k))
                          for k in storage_keys], len(storage_keys)))

    # 3. The private index (sealed with the data key), then the signed manifest, last.
    index = {"backup": backup_id, "files": files, "database": database}
    index_name = f"{prefix}index"
    sealed_index, index_packed = _seal_object(
        data_key, dump._line(index), backup_id=backup_id, file_id="index")
    objects.append(put(index_name, sealed_index))
    written += len(sealed_index)
    manifest = {
        "format": FORMAT, "backup": backup_id, "created_at": started.isoformat(),
        "created_by": actor.name, "retain_until": retain_until.isoformat(),
        "source": {"revision": _revision(archive), "dialect": archive.engine.dialect.name},
        "keys": {"signing_public": _b64(keys.signing_public),
                 "director_public": _b64(keys.director_public),
                 "escrow_public": _b64(keys.escrow_public),
                 "director_locked": keys.director_locked},
        "slots": [crypto.wrap(data_key, keys.director_public, backup_id=backup_id,
                              slot="director"),
                  crypto.wrap(data_key, keys.escrow_public, backup_id=backup_id, slot="escrow")],
        "index": {"name": index_name, "zstd": index_packed},
        "objects": objects,
        "totals": {"files": len(files), "bytes": bytes_total},
    }
    signed = crypto.sign_manifest(manifest, keys.signing)
    body = crypto.canonical(signed)
    target.write(f"{prefix}manifest.json", body,
                 retain_until=lock_until if locking else None)
    seconds = (_now() - started).total_seconds()
    with archive.unit_of_work() as uow:
        uow.session.add(Backup(id=backup_id, target=target.url, created_at=started,
                               created_by=actor.name, retain_until=retain_until,
                               files=len(files), bytes_total=bytes_total,
                               bytes_written=written, manifest_sha256=sha256_hex(body)))
        _event(uow, actor, backup_id, "create", medium=target.url,
               details={"files": len(files), "reused": reused, "bytes": bytes_total,
                        "written": written})
    return BackupSummary(backup_id, target.url, len(files), reused, bytes_total, written,
                         seconds)


def _sqlite_image(archive: Archive, path: Path, run: Callable) -> dict[str, Any]:
    """A consistent copy of the SQLite database, stored as deduplicated 4 MiB pieces."""
    import sqlite3

    source = archive.engine.raw_connection()
    try:
        copy = sqlite3.connect(path)
        source.driver_connection.backup(copy)
        copy.close()
    finally:
        source.close()
    size, whole = path.stat().st_size, hashlib.sha256()
    items = []
    with open(path, "rb") as fh:
        for i in range(max(1, -(-size // crypto.CHUNK_SIZE))):
            piece = fh.read(crypto.CHUNK_SIZE)
            whole.update(piece)
            items.append((f"database/{i:06d}", sha256_hex(piece),
                           functools.partial(_read_piece, path, i)))
    return {"kind": "sqlite", "size": size, "sha256": whole.hexdigest(),
            "revision": _revision(archive), "parts": run(items)}


def _read_piece(path: Path, index: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(index * crypto.CHUNK_SIZE)
        return fh.read(crypto.CHUNK_SIZE)


def _dump_image(archive: Archive, path: Path, data_key: bytes, backup_id: str, prefix: str,
                put: Callable, objects: list) -> dict[str, Any]:
    """The portable logical dump, zstd-compressed, in 4 MiB parts sealed with the data key."""
    plain_hash, size = hashlib.sha256(), 0

    class _Tee(io.RawIOBase):
        def __init__(self, out):  # noqa: ANN001
            self.out = out

        def write(self, b):  # noqa: ANN001
            nonlocal size
            plain_hash.update(b)
            size += len(b)
            return self.out.write(b)

    with open(path, "w+b") as raw:
        with zstandard.ZstdCompressor(level=1).stream_writer(raw, closefd=False) as zw:
            tables = dump.dump(archive.engine, _Tee(zw))
        total = raw.tell()
        raw.seek(0)
        count = max(1, -(-total // crypto.CHUNK_SIZE))
        parts = []
        for i in range(count):
            sealed = crypto.seal_chunk(data_key, raw.read(crypto.CHUNK_SIZE),
                                       backup_id=backup_id, file_id="dump", index=i,
                                       last=i == count - 1)
            parts.append(put(f"{prefix}dump-{i:06d}", sealed))
    objects.extend(parts)
    return {"kind": "dump", "parts": [p["name"] for p in parts], "sha256": plain_hash.hexdigest(),
            "size": size, "tables": tables}


def _revision(archive: Archive) -> str | None:
    with archive.engine.connect() as conn:
        return dump.alembic_revision(conn)


def list_backups(archive: Archive) -> list[Backup]:
    """Backups recorded in this archive, newest first."""
    with archive.sessions() as s:
        return list(s.scalars(select(Backup).order_by(Backup.created_at.desc())))


def backups_on_target(target_url: str) -> list[str]:
    """Ids of the complete backups (with a manifest) found on a target."""
    target = open_target(target_url)
    return sorted(name.split("/")[1] for name in target.keys("backups/")
                  if name.endswith("/manifest.json"))


# --- opening a backup ------------------------------------------------------------------------

@dataclass(frozen=True)
class Opener:
    """How to open a backup: the director's code or the escrow sheet (one of them)."""

    director_code: str | None = None
    escrow: EscrowKey | None = None


def _load_manifest(target: Storage, backup_id: str, trusted: set[bytes]) -> dict[str, Any]:
    name = f"backups/{backup_id}/manifest.json"
    if not target.exists(name):
        partial = any(True for _ in target.keys(f"backups/{backup_id}/"))
        if partial:
            raise BackupError(f"Резервная копия {backup_id} на {target.url} не завершена (нет "
                              "описи): её создание было прервано. Это не резервная копия; "
                              "сделайте новую.")
        raise NotFoundError(f"Резервной копии {backup_id} нет на {target.url}.")
    try:
        signed = json.loads(target.get(name))
    except ValueError:
        raise BackupError(f"Опись {name} повреждена: это не JSON.") from None
    return _check_manifest(signed, trusted, name)


def _trust(archive: Archive | None, opener: Opener | None) -> set[bytes]:
    trusted: set[bytes] = set()
    if archive is not None:
        trusted |= _trusted_signing_keys(archive)
    if opener is not None and opener.escrow is not None:
        trusted.add(opener.escrow.signing_public)
    return trusted


def _data_key(manifest: dict[str, Any], opener: Opener, extra_locks: list[dict]) -> bytes:
    backup_id = manifest["backup"]
    slots = {s["slot"]: s for s in manifest["slots"]}
    if opener.escrow is not None:
        return _unwrap(slots["escrow"], opener.escrow.holder, backup_id)
    if opener.director_code is None:
        raise BackupError("Чтобы открыть копию, нужен код директора или ключ восстановления.")
    signing_public = _unb64(manifest["keys"]["signing_public"])
    director_public = _unb64(manifest["keys"]["director_public"])
    last_error: BackupError | None = None
    for locked in [manifest["keys"]["director_locked"], *extra_locks]:
        if _unb64(locked.get("public", "")) != director_public:
            continue
        try:
            holder = _unlock_director(locked, opener.director_code, signing_public)
        except BackupError as exc:
            last_error = exc
            continue
        return _unwrap(slots["director"], holder, backup_id)
    raise last_error or BackupError("Ключ директора для этой копии не найден.")


def _unwrap(slot: dict[str, str], holder: HolderKey, backup_id: str) -> bytes:
    try:
        return crypto.unwrap(slot, holder, backup_id=backup_id)
    except BackupCryptoError as exc:
        raise BackupError(exc.args[0]) from None


def _fetch(target: Storage, obj: dict[str, Any]) -> bytes:
    try:
        data = target.get(obj["name"])
    except StorageObjectMissingError:
        raise BackupError(f"В резервной копии нет объекта {obj['name']}: он удалён с "
                          "носителя.") from None
    if len(data) != obj["size"] or sha256_hex(data) != obj["sha256"]:
        raise BackupError(f"Объект {obj['name']} резервной копии изменён (не совпадает с "
                          "подписанной описью).")
    return data


@dataclass
class OpenedBackup:
    """A backup whose manifest checked and whose data key opened."""

    target: Storage
    manifest: dict[str, Any]
    data_key: bytes
    index: dict[str, Any]
    dedup_names: dict[str, dict[str, Any]] = field(default_factory=dict)

    def file(self, entry: dict[str, Any]) -> bytes:
        """A stored object's plaintext, checked against its recorded SHA-256."""
        obj = self.dedup_names[entry["object"]]
        data = _open_or_refuse(_unb64(entry["object_key"]), _fetch(self.target, obj), backup_id="data",
                               file_id=entry["object"], packed=entry["zstd"])
        if sha256_hex(data) != entry["sha256"]:
            raise BackupError(f"Файл {entry['key']} из резервной копии не совпадает со своим "
                              "хешем.")
        return data

    def write_image(self, path: Path) -> None:
        """The SQLite database image, reassembled and checked against its hash."""
        database = self.index["database"]
        digest = hashlib.sha256()
        with open(path, "wb") as out:
            for part in database["parts"]:
                piece = self.file(part)
                digest.update(piece)
                out.write(piece)
        if digest.hexdigest() != database["sha256"]:
            raise BackupError("База данных из резервной копии не совпадает со своим хешем.")

    def dump_lines(self) -> Iterator[bytes]:
        """The database dump, decrypted and decompressed, checked against its hash."""
        parts = {o["name"]: o for o in self.manifest["objects"]}
        names = self.index["database"]["parts"]
        backup_id = self.manifest["backup"]

        def chunks() -> Iterator[bytes]:
            for i, name in enumerate(names):
                yield _open_chunk(self.data_key, _fetch(self.target, parts[name]),
                                  backup_id=backup_id, index=i, last=i == len(names) - 1)

        reader = zstandard.ZstdDecompressor().stream_reader(_Chunks(chunks()))
        digest = hashlib.sha256()
        buffer = io.BufferedReader(reader, buffer_size=1 << 20)
        for line in buffer:
            digest.update(line)
            yield line
        if digest.hexdigest() != self.index["database"]["sha256"]:
            raise BackupError("Дамп базы данных из резервной копии не совпадает со своим "
                              "хешем.")


def _open_or_refuse(key: bytes, sealed: bytes, **kw) -> bytes:
    try:
        return _open_object(key, sealed, **kw)
    except BackupCryptoError as exc:
        raise BackupError(exc.args[0]) from None


def _open_chunk(key: bytes, sealed: bytes, **kw) -> bytes:
    try:
        return crypto.open_chunk(key, sealed, file_id="dump", **kw)
    except BackupCryptoError as exc:
        raise BackupError(exc.args[0]) from None


class _Chunks(io.RawIOBase):
    """A file-like view of an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._rest = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._rest))
        buffer[:n], self._rest = self._rest[:n], self._rest[n:]
        return n


def open_backup(target_url: str, backup_id: str, opener: Opener, *,
                archive: Archive | None = None) -> OpenedBackup:
    """Check the manifest's signature, open the data key, decrypt the index."""
    target = open_target(target_url)
    trusted = _trust(archive, opener)
    if not trusted:
        raise BackupError("Нечем проверить подпись описи: в этой базе нет ключей резервных "
                          "копий. Укажите лист ключа восстановления (--escrow-key).")
    manifest = _load_manifest(target, backup_id, trusted)
    extra = []
    if archive is not None:
        # The backup's own copy of the director's lock (under the code of its day), and the
        # current lock: a changed code opens old backups, a retired code only the backups
        # made while it was current (their media cannot be rewritten).
        with archive.sessions() as s:
            extra = [json.loads(r) for r in s.scalars(
                select(BackupKeyring.director_locked).filter_by(active=True))]
    key = _data_key(manifest, opener, extra)
    objects = {o["name"]: o for o in manifest["objects"]}
    index_obj = objects[manifest["index"]["name"]]
    index = json.loads(_open_or_refuse(key, _fetch(target, index_obj), backup_id=backup_id,
                                       file_id="index", packed=manifest["index"]["zstd"]))
    if index.get("backup") != backup_id:
        raise BackupError(f"Опись копии {backup_id} указывает на чужое оглавление.")
    return OpenedBackup(target, manifest, key, index, objects)


# --- verify ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a verification at one level."""

    backup_id: str
    level: int
    objects_checked: int
    bytes_checked: int
    problems: list[str]
    details: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_backup(archive: Archive | None, *, target_url: str, backup_id: str, level: int,
                  actor: Actor, opener: Opener | None = None, share: float = 1.0,
                  seed: int | None = None, workdir: Path | None = None) -> VerifyReport:
    """Verify a backup: 1 objects present with the right sizes; 2 ciphertext hashes against
    the signed manifest (all, or a random ``share``); 3 full decrypt into a throwaway
    archive: plaintext hashes, every row, the audit chain, every document's signatures.
    Levels 1 and 2 need no key. The run is written to the usage log when ``archive`` is
    given."""
    if level not in (1, 2, 3):
        raise ConflictError("Уровень проверки: 1, 2 или 3.")
    target = open_target(target_url)
    problems: list[str] = []
    details: dict[str, Any] = {}
    checked = size = 0
    try:
        manifest = _load_manifest(target, backup_id, _trust(archive, opener))
        objects = manifest["objects"]
        if level == 1:
            for obj in objects:
                checked += 1
                try:
                    actual = target.size(obj["name"])
                except StorageObjectMissingError:
                    problems.append(f"нет объекта {obj['name']}")
                    continue
                size += actual
                if actual != obj["size"]:
                    problems.append(f"объект {obj['name']}: размер {actual}, по описи "
                                    f"{obj['size']}")
        elif level == 2:
            chosen = objects
            if share < 1.0:
                rng = random.Random(seed)
                chosen = rng.sample(objects, max(1, round(len(objects) * share)))

            def check(obj: dict[str, Any]) -> str | None:
                try:
                    _fetch(target, obj)
                except BackupError as exc:
                    return exc.message
                return None

            with ThreadPoolExecutor(WORKERS) as pool:
                for obj, problem in zip(chosen, pool.map(check, chosen), strict=True):
                    checked += 1
                    size += obj["size"]
                    if problem:
                        problems.append(problem)
        else:
            if opener is None:
                raise BackupError("Проверка уровня 3 расшифровывает копию: нужен код "
                                  "директора или ключ восстановления.")
            with tempfile.TemporaryDirectory(dir=workdir) as tmp:
                trial = _trial_archive(Path(tmp))
                try:
                    report = restore_backup(archive, target_url=target_url,
                                            backup_id=backup_id, opener=opener, into=trial,
                                            actor=actor, log=False, verify_signatures=True)
                finally:
                    trial.dispose()
                checked, size = report.files + len(report.tables), report.bytes
                problems.extend(report.problems)
                details = {"tables": len(report.tables), "documents": report.documents,
                           "signatures_ok": report.signatures_ok}
    except (BackupError, NotFoundError) as exc:
        problems.append(exc.message)
    result = VerifyReport(backup_id, level, checked, size, problems, details)
    if archive is not None:
        log_event(archive, backup_id=backup_id, action="verify", actor=actor,
                  medium=target.url, outcome="ok" if result.ok else "failed",
                  details={"level": level, "share": share, "objects": checked,
                           "problems": problems[:20]})
    return result


def _trial_archive(home: Path) -> Archive:
    from archive_service.config import Settings

    return Archive(Settings(home=home, database_url=f"sqlite:///{home / 'trial.sqlite3'}",
                            storage_url=f"file://{home / 'objects'}"))


# --- restore ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestoreReport:
    """What a restore put back, and whether it all matches the backup's manifest."""

    backup_id: str
    files: int
    bytes: int
    tables: dict[str, int]
    documents: int
    audit_entries: int
    signatures_ok: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def restore_backup(archive: Archive | None, *, target_url: str, backup_id: str, opener: Opener,
                   into: Archive, actor: Actor, overwrite: bool = False, log: bool = True,
                   verify_signatures: bool = False, selection: Selection | None = None
                   ) -> RestoreReport:
    """Restore a whole backup (or a selected school, year or document: ``subset.py``) into an
    empty database and storage, then prove it matches.

    ``archive``: the live archive whose keys are trusted and whose usage log records the
    restore (None on a fresh machine: the escrow sheet then vouches for the manifest).
    A database or storage that already holds anything is refused unless ``overwrite`` (the
    database's rows must still be gone: an existing archive is never merged into).
    """
    opened = open_backup(target_url, backup_id, opener, archive=archive)
    disposals = disposals_on(opened.target, _trust(archive, opener))
    destroyed = _destroyed_keys(disposals)
    if not overwrite:
        if not dump.is_empty(into.engine) or any(True for _ in into.storage.keys()):
            raise ConflictError(
                "Восстановление отменено: в указанной базе данных или хранилище уже есть "
                "данные. Восстанавливайте в пустые (новая база, пустой каталог) — действующий "
                "архив так не перезаписывается.")
    if not dump.is_empty(into.engine):
        raise ConflictError("Восстановление отменено: в базе данных уже есть записи архива; "
                            "создайте пустую базу данных.")
    # Objects first, then the database; on any failure the objects written are removed
    # again, so a refused backup leaves the target as empty as it was.
    database = opened.index["database"]
    written: list[str] = []
    expected: dict[str, dict[str, Any]] | None = database.get("tables")
    only: set[str] | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if selection is not None:  # a school, year or document: the dump, filtered
                only, subset_dump, revision = _select(opened, Path(tmp), selection)
                files, size = _restore_files(opened, into, written, destroyed, only)
                with open(subset_dump, "rb") as fh:
                    expected = _load_dump(into, revision, iter(fh))
            elif database["kind"] == "sqlite":
                files, size = _restore_files(opened, into, written, destroyed)
                image = Path(tmp) / "image.sqlite3"
                opened.write_image(image)
                if into.engine.dialect.name == "sqlite":
                    _place_sqlite(image, into, database["sha256"])
                else:  # SQLite archive into PostgreSQL: through the portable dump
                    source = make_engine(f"sqlite:///{image}")
                    try:
                        expected = _load_dump(into, database["revision"], _dump_lines(
                            source, Path(tmp) / "dump"))
                    finally:
                        source.dispose()
            else:
                files, size = _restore_files(opened, into, written, destroyed)
                _load_dump(into, opened.manifest["source"]["revision"], opened.dump_lines())
    except BaseException:
        for key in written:
            into.storage.delete(key)
        raise
    _migrate(into, "head")
    counts = _counts(into)
    report = _check_restored(opened, into, counts, files, size, verify_signatures, expected,
                             destroyed, only)
    if disposals:
        from archive_service.disposition.restore import apply_disposals

        apply_disposals(into, disposals)
    # The retention locks are the storage's, not the backup's: set them again.
    from archive_service.disposition.service import lock_new_objects

    with into.sessions() as s:
        from archive_service.rendering.models import RenderedDocument

        lock_new_objects(into, document_ids=list(s.scalars(select(RenderedDocument.id))))
    if archive is not None and log:
        log_event(archive, backup_id=backup_id, action="restore", actor=actor,
                  medium=opened.target.url, outcome="ok" if report.ok else "failed",
                  details={"into": into.settings.database_url.split("@")[-1],
                           "files": files, "problems": report.problems[:20],
                           "selection": selection.describe() if selection else "вся копия"})
    return report


def _select(opened: OpenedBackup, tmp: Path, selection: Selection
            ) -> tuple[set[str], Path, str | None]:
    """The selected part of the backup's database as a dump file, the storage keys its rows
    name, and the schema revision (``subset.py`` explains the rules)."""
    database = opened.index["database"]
    if database["kind"] == "sqlite":
        image = tmp / "image.sqlite3"
        opened.write_image(image)
        source = make_engine(f"sqlite:///{image}")
        revision = database["revision"]

        def lines() -> Iterator[bytes]:
            return _dump_lines(source, tmp / "dump")
    else:
        source = None
        revision = opened.manifest["source"]["revision"]

        def lines() -> Iterator[bytes]:
            return opened.dump_lines()
    try:
        found = subset.roots(lines(), selection)
        keys: set[str] = set()
        out = tmp / "subset"
        with open(out, "wb") as fh:
            for line in subset.select_lines(lines(), found, selection, subset.foreign_keys(),
                                            keys):
                fh.write(line)
    finally:
        if source is not None:
            source.dispose()
    return keys, out, revision


def _place_sqlite(image: Path, into: Archive, sha256: str) -> None:
    """Put the database image in place of the (empty) target database file, byte for byte."""
    import shutil

    path = Path(into.engine.url.database)
    into.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(image, path)
    with open(path, "rb") as fh:
        if hashlib.file_digest(fh, "sha256").hexdigest() != sha256:
            raise BackupError(f"База данных {path} после восстановления не совпадает с копией.")


def _dump_lines(engine, path: Path) -> Iterator[bytes]:  # noqa: ANN001
    with open(path, "w+b") as fh:
        dump.dump(engine, fh)
        fh.seek(0)
        yield from fh


def _load_dump(into: Archive, revision: str | None, lines: Iterator[bytes]
               ) -> dict[str, dict[str, Any]]:
    """Migrate the empty database to the dump's schema and load the rows; returns the
    per-table digests of the source as the dump carried them."""
    _migrate(into, revision)
    dump.read_header([next(lines)])
    tables: dict[str, dict[str, Any]] = {}
    dump.load(into.engine, _digesting(lines, tables))
    return tables


def _digesting(lines: Iterator[bytes], tables: dict[str, dict[str, Any]]) -> Iterator[bytes]:
    """Pass dump lines through while computing each table's row count and digest."""
    current, digest, rows = None, None, 0
    for line in lines:
        if line.startswith(b"{"):
            if current is not None:
                tables[current] = {"rows": rows, "sha256": digest.hexdigest()}
            current, digest, rows = json.loads(line)["table"], hashlib.sha256(), 0
        else:
            digest.update(line)
            rows += 1
        yield line
    if current is not None:
        tables[current] = {"rows": rows, "sha256": digest.hexdigest()}


def _counts(into: Archive) -> dict[str, int]:
    from sqlalchemy import func

    with into.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in dump.tables()}


def _migrate(into: Archive, revision: str | None) -> None:
    from alembic import command

    from archive_service.db import alembic_config

    cfg = alembic_config(into.engine.url.render_as_string(hide_password=False))
    with into.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision or "head")


def _restore_files(opened: OpenedBackup, into: Archive, written: list[str],
                   destroyed: set[str], only: set[str] | None = None) -> tuple[int, int]:
    """Every file of the backup (or those in ``only``) except those destroyed under an
    executed act."""
    entries = [e for e in opened.index["files"] if e["key"] not in destroyed
               and (only is None or e["key"] in only)]

    def one(entry: dict[str, Any]) -> int:
        data = opened.file(entry)
        if into.storage.exists(entry["key"]):
            return len(data)
        if into.storage.put(data) != entry["key"]:
            raise BackupError(f"Файл {entry['key']} восстановлен под другим ключом.")
        written.append(entry["key"])
        return len(data)

    with into.storage.batch(), ThreadPoolExecutor(WORKERS) as pool:
        sizes = list(pool.map(one, entries))
    return len(entries), sum(sizes)


def _check_restored(opened: OpenedBackup, into: Archive, counts: dict[str, int], files: int,
                    size: int, verify_signatures: bool,
                    expected: dict[str, dict[str, Any]] | None,
                    destroyed: set[str], only: set[str] | None = None) -> RestoreReport:
    """Compare what was restored with the backup. A database restored through the dump is
    compared row by row (per-table digests); a SQLite image was already compared byte for
    byte with the image's hash in the signed index."""
    from archive_service.audit.service import verify as verify_audit

    problems: list[str] = []
    if expected is not None:
        now = dump.table_digests(into.engine)
        for table, want in expected.items():
            got = now.get(table)
            if got is None:
                problems.append(f"таблица {table} не восстановлена")
            elif got != want:
                problems.append(f"таблица {table}: строк {got['rows']} (в копии "
                                f"{want['rows']}), содержимое отличается")
    # Each file's bytes were checked against their SHA-256 before they were written under
    # the key derived from it; here: every file is in the storage with its size.
    for entry in opened.index["files"]:
        key = entry["key"]
        if key in destroyed or (only is not None and key not in only):
            continue  # destroyed under an act, or outside the selection: left out on purpose
        try:
            if into.storage.size(key) != entry["size"]:
                problems.append(f"файл {key} восстановлен не полностью")
        except StorageObjectMissingError:
            problems.append(f"файл {key} не восстановлен")
    # Every audit entry is compared with the backup through its table's digest above; the
    # deep check (level 3) also recomputes the hash chain and verifies every signature.
    audited = counts.get("audit_entry", 0)
    documents = signatures_ok = 0
    if verify_signatures:
        _checked, audit_problems = verify_audit(into)
        problems.extend(f"журнал аудита: {p.message}" for p in audit_problems)
        documents, signatures_ok, sig_problems = _verify_documents(into, destroyed)
        problems.extend(sig_problems)
    return RestoreReport(opened.manifest["backup"], files, size, counts, documents, audited,
                         signatures_ok, problems)


def _verify_documents(into: Archive, destroyed: set[str] = frozenset()
                      ) -> tuple[int, int, list[str]]:
    """Re-verify the signatures of every signed document of a restored archive (except those
    destroyed under an executed act, whose files were left out)."""
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import SignatureRecord
    from archive_service.signatures.service import verify_document

    with into.sessions() as s:
        from archive_service.disposition.models import Tombstone

        gone = set(s.scalars(select(RenderedDocument.id).where(
            RenderedDocument.storage_key.in_(destroyed)))) if destroyed else set()
        gone |= set(s.scalars(select(Tombstone.document_id).where(
            Tombstone.document_id.is_not(None))))
        signed = sorted(set(s.scalars(select(SignatureRecord.document_id))) - gone)
        numbers = dict(s.execute(select(RenderedDocument.id, RenderedDocument.number)).all())
    problems, ok = [], 0
    for doc_id in signed:
        try:
            result = verify_document(into, doc_id)
        except Exception as exc:  # noqa: BLE001 - reported per document
            problems.append(f"документ {numbers.get(doc_id, doc_id)}: не проверен ({exc})")
            continue
        if result.ok:
            ok += 1
        else:
            problems.append(f"документ {numbers.get(doc_id, doc_id)}: подписи не проходят "
                            "проверку")
    return len(signed), ok, problems
