"""The storage interface: local disk and a real S3 server (SeaweedFS) behave the same."""

from __future__ import annotations

import uuid

import pytest

from archive_service.actors import Actor
from archive_service.errors import ConfigError, StorageObjectMissingError
from archive_service.journals.service import import_file
from archive_service.snapshots.service import create_snapshots, verify_snapshots
from archive_service.storage import LocalStorage, open_storage
from archive_service.storage.base import content_key, sha256_hex
from archive_service.storage.s3 import S3Storage
from tests.conftest import make_archive
from tests.support.journal import tiny, write_json


def _s3(seaweed) -> S3Storage:
    bucket = f"archive-{uuid.uuid4().hex[:12]}"
    storage = open_storage(f"s3://{bucket}/objects?endpoint={seaweed.endpoint}")
    storage.client.create_bucket(Bucket=bucket)
    return storage


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "objects")
    return _s3(request.getfixturevalue("seaweed"))


def test_put_is_content_addressed_and_idempotent(storage):
    key = storage.put("журнал".encode())
    assert key == content_key(sha256_hex("журнал".encode()))
    assert storage.put("журнал".encode()) == key
    assert storage.get(key) == "журнал".encode()
    assert storage.size(key) == len("журнал".encode())
    assert list(storage.keys()) == [key]


def test_missing_objects_raise_a_clear_error(storage):
    key = content_key("0" * 64)
    assert not storage.exists(key)
    with pytest.raises(StorageObjectMissingError, match="отсутствует в хранилище"):
        storage.get(key)
    with pytest.raises(StorageObjectMissingError):
        storage.size(key)


def test_delete_removes(storage):
    key = storage.put(b"x")
    storage.delete(key)
    assert not storage.exists(key)


def test_local_blobs_are_read_only_files(tmp_path):
    storage = LocalStorage(tmp_path)
    key = storage.put(b"frozen")
    assert (tmp_path / key).stat().st_mode & 0o222 == 0


def test_unknown_storage_url_is_a_config_error():
    with pytest.raises(ConfigError, match="file:///путь или s3://"):
        open_storage("ftp://example/x")


@pytest.mark.s3
def test_snapshots_on_s3_and_tamper_detection(seaweed, tmp_path, sqlite_template):
    import shutil

    db = tmp_path / "archive.sqlite3"
    shutil.copy(sqlite_template, db)
    storage = _s3(seaweed)
    archive = make_archive(tmp_path, f"sqlite:///{db}", storage.url)
    actor = Actor("test")
    import_file(archive, write_json(tiny(), tmp_path / "7А.json"), actor=actor)
    [outcome] = create_snapshots(archive, period="2025-2026/Q1", class_name="7А",
                                 school_code=None, actor=actor)
    assert archive.storage.exists(outcome.snapshot.storage_key)
    assert all(o.ok for o in verify_snapshots(archive, period="2025-2026/Q1"))
    # Someone with bucket access overwrites the object: verification names the snapshot.
    data = bytearray(archive.storage.get(outcome.snapshot.storage_key))
    data[10] ^= 0x01
    archive.storage.client.put_object(Bucket=archive.storage.bucket,
                                      Key=archive.storage._key(outcome.snapshot.storage_key),
                                      Body=bytes(data))
    [bad] = verify_snapshots(archive, period="2025-2026/Q1")
    assert not bad.ok and "класс 7А" in bad.problem
    archive.dispose()
