"""The ``archive`` command as a person runs it: messages in Russian, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.support.journal import tiny, write_json

ARCHIVE = [sys.executable, "-m", "cli.main"]


def run(home: Path, *args: str, check: bool = False, process: bool = False):
    """Run ``archive`` in-process (click's runner) or, with process=True, as a real process."""
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_ACTOR": "Секретарь Иванова",
           "ARCHIVE_DATABASE_URL": None, "ARCHIVE_STORAGE_URL": None,
           "ARCHIVE_TSA_PASSPHRASE": "tsa-secret-passphrase"}
    if process:
        full = {**os.environ, **{k: v for k, v in env.items() if v}}
        for key in ("ARCHIVE_DATABASE_URL", "ARCHIVE_STORAGE_URL"):
            full.pop(key, None)
        result = subprocess.run([*ARCHIVE, *args], env=full, capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parents[2])
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False,
                                    prog_name="archive")
        code, stdout, stderr = result.exit_code, result.stdout, result.stderr
    if check:
        assert code == 0, stderr
    return SimpleNamespace(returncode=code, stdout=stdout, stderr=stderr)


@pytest.fixture
def home(tmp_path):
    run(tmp_path, "init", check=True)
    return tmp_path


def test_import_snapshot_verify_round_trip(home, tmp_path):
    good = write_json(tiny(), tmp_path / "7А.json")
    out = run(home, "import", str(good), check=True).stdout
    assert "7А.json: принят" in out
    assert "без изменений" in run(home, "import", str(good), check=True).stdout
    created = json.loads(run(home, "snapshot", "create", "--period", "2025-2026/Q1",
                             "--class", "7а", "--json", check=True).stdout)
    assert created[0]["created"] and created[0]["created_by"] == "Секретарь Иванова"
    listed = run(home, "snapshot", "list", check=True).stdout
    assert "7А v1" in listed
    shown = json.loads(run(home, "snapshot", "show", str(created[0]["id"]), check=True).stdout)
    assert shown["students"] == 3 and shown["courses"][0] == "Алгебра"
    assert "с нарушениями: 0" in run(home, "snapshot", "verify", "--all", check=True).stdout

    # Flip one byte of the stored snapshot: verify names it by class and period, exit 10.
    blob = home / "objects" / created[0]["storage_key"]
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[0] ^= 0x20
    blob.write_bytes(bytes(data))
    bad = run(home, "snapshot", "verify", "--all", process=True)  # the real console script
    assert bad.returncode == 10
    assert "класс 7А, «1 четверть» 2025-2026" in bad.stderr


def test_rejected_import_exits_3_with_the_location(home, tmp_path):
    doc = tiny()
    doc["classes"][0]["courses"][0]["lessons"][0]["marks"][0]["raw"] = "6"
    result = run(home, "import", str(write_json(doc, tmp_path / "bad.json")), process=True)
    assert result.returncode == 3
    assert "bad.json, classes[0].courses[0].lessons[0].marks[0]: отметка «6» вне шкалы" \
        in result.stderr
    assert "Ничего из этого файла не сохранено" in result.stderr
    assert run(home, "snapshot", "list", check=True).stdout.strip() == "Всего срезов: 0"


def test_one_bad_file_does_not_stop_the_good_ones(home, tmp_path):
    good = write_json(tiny(), tmp_path / "good.json")
    missing = tmp_path / "нет-такого.json"
    result = run(home, "import", str(missing), str(good))
    assert result.returncode == 3
    assert "нет-такого.json: файл не открывается" in result.stderr
    assert "good.json: принят" in result.stdout


def test_changed_journal_without_reason_exits_5(home, tmp_path):
    run(home, "import", str(write_json(tiny(), tmp_path / "a.json")), check=True)
    run(home, "snapshot", "create", "--period", "2025-2026/Q1", "--all", check=True)
    doc = tiny()
    doc["classes"][0]["courses"][0]["lessons"][0]["topic"] = "Выражения (исправлено)"
    run(home, "import", str(write_json(doc, tmp_path / "b.json")), check=True)
    result = run(home, "snapshot", "create", "--period", "2025-2026/Q1", "--all")
    assert result.returncode == 5 and "--reason" in result.stderr
    fixed = run(home, "snapshot", "create", "--period", "2025-2026/Q1", "--all", "--reason",
                "Исправлена тема урока", check=True)
    assert "версия 2" in fixed.stdout


