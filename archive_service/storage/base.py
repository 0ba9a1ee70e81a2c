"""The Storage interface shared by every backend."""

from __future__ import annotations

import datetime as dt
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def content_key(digest: str) -> str:
    """The storage key of a blob with this SHA-256: ``sha256/ab/abcdef…``."""
    return f"sha256/{digest[:2]}/{digest}"


class Storage(ABC):
    """Content-addressed, write-once object storage."""

    url: str

    def put(self, data: bytes) -> str:
        """Store bytes (once) and return their key."""
        key = content_key(sha256_hex(data))
        if not self.exists(key):
            self._write_new(key, data)
        return key

    def write(self, key: str, data: bytes, *, retain_until: dt.datetime | None = None) -> None:
        """Store bytes under a chosen key (backups), never replacing an existing object.

        ``retain_until``: on S3 the object gets an Object Lock (COMPLIANCE) retention until
        then, so the server itself refuses to delete or overwrite it earlier; a local disk
        has no such lock (its files are written read-only).
        """
        from archive_service.errors import StorageReadOnlyError

        if self.exists(key):
            raise StorageReadOnlyError(f"Объект {key} уже есть в {self.url}: он не заменяется.")
        self._write_new(key, data, retain_until=retain_until)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in a row (a restore): a backend may make them durable once at the end
        instead of one by one. Nothing written inside is durable before the block ends."""
        yield

    def extend_retention(self, key: str, until: dt.datetime) -> None:  # noqa: B027 (optional)
        """Keep an object locked at least until then (S3 Object Lock COMPLIANCE; on a local
        disk a lock file this application honours)."""

    def retained_until(self, key: str) -> dt.datetime | None:
        """The lock date of an object, if any."""
        return None

    @abstractmethod
    def _write_new(self, key: str, data: bytes, *, retain_until: dt.datetime | None = None
                   ) -> None:
        """Write a blob that is not yet stored."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The stored bytes; StorageObjectMissingError when absent."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under the key."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Stored size in bytes; StorageObjectMissingError when absent."""

    @abstractmethod
    def delete(self, key: str, *, now: dt.datetime | None = None) -> None:
        """Remove an object (used only to undo a failed unit of work, and by disposal);
        StorageReadOnlyError while a retention lock holds."""

    @abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key (starting with ``prefix``)."""

    def ping(self) -> None:
        """Raise when the store cannot be reached (the health check); S3 answers a HEAD."""
        self.exists("health-probe")
