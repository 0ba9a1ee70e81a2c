"""``archive backup …`` as the administrator and the director run it; a killed run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.backups.test_backups import _signed_archive
from tests.cli.test_cli import ARCHIVE, run
from tests.conftest import make_archive


@pytest.fixture
def signed_home(tmp_path, sqlite_template) -> Path:
    """ARCHIVE_HOME of an archive with one fully signed journal, no backup keys yet."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(sqlite_template, home / "archive.sqlite3")
    archive = make_archive(home, f"sqlite:///{home / 'archive.sqlite3'}")
    _signed_archive(archive, home)
    archive.dispose()
    return home


def _codes(home: Path) -> tuple[Path, Path]:
    code = home / "director-code.txt"
    code.write_text("код директора школы\n", "utf-8")
    wrong = home / "wrong-code.txt"
    wrong.write_text("не тот код\n", "utf-8")
    return code, wrong


def test_keys_create_verify_restore_log(signed_home, tmp_path):
    home = signed_home
    code, wrong = _codes(tmp_path)
    sheet = tmp_path / "escrow.txt"
    out = run(home, "backup", "keys", "init", "--director-passphrase-file", str(code),
              "--escrow-out", str(sheet), "--school-name", "МБОУ СОШ № 1", check=True)
    assert "распечатайте" in out.stdout and "Ключ:" in sheet.read_text("utf-8")
    again = run(home, "backup", "keys", "init", "--director-passphrase-file", str(code),
                "--escrow-out", str(sheet))
    assert again.returncode == 9 and "уже существует" in again.stderr
    disk = tmp_path / "disk"
    made = run(home, "backup", "create", "--to", str(disk), check=True)
    assert "Резервная копия" in made.stdout
    [listed] = json.loads(run(home, "backup", "list", "--json", check=True).stdout)
    bid = listed["id"]
    assert run(home, "backup", "list", "--target", str(disk), check=True).stdout.startswith(bid)
    assert "Нарушений нет" in run(home, "backup", "verify", bid, "--level", "1",
                                  check=True).stdout
    level3 = run(home, "backup", "verify", bid, "--level", "3",
                 "--director-passphrase-file", str(code), check=True)
    assert "подписи верны у" in level3.stdout
    refused = run(home, "backup", "verify", bid, "--level", "3", "--director-passphrase-file",
                  str(wrong))
    assert refused.returncode == 10 and "Неверный код директора" in refused.stderr
    # Restore on "another machine": only the disk and the escrow sheet.
    into = tmp_path / "restored"
    restored = run(tmp_path / "elsewhere", "backup", "restore", bid, "--from", str(disk),
                   "--into", str(into), "--escrow-key", str(sheet), check=True)
    assert "Всё совпадает с описью копии" in restored.stdout
    assert "Журнал аудита цел" in run(into, "audit", "verify", check=True).stdout
    not_empty = run(home, "backup", "restore", bid, "--into", str(into), "--escrow-key",
                    str(sheet))
    assert not_empty.returncode == 5 and "уже есть" in not_empty.stderr
    # One ledger only, into another empty folder.
    one = tmp_path / "one-document"
    only = run(home, "backup", "restore", bid, "--into", str(one), "--escrow-key", str(sheet),
               "--document", "1", check=True)
    assert "Выборочно: документ № 1." in only.stdout and "Всё совпадает" in only.stdout
    assert "подписи верны" in run(one, "verify", "1", check=True).stdout
    missing = run(home, "backup", "restore", bid, "--into", str(tmp_path / "none"),
                  "--escrow-key", str(sheet), "--document", "999")
    assert missing.returncode == 4 and "нет документа № 999" in missing.stderr
    secretary = tmp_path / "secretary.txt"
    secretary.write_text("secretary-passphrase\n")
    run(home, "backup", "copy", bid, "--medium", "Внешний диск № 2", "--handed-by",
        "Попов И. О.", "--received-by", "Иванова Н. Л.", "--as", "secretary",
        "--passphrase-file", str(secretary), check=True)
    log = run(home, "backup", "log", check=True).stdout
    assert "заверено подписью: Иванова Нина Львовна — подпись верна" in log
    assert "созданы ключи" in log and "передал(а) Попов И. О., принял(а) Иванова Н. Л." in log
    assert "НАРУШЕНИЯ" in log  # the refused level-3 check is in the log too


def test_a_flipped_byte_exits_10_naming_the_object(signed_home, tmp_path):
    home = signed_home
    code, _ = _codes(tmp_path)
    run(home, "backup", "keys", "init", "--director-passphrase-file", str(code),
        "--escrow-out", str(tmp_path / "escrow.txt"), check=True)
    disk = tmp_path / "disk"
    run(home, "backup", "create", "--to", str(disk), check=True)
    bid = json.loads(run(home, "backup", "list", "--json", check=True).stdout)[0]["id"]
    victim = sorted(p for p in (disk / "data").rglob("*") if p.is_file())[0]
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[100] ^= 0x20
    victim.write_bytes(bytes(data))
    result = run(home, "backup", "verify", bid, "--level", "2")
    assert result.returncode == 10 and victim.name in result.stderr


def test_a_killed_backup_leaves_nothing_that_verifies_and_the_next_run_succeeds(tmp_path):
    home = tmp_path / "home"
    run(home, "init", check=True)
    # An archive with enough data that writing takes a while: 300 objects of 512 KiB.
    from archive_service.config import Settings
    from archive_service.db import Archive

    archive = Archive(Settings(home=home, database_url=f"sqlite:///{home / 'archive.sqlite3'}",
                               storage_url=f"file://{home / 'objects'}"))
    for i in range(300):
        archive.storage.put(os.urandom(512 * 1024 - i))
    archive.dispose()
    code, _ = _codes(tmp_path)
    run(home, "backup", "keys", "init", "--director-passphrase-file", str(code),
        "--escrow-out", str(tmp_path / "escrow.txt"), check=True)
    disk = tmp_path / "disk"
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    for key in ("ARCHIVE_DATABASE_URL", "ARCHIVE_STORAGE_URL"):
        env.pop(key, None)
    proc = subprocess.Popen([*ARCHIVE, "backup", "create", "--to", str(disk)], env=env,
                            cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data = disk / "data"
        if data.exists() and sum(1 for p in data.rglob("*") if p.is_file()) >= 20:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [partial] = [p.name for p in (disk / "backups").iterdir()]
    assert not (disk / "backups" / partial / "manifest.json").exists()
    assert run(home, "backup", "list", "--target", str(disk), check=True).stdout.startswith(
        "Полных копий на носителе: 0")
    refused = run(home, "backup", "verify", partial, "--from", str(disk), "--level", "1")
    assert refused.returncode == 10 and "не завершена" in refused.stderr
    assert json.loads(run(home, "backup", "list", "--json", check=True).stdout) == []
    # The next run completes, reusing what the killed one wrote after checking it.
    run(home, "backup", "create", "--to", str(disk), check=True)
    [done] = json.loads(run(home, "backup", "list", "--json", check=True).stdout)
    assert run(home, "backup", "verify", done["id"], "--level", "3",
               "--director-passphrase-file", str(code), check=True).returncode == 0
