"""What every stage of a backup shares: the format's name, default terms, the error."""

from __future__ import annotations

import base64
import datetime as dt

from archive_service.errors import (
    IntegrityError,
)

FORMAT = "school-archive-backup/2"  # /1 (keys derived from a server secret) still opens
ERASURE_LOCK = dt.timedelta(days=30)  # how long an erasure file stays locked on S3
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


