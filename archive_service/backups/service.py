"""Encrypted backups of the whole archive: keys, create, list, verify, restore, usage log.

The format is described in ``docs/backup-format.md``; the cryptography is in ``crypto``,
the database dump in ``dump``. A backup goes to a *target*: a directory (the external disk)
or an S3 prefix, opened with the same storage classes as the archive itself. On S3 every
object is written with an Object Lock (COMPLIANCE) retention, so the server refuses to delete
it before the backup's retention date.

Crash safety: the signed manifest is written last. A backup without a manifest is not a
backup (``list`` does not show it, ``verify`` and ``restore`` refuse it); its objects are
reused by the next run after their contents were checked.

This module is the package's public face; each stage is a module of its own (issue 29):
``common`` (format, terms, the error), ``keys``, ``log`` (the usage log), ``objects``
(targets, object names, sealing), ``create``, ``opening``, ``verify`` and ``restore``.
"""

from __future__ import annotations

from archive_service.backups.common import (
    AUDIT_CHAIN,
    DEFAULT_RETAIN_DAYS,
    FORMAT,
    LOCK_MARGIN,
    WORKERS,
    BackupError,
)
from archive_service.backups.create import (
    BackupSummary,
    backups_on_target,
    create_backup,
)
from archive_service.backups.keys import (
    EscrowKey,
    Keyring,
    active_keyring,
    init_keys,
    rotate_keys,
)
from archive_service.backups.log import (
    Certification,
    certifications,
    event_text,
    list_backups,
    log_event,
    record_copy,
    usage_log,
)
from archive_service.backups.objects import (
    disposals_on,
    open_target,
    seal_disposal,
)
from archive_service.backups.opening import (
    OpenedBackup,
    Opener,
    open_backup,
)
from archive_service.backups.restore import (
    RestoreReport,
    restore_backup,
)
from archive_service.backups.subset import Selection
from archive_service.backups.verify import (
    VerifyReport,
    verify_backup,
)

__all__ = [
    "Selection",
    "AUDIT_CHAIN",
    "BackupError",
    "BackupSummary",
    "Certification",
    "DEFAULT_RETAIN_DAYS",
    "EscrowKey",
    "FORMAT",
    "Keyring",
    "LOCK_MARGIN",
    "OpenedBackup",
    "Opener",
    "RestoreReport",
    "VerifyReport",
    "WORKERS",
    "active_keyring",
    "backups_on_target",
    "certifications",
    "create_backup",
    "disposals_on",
    "event_text",
    "init_keys",
    "list_backups",
    "log_event",
    "open_backup",
    "open_target",
    "record_copy",
    "restore_backup",
    "rotate_keys",
    "seal_disposal",
    "usage_log",
    "verify_backup",
]
