"""The period close as one resumable job, run in one process (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from archive_service.actors import Actor
from archive_service.closing import service
from archive_service.closing.models import CloseClass
from archive_service.config import Settings
from archive_service.db import Archive
from archive_service.demo.writers import write_region
from archive_service.rendering.models import RenderedDocument
from archive_service.snapshots.models import PeriodSnapshot

ACTOR = Actor("Оператор региона")
PERIOD = "2025-2026/Q1"
CLASSES = ["1А", "9Б"]


@pytest.fixture
def region(tmp_path, archive):
    """Two schools of two classes in an export folder, and the archive reading it."""
    root = tmp_path / "exports"
    codes = write_region(root, schools=2, classes=CLASSES)
    a = Archive(Settings(home=archive.settings.home, database_url=archive.settings.database_url,
                         storage_url=archive.settings.storage_url, import_root=root))
    yield a, root, codes
    a.dispose()


def _counts(archive: Archive) -> tuple[int, int, dict]:
    with archive.sessions() as s:
        snaps = s.scalar(select(func.count()).select_from(PeriodSnapshot))
        docs = s.scalar(select(func.count()).select_from(RenderedDocument))
        per_class = dict(s.execute(select(PeriodSnapshot.school_class_id, func.count())
                                   .group_by(PeriodSnapshot.school_class_id)).all())
    return snaps, docs, per_class


def _close(archive: Archive, school: str | None = None) -> service.RunReport:
    started = service.start_close(archive, period=PERIOD, school_code=school, actor=ACTOR)
    service.dispatch_pending(archive, started.run_id, service.Inline(archive, ACTOR))
    return service.run_report(archive, started.run_id)


def test_a_region_closes_once_and_a_second_start_changes_nothing(region):
    archive, _root, codes = region
    report = _close(archive)
    assert report.schools == {"dispatched": 2} and report.classes == {"done": 4}
    assert report.imported == 4 and report.snapshots == 4 and report.documents == 8
    assert report.status == "attention"  # no backup keys yet: a person must create them
    assert "ключи резервного копирования" in report.message
    snaps, docs, per_class = _counts(archive)
    assert (snaps, docs) == (4, 8) and set(per_class.values()) == {1}
    assert report.remarks, "completeness remarks are reported for the person"

    from archive_service.backups import service as backups

    backups.init_keys(archive, director_code="код директора", actor=ACTOR, school="Регион")
    again = service.start_close(archive, period=PERIOD, school_code=None, actor=ACTOR)
    assert not again.created and again.run_id == report.id
    service.dispatch_pending(archive, again.run_id, service.Inline(archive, ACTOR))
    final = service.run_report(archive, report.id)
    assert final.status == "done" and final.backup_id and final.message is None
    assert _counts(archive)[:2] == (4, 8)
    assert sorted(codes) == sorted(service.schools_in_scope(archive, None))


class _Crash(Exception):
    pass


def test_a_close_killed_halfway_continues_where_it_stopped(region):
    archive, _root, _codes = region
    started = service.start_close(archive, period=PERIOD, school_code=None, actor=ACTOR)

    class Dies(service.Inline):
        done = 0

        def klass(self, run_id: int, close_class_id: int) -> None:
            if self.done == 3:
                raise _Crash  # the process dies before the fourth class
            super().klass(run_id, close_class_id)
            self.done += 1

    with pytest.raises(_Crash):
        service.dispatch_pending(archive, started.run_id, Dies(archive, ACTOR))
    half = service.run_report(archive, started.run_id)
    assert half.status == "running" and half.classes.get("done") == 3
    assert half.schools == {"dispatched": 1, "pending": 1}
    report = _close(archive)
    assert report.id == started.run_id and report.classes == {"done": 4}
    snaps, docs, per_class = _counts(archive)
    assert (snaps, docs) == (4, 8) and set(per_class.values()) == {1}


def test_a_rejected_export_holds_back_its_school_and_names_the_file(region):
    archive, root, codes = region
    bad = root / codes[1] / "9Б.json"
    good = bad.read_text("utf-8")
    doc = json.loads(good)
    doc["classes"][0]["students"][0]["full_name"] = ""
    bad.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    report = _close(archive)
    assert report.status == "attention" and report.classes == {"done": 2}
    [(code, cls, message)] = [a for a in report.attention]
    assert code == codes[1] and cls is None and "9Б.json" in message
    with archive.sessions() as s:  # nothing of the held-back school was frozen
        assert s.scalar(select(func.count()).select_from(CloseClass)
                        .where(CloseClass.class_name == "9Б")) == 1
    bad.write_text(good, "utf-8")  # the school fixes its export
    report = _close(archive)
    assert report.classes == {"done": 4} and not [a for a in report.attention if a[1] is None]
    assert _counts(archive)[:2] == (4, 8)


def test_a_journal_changed_after_its_snapshot_waits_for_a_person(region):
    archive, root, codes = region
    _close(archive, codes[0])
    path = root / codes[0] / "1А.json"
    doc = json.loads(path.read_text("utf-8"))
    lesson = doc["classes"][0]["courses"][0]["lessons"][0]
    lesson["topic"] = (lesson.get("topic") or "") + " (исправлено)"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    with archive.unit_of_work() as uow:  # a new close of the same period (the old one is done)
        from archive_service.closing.models import CloseRun

        for run in uow.session.scalars(select(CloseRun)):
            run.status = "done"
    report = _close(archive, codes[0])
    [(code, cls, message)] = report.attention
    assert (code, cls) == (codes[0], "1А") and "изменился после среза версии 1" in message
    assert _counts(archive)[0] == 2  # no second version without a reason


def test_period_ends_from_the_school_calendar_start_a_close(region):
    from archive_service.journals.service import import_files

    archive, root, codes = region
    _close(archive, codes[0])  # Q1 of 2025-2026 ends on 24.10.2025 in both schools
    for outcome in import_files(archive, sorted((root / codes[1]).glob("*.json")), actor=ACTOR):
        assert not isinstance(outcome, Exception)
    end = dt.date(2025, 10, 24)
    assert service.due_periods(archive, today=end + dt.timedelta(days=1)) == [(codes[1], PERIOD)]
    assert service.due_periods(archive, today=end) == []  # not over on its last day
    assert service.due_periods(archive, today=end + dt.timedelta(days=30)) == []  # too old
    [started] = service.close_due_periods(archive, today=end + dt.timedelta(days=1),
                                          dispatch=service.Inline(archive, ACTOR))
    report = service.run_report(archive, started.run_id)
    assert (report.trigger, report.scope, report.classes) == ("schedule", codes[1], {"done": 2})
    assert service.due_periods(archive, today=end + dt.timedelta(days=1)) == []


def test_the_queue_schedules_closes_backups_fixity_and_recovery():
    from archive_service.closing import queue

    crons = {p.task.name: p.cron for p in queue.bp.periodic_registry.periodic_tasks.values()}
    assert crons == {"close_due_periods": "15 0 * * *", "daily_audit_checkpoint": "50 1 * * *",
                     "daily_backup": "0 2 * * *",
                     "daily_fixity": "0 3 * * *", "recover_stalled": "* * * * *",
                     "monthly_timestamp_renewal": "30 4 1 * *"}


def test_the_monthly_renewal_without_the_tsa_passphrase_fails_saying_so(tmp_path,
                                                                        monkeypatch):
    from archive_service.closing import queue
    from archive_service.errors import ConfigError

    monkeypatch.setenv("ARCHIVE_HOME", str(tmp_path))
    monkeypatch.delenv("ARCHIVE_TSA_PASSPHRASE", raising=False)
    monkeypatch.delenv("ARCHIVE_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="Не задан ARCHIVE_TSA_PASSPHRASE: штампы времени "
                                          "не продлены"):
        queue.monthly_timestamp_renewal(timestamp=0)
