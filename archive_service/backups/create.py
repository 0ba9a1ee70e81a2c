"""Creating a backup: the database image and every stored object, sealed, then the signed
manifest last.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import secrets
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import select, update

from archive_service.actors import Actor
from archive_service.backups import crypto, dump, erasure
from archive_service.backups.common import (
    DEFAULT_RETAIN_DAYS,
    FORMAT,
    LOCK_MARGIN,
    WORKERS,
    _b64,
    _now,
)
from archive_service.backups.keys import active_keyring
from archive_service.backups.log import _event
from archive_service.backups.models import Backup, BackupObject, BackupObjectShare
from archive_service.backups.objects import (
    _manifests,
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
    """Back up the database and every stored object to the target.

    Each object gets its own key (``crypto.object_key``): a random secret wrapped for the
    director's and the escrow public key, and for the archive's files an erasure share
    (``erasure.py``). An object already on the medium, made with the current keys, is
    listed again with its wrapped key instead of being written again; what this run
    writes is recorded in ``backup_object`` as it goes (every 200 objects), so a run that is
    killed leaves objects the next run reuses after comparing their hashes.
    """
    started = _now()
    keys = active_keyring(archive)
    signing = keys.signing  # refused here, before any write, in a restored archive
    target = open_target(target_url, create=True)
    backup_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    retain_until = started + dt.timedelta(days=retain_days)
    lock_until = retain_until + LOCK_MARGIN
    locking = target.url.startswith("s3://")
    data_key = crypto.new_data_key()
    wrapper = crypto.ObjectWrapper({"director": keys.director_public,
                                    "escrow": keys.escrow_public})

    # What the medium holds that was made with the current keys: reusable. An object that
    # no complete backup lists (left by an interrupted run) is compared before reuse.
    present = set(target.keys("data/"))
    listed = {obj["name"] for manifest in _manifests(target, {keys.signing_public})
              for obj in manifest["objects"]}
    with archive.sessions() as s:
        reusable: dict[str, BackupObject] = {}
        for row in s.scalars(select(BackupObject).filter_by(keyring_id=keys.id)
                             .order_by(BackupObject.created_at)):
            if row.name in present:
                reusable[row.sha256] = row
        s.expunge_all()

    prefix = f"backups/{backup_id}/"
    objects: list[dict[str, Any]] = []

    def put(name: str, sealed: bytes) -> dict[str, Any]:
        target.write(name, sealed, retain_until=lock_until if locking else None)
        return {"name": name, "size": len(sealed), "sha256": sha256_hex(sealed),
                **({"locked_until": lock_until.isoformat()} if locking else {})}

    files: list[dict[str, Any]] = []
    reused = 0
    written = bytes_total = 0
    extended: list[str] = []

    def reuse(row: BackupObject) -> dict[str, Any] | None:
        if row.name not in listed and sha256_hex(target.get(row.name)) != row.sealed_sha256:
            return None  # an interrupted run's object that changed since: write anew
        entry = {"name": row.name, "size": row.size, "sha256": row.sealed_sha256}
        if locking:
            until = row.locked_until
            if until is None or until.replace(tzinfo=until.tzinfo or dt.UTC) < retain_until:
                target.extend_retention(row.name, lock_until)
                extended.append(row.name)
            entry["locked_until"] = lock_until.isoformat()
        return entry

    def one(item: tuple[str, str, Callable[[], bytes], bool]
            ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """One deduplicated object: (label, plaintext SHA-256, how to read the bytes,
        whether an act may destroy it); returns the manifest entry, the index entry, and
        the new ``backup_object`` row (None when reused)."""
        key, sha, read, erasable = item
        row = reusable.get(sha)
        entry = reuse(row) if row is not None else None
        if entry is not None:
            return entry, {"key": key, "object": row.name, "sha256": sha,
                           "size": row.plain_size, "zstd": row.zstd,
                           "wrap": json.loads(row.wrap), "erasable": row.erasable}, None
        data = read()
        if sha256_hex(data) != sha:
            raise IntegrityError(f"Объект {key} архива не совпадает со своим хешем: резервная "
                                 "копия не сделана. Выполните проверку хранилища.")
        oid = secrets.token_hex(32)
        name = f"data/{oid[:2]}/{oid}"
        secret = crypto.new_object_secret()
        share = crypto.new_share() if erasable else b""
        sealed, packed = _seal_object(crypto.object_key(secret, share), data,
                                      backup_id="data", file_id=name)
        entry = put(name, sealed)
        wrap = wrapper.wrap(secret, name)
        new = {"name": name, "sha256": sha, "keyring_id": keys.id, "size": len(sealed),
               "sealed_sha256": entry["sha256"], "plain_size": len(data), "zstd": packed,
               "erasable": erasable, "wrap": json.dumps(wrap),
               "locked_until": lock_until if locking else None, "created_at": _now(),
               "share": _b64(share) if erasable else None}
        return entry, {"key": key, "object": name, "sha256": sha, "size": len(data),
                       "zstd": packed, "wrap": wrap, "erasable": erasable}, new

    def run(items: list, files_total: int = 0) -> list[dict[str, Any]]:
        """Store the items; ``files_total``: they are the archive's files (counted, shown)."""
        nonlocal reused, written, bytes_total
        out, pending = [], []
        with ThreadPoolExecutor(WORKERS) as pool:
            for entry, file, new in pool.map(one, items):
                objects.append(entry)
                out.append(file)
                bytes_total += file["size"]
                if new is not None:
                    written += entry["size"]
                    pending.append(new)
                    if len(pending) >= 200:
                        _record_objects(archive, pending)
                elif files_total:
                    reused += 1
                if progress and files_total:
                    progress(len(out), files_total)
        _record_objects(archive, pending)
        return out

    # A marker first, so that an interrupted run is recognisable on the medium as one.
    target.write(f"{prefix}started", dump._line({"backup": backup_id, "at": started.isoformat()}),
                 retain_until=lock_until if locking else None)
    # Each object is made durable by the worker that wrote it (a disk's fsync overlaps the
    # other workers' encryption), all of them before the index and the manifest.
    with tempfile.TemporaryDirectory() as tmp:
        # 1. The database. SQLite: a consistent page copy (SQLite's online backup), cut into
        # 4 MiB pieces that are deduplicated like files, so an unchanged database costs
        # nothing to store again. PostgreSQL: the portable logical dump, sealed with this
        # backup's data key. Either way without the erasure shares and the manifest key.
        if archive.engine.dialect.name == "sqlite":
            database = _sqlite_image(archive, Path(tmp) / "image.sqlite3", run)
        else:
            database = _dump_image(archive, Path(tmp) / "dump", data_key, backup_id, prefix,
                                   put, objects)
            written += sum(o["size"] for o in objects)
            bytes_total += database["size"]

        # 2. Every stored object, deduplicated against the medium.
        storage_keys = list(archive.storage.keys())
        files.extend(run([(k, _plain_sha256(archive, k),
                           functools.partial(archive.storage.get, k), _erasable(k))
                          for k in storage_keys], len(storage_keys)))
    if extended:
        with archive.unit_of_work() as uow:
            uow.session.execute(update(BackupObject).where(BackupObject.name.in_(extended))
                                .values(locked_until=lock_until))

    # 3. The erasure shares of everything on the medium, then the private index (sealed
    # with the data key), then the signed manifest, last.
    erasure.write_shares(archive, target, backup_id)
    index = {"backup": backup_id, "created_by": actor.name,
             "source": {"revision": _revision(archive), "dialect": archive.engine.dialect.name},
             "totals": {"files": len(files), "bytes": bytes_total},
             "files": files, "database": database}
    index_name = f"{prefix}index"
    sealed_index, index_packed = _seal_object(
        data_key, dump._line(index), backup_id=backup_id, file_id="index")
    objects.append(put(index_name, sealed_index))
    written += len(sealed_index)
    # The manifest says only what checking and opening need: no names of people, no file
    # sizes in clear, no schema details (those are in the sealed index).
    manifest = {
        "format": FORMAT, "backup": backup_id, "created_at": started.isoformat(),
        "retain_until": retain_until.isoformat(),
        "keys": {"signing_public": _b64(keys.signing_public),
                 "director_public": _b64(keys.director_public),
                 "escrow_public": _b64(keys.escrow_public),
                 "director_locked": keys.director_locked},
        "slots": [crypto.wrap(data_key, keys.director_public, backup_id=backup_id,
                              slot="director"),
                  crypto.wrap(data_key, keys.escrow_public, backup_id=backup_id, slot="escrow")],
        "index": {"name": index_name, "zstd": index_packed},
        "objects": objects,
    }
    signed = crypto.sign_manifest(manifest, signing)
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


