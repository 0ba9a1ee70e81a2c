"""Opening a backup: the manifest checked against trusted keys, the data key from the
director's or the escrow slot.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import select

from archive_service.backups import crypto, erasure
from archive_service.backups.common import BackupError, _unb64
from archive_service.backups.crypto import BackupCryptoError, HolderKey
from archive_service.backups.keys import EscrowKey, _trusted_signing_keys, _unlock_director
from archive_service.backups.models import BackupKeyring
from archive_service.backups.objects import _check_manifest, _open_object, open_target
from archive_service.db import Archive
from archive_service.errors import (
    NotFoundError,
    StorageObjectMissingError,
)
from archive_service.storage import Storage, sha256_hex

# --- opening a backup ------------------------------------------------------------------------

@dataclass(frozen=True)
class Opener:
    """How to open a backup: the director's code or the escrow sheet (one of them)."""

    director_code: str | None = None
    escrow: EscrowKey | None = None


def _load_manifest(target: Storage, backup_id: str, trusted: set[bytes],
                   opener: Opener | None = None) -> dict[str, Any]:
    """The backup's manifest once its signature checked; see ``_vouched``."""
    return _vouched(target, backup_id, trusted, opener)[0]


def _vouched(target: Storage, backup_id: str, trusted: set[bytes], opener: Opener | None
             ) -> tuple[dict[str, Any], list[HolderKey] | None]:
    """The manifest, checked, and the director's keys when the code vouched for it.

    The manifest key is trusted when it is one of the live archive's, printed on the
    escrow sheet, or bound to the director's lock in this very manifest that opens with
    the director's code (issue 30: the code alone restores on a new machine). Each refusal
    says its own cause: no key to check with, a wrong code, a key that is not the school's,
    a changed manifest, a manifest moved from another backup's folder.
    """
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
        keys = signed["manifest"]["keys"]
        public = _unb64(keys["signing_public"])
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"Опись {name} повреждена: это не опись резервной копии.") from None
    holders = None
    if public not in trusted and opener is not None and opener.director_code is not None:
        # A fresh machine: the director's lock in the manifest vouches for its key.
        holders = _unlock_director(keys.get("director_locked") or {}, opener.director_code,
                                   public)
        trusted = trusted | {public}
    if not trusted:
        raise BackupError("Нечем проверить подпись описи: в этой базе нет ключей резервных "
                          "копий. Укажите код директора (--director-passphrase-file) или лист "
                          "ключа восстановления (--escrow-key).")
    if public not in trusted:
        whose = "не тем, что напечатан на листе ключа восстановления" \
            if opener is not None and opener.escrow is not None else "не ключом этого архива"
        raise BackupError(f"Опись {name} подписана {whose}: копия отвергнута. Если ключи "
                          "менялись, возьмите лист ключа восстановления того времени или "
                          "код директора.")
    manifest = _check_manifest(signed, {public}, name)
    if manifest.get("backup") != backup_id:
        raise BackupError(f"Опись {name} принадлежит другой резервной копии "
                          f"({manifest.get('backup')}): её переложили из чужой папки; копия "
                          "отвергнута.")
    return manifest, holders


def _trust(archive: Archive | None, opener: Opener | None) -> set[bytes]:
    trusted: set[bytes] = set()
    if archive is not None:
        trusted |= _trusted_signing_keys(archive)
    if opener is not None and opener.escrow is not None:
        trusted.add(opener.escrow.signing_public)
    return trusted


