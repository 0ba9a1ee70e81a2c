"""Period snapshots: canonical, immutable, versioned, verifiable; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive_service.actors import Actor
from archive_service.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    SnapshotBlockedError,
    SnapshotChangedError,
)
from archive_service.journals.models import School
from archive_service.journals.service import import_file
from archive_service.snapshots.service import (
    create_snapshots,
    list_snapshots,
    show_snapshot,
    verify_snapshots,
)
from tests.support.journal import tiny, write_json
from tests.support.state import archive_state

ACTOR = Actor("Заместитель Проверяющий")
Q1 = "2025-2026/Q1"


def _load(archive, tmp_path: Path, doc=None, name="7А.json") -> None:
    import_file(archive, write_json(doc or tiny(), tmp_path / name), actor=ACTOR)


def _snap(archive, **kw):
    [outcome] = create_snapshots(archive, period=Q1, class_name="7А", school_code=None,
                                 actor=ACTOR, **kw)
    return outcome


def test_snapshot_is_canonical_json_with_its_hash(archive, tmp_path):
    _load(archive, tmp_path)
    outcome = _snap(archive)
    assert outcome.created and outcome.snapshot.version == 1
    data = archive.storage.get(outcome.snapshot.storage_key)
    import hashlib

    assert hashlib.sha256(data).hexdigest() == outcome.snapshot.sha256
    content = json.loads(data)
    assert data == json.dumps(content, ensure_ascii=False, sort_keys=True,
                              separators=(",", ":")).encode()
    assert content["class"] == {"name": "7А", "grade": 7, "period_scheme": "quarters",
                                "class_leader": "Петрова Анна Ивановна"}
    assert [s["record_number"] for s in content["students"]] == ["ЛД-1", "ЛД-3", "ЛД-2"]
    algebra = content["courses"][0]
    assert algebra["subject"] == "Алгебра"
    first = algebra["lessons"][0]
    assert [m["raw"] for m in first["marks"] if m["student"] == "ЛД-2"] == ["4", "5"]
    assert first["attendance"] == [{"student": "ЛД-3", "code": "Н", "raw": "н"}]
    english = content["courses"][1]
    assert english["subgroup"] == "1 группа" and english["students"] == ["ЛД-1", "ЛД-2"]
    assert outcome.snapshot.created_by == ACTOR.name


def test_same_content_gives_same_snapshot_not_a_new_version(archive, tmp_path):
    _load(archive, tmp_path)
    first = _snap(archive)
    again = _snap(archive)
    assert not again.created and again.snapshot.id == first.snapshot.id
    assert len(list_snapshots(archive)) == 1


def test_corrected_journal_needs_a_reason_and_keeps_the_old_version(archive, tmp_path):
    _load(archive, tmp_path)
    v1 = _snap(archive).snapshot
    doc = tiny()
    doc["classes"][0]["courses"][0]["period_marks"][1]["raw"] = "5"
    _load(archive, tmp_path, doc, "fixed.json")
    before = archive_state(archive)
    with pytest.raises(SnapshotChangedError, match="укажите причину: --reason"):
        _snap(archive)
    assert archive_state(archive) == before
    v2 = _snap(archive, reason="Исправлена четвертная отметка по алгебре").snapshot
    assert (v2.version, v2.reason) == (2, "Исправлена четвертная отметка по алгебре")
    assert v2.sha256 != v1.sha256
    assert [s.version for s in list_snapshots(archive, class_name="7А")] == [1, 2]
    assert archive.storage.exists(v1.storage_key)
    assert all(o.ok for o in verify_snapshots(archive, period=Q1))


def test_snapshot_rows_cannot_be_changed_even_with_raw_sql(archive, tmp_path):
    _load(archive, tmp_path)
    snap = _snap(archive).snapshot
    for statement in (f"UPDATE period_snapshot SET sha256 = 'x' WHERE id = {snap.id}",
                      f"DELETE FROM period_snapshot WHERE id = {snap.id}"):
        with pytest.raises(sa.exc.DatabaseError, match="immutable"):
            with archive.engine.begin() as conn:
                conn.execute(sa.text(statement))
    assert list_snapshots(archive)[0].sha256 == snap.sha256


def _flip_byte(archive, key: str) -> None:
    path = Path(archive.storage.root) / key
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_names_a_tampered_snapshot_by_class_and_period(archive, tmp_path):
    _load(archive, tmp_path)
    snap = _snap(archive).snapshot
    assert all(o.ok for o in verify_snapshots(archive, period=Q1))
    _flip_byte(archive, snap.storage_key)
    [outcome] = verify_snapshots(archive, snapshot_id=snap.id)
    assert not outcome.ok
    assert "класс 7А, «1 четверть» 2025-2026" in outcome.problem
    assert "хеш не совпадает" in outcome.problem
    with pytest.raises(IntegrityError):
        show_snapshot(archive, snap.id)


def test_verify_reports_a_missing_object(archive, tmp_path):
    _load(archive, tmp_path)
    snap = _snap(archive).snapshot
    archive.storage.delete(snap.storage_key)
    [outcome] = verify_snapshots(archive, snapshot_id=snap.id)
    assert not outcome.ok and "отсутствуют в хранилище" in outcome.problem


def test_school_can_require_a_complete_journal(archive, tmp_path):
    _load(archive, tmp_path)  # the third lesson has no topic: the check finds it
    with archive.unit_of_work() as uow:
        school = uow.session.scalars(sa.select(School)).one()
        school.settings = {"block_snapshot_on_incomplete": True}
    before = archive_state(archive)
    with pytest.raises(SnapshotBlockedError, match="no_topic"):
        _snap(archive)
    assert archive_state(archive) == before


def test_wrong_period_or_class_are_clear_errors(archive, tmp_path):
    _load(archive, tmp_path)
    with pytest.raises(NotFoundError, match="Класс 9Я"):
        create_snapshots(archive, period=Q1, class_name="9Я", school_code=None, actor=ACTOR)
    with pytest.raises(NotFoundError, match="например 2025-2026/Q1"):
        create_snapshots(archive, period="Q1", class_name="7А", school_code=None, actor=ACTOR)
    with pytest.raises(NotFoundError, match="Период H1"):
        create_snapshots(archive, period="2025-2026/H1", class_name="7А", school_code=None,
                         actor=ACTOR)


def test_half_year_period_is_refused_for_a_quarter_class(archive, tmp_path):
    doc = tiny()
    doc["academic_year"]["periods"].append(
        {"code": "H1", "name": "1 полугодие", "start": "2025-09-01", "end": "2025-12-26"})
    _load(archive, tmp_path, doc)
    with pytest.raises(ConflictError, match="Класс 7А учится не по периодам"):
        create_snapshots(archive, period="2025-2026/H1", class_name="7А", school_code=None,
                         actor=ACTOR)


def _snapshot_in_process(settings_env: dict, barrier) -> tuple[int, bool]:
    from archive_service.config import Settings
    from archive_service.db import Archive

    archive = Archive(Settings.from_env(settings_env))
    barrier.wait()
    [outcome] = create_snapshots(archive, period=Q1, class_name="7А", school_code=None,
                                 actor=Actor(f"process {os.getpid()}"))
    archive.dispose()
    return outcome.snapshot.id, outcome.created


@pytest.mark.postgres
def test_concurrent_snapshots_on_postgres_give_one_version(tmp_path, pg_url):
    from tests.conftest import make_archive

    archive = make_archive(tmp_path, pg_url)
    _load(archive, tmp_path)
    env = {"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_DATABASE_URL": pg_url,
           "ARCHIVE_STORAGE_URL": f"file://{tmp_path / 'objects'}"}
    ctx = multiprocessing.get_context("spawn")
    workers = 4
    with ctx.Manager() as manager:
        barrier = manager.Barrier(workers)
        with ctx.Pool(workers) as pool:
            results = pool.starmap(_snapshot_in_process, [(env, barrier)] * workers)
    assert len({snap_id for snap_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert [s.version for s in list_snapshots(archive)] == [1]
    archive.dispose()


def test_one_failing_class_does_not_stop_the_others(archive, tmp_path):
    import copy

    doc = tiny()
    other = copy.deepcopy(doc["classes"][0])
    other["name"] = "7Б"
    for i, student in enumerate(other["students"]):
        student["record_number"] = f"ЛД-Б{i}"
    mapping = {f"ЛД-{i + 1}": f"ЛД-Б{i}" for i in range(3)}
    for course in other["courses"]:
        if course.get("students"):
            course["students"] = [mapping[r] for r in course["students"]]
        for lesson in course["lessons"]:
            for item in lesson["marks"] + lesson["attendance"]:
                item["student"] = mapping[item["student"]]
        for pm in course["period_marks"]:
            pm["student"] = mapping[pm["student"]]
    doc["classes"].append(other)
    _load(archive, tmp_path, doc)
    create_snapshots(archive, period=Q1, class_name=None, school_code=None, actor=ACTOR)
    doc["classes"][0]["courses"][0]["lessons"][0]["topic"] = "Исправлено"
    _load(archive, tmp_path, doc, "fixed.json")
    from archive_service.errors import SnapshotBatchError

    with pytest.raises(SnapshotBatchError) as info:
        create_snapshots(archive, period=Q1, class_name=None, school_code=None, actor=ACTOR)
    # 7А comes first and fails; 7Б after it is still done.
    assert [o.snapshot.class_name for o in info.value.done] == ["7Б"]
    assert [name for name, _ in info.value.failures] == ["7А"]
    assert "7А: Журнал 7А за «1 четверть» изменился" in info.value.message
