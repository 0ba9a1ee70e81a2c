"""A region closed by several worker processes on PostgreSQL and SeaweedFS, one of them
killed in the middle; the queue's dead-letter list, health and metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_service.audit.models import AuditEntry
from archive_service.closing.models import CloseClass
from archive_service.config import Settings
from archive_service.db import Archive
from archive_service.demo.writers import write_region
from archive_service.rendering.models import RenderedDocument
from archive_service.snapshots.models import PeriodSnapshot

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]
PERIOD = "2025-2026/Q1"
ARCHIVE = str(Path(sys.executable).with_name("archive"))


@pytest.fixture
def region_env(tmp_path, pg_url, seaweed):
    from archive_service.backups.service import open_target

    storage = f"s3://region-{uuid.uuid4().hex[:8]}/objects?endpoint={seaweed.endpoint}"
    open_target(storage).ensure_bucket(object_lock=True)
    root = tmp_path / "exports"
    codes = write_region(root, schools=5, classes=["1А", "5А", "9Б"])
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_DATABASE_URL": pg_url,
           "ARCHIVE_STORAGE_URL": storage, "ARCHIVE_IMPORT_ROOT": str(root),
           "ARCHIVE_WORKER_HEARTBEAT_SECONDS": "1", "ARCHIVE_TASK_BACKOFF_SECONDS": "0",
           "ARCHIVE_TASK_RETRIES": "2", "ARCHIVE_ACTOR": "Оператор региона"}
    return env, codes


def _archive(env: dict[str, str]) -> Archive:
    return Archive(Settings.from_env(env))


def _cli(env, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([ARCHIVE, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _workers(env, n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([ARCHIVE, "worker", "--name", f"w{i}"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for i in range(n)]


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()


def test_workers_close_a_region_exactly_once_though_one_is_killed(region_env):
    env, codes = region_env
    assert _cli(env, "init").returncode == 0
    archive = _archive(env)
    workers = _workers(env, 3)
    try:
        queued = _cli(env, "close-period", "--period", PERIOD, "--all-schools", "--no-wait")
        assert queued.returncode in (0, 10), queued.stderr
        # Kill (SIGKILL: no goodbye, no cleanup) a worker in the middle of a class.
        pids = {w.pid: w for w in workers}
        victim, deadline = None, time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            with archive.sessions() as s:
                busy = s.scalars(select(CloseClass).where(CloseClass.status == "running")).all()
            for row in busy:
                pid = int(row.worker.rsplit(":", 1)[1])
                if pid in pids:
                    os.kill(pid, signal.SIGKILL)
                    victim = (row.id, pid)
                    break
            time.sleep(0.05)
        assert victim, "no worker was caught in the middle of a class"
        pids[victim[1]].wait(timeout=10)
        # The operator runs the same command again: it continues and waits for the end,
        # putting the dead worker's job back in the queue.
        done = _cli(env, "close-period", "--period", PERIOD, "--all-schools", "--json")
        assert done.returncode == 10, done.stderr  # no backup keys yet: a person must act
        report = json.loads(done.stdout)
    finally:
        _stop(workers)
    logs = "".join(w.stderr.read() for w in workers if w.pid != victim[1])
    assert report["classes"] == {"done": 15} and report["schools"] == {"dispatched": 5}
    assert "ключи резервного копирования" in report["message"]
    with archive.sessions() as s:
        per_class = s.execute(select(PeriodSnapshot.school_class_id, func.count())
                              .group_by(PeriodSnapshot.school_class_id)).all()
        docs = s.execute(select(RenderedDocument.snapshot_id, func.count())
                         .group_by(RenderedDocument.snapshot_id)).all()
        killed = s.get(CloseClass, victim[0])
        created = s.scalar(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.action == "snapshot.create"))
    assert len(per_class) == 15 and {n for _c, n in per_class} == {1}  # snapshotted once
    assert len(docs) == 15 and {n for _s, n in docs} == {2}  # rendered once
    assert created == 15  # and recorded once
    assert killed.status == "done" and killed.attempts >= 2
    # Whoever noticed the silence first put the job back: this command while it waited, or a
    # live worker's every-minute recover_stalled task when the kill fell just before a minute.
    assert ("возвращено в очередь" in done.stderr
            or "of a dead worker" in logs), done.stderr + logs
    fixity = _cli(env, "fixity", "run", "--share", "100")  # all on S3 readable and intact
    assert fixity.returncode == 0, fixity.stdout + fixity.stderr
    archive.dispose()


def test_dead_letters_health_and_metrics(region_env):
    from archive_service.app import create_app
    from archive_service.closing import queue
    from archive_service.closing.jobs import list_jobs

    env, codes = region_env
    assert _cli(env, "init").returncode == 0
    archive = _archive(env)
    assert _cli(env, "jobs").stdout.strip() == "Отказов нет."
    app = queue.make_app(archive.settings)
    with app.open():  # a job no worker can do: its class row does not exist
        job_id = app.configure_task("archive:close_class", queue=queue.QUEUE).defer(
            run_id=1, close_class_id="нет такой строки")
    workers = _workers(env, 1)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list_jobs(archive):
            time.sleep(0.2)
        listed = _cli(env, "jobs")
        assert listed.returncode == 10 and f"№ {job_id} close_class" in listed.stdout
        [dead] = list_jobs(archive)
        assert (dead.id, dead.status, dead.attempts) == (job_id, "failed", 3)  # the first try and 2 retries
        client = create_app({"ARCHIVE": archive}).test_client()
        health = client.get("/health")
        assert health.status_code == 200 and health.get_json()["queue"] == {"failed": 1}
        text = client.get("/metrics").get_data(as_text=True)
        assert 'archive_queue_jobs{status="failed",task="close_class"} 1.0' in text
        assert "archive_workers_alive 1.0" in text
        assert 'archive_task_finished_last_hour{status="failed",task="close_class"} 1.0' in text
        again = _cli(env, "jobs", "retry", str(job_id))
        assert again.returncode == 0 and "снова в очереди" in again.stdout
        assert _cli(env, "jobs", "retry", "999999").returncode == 4
    finally:
        _stop(workers)
    archive.dispose()


def test_a_close_whose_jobs_keep_failing_stops_waiting_and_says_where_to_look(region_env,
                                                                              tmp_path):
    env, codes = region_env
    assert _cli(env, "init").returncode == 0
    broken = tmp_path / "not-a-folder"
    broken.write_text("a file where the storage folder should be", "utf-8")
    env = {**env, "ARCHIVE_STORAGE_URL": f"file://{broken}/objects"}  # every write fails
    workers = _workers(env, 1)
    try:
        out = _cli(env, "close-period", "--period", PERIOD, "--school", codes[0])
    finally:
        _stop(workers)
    assert out.returncode == 10, out.stderr
    assert "задания с отказом — archive jobs" in out.stderr
    listed = _cli(env, "jobs")
    assert listed.returncode == 10 and "close_school" in listed.stdout
