"""Verifying a backup at three levels: presence and sizes, hashes against the signed manifest,
full decryption.
"""

from __future__ import annotations

import random
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive_service.actors import Actor
from archive_service.backups.common import WORKERS, BackupError
from archive_service.backups.log import log_event
from archive_service.backups.objects import open_target
from archive_service.backups.opening import Opener, _fetch, _load_manifest, _trust
from archive_service.backups.restore import restore_backup
from archive_service.db import Archive
from archive_service.errors import (
    ConflictError,
    NotFoundError,
    StorageObjectMissingError,
)

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
        manifest = _load_manifest(target, backup_id, _trust(archive, opener), opener)
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


