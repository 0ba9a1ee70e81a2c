"""``archive close-period``, ``close-status``, ``jobs``, ``worker`` as a person runs them on the
embedded SQLite default (everything in one process), and /metrics on it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from archive_service.demo.writers import write_region
from cli.main import main


def run(home: Path, *args: str, **extra: str) -> SimpleNamespace:
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_ACTOR": "Оператор региона",
           "ARCHIVE_DATABASE_URL": None, "ARCHIVE_STORAGE_URL": None,
           "ARCHIVE_IMPORT_ROOT": str(home / "exports"), **extra}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False,
                                prog_name="archive")
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout,
                           stderr=result.stderr)


def test_close_period_on_sqlite_runs_in_process_and_reports(tmp_path):
    [code] = write_region(tmp_path / "exports", schools=1, classes=["2А", "10А"])
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "close-period", "--period", "2025-2026/Q1").returncode == 2
    missing = run(tmp_path, "close-period", "--period", "2025-2026/Q1", "--school", "123")
    assert missing.returncode == 4 and "«123» не найдена" in missing.stderr
    bad = run(tmp_path, "close-period", "--period", "2025-2026-Q1", "--all-schools")
    assert bad.returncode == 4 and "например 2025-2026/Q1" in bad.stderr
    first = run(tmp_path, "close-period", "--period", "2025-2026/Q1", "--school", code)
    # 10А studies by half-years: Q1 is not its period, only 2А is closed.
    assert first.returncode == 10, first.stderr
    assert "Начато закрытие периода № 1" in first.stderr and "в этом процессе" in first.stderr
    assert "Классы: 1 (готово — 1); срезов 1, документов PDF/A 2" in first.stdout
    assert "archive backup keys init" in first.stdout
    status = run(tmp_path, "close-status", "--json")
    assert status.returncode == 10 and json.loads(status.stdout)["classes"] == {"done": 1}
    listed = run(tmp_path, "close-status", "--list")
    assert "№ 1" in listed.stdout and code in listed.stdout
    assert run(tmp_path, "backup", "keys", "init", "--school-name", "Школа",
               "--director-passphrase-file", str(_file(tmp_path, "код директора")),
               "--escrow-out", str(tmp_path / "escrow.txt")).returncode == 0
    again = run(tmp_path, "close-period", "--period", "2025-2026/Q1", "--school", code, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["status"] == "done" and report["backup_id"] and report["snapshots"] == 1
    assert "Продолжено закрытие периода № 1" in again.stderr
    assert run(tmp_path, "jobs").stdout.strip() == "Отказов нет."
    worker = run(tmp_path, "worker")
    assert worker.returncode == 9 and "только с PostgreSQL" in worker.stderr


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(text + "\n", "utf-8")
    return path


def test_metrics_on_sqlite_and_the_token(sqlite_archive, monkeypatch):
    from archive_service.app import create_app

    client = create_app({"ARCHIVE": sqlite_archive}).test_client()
    page = client.get("/metrics")
    assert page.status_code == 200 and page.mimetype == "text/plain"
    assert "# TYPE archive_close_runs gauge" in page.get_data(as_text=True)
    monkeypatch.setenv("ARCHIVE_METRICS_TOKEN", "monitoring-secret-1")
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={
        "Authorization": "Bearer monitoring-secret-1"}).status_code == 200
    assert client.get("/health").get_json()["status"] == "ok"


def test_health_names_the_part_that_is_down(tmp_path, sqlite_archive):
    from archive_service.app import create_app
    from archive_service.config import Settings
    from archive_service.db import Archive

    not_a_folder = tmp_path / "disk"
    not_a_folder.write_text("a file where the storage folder should be", "utf-8")
    broken_storage = Archive(Settings(home=tmp_path, database_url=sqlite_archive.settings
                                      .database_url, storage_url=f"file://{not_a_folder}/o"))
    page = create_app({"ARCHIVE": broken_storage}).test_client().get("/health")
    assert page.status_code == 503
    assert page.get_json()["problem"] == "хранилище недоступно: StorageError"
    no_database = Archive(Settings(home=tmp_path, storage_url=sqlite_archive.settings.storage_url,
                                   database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    page = create_app({"ARCHIVE": no_database}).test_client().get("/health")
    assert page.status_code == 503 and page.get_json()["problem"].startswith(
        "база данных недоступна")
    broken_storage.dispose(), no_database.dispose()
