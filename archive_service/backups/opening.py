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

from archive_service.backups import crypto
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