def _plain_sha256(archive: Archive, key: str) -> str:
    """The SHA-256 of a stored object: its name says it for content-addressed blobs
    (``sha256/ab/…``); a named one (an audit checkpoint) is read and hashed."""
    if key.startswith("sha256/"):
        return key.rsplit("/", 1)[-1]
    return sha256_hex(archive.storage.get(key))


def _erasable(key: str) -> bool:
    """Whether an act may destroy the object: the archive's files may, the audit
    checkpoints (permanent, named) never."""
    return key.startswith("sha256/")


def _record_objects(archive: Archive, pending: list[dict[str, Any]]) -> None:
    """Record the objects just written (and their erasure shares), then forget them."""
    if not pending:
        return
    with archive.unit_of_work() as uow:
        for new in pending:
            share = new.pop("share")
            uow.session.add(BackupObject(**new))
            if share is not None:
                uow.session.add(BackupObjectShare(name=new["name"], share=share))
    pending.clear()


def _sqlite_image(archive: Archive, path: Path, run: Callable) -> dict[str, Any]:
    """A consistent copy of the SQLite database, stored as deduplicated 4 MiB pieces."""
    import sqlite3

    source = archive.engine.raw_connection()
    try:
        copy = sqlite3.connect(path)
        source.driver_connection.backup(copy)
        _redact_image(copy)
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
                          functools.partial(_read_piece, path, i), False))
    return {"kind": "sqlite", "size": size, "sha256": whole.hexdigest(),
            "revision": _revision(archive), "parts": run(items)}


def _redact_image(copy) -> None:  # noqa: ANN001 - a sqlite3 connection to the copy
    """Take out of the database copy what never goes into a backup (``dump.NOT_IN_BACKUPS``,
    ``dump.REDACTED``), with ``secure_delete`` so that the old bytes are overwritten, not
    left in free pages."""
    copy.execute("PRAGMA secure_delete = ON")
    for table in dump.NOT_IN_BACKUPS:
        copy.execute(f'DELETE FROM "{table}"')  # noqa: S608 - names are constants
    for table, columns in dump.REDACTED.items():
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        copy.execute(f'UPDATE "{table}" SET {sets}', list(columns.values()))  # noqa: S608
    copy.commit()


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
            "size": size, "tables": tables, "revision": _revision(archive)}


def _revision(archive: Archive) -> str | None:
    with archive.engine.connect() as conn:
        return dump.alembic_revision(conn)


def backups_on_target(target_url: str) -> list[str]:
    """Ids of the complete backups (with a manifest) found on a target."""
    target = open_target(target_url)
    return sorted(name.split("/")[1] for name in target.keys("backups/")
                  if name.endswith("/manifest.json"))


