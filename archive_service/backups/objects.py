"""Backup targets and their objects: opening a target, sealing and opening objects, the
signed manifests on a target, disposal records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import zstandard
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from archive_service.backups import crypto
from archive_service.backups.common import BackupError, _b64, _unb64
from archive_service.backups.crypto import BackupCryptoError
from archive_service.backups.keys import _keyring
from archive_service.backups.models import BackupKeyring
from archive_service.errors import (
    NotFoundError,
    StorageError,
)
from archive_service.storage import Storage, open_storage

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
    return json.dumps(crypto.sign_manifest(
        {**record, "keys": {"signing_public": _b64(keys.signing_public)}}, keys.signing),
        ensure_ascii=False).encode()


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