def test_check_json_and_strict_exit(home, tmp_path):
    run(home, "import", str(write_json(tiny(), tmp_path / "a.json")), check=True)
    result = run(home, "check", "--period", "2025-2026/Q1", "--json", check=True)
    report = json.loads(result.stdout)
    assert report["summary"]["no_topic"] == 1
    strict = run(home, "check", "--period", "2025-2026/Q1", "--strict")
    assert strict.returncode == 10 and "урок без темы" in strict.stdout


def test_unknown_period_exits_4(home, tmp_path):
    run(home, "import", str(write_json(tiny(), tmp_path / "a.json")), check=True)
    result = run(home, "snapshot", "create", "--period", "2024-2025/Q1", "--all")
    assert result.returncode == 4 and "Учебный год 2024-2025" in result.stderr


def test_school_setting_blocks_snapshots_of_incomplete_journals(home, tmp_path):
    run(home, "import", str(write_json(tiny(), tmp_path / "a.json")), check=True)
    assert "True" in run(home, "school", "set", "T-001", "--block-snapshot-on-incomplete",
                         check=True).stdout
    blocked = run(home, "snapshot", "create", "--period", "2025-2026/Q1", "--class", "7А")
    assert blocked.returncode == 5
    assert "школа требует полного журнала" in blocked.stderr
    assert "archive check --period 2025-2026/Q1 --class 7А" in blocked.stderr
    missing = run(home, "school", "set", "НЕТ", "--no-block-snapshot-on-incomplete")
    assert missing.returncode == 4 and "Школа с кодом «НЕТ» не найдена" in missing.stderr


def test_help_and_usage_errors_are_in_russian(tmp_path):
    help_text = run(tmp_path, "snapshot", "create", "--help", check=True).stdout
    assert "Использование: archive snapshot create [ПАРАМЕТРЫ]" in help_text
    assert "--period ТЕКСТ" in help_text and "Показать эту справку и выйти." in help_text
    assert "[обязательный]" in help_text
    missing = run(tmp_path, "snapshot", "create")
    assert missing.returncode == 2
    assert "Ошибка: Не указан параметр '--period'." in missing.stderr


def test_database_without_schema_gives_a_hint(tmp_path):
    result = run(tmp_path, "snapshot", "list")
    assert result.returncode == 11
    assert "выполните «archive init»" in result.stderr


def test_attendance_codes_and_a_lenient_import_as_a_newcomer_runs_them(home):
    """The import says what it read with a correction; a school's own spelling is added,
    listed and refused when it is a mark; every refusal exits non-zero in Russian."""
    corpus = Path(__file__).resolve().parents[1] / "journals" / "corpus"
    out = run(home, "import", str(corpus / "lookalike-letters.xlsx"), check=True).stdout
    assert "прочитано с поправкой: лист «Класс», ячейка B10" in out
    refused = run(home, "import", str(corpus / "ambiguous-mark.xlsx"))
    assert refused.returncode != 0 and "ячейка C5: «4,5» читается двояко" in refused.stderr
    assert "читается как Н" in run(home, "attendance-codes", "add", "--spelling", "пр",
                                   "--means", "н", check=True).stdout
    listed = run(home, "attendance-codes", "list", check=True).stdout
    assert "ПР         Н  неявка по неуважительной причине  (своё написание школы)" in listed
    assert "Н/Б        Н" in listed
    bad = run(home, "attendance-codes", "add", "--spelling", "зач", "--means", "Н")
    assert bad.returncode != 0 and "это отметка" in bad.stderr
    run(home, "attendance-codes", "remove", "--spelling", "ПР", check=True)
    assert "ПР " not in run(home, "attendance-codes", "list", check=True).stdout


def test_the_development_server_announces_no_versions_and_health_no_addresses(home):
    """`archive serve` on loopback: «Server: archive» (no Werkzeug or Python version);
    /health gives the kinds of database and storage, not where they are; pages and JSON
    are never cached (issue 27, item 8)."""
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_TSA_PASSPHRASE": "x" * 20}
    for key in ("ARCHIVE_DATABASE_URL", "ARCHIVE_STORAGE_URL"):
        env.pop(key, None)
    server = subprocess.Popen([*ARCHIVE, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        for _ in range(100):
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("archive serve did not answer")
        body = json.loads(answer.read())
        assert answer.headers["Server"] == "archive"
        assert answer.headers["Cache-Control"] == "no-store"
        assert body["storage"] == "file" and str(home) not in json.dumps(body)
        login = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
        assert login.headers["Server"] == "archive" and login.headers["Cache-Control"] == \
            "no-store"
    finally:
        server.terminate()
        server.wait(10)
