"""Backups in the web: the director's keys and view, creation and verification started from
the page, the secretary's usage log certified with her key and printed as PDF/A, and a
command-line restore's report shown afterwards (test client, SQLite)."""

from __future__ import annotations

import re
import subprocess
import time

import pikepdf
import pytest

from archive_service import background
from archive_service.backups import service as backups
from tests.conftest import make_archive
from tests.signatures.test_chain import pw
from tests.support.state import archive_state
from tests.web.conftest import flashes, login, post, school_with_signers

CODE = "код-директора-школы"


@pytest.fixture
def web(sqlite_archive, tmp_path):
    return school_with_signers(sqlite_archive, tmp_path), sqlite_archive, tmp_path


def _settle(timeout: float = 60.0) -> None:
    """Wait until this process's background backup work has finished."""
    deadline = time.monotonic() + timeout
    while background.busy("backup-create") or background.busy_with("backup-verify-"):
        assert time.monotonic() < deadline, "background backup work did not finish"
        time.sleep(0.05)


def test_the_director_makes_the_keys_a_backup_and_verifies_it_from_the_page(web):
    _director_makes_a_verified_backup(web)


def _director_makes_a_verified_backup(web):
    """The director's part (keys, a backup, its verification); returns the backup."""
    app, archive, _tmp = web
    director = login(app, "director")
    page = director.get("/backups").get_data(as_text=True)
    assert "Ключи резервных копий ещё не созданы" in page
    assert post(director, "/backups/create", {}, page="/backups").status_code == 404
    before = archive_state(archive)
    post(director, "/backups/keys", {"code": CODE, "repeat": "другой код"}, page="/backups")
    assert "Коды не совпадают" in flashes(director, "/backups")
    post(director, "/backups/keys", {"code": "короткий", "repeat": "короткий"},
         page="/backups")
    assert "не короче 12 символов" in flashes(director, "/backups")
    assert archive_state(archive) == before
    sheet = post(director, "/backups/keys", {"code": CODE, "repeat": CODE}, page="/backups")
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    text = sheet.get_data(as_text=True)
    assert "КЛЮЧ ВОССТАНОВЛЕНИЯ РЕЗЕРВНЫХ КОПИЙ" in text and "МБОУ «Тестовая школа»" in text
    post(director, "/backups/keys", {"code": CODE, "repeat": CODE}, page="/backups")
    assert "уже созданы" in flashes(director, "/backups")
    post(director, "/backups/create", {}, page="/backups")
    _settle()
    page = director.get("/backups").get_data(as_text=True)
    assert "Последняя копия: <strong>" in page and "ещё не проверялась" in page
    assert "Орлова Вера Павловна (director), директор" in page  # the named account
    [made] = backups.list_backups(archive)
    post(director, f"/backups/{made.id}/verify", {"level": "2"}, page="/backups")
    _settle()
    page = director.get("/backups").get_data(as_text=True)
    assert re.search(r"Проверка: уровень 2, [^<]+ —\s*<span class=\"good\">без замечаний", page)
    assert post(director, f"/backups/{made.id}/verify", {"level": "3"},
                page="/backups").status_code == 400
    for wrong in ("nonexistent", made.id + "x" * 40):
        assert post(director, f"/backups/{wrong}/verify", {"level": "1"},
                    page="/backups").status_code == 404
    return made


def test_the_secretary_keeps_the_usage_log_and_prints_it(web):
    app, archive, tmp = web
    made = _director_makes_a_verified_backup(web)
    secretary = login(app, "secretary")
    entry = {"backup": made.id, "medium": "Внешний диск № 2", "handed_by": "Иванова Нина Львовна",
             "received_by": "Орлова Вера Павловна"}
    before = archive_state(archive)
    post(secretary, "/backups/log", {**entry, "passphrase": "not hers"}, page="/backups")
    assert "Неверный пароль ключа" in flashes(secretary, "/backups")
    post(secretary, "/backups/log", {**entry, "medium": " ", "passphrase": pw("secretary")},
         page="/backups")
    assert "Не указано: носитель" in flashes(secretary, "/backups")
    logged = {"audit_entry", "audit_head", "login_attempt"}
    after = archive_state(archive)
    assert {k: v for k, v in after.items() if k not in logged} == {
        k: v for k, v in before.items() if k not in logged}
    post(secretary, "/backups/log", {**entry, "passphrase": pw("secretary")}, page="/backups")
    assert "внесена в журнал и заверена подписью" in flashes(secretary, "/backups")
    page = secretary.get("/backups").get_data(as_text=True)
    assert "Иванова Нина Львовна: подпись верна" in page
    assert "Иванова Нина Львовна (secretary), секретарь" in page
    pdf = secretary.get("/backups/log.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    path = tmp / "log.pdf"
    path.write_bytes(pdf.data)
    with pikepdf.open(path) as doc:
        assert doc.open_metadata().pdfa_status == "2B"
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Журнал пользования резервными копиями" in text and "Внешний диск № 2" in text
    assert "подпись" in text and "верна" in text  # the certification (its cell wraps)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    # The backup page for each role: what they may do, and nothing else.
    assert post(secretary, "/backups/create", {}, page="/backups").status_code == 403
    assert post(login(app, "director"), "/backups/log", {**entry, "passphrase": "x"},
                page="/backups").status_code == 403
    teacher = login(app, "smirnova")
    for path_ in ("/backups", "/backups/log.pdf"):
        assert teacher.get(path_).status_code == 403


def test_a_restore_from_the_command_line_is_reported_on_the_page(web, tmp_path):
    app, archive, _tmp = web
    made = _director_makes_a_verified_backup(web)
    into = make_archive(tmp_path / "restored", f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    try:
        report = backups.restore_backup(archive, target_url=made.target, backup_id=made.id,
                                        opener=backups.Opener(director_code=CODE), into=into,
                                        actor=backups_actor())
    finally:
        into.dispose()
    assert report.ok
    page = login(app, "director").get("/backups").get_data(as_text=True)
    assert "восстановлено и сверено" in page and "вся копия" in page


def backups_actor():
    from archive_service.actors import Actor

    return Actor("Админ Админов (admin)", "administrator")
