"""Backups end to end on real databases and storage: create, verify at three levels, restore,
every refusal, key changes, the usage log."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from archive_service.actors import Actor
from archive_service.backups import service as backups
from archive_service.backups.service import BackupError, EscrowKey, Opener
from archive_service.errors import ConflictError, NotFoundError
from tests.conftest import make_archive
from tests.signatures.test_chain import _setup, _sign
from tests.support.state import archive_state

ACTOR = Actor("Попов Игорь Олегович", "administrator")
CODE = "код-директора-2026"
FAST = 2**12  # scrypt cost for tests (the default is 2**17)


def _signed_archive(archive, tmp_path) -> int:
    doc = _setup(archive, tmp_path)
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, doc, login)
    return doc


def _keys(archive) -> EscrowKey:
    sheet = backups.init_keys(archive, director_code=CODE, actor=ACTOR, school="Школа № 1",
                              scrypt_n=FAST)
    return EscrowKey.parse(sheet)


@pytest.fixture
def signed(archive, tmp_path):
    """An archive with one fully signed journal and its backup keys."""
    doc = _signed_archive(archive, tmp_path)
    return archive, doc, _keys(archive)


def _fresh(tmp_path: Path, name: str, database_url: str | None = None):
    home = tmp_path / name
    home.mkdir()
    return make_archive(home, database_url or f"sqlite:///{home / 'restored.sqlite3'}")


def _keyrings(archive) -> list[dict]:
    from archive_service.backups.models import BackupKeyring

    with archive.sessions() as s:
        return [{c.name: getattr(r, c.name) for c in BackupKeyring.__table__.c}
                for r in s.query(BackupKeyring).order_by(BackupKeyring.id)]


def _rows(archive) -> dict:
    state = archive_state(archive)
    # Rows written by the backup itself are not in it (it records itself after its dump).
    for table in ("backup", "backup_event", "audit_entry", "audit_head"):
        state.pop(table, None)
    return state


def test_round_trip_restores_every_row_and_object(signed, tmp_path, database_url,
                                                  new_pg_database):
    archive, doc, escrow = signed
    before = archive_state(archive)
    summary = backups.create_backup(archive, target_url=str(tmp_path / "disk"), actor=ACTOR)
    assert summary.files == len(before["objects"]) and summary.reused == 0
    # Restore into an empty database of the same kind (SQLite or PostgreSQL).
    if database_url.startswith("sqlite"):
        into = _fresh(tmp_path, "restored")
    else:
        into = _fresh(tmp_path, "restored", new_pg_database(database_url))
    report = backups.restore_backup(archive, target_url=str(tmp_path / "disk"),
                                    backup_id=summary.id, opener=Opener(director_code=CODE),
                                    into=into, actor=ACTOR)
    assert report.ok, report.problems
    assert report.files == summary.files and report.audit_entries > 0
    after = archive_state(into)
    for table, rows in before.items():
        if table in ("backup_event", "audit_entry", "audit_head", "backup", "backup_keyring"):
            continue
        assert after[table] == rows, table
    # The keyring comes back without the manifest key's private half (issue 30).
    assert _keyrings(into) == [{**k, "signing_private": ""} for k in _keyrings(archive)]
    assert all(k["signing_private"] for k in _keyrings(archive))
    # The audit trail as it was at the dump (the backup's own entries come after it).
    assert after["audit_entry"] == before["audit_entry"]
    from archive_service.signatures.service import verify_document

    assert verify_document(into, doc).ok
    into.dispose()
    log = [(e.action, e.outcome) for e in backups.usage_log(archive)]
    assert log == [("keys.init", "ok"), ("create", "ok"), ("restore", "ok")]


@pytest.fixture
def new_pg_database():
    """Make empty PostgreSQL databases for restores (``make(url)`` gives the new one's URL);
    each is dropped after the test, so runs leave nothing on a shared server."""
    import uuid

    import sqlalchemy as sa

    made: list[tuple[sa.URL, str]] = []

    def make(url: str) -> str:
        name = f"archive_r_{uuid.uuid4().hex[:10]}"
        admin_url = sa.make_url(url).set(database="postgres")
        with sa.create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append((admin_url, name))
        return sa.make_url(url).set(database=name).render_as_string(hide_password=False)

    yield make
    for admin_url, name in made:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_cross_database_restore_sqlite_to_postgres(sqlite_archive, tmp_path, pg_url,
                                                   new_pg_database):
    archive = sqlite_archive
    _signed_archive(archive, tmp_path)
    escrow = _keys(archive)
    summary = backups.create_backup(archive, target_url=str(tmp_path / "disk"), actor=ACTOR)
    into = _fresh(tmp_path, "pg", new_pg_database(pg_url))
    # A fresh machine: no live archive, the escrow sheet vouches for the manifest and opens it.
    report = backups.restore_backup(None, target_url=str(tmp_path / "disk"),
                                    backup_id=summary.id, opener=Opener(escrow=escrow),
                                    into=into, actor=ACTOR)
    assert report.ok, report.problems
    assert backups.verify_backup(None, target_url=str(tmp_path / "disk"), backup_id=summary.id,
                                 level=3, actor=ACTOR, opener=Opener(escrow=escrow)).ok
    into.dispose()


@pytest.fixture(scope="module")
def signed_home(tmp_path_factory, sqlite_template):
    """One signed SQLite archive with backup keys, built once and copied for each test."""
    home = tmp_path_factory.mktemp("signed")
    shutil.copy(sqlite_template, home / "archive.sqlite3")
    archive = make_archive(home, f"sqlite:///{home / 'archive.sqlite3'}")
    _signed_archive(archive, home)
    sheet = backups.init_keys(archive, director_code=CODE, actor=ACTOR, school="Школа № 1",
                              scrypt_n=FAST)
    with archive.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    archive.dispose()
    return home, EscrowKey.parse(sheet)


@pytest.fixture
def backed_up(signed_home, tmp_path):
    """A copy of the signed archive with one backup on a local disk."""
    source, escrow = signed_home
    home = tmp_path / "home"
    shutil.copytree(source, home)
    archive = make_archive(home, f"sqlite:///{home / 'archive.sqlite3'}")
    disk = tmp_path / "disk"
    summary = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    yield archive, escrow, disk, summary.id
    archive.dispose()


def _verify(archive, disk, backup_id, level, opener=None):
    return backups.verify_backup(archive, target_url=str(disk), backup_id=backup_id,
                                 level=level, actor=ACTOR, opener=opener)


def _writable(path: Path) -> Path:
    path.chmod(0o644)
    return path


def _data_objects(disk: Path) -> list[Path]:
    return sorted(p for p in (disk / "data").rglob("*") if p.is_file())


def test_all_levels_pass_on_an_intact_backup_and_the_log_shows_them(backed_up):
    archive, escrow, disk, bid = backed_up
    assert _verify(archive, disk, bid, 1).ok
    assert _verify(archive, disk, bid, 2).ok
    report = _verify(archive, disk, bid, 3, Opener(director_code=CODE))
    assert report.ok, report.problems
    assert report.details["documents"] == 1 and report.details["signatures_ok"] == 1
    share = backups.verify_backup(archive, target_url=str(disk), backup_id=bid, level=2,
                                  actor=ACTOR, share=0.3, seed=1)
    objects = len(json.loads((disk / f"backups/{bid}/manifest.json").read_text())
                  ["manifest"]["objects"])
    assert share.ok and share.objects_checked == max(1, round(objects * 0.3)) < objects
    levels = [json.loads(e.details)["level"] for e in backups.usage_log(archive)
              if e.action == "verify"]
    assert [e.action for e in backups.usage_log(archive)][:2] == ["keys.init", "create"]
    assert levels == [1, 2, 3, 2]


def test_a_flipped_byte_passes_level_1_and_is_refused_at_levels_2_and_3(backed_up):
    archive, escrow, disk, bid = backed_up
    victim = _writable(_data_objects(disk)[0])
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    assert _verify(archive, disk, bid, 1).ok  # sizes only: a flipped byte keeps the size
    level2 = _verify(archive, disk, bid, 2)
    assert not level2.ok and victim.name in level2.problems[0]
    assert "изменён" in level2.problems[0]
    level3 = _verify(archive, disk, bid, 3, Opener(director_code=CODE))
    assert not level3.ok and victim.name in level3.problems[0]
    assert [e.outcome for e in backups.usage_log(archive) if e.action == "verify"] == \
        ["ok", "failed", "failed"]


def test_swapped_objects_are_refused_at_level_2(backed_up):
    archive, escrow, disk, bid = backed_up
    a, b = (_writable(p) for p in _data_objects(disk)[:2])
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    report = _verify(archive, disk, bid, 2)
    assert not report.ok and len(report.problems) == 2


def test_a_deleted_or_truncated_object_is_refused_at_level_1(backed_up):
    archive, escrow, disk, bid = backed_up
    first, second = _data_objects(disk)[:2]
    first.unlink()
    _writable(second).write_bytes(second.read_bytes()[:-10])
    report = _verify(archive, disk, bid, 1)
    assert not report.ok
    assert any("нет объекта" in p and first.name in p for p in report.problems)
    assert any("размер" in p and second.name in p for p in report.problems)


def test_a_forged_manifest_is_refused(backed_up, tmp_path):
    archive, escrow, disk, bid = backed_up
    path = _writable(disk / f"backups/{bid}/manifest.json")
    signed = json.loads(path.read_text())
    signed["manifest"]["retain_until"] = "2099-01-01T00:00:00+00:00"
    path.write_text(json.dumps(signed))
    report = _verify(archive, disk, bid, 1)
    assert not report.ok and "изменена после подписи" in report.problems[0]
    # A manifest re-signed with another school's key is not trusted here either.
    from archive_service.backups import crypto
    from archive_service.backups.common import _b64

    other = crypto.new_signing_key()
    signed["manifest"]["keys"]["signing_public"] = _b64(
        other.public_key().public_bytes_raw())
    path.write_bytes(crypto.canonical(crypto.sign_manifest(signed["manifest"], other)))
    report = _verify(archive, disk, bid, 2)
    assert not report.ok and "не ключом этого архива" in report.problems[0]


def test_wrong_code_is_refused_and_restores_nothing(backed_up, tmp_path):
    archive, escrow, disk, bid = backed_up
    into = _fresh(tmp_path, "restored")
    with pytest.raises(BackupError, match="Неверный код директора"):
        backups.restore_backup(archive, target_url=str(disk), backup_id=bid,
                               opener=Opener(director_code="не тот код"), into=into,
                               actor=ACTOR)
    assert list(into.storage.keys()) == []
    report = _verify(archive, disk, bid, 3, Opener(director_code="не тот код"))
    assert not report.ok and "Неверный код директора" in report.problems[0]
    into.dispose()


def test_a_bad_chunk_met_during_restore_leaves_the_target_empty(backed_up, tmp_path):
    archive, escrow, disk, bid = backed_up
    victim = _writable(_data_objects(disk)[-1])
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    into = _fresh(tmp_path, "restored")
    with pytest.raises(BackupError, match="изменён"):
        backups.restore_backup(archive, target_url=str(disk), backup_id=bid,
                               opener=Opener(escrow=escrow), into=into, actor=ACTOR)
    assert list(into.storage.keys()) == []
    from archive_service.backups.dump import is_empty

    assert is_empty(into.engine)
    into.dispose()


def test_restore_never_merges_into_a_live_archive(backed_up, tmp_path):
    archive, escrow, disk, bid = backed_up
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="уже есть данные"):
        backups.restore_backup(archive, target_url=str(disk), backup_id=bid,
                               opener=Opener(director_code=CODE), into=archive, actor=ACTOR)
    after = archive_state(archive)
    assert {k: v for k, v in after.items() if k not in ("backup_event", "audit_entry",
                                                         "audit_head")} == \
        {k: v for k, v in before.items() if k not in ("backup_event", "audit_entry",
                                                      "audit_head")}


def test_an_unchanged_second_run_writes_only_the_database(backed_up, tmp_path):
    archive, escrow, disk, bid = backed_up
    second = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    assert second.reused == second.files > 0
    first = next(b for b in backups.list_backups(archive) if b.id == bid)
    assert second.bytes_written < first.bytes_written / 2
    assert _verify(archive, disk, second.id, 3, Opener(escrow=escrow)).ok
    assert backups.backups_on_target(str(disk)) == sorted([bid, second.id])


def test_a_code_change_interrupted_halfway_leaves_the_old_code_working(backed_up):
    archive, escrow, disk, bid = backed_up

    def power_cut():
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        backups.rotate_keys(archive, director_code=CODE, new_director_code="новый-код-2027",
                            actor=ACTOR, scrypt_n=FAST, _before_switch=power_cut)
    assert _verify(archive, disk, bid, 3, Opener(director_code=CODE)).ok
    assert not _verify(archive, disk, bid, 3, Opener(director_code="новый-код-2027")).ok
    # The change done properly: the new code opens old and new backups, the old one no more
    # through the keyring (the old backup's own header still holds the old lock).
    with pytest.raises(BackupError, match="Неверный код"):
        backups.rotate_keys(archive, director_code="не тот", new_director_code="x" * 10,
                            actor=ACTOR, scrypt_n=FAST)
    backups.rotate_keys(archive, director_code=CODE, new_director_code="новый-код-2027",
                        actor=ACTOR, scrypt_n=FAST)
    second = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    assert _verify(archive, disk, bid, 3, Opener(director_code="новый-код-2027")).ok
    assert _verify(archive, disk, second.id, 3, Opener(director_code="новый-код-2027")).ok
    assert not _verify(archive, disk, second.id, 3, Opener(director_code=CODE)).ok


def test_a_new_escrow_key_opens_new_backups_and_the_old_sheet_the_old_ones(backed_up):
    archive, escrow, disk, bid = backed_up
    sheet = backups.rotate_keys(archive, director_code=CODE, new_escrow=True, actor=ACTOR,
                                scrypt_n=FAST)
    new_escrow = EscrowKey.parse(sheet)
    second = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    assert _verify(archive, disk, second.id, 3, Opener(escrow=new_escrow)).ok
    assert _verify(archive, disk, bid, 3, Opener(escrow=escrow)).ok
    refused = _verify(archive, disk, second.id, 3, Opener(escrow=escrow))
    assert not refused.ok and "не подходит" in refused.problems[0]


def test_keys_are_made_once_and_a_bad_escrow_sheet_is_named(backed_up):
    with pytest.raises(ConflictError, match="уже созданы"):
        _keys(backed_up[0])
    with pytest.raises(BackupError, match="не лист ключа восстановления"):
        EscrowKey.parse("просто текст", source="ключ.txt")
    with pytest.raises(BackupError, match="переписан полностью"):
        EscrowKey.parse("Ключ: ABCD\nКлюч подписи описи: AAAA", source="ключ.txt")


def test_the_usage_log_records_a_handover_to_a_medium(backed_up):
    archive, escrow, disk, bid = backed_up
    backups.record_copy(archive, backup_id=bid, medium="Внешний диск № 2 (сейф)",
                        handed_by="Попов И. О.", received_by="Иванова Н. Л.", actor=ACTOR)
    with pytest.raises(ConflictError, match="кто принял"):
        backups.record_copy(archive, backup_id=bid, medium="Диск", handed_by="Попов",
                            received_by=" ", actor=ACTOR)
    copy = [e for e in backups.usage_log(archive, backup_id=bid) if e.action == "copy"]
    assert [(e.medium, e.handed_by, e.received_by) for e in copy] == [
        ("Внешний диск № 2 (сейф)", "Попов И. О.", "Иванова Н. Л.")]
    from archive_service.audit.service import entries

    assert any(e.action == "backup.copy" for e in entries(archive, chain=0))


def test_a_handover_certified_with_a_personal_key_and_a_changed_line_shows(backed_up):
    from archive_service.errors import SignatureRefusedError
    from tests.signatures.test_chain import pw

    archive, _escrow, _disk, bid = backed_up
    before = archive_state(archive)
    with pytest.raises(SignatureRefusedError, match="Неверный пароль.*Запись в журнал не сделана"):
        backups.record_copy(archive, backup_id=bid, medium="Диск № 3", handed_by="Попов И. О.",
                            received_by="Иванова Н. Л.", actor=ACTOR,
                            certify=("secretary", "не тот пароль"))
    assert archive_state(archive) == before  # nothing half-written
    backups.record_copy(archive, backup_id=bid, medium="Диск № 3", handed_by="Попов И. О.",
                        received_by="Иванова Н. Л.", actor=ACTOR,
                        certify=("secretary", pw("secretary")))
    events = backups.usage_log(archive, backup_id=bid)
    [line] = [e for e in events if e.action == "copy"]
    [cert] = backups.certifications(archive, events)[line.id]
    assert (cert.full_name, cert.valid) == ("Иванова Нина Львовна", True)
    # Someone with database access rewrites the medium (bypassing the immutability trigger):
    # the signature no longer matches the line.
    with archive.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER backup_event_no_update")
        conn.exec_driver_sql(f"UPDATE backup_event SET medium = 'Флешка' WHERE id = {line.id}")
    events = backups.usage_log(archive, backup_id=bid)
    [cert] = backups.certifications(archive, events)[line.id]
    assert cert.valid is False


@pytest.mark.s3
def test_s3_target_locks_every_object_and_restores_into_s3(backed_up, seaweed, tmp_path):
    import uuid

    from botocore.exceptions import ClientError

    archive, escrow, disk, bid = backed_up
    bucket = f"backups-{uuid.uuid4().hex[:10]}"
    url = f"s3://{bucket}/school-1?endpoint={seaweed.endpoint}"
    made = backups.create_backup(archive, target_url=url, actor=ACTOR, retain_days=30)
    assert _verify(archive, url, made.id, 2).ok
    target = backups.open_target(url)
    client = target.client
    names = list(target.keys())
    assert any(n.startswith("data/") for n in names) and f"backups/{made.id}/manifest.json" \
        in names
    row = next(b for b in backups.list_backups(archive) if b.id == made.id)
    retain_until = row.retain_until.replace(tzinfo=row.retain_until.tzinfo or dt.UTC)
    erasure_until = dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    for name in names:
        head = client.head_object(Bucket=bucket, Key=f"school-1/{name}")
        assert head["ObjectLockMode"] == "COMPLIANCE"
        # The erasure file (the deletable halves of the object keys) is locked 30 days, so
        # that deleting it cannot make the backups unreadable; everything else to its date.
        assert head["ObjectLockRetainUntilDate"] >= (
            erasure_until if name.startswith("keys/erasure-") else retain_until), name
    # Nobody can delete a locked version before its date, nor shorten the lock.
    key = f"school-1/backups/{made.id}/manifest.json"
    version = client.head_object(Bucket=bucket, Key=key)["VersionId"]
    with pytest.raises(ClientError):
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)
    with pytest.raises(ClientError):
        client.put_object_retention(Bucket=bucket, Key=key, VersionId=version, Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": dt.datetime.now(dt.UTC)
            + dt.timedelta(days=1)})
    assert client.head_object(Bucket=bucket, Key=key)["VersionId"] == version
    # A second backup reuses the locked objects; restore into S3 object storage.
    second = backups.create_backup(archive, target_url=url, actor=ACTOR, retain_days=30)
    assert second.reused == second.files
    # The first erasure file is still locked, so the second run could not remove it yet.
    assert sorted(target.keys("keys/")) == [f"keys/erasure-{bid}.json"
                                            for bid in sorted([made.id, second.id])]
    into_url = f"s3://restored-{uuid.uuid4().hex[:8]}/objects?endpoint={seaweed.endpoint}"
    backups.open_target(into_url).ensure_bucket(object_lock=False)
    home = tmp_path / "s3-restore"
    home.mkdir()
    into = make_archive(home, f"sqlite:///{home / 'r.sqlite3'}", into_url)
    report = backups.restore_backup(archive, target_url=url, backup_id=second.id,
                                    opener=Opener(director_code=CODE), into=into, actor=ACTOR)
    assert report.ok, report.problems
    assert sorted(into.storage.keys()) == sorted(archive.storage.keys())
    into.dispose()



def test_cross_database_restore_postgres_to_sqlite(tmp_path, pg_url):
    archive = make_archive(tmp_path, pg_url)
    _signed_archive(archive, tmp_path)
    escrow = _keys(archive)
    summary = backups.create_backup(archive, target_url=str(tmp_path / "disk"), actor=ACTOR)
    into = _fresh(tmp_path, "sqlite")
    report = backups.restore_backup(None, target_url=str(tmp_path / "disk"),
                                    backup_id=summary.id, opener=Opener(escrow=escrow),
                                    into=into, actor=ACTOR, verify_signatures=True)
    assert report.ok, report.problems
    assert report.documents == report.signatures_ok == 1
    assert report.tables["audit_entry"] > 0
    into.dispose()
    archive.dispose()


def _second_school(archive, tmp_path) -> int:
    """Another school in the same archive (its documents must not come with a selection)."""
    from archive_service.journals.service import import_file
    from archive_service.rendering.service import render_snapshots
    from archive_service.snapshots.service import create_snapshots
    from tests.support.journal import tiny, write_json

    other = tiny()
    other["school"]["code"], other["school"]["name"] = "T-002", "Другая школа"
    import_file(archive, write_json(other, tmp_path / "other.json"), actor=ACTOR)
    [snap] = create_snapshots(archive, period="2025-2026/Q1", class_name=None,
                              school_code="T-002", actor=ACTOR)
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=ACTOR, workers=1)
    return outcome.documents[0].id


def test_selective_restore_of_a_school_a_year_and_a_document(signed, tmp_path, database_url,
                                                            new_pg_database):
    from archive_service.audit.service import verify as verify_audit
    from archive_service.backups.subset import Selection
    from archive_service.journals.models import School, Student
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import SignatureRecord
    from archive_service.signatures.service import signed_pdf, verify_document
    from archive_service.snapshots.models import PeriodSnapshot

    archive, doc, _escrow = signed
    other_doc = _second_school(archive, tmp_path)
    made = backups.create_backup(archive, target_url=str(tmp_path / "disk"), actor=ACTOR)

    def restore(name, selection):
        url = None if database_url.startswith("sqlite") else new_pg_database(database_url)
        into = _fresh(tmp_path, name, url)
        report = backups.restore_backup(archive, target_url=str(tmp_path / "disk"),
                                        backup_id=made.id, opener=Opener(director_code=CODE),
                                        into=into, actor=ACTOR, selection=selection,
                                        verify_signatures=True)
        return into, report

    into, report = restore("school", Selection(school="T-001"))
    assert report.ok, report.problems
    with into.sessions() as s:
        assert [sc.code for sc in s.query(School)] == ["T-001"]
        assert other_doc not in {d.id for d in s.query(RenderedDocument)}
        assert {st.school_id for st in s.query(Student)} == {1}
        keys = {d.storage_key for d in s.query(RenderedDocument)} | {
            r.storage_key for r in s.query(SignatureRecord)} | {
            p.storage_key for p in s.query(PeriodSnapshot)}
    assert verify_document(into, doc).ok
    assert not verify_audit(into)[1]  # the school's audit chain came whole
    assert keys <= set(into.storage.keys())
    assert len(list(into.storage.keys())) < made.files  # the other school's files stayed out
    into.dispose()

    into, report = restore("document", Selection(document=doc))
    assert report.ok, report.problems
    with into.sessions() as s:
        assert [d.id for d in s.query(RenderedDocument)] == [doc]  # not its summary sheet
        assert s.query(PeriodSnapshot).count() == 1
    assert verify_document(into, doc).ok and signed_pdf(into, doc).startswith(b"%PDF")
    into.dispose()

    into, report = restore("year", Selection(school="T-001", year="2025-2026"))
    assert report.ok and report.documents == 1  # the signed journal, verified
    into.dispose()
    with pytest.raises(NotFoundError, match="нет учебного года 2019-2020 школы T-001"):
        restore("none", Selection(school="T-001", year="2019-2020"))
    restores = [e for e in backups.usage_log(archive) if e.action == "restore"]
    assert ["школа T-001", "документ № " + str(doc), "школа T-001, учебный год 2025-2026"] == [
        _details(e)["selection"] for e in restores]


def _details(event) -> dict:
    return event.details if isinstance(event.details, dict) else json.loads(event.details)


# --- issue 30: only the director's code or the escrow sheet opens a backup ------------------

def _key_material(archive) -> set[bytes]:
    """Every 32-byte value kept base64-encoded anywhere in an archive's database: what a
    thief holding the server's database (or a restored backup image) has to try."""
    import base64
    import re

    found = set()
    for rows in archive_state(archive).values():
        for text in rows:
            for match in re.findall(r"[A-Za-z0-9+/]{43}=", text):
                found.add(base64.b64decode(match))
    return found


def _opens_any(candidates: set[bytes], disk: Path, names: list[str]) -> list[str]:
    """The objects that any candidate opens, directly, through the format /1 derivation
    (HKDF of a server secret and the name), or as an object secret with any share."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from archive_service.backups import crypto
    from archive_service.backups.crypto import BackupCryptoError
    from archive_service.backups.objects import _split

    opened = []
    for name in names:
        sealed = (disk / name).read_bytes()
        keys = set(candidates)
        keys |= {HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                      info=b"object-key:" + name.encode()).derive(c) for c in candidates}
        keys |= {crypto.object_key(c, s) for c in candidates for s in (*candidates, b"")}
        for key in keys:
            try:
                crypto.open_file(key, _split(sealed), backup_id="data", file_id=name)
            except BackupCryptoError:
                continue
            opened.append(name)
            break
    return opened


def _file_objects(disk: Path, backup_id: str, opener: Opener, archive=None) -> list[str]:
    opened = backups.open_backup(str(disk), backup_id, opener, archive=archive)
    return [e["object"] for e in opened.index["files"]]


def test_the_servers_database_holds_nothing_that_opens_a_backup_object(backed_up):
    archive, escrow, disk, bid = backed_up
    names = _file_objects(disk, bid, Opener(escrow=escrow))[:4]
    material = _key_material(archive)
    assert len(material) > 5 and len(names) == 4
    assert _opens_any(material, disk, names) == []
    # The harness does find a key that is there: the object keys of format /1 were in the
    # sealed index, and this archive's own escrow key is one such 32-byte value.
    assert escrow.holder.private_bytes not in material
    opened = backups.open_backup(str(disk), bid, Opener(escrow=escrow))
    entry = opened.index["files"][0]
    secret = opened.unwrapper.unwrap(entry["wrap"], entry["object"])
    assert _opens_any({secret, *opened.shares[entry["object"]]}, disk, [entry["object"]]) \
        == [entry["object"]]


def test_after_a_key_change_the_old_secrets_open_nothing_made_later(backed_up, tmp_path):
    from archive_service.backups.crypto import BackupCryptoError, HolderKey, ObjectUnwrapper
    from archive_service.backups.models import BackupObject

    archive, old_escrow, disk, old = backed_up
    sheet = backups.rotate_keys(archive, director_code=CODE, new_director_code="новый-код-2027",
                                new_escrow=True, actor=ACTOR, scrypt_n=FAST)
    new_escrow = EscrowKey.parse(sheet)
    later = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    assert later.reused == 0  # the old objects are wrapped for retired keys: written anew
    # The new code and the new sheet open the later backup; the new code the old one too.
    assert _verify(archive, disk, later.id, 3, Opener(escrow=new_escrow)).ok
    assert _verify(archive, disk, old, 3, Opener(director_code="новый-код-2027")).ok
    assert _verify(None, disk, later.id, 3, Opener(director_code="новый-код-2027")).ok
    # The old sheet and the old code: the old backup only.
    assert _verify(None, disk, old, 3, Opener(escrow=old_escrow)).ok
    assert _verify(None, disk, old, 3, Opener(director_code=CODE)).ok
    refused = _verify(archive, disk, later.id, 3, Opener(escrow=old_escrow))
    assert not refused.ok and "не подходит" in refused.problems[0]
    refused = _verify(None, disk, later.id, 3, Opener(director_code=CODE))
    assert not refused.ok and "Неверный код" in refused.problems[0]
    # A thief with the old sheet, the old code and the medium restores the old backup and
    # tries everything it holds on the later backup's objects: nothing opens. Not even with
    # the live database's wrapped keys of the later objects.
    stolen = _fresh(tmp_path, "stolen")
    assert backups.restore_backup(None, target_url=str(disk), backup_id=old,
                                  opener=Opener(escrow=old_escrow), into=stolen,
                                  actor=ACTOR).ok
    manifest = json.loads((disk / f"backups/{old}/manifest.json").read_text())["manifest"]
    old_director = HolderKey.unlock_all(manifest["keys"]["director_locked"], CODE)
    material = _key_material(stolen) | {k.private_bytes for k in old_director} | {
        old_escrow.holder.private_bytes}
    later_names = _file_objects(disk, later.id, Opener(escrow=new_escrow))
    assert _opens_any(material, disk, later_names[:4]) == []
    with archive.sessions() as s:
        wraps = [(r.name, json.loads(r.wrap)) for r in s.query(BackupObject).filter(
            BackupObject.name.in_(later_names))]
    assert len(wraps) == len(later_names)
    for holder, slot in [(old_escrow.holder, "escrow"),
                         *((k, "director") for k in old_director)]:
        for name, wrap in wraps[:4]:
            with pytest.raises(BackupCryptoError, match="не открывается этим ключом"):
                ObjectUnwrapper(holder, slot).unwrap(wrap, name)
    stolen.dispose()


def test_no_private_key_and_no_erasure_share_goes_into_a_backup(signed, tmp_path):
    """The database image (SQLite pages or the PostgreSQL dump) carries neither the
    manifest key's private half nor the erasure shares (issue 30)."""
    import base64

    from archive_service.backups.models import BackupKeyring, BackupObjectShare

    archive, _doc, escrow = signed
    disk = tmp_path / "disk"
    first = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    second = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    with archive.sessions() as s:
        private = s.query(BackupKeyring).one().signing_private
        shares = [r.share for r in s.query(BackupObjectShare)]
    assert private and len(shares) == first.files
    secrets = [private.encode(), base64.b64decode(private)] + [
        x for share in shares for x in (share.encode(), base64.b64decode(share))]
    for bid in (first.id, second.id):  # the second image holds the first run's rows
        opened = backups.open_backup(str(disk), bid, Opener(escrow=escrow))
        if opened.index["database"]["kind"] == "sqlite":
            image = tmp_path / f"{bid}.sqlite3"
            opened.write_image(image)
            data = image.read_bytes()
        else:
            data = b"".join(opened.dump_lines())
        assert b"backup_object_share" in data or opened.index["database"]["kind"] == "dump"
        assert not [x for x in secrets if x in data]


def test_the_directors_code_alone_restores_on_a_new_machine_and_each_refusal_says_why(
        backed_up, tmp_path):
    from archive_service.backups import crypto

    archive, escrow, disk, bid = backed_up
    # A fresh machine: the medium and the director's code, nothing else.
    into = _fresh(tmp_path, "new-machine")
    report = backups.restore_backup(None, target_url=str(disk), backup_id=bid,
                                    opener=Opener(director_code=CODE), into=into, actor=ACTOR)
    assert report.ok, report.problems
    assert _verify(None, disk, bid, 2, Opener(director_code=CODE)).ok
    # Each cause its own message.
    causes = {
        "Неверный код директора": _verify(None, disk, bid, 1, Opener(director_code="не тот")),
        "Нечем проверить подпись описи": _verify(None, disk, bid, 1),
    }
    from archive_service.backups.crypto import HolderKey

    other = EscrowKey(HolderKey.generate(),  # another school's sheet
                      crypto.new_signing_key().public_key().public_bytes_raw())
    causes["не тем, что напечатан на листе"] = _verify(None, disk, bid, 1,
                                                       Opener(escrow=other))
    path = _writable(disk / f"backups/{bid}/manifest.json")
    signed = json.loads(path.read_text())
    signed["manifest"]["retain_until"] = "2099-01-01T00:00:00+00:00"
    path.write_bytes(crypto.canonical(signed))
    causes["изменена после подписи"] = _verify(None, disk, bid, 2,
                                               Opener(director_code=CODE))
    for message, result in causes.items():
        assert not result.ok and message in result.problems[0], (message, result.problems)
    # The restored archive has no manifest key (it is never backed up): it says so, and a
    # key change with a new sheet makes one.
    with pytest.raises(BackupError, match="не переносится резервными копиями"):
        backups.create_backup(into, target_url=str(tmp_path / "disk2"), actor=ACTOR)
    with pytest.raises(BackupError, match="нужен новый лист"):
        backups.rotate_keys(into, director_code=CODE, actor=ACTOR, scrypt_n=FAST)
    sheet = backups.rotate_keys(into, director_code=CODE, new_escrow=True, actor=ACTOR,
                                scrypt_n=FAST)
    made = backups.create_backup(into, target_url=str(tmp_path / "disk2"), actor=ACTOR)
    assert _verify(None, tmp_path / "disk2", made.id, 3, Opener(escrow=EscrowKey.parse(sheet))).ok
    into.dispose()


def test_a_manifest_moved_into_another_backups_folder_is_refused_and_says_little(backed_up):
    archive, escrow, disk, bid = backed_up
    second = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    text = (disk / f"backups/{bid}/manifest.json").read_text()
    manifest = json.loads(text)["manifest"]
    # Only what checking and opening need: no person, no schema, no plaintext sizes.
    assert ACTOR.name not in text
    assert not {"created_by", "source", "totals"} & set(manifest)
    assert all(set(o) <= {"name", "size", "sha256", "locked_until"}
               for o in manifest["objects"])
    target = _writable(disk / f"backups/{second.id}/manifest.json")
    target.write_text(text)
    for level in (1, 2):
        report = _verify(archive, disk, second.id, level)
        assert not report.ok and "принадлежит другой резервной копии" in report.problems[0]


def test_an_erasure_file_is_removed_only_when_a_newer_one_holds_its_shares(backed_up):
    """A run that writes at the same time as another may list the medium before the other's
    objects land: the other's erasure file stays until a file holds those shares too, or
    until they are shredded."""
    import datetime as dt

    from archive_service.backups import erasure
    from archive_service.backups.models import BackupObject, BackupObjectShare

    archive, _escrow, disk, bid = backed_up
    target = backups.open_target(str(disk))
    with archive.unit_of_work() as uow:  # an object another run is writing right now
        keyring = uow.session.query(BackupObject).first().keyring_id
        uow.session.add(BackupObject(
            name="data/zz/concurrent", sha256="0" * 64, keyring_id=keyring, size=1,
            sealed_sha256="0" * 64, plain_size=1, zstd=False, erasable=True, wrap="{}",
            locked_until=None, created_at=dt.datetime.now(dt.UTC)))
        uow.session.add(BackupObjectShare(name="data/zz/concurrent", share="AAAA"))
    target.write("keys/erasure-other-run.json",
                 json.dumps({"shares": {"data/zz/concurrent": "AAAA"}}).encode())
    mine = erasure.write_shares(archive, target, "next")
    assert sorted(target.keys("keys/")) == sorted([mine, "keys/erasure-other-run.json"])
    assert erasure.read_shares(target)["data/zz/concurrent"]
    with archive.unit_of_work() as uow:
        uow.session.query(BackupObjectShare).filter_by(name="data/zz/concurrent").delete()
    mine = erasure.write_shares(archive, target, "after-shred")
    assert list(target.keys("keys/")) == [mine]
    assert _verify(archive, disk, bid, 3, Opener(director_code=CODE)).ok