def _data_key(manifest: dict[str, Any], opener: Opener, extra_locks: list[dict],
              vouched: list[HolderKey] | None = None) -> tuple[bytes, crypto.ObjectUnwrapper]:
    """The backup's data key, and how to unwrap its objects' keys, from the escrow slot
    or the director's (the director's keys from the manifest's own lock, under the code of
    its day, or the live archive's lock, which holds the retired keys too)."""
    backup_id = manifest["backup"]
    slots = {s["slot"]: s for s in manifest["slots"]}
    if opener.escrow is not None:
        holder = opener.escrow.holder
        return _unwrap(slots["escrow"], holder, backup_id), crypto.ObjectUnwrapper(holder,
                                                                                   "escrow")
    if opener.director_code is None:
        raise BackupError("Чтобы открыть копию, нужен код директора или ключ восстановления.")
    signing_public = _unb64(manifest["keys"]["signing_public"])
    director_public = _unb64(manifest["keys"]["director_public"])
    errors: list[BackupError] = []
    candidates = [vouched] if vouched is not None else []
    own = manifest["keys"]["director_locked"]
    locks = ([] if vouched is not None else [(own, signing_public)]) + [
        (lock, _unb64(lock.get("context", ""))) for lock in extra_locks if lock != own]
    for locked, vouches_for in locks:
        try:
            candidates.append(_unlock_director(locked, opener.director_code, vouches_for))
        except BackupError as exc:
            errors.append(exc)
    for holders in candidates:
        for holder in holders:
            if holder.public_bytes == director_public:
                return (_unwrap(slots["director"], holder, backup_id),
                        crypto.ObjectUnwrapper(holder, "director"))
    if candidates:
        raise BackupError(f"Код директора верен, но копия {backup_id} сделана с другим ключом "
                          "директора (ключи менялись после неё другим кодом): откройте её "
                          "кодом того времени или листом ключа восстановления.")
    raise errors[0] if errors else BackupError("Ключ директора для этой копии не найден.")


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
    unwrapper: crypto.ObjectUnwrapper | None = None
    shares: dict[str, list[bytes]] = field(default_factory=dict)

    def _keys(self, entry: dict[str, Any]) -> list[bytes]:
        """The candidate keys of an entry's object: its wrapped secret with each erasure
        share found on the medium (format /1: the key itself, in the sealed index)."""
        if "object_key" in entry:
            return [_unb64(entry["object_key"])]
        try:
            secret = self.unwrapper.unwrap(entry["wrap"], entry["object"])
        except BackupCryptoError as exc:
            raise BackupError(f"Файл {entry['key']}: {exc.args[0]}") from None
        if not entry.get("erasable"):
            return [crypto.object_key(secret, b"")]
        found = self.shares.get(entry["object"])
        if not found:
            raise BackupError(
                f"Файл {entry['key']} не открывается: доли его ключа нет ни в одном файле "
                f"keys/erasure-… на носителе {self.target.url}. Либо он уничтожен по акту "
                "(доля ключа удалена вместе с ним), либо файлы ключей удалены с носителя.")
        return [crypto.object_key(secret, share) for share in found]

    def file(self, entry: dict[str, Any]) -> bytes:
        """A stored object's plaintext, checked against its recorded SHA-256."""
        obj = self.dedup_names[entry["object"]]
        sealed = _fetch(self.target, obj)
        *others, last = self._keys(entry)
        data = None
        for key in others:
            try:
                data = _open_object(key, sealed, backup_id="data", file_id=entry["object"],
                                    packed=entry["zstd"])
                break
            except BackupCryptoError:
                continue
        if data is None:
            data = _open_or_refuse(last, sealed, backup_id="data", file_id=entry["object"],
                                   packed=entry["zstd"])
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
    manifest, vouched = _vouched(target, backup_id, _trust(archive, opener), opener)
    extra = []
    if archive is not None:
        # The backup's own copy of the director's lock (under the code of its day), and the
        # current lock: a changed code opens old backups, a retired code only the backups
        # made while it was current (their media cannot be rewritten).
        with archive.sessions() as s:
            extra = [json.loads(r) for r in s.scalars(
                select(BackupKeyring.director_locked).filter_by(active=True))]
    key, unwrapper = _data_key(manifest, opener, extra, vouched)
    objects = {o["name"]: o for o in manifest["objects"]}
    index_obj = objects[manifest["index"]["name"]]
    index = json.loads(_open_or_refuse(key, _fetch(target, index_obj), backup_id=backup_id,
                                       file_id="index", packed=manifest["index"]["zstd"]))
    if index.get("backup") != backup_id:
        raise BackupError(f"Опись копии {backup_id} указывает на чужое оглавление.")
    return OpenedBackup(target, manifest, key, index, objects, unwrapper,
                        erasure.read_shares(target))


