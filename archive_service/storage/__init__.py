"""One storage interface for archived bytes: local disk or S3.

Objects are content-addressed: the key of a blob is derived from its SHA-256, so a blob
can never be replaced by different bytes under the same key, and storing the same bytes
twice stores them once.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from archive_service.errors import ConfigError
from archive_service.storage.base import Storage, content_key, sha256_hex
from archive_service.storage.local import LocalStorage

__all__ = ["Storage", "LocalStorage", "open_storage", "content_key", "sha256_hex"]


def open_storage(url: str) -> Storage:
    """Open the storage named by a URL: ``file:///path`` or ``s3://bucket/prefix?endpoint=…``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(parsed.path)
    if parsed.scheme == "s3":
        from archive_service.storage.s3 import S3Storage

        query = parse_qs(parsed.query)
        if not parsed.netloc:
            raise ConfigError(f"В адресе хранилища {url} не указано имя корзины (bucket).")
        return S3Storage(
            bucket=parsed.netloc,
            prefix=parsed.path.strip("/"),
            endpoint_url=(query.get("endpoint") or [None])[0],
            region=(query.get("region") or ["us-east-1"])[0],
        )
    raise ConfigError(
        f"Неизвестный адрес хранилища {url!r}: ожидается file:///путь или s3://корзина/префикс."
    )
