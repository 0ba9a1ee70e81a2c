"""Local disk storage (the embedded default, and the external backup disk)."""

from __future__ import annotations

import datetime as dt
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive_service.errors import StorageError, StorageObjectMissingError, StorageReadOnlyError
from archive_service.storage.base import Storage


class LocalStorage(Storage):
    """Blobs as read-only files under a root directory, written atomically with fsync."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = f"file://{self.root}"
        self._sync_each = True

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Write without an fsync per file, then flush everything once (os.sync)."""
        self._sync_each = False
        try:
            yield
        finally:
            self._sync_each = True
            os.sync()

    def _path(self, key: str) -> Path:
        if ".." in key.split("/") or key.startswith("/"):
            raise StorageError(f"Недопустимый ключ объекта: {key!r}")
        return self.root / key

    def _write_new(self, key: str, data: bytes, *, retain_until=None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                if self._sync_each:
                    os.fsync(fh.fileno())
            os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageObjectMissingError(
                f"Объект {key} отсутствует в хранилище {self.url}."
            ) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def ping(self) -> None:
        """The folder (or, before the first object, the nearest existing parent) must be a
        writable directory: a lost mount or a file in its place fails here, not on the next
        write."""
        place = self.root
        while not place.exists() and place != place.parent:
            place = place.parent
        if not place.is_dir() or not os.access(place, os.W_OK | os.X_OK):
            raise StorageError(f"Папка хранилища {self.root} недоступна для записи.")

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise StorageObjectMissingError(
                f"Объект {key} отсутствует в хранилище {self.url}."
            ) from None

    #: Retention locks live beside the objects, one small file per locked key holding the
    #: retain-until date (ISO 8601); ``keys()`` does not list them.
    LOCKS = ".locks"

    def _lock_path(self, key: str) -> Path:
        return self.root / self.LOCKS / key

    def retained_until(self, key: str) -> dt.datetime | None:
        """The retain-until date set on an object, if any."""
        try:
            return dt.datetime.fromisoformat(self._lock_path(key).read_text().strip())
        except FileNotFoundError:
            return None

    def extend_retention(self, key: str, until: dt.datetime) -> None:
        """Lock an object until then (never shortens an existing lock).

        The disk has no lock of its own: this application refuses to delete the object
        before the date (``delete``); whoever has the disk can still remove files, which is
        why a region stores on S3 with Object Lock.
        """
        current = self.retained_until(key)
        if current is not None and current >= until:
            return
        path = self._lock_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{path.name}")
        tmp.write_text(until.isoformat())
        os.replace(tmp, path)

    def delete(self, key: str, *, now: dt.datetime | None = None) -> None:
        until = self.retained_until(key)
        if until is not None and until > (now or dt.datetime.now(dt.UTC)):
            raise StorageReadOnlyError(
                f"Объект {key} заблокирован до {until:%d.%m.%Y}: удаление до истечения срока "
                "хранения запрещено.")
        self._path(key).unlink(missing_ok=True)
        self._lock_path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and not key.startswith(self.LOCKS + "/"):
                    yield key
