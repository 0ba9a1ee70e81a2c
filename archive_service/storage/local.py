"""Local disk storage (the embedded default, and the external backup disk)."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive_service.errors import StorageError, StorageObjectMissingError
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

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise StorageObjectMissingError(
                f"Объект {key} отсутствует в хранилище {self.url}."
            ) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key
