"""S3 storage via boto3 (production; tested against a real SeaweedFS server)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from archive_service.errors import StorageError, StorageObjectMissingError, StorageReadOnlyError
from archive_service.storage.base import Storage


class S3Storage(Storage):
    """Blobs as objects in one bucket under a prefix."""

    def __init__(
        self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" + (f"?endpoint={endpoint_url}" if endpoint_url else "")
        # Non-AWS servers (SeaweedFS) do not speak the newer default checksum headers.
        config = Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 5, "mode": "standard"},
        )
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _missing(self, key: str) -> StorageObjectMissingError:
        return StorageObjectMissingError(f"Объект {key} отсутствует в хранилище {self.url}.")

    def _write_new(self, key: str, data: bytes, *, retain_until=None) -> None:
        lock = ({"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": retain_until}
                if retain_until is not None else {})
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **lock)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Не удалось записать {key} в {self.url}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise self._missing(key) from None
            raise StorageError(f"Не удалось прочитать {key} из {self.url}: {exc}") from exc
        except BotoCoreError as exc:  # the server unreachable, a broken connection
            raise StorageError(f"Не удалось прочитать {key} из {self.url}: {exc}") from exc

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StorageError(f"Хранилище {self.url} недоступно: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise self._missing(key)
        return int(head["ContentLength"])

    def delete(self, key: str, *, now=None) -> None:  # noqa: ARG002 (the server's clock rules)
        """Remove every version of the object (a plain DELETE on a bucket with Object Lock
        only adds a delete marker and keeps the bytes). The server refuses while a
        COMPLIANCE retention holds; that refusal becomes StorageReadOnlyError."""
        name = self._key(key)
        try:
            listing = self.client.list_object_versions(Bucket=self.bucket, Prefix=name)
            versions = [v["VersionId"] for v in listing.get("Versions", []) +
                        listing.get("DeleteMarkers", []) if v["Key"] == name]
            for version in versions or [None]:
                extra = {"VersionId": version} if version else {}
                self.client.delete_object(Bucket=self.bucket, Key=name, **extra)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("AccessDenied", "ObjectLocked", "InvalidRequest"):
                raise StorageReadOnlyError(
                    f"Хранилище {self.url} отказало в удалении {key}: объект заблокирован "
                    f"до истечения срока хранения ({code}).") from exc
            raise StorageError(f"Не удалось удалить {key} в {self.url}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"Не удалось удалить {key} в {self.url}: {exc}") from exc

    def retained_until(self, key: str):  # noqa: ANN201
        """The object's COMPLIANCE retain-until date, if any."""
        try:
            got = self.client.get_object_retention(Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            return None
        return got.get("Retention", {}).get("RetainUntilDate")

    def extend_retention(self, key: str, until) -> None:
        try:
            self.client.put_object_retention(
                Bucket=self.bucket, Key=self._key(key),
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Не удалось продлить блокировку {key} в {self.url}: {exc}"
                               ) from exc

    def ensure_bucket(self, *, object_lock: bool) -> None:
        """Create the bucket when it does not exist (with Object Lock enabled if asked)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError:
            pass
        try:
            self.client.create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=object_lock)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Не удалось создать корзину {self.bucket} в {self.url}: {exc}"
                               ) from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start + prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"][len(start):]
