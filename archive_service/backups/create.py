"""Creating a backup: the database image and every stored object, sealed, then the signed
manifest last.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import secrets
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

from archive_service.actors import Actor
from archive_service.backups import crypto, dump
from archive_service.backups.common import (
    DEFAULT_RETAIN_DAYS,
    FORMAT,
    LOCK_MARGIN,
    WORKERS,
    BackupError,
    _b64,
    _now,
)
from archive_service.backups.crypto import BackupCryptoError
from archive_service.backups.keys import active_keyring
from archive_service.backups.log import _event
from archive_service.backups.models import Backup
from archive_service.backups.objects import (
    _compressible,
    _manifests,
    _object_key,
    _object_name,
    _open_object,
    _seal_object,
    open_target,
)
from archive_service.db import Archive
from archive_service.errors import (
    IntegrityError,
)
from archive_service.storage import sha256_hex

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


def backups_on_target(target_url: str) -> list[str]:
    """Ids of the complete backups (with a manifest) found on a target."""
    target = open_target(target_url)
    return sorted(name.split("/")[1] for name in target.keys("backups/")
                  if name.endswith("/manifest.json"))


