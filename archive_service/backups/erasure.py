"""Erasure shares: the half of each object's key that an executed act can destroy.

Backups are immutable (S3 Object Lock; a disk kept in the safe), so a destroyed document
cannot be cut out of the backups that hold it. Instead every archive file's key
(``crypto.object_key``) needs two halves: the secret wrapped for the director and the
escrow key (inside the sealed index of every backup that lists the object, immutable) and
an *erasure share*, which lives only

* in the archive's database (``backup_object_share``), which never copies it into a backup
  image (``dump.NOT_IN_BACKUPS``), and
* on each medium in erasure files ``keys/erasure-<backup>.json``: each backup writes one
  with the shares of every object that medium holds, and removes the older ones once their
  own lock has ended (disk: at once; S3: ``ERASURE_LOCK``, 30 days, so that nobody with
  write access to the bucket can make its backups unreadable by deleting the file).

An executed act deletes the shares of the files it destroyed (``shred``) and rewrites the
erasure file on every medium it reaches. From then on no backup, made before the act or
after it, opens those files, even for the director: the crypto-shredding that
docs/retention.md describes, complete on a disk at once and on S3 once the older erasure
files' 30-day locks end.

Erasure files are not signed: a share alone opens nothing, and a wrong or forged share
fails closed (the object's authentication tag does not verify), which restore reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import delete, select

from archive_service.backups.common import ERASURE_LOCK, _now, _unb64
from archive_service.backups.models import BackupObject, BackupObjectShare
from archive_service.db import Archive
from archive_service.errors import ArchiveError
from archive_service.storage import Storage

PREFIX = "keys/erasure-"


def write_shares(archive: Archive, target: Storage, label: str) -> str:
    """Write the erasure file for everything the medium holds, then drop the older files
    whose lock has ended and that hold no share this one lacks (but the shredded ones);
    returns the file's name."""
    present = set(target.keys("data/"))
    with archive.sessions() as s:
        known = dict(s.execute(select(BackupObjectShare.name, BackupObjectShare.share)).all())
    shares = {name: share for name, share in known.items() if name in present}
    name = f"{PREFIX}{label}.json"
    body = json.dumps({"format": "archive-erasure-1", "written_at": _now().isoformat(),
                       "shares": dict(sorted(shares.items()))},
                      separators=(",", ":")).encode()
    locking = target.url.startswith("s3://")
    target.write(name, body, retain_until=_now() + ERASURE_LOCK if locking else None)
    for older in sorted(target.keys(PREFIX)):
        if older == name:
            continue
        try:
            theirs = set(json.loads(target.get(older))["shares"])
        except (ArchiveError, ValueError, KeyError, TypeError):
            theirs = set()
        if any(n in known and n not in shares for n in theirs):
            continue  # it holds shares this file lacks (a run writing at the same time)
        try:
            target.delete(older)
        except ArchiveError:
            continue  # still locked: a later run removes it
    return name


def read_shares(target: Storage) -> dict[str, list[bytes]]:
    """Every share found in the medium's erasure files (newest first for each object)."""
    found: dict[str, list[bytes]] = {}
    for name in sorted(target.keys(PREFIX), reverse=True):
        try:
            shares = json.loads(target.get(name))["shares"]
        except (ArchiveError, ValueError, KeyError, TypeError):
            continue  # a damaged erasure file is as good as none; restore says what failed
        for obj, share in shares.items():
            try:
                raw = _unb64(share)
            except (ValueError, TypeError):
                continue
            if raw not in found.setdefault(obj, []):
                found[obj].append(raw)
    return found


def shred(archive: Archive, storage_keys: Iterable[str]) -> int:
    """Delete the erasure shares of the objects whose archive file is gone (destroyed under
    an act): nothing opens them any more once the media's erasure files are rewritten.
    Returns how many shares were deleted. A file still in storage (shared with a document
    that stays) keeps its share."""
    gone = {k.rsplit("/", 1)[-1] for k in storage_keys if not archive.storage.exists(k)}
    if not gone:
        return 0
    with archive.unit_of_work() as uow:
        names = list(uow.session.scalars(select(BackupObject.name).where(
            BackupObject.sha256.in_(gone), BackupObject.erasable.is_(True))))
        if names:
            uow.session.execute(delete(BackupObjectShare).where(
                BackupObjectShare.name.in_(names)))
    return len(names)

