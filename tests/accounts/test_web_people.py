"""The people page and one's own account through the web (test client, SQLite)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from archive_service.accounts.service import create_account
from archive_service.actors import Actor
from archive_service.app import create_app
from archive_service.journals.service import import_file
from archive_service.rendering.service import render_snapshots
from archive_service.snapshots.service import create_snapshots
from tests.support.journal import tiny, write_json
from tests.support.state import archive_state
from tests.web.conftest import PASSWORD, csrf, login

TSA = "tsa-secret-passphrase"
ROOT = "root-passphrase-of-the-school"


@pytest.fixture
def fresh(sqlite_archive, tmp_path):
    """A school with its journal rendered, an administrator, no keys yet."""
    archive = sqlite_archive
    import_file(archive, write_json(tiny(), tmp_path / "j.json"), actor=Actor("t"))
    [snap] = create_snapshots(archive, period="2025-2026/Q1", class_name=None,
                              school_code=None, actor=Actor("t"))
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=Actor("t"), workers=1)
    create_account(archive, school_code="T-001", login="admin", full_name="Админ Админов",
                   password=PASSWORD, roles=[("administrator", "")], actor=Actor("t"))
    archive.settings = dataclasses.replace(archive.settings, tsa_passphrase=TSA,
                                           secure_cookies=False)
    app = create_app({"ARCHIVE": archive, "SECRET_KEY": "test", "TESTING": True})
    journal = next(d.id for d in outcome.documents if d.kind == "journal")
    return app, archive, journal


def _post(client, path, data, page):
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def _flashes(client, path="/") -> str:
    return " ".join(re.findall(r'<div class="flash [a-z]+" role="status">([^<]*)</div>',
                               client.get(path).get_data(as_text=True)))


def _add(admin, **form) -> str:
    """Add a person on the people page; returns the one-time code the page shows."""
    answer = _post(admin, "/people", form, "/people")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    return re.search(r"<code class=\"code\" data-code>([A-Z0-9-]+)</code>",
                     answer.get_data(as_text=True)).group(1)


def _first_login(app, login_, code, password, key):
    client = app.test_client()
    answer = client.post("/login", data={"login": login_, "password": code,
                                         "csrf_token": csrf(client)})
    assert answer.headers["Location"] == "/account/setup"
    assert client.get("/register").headers["Location"] == "/account/setup"  # nothing else
    assert client.get("/api/v1/me").status_code == 403
    setup = client.get("/account/setup").get_data(as_text=True)
    assert "Пароль ключа подписи" in setup
    answer = _post(client, "/account/setup", {"password": password, "repeat": password,
                                              "key_passphrase": key, "key_repeat": key},
                   "/account/setup")
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def test_the_administrator_sets_up_keys_and_a_teacher_signs_after_her_first_login(fresh):
    app, archive, journal = fresh
    admin = login(app, "admin")
    page = admin.get("/people").get_data(as_text=True)
    assert "Создать корневой сертификат школы" in page
    assert "Смирнова Ольга Николаевна" in page  # from the journal, without an account yet
    assert 'value="smirnova.on"' in page  # the suggested login
    _post(admin, "/people/pki", {"ca_passphrase": ROOT, "repeat": "other"}, "/people")
    assert "не совпадают" in _flashes(admin, "/people")
    _post(admin, "/people/pki", {"ca_passphrase": ROOT, "repeat": ROOT}, "/people")
    assert "Корневой сертификат школы создан" in _flashes(admin, "/people")
    code = _add(admin, full_name="Смирнова Ольга Николаевна", position="Учитель математики",
                login="smirnova.on", role="teacher")
    page = admin.get("/people?q=смирнова").get_data(as_text=True)
    assert "ждёт первого входа" in page and code not in page
    teacher = _first_login(app, "smirnova.on", code, "her-own-password", "her-key-passphrase")
    assert "Ключ подписи создан" in _flashes(teacher)
    assert "ожидает выпуска" in teacher.get("/account").get_data(as_text=True)
    page = admin.get("/people").get_data(as_text=True)
    assert "Выпустить сертификаты (1)" in page
    _post(admin, "/people/certificates", {"ca_passphrase": "wrong"}, "/people")
    assert "Неверный пароль ключа (корневой сертификат школы)" in _flashes(admin, "/people")
    _post(admin, "/people/certificates", {"ca_passphrase": ROOT}, "/people")
    assert "Выпущены сертификаты: Смирнова Ольга Николаевна (подпись)" in _flashes(
        admin, "/people")
    assert "действует до" in teacher.get("/account").get_data(as_text=True)
    # The journal copy and the summary sheet (her final marks, seed 000, 4.2).
    assert "Ждут моей подписи (2)" in teacher.get("/").get_data(as_text=True)
    _post(teacher, f"/documents/{journal}/sign", {"passphrase": "her-key-passphrase"},
          f"/documents/{journal}")
    assert "Подписано полей: 1." in _flashes(teacher, f"/documents/{journal}")


def test_own_password_and_key_passphrase_changes(fresh):
    app, archive, _journal = fresh
    admin = login(app, "admin")
    _post(admin, "/people/pki", {"ca_passphrase": ROOT, "repeat": ROOT}, "/people")
    code = _add(admin, full_name="Орлова Вера Павловна", position="Директор", login="orlova",
                role="director")
    director = _first_login(app, "orlova", code, "director-password", "director-key")
    _post(director, "/account/password", {"current": "wrong", "password": "new-password-1",
                                          "repeat": "new-password-1"}, "/account")
    assert "Текущий пароль введён неверно" in _flashes(director, "/account")
    _post(director, "/account/password", {"current": "director-password",
                                          "password": "new-password-1",
                                          "repeat": "new-password-1"}, "/account")
    assert "Пароль изменён;" in _flashes(director, "/account")
    _post(director, "/account/key/passphrase", {"kind": "person", "current": "director-key",
                                                "passphrase": "director-key-2",
                                                "repeat": "director-key-2"}, "/account")
    assert "Пароль ключа изменён." in _flashes(director, "/account")
    # Wrong current passphrases here count towards the key's lockout, as at signing.
    for left in (4, 3, 2, 1):
        _post(director, "/account/key/passphrase", {"kind": "person", "current": "guess",
                                                    "passphrase": "director-key-3",
                                                    "repeat": "director-key-3"}, "/account")
        assert f"Осталось попыток: {left}." in _flashes(director, "/account")
    _post(director, "/account/key/passphrase", {"kind": "person", "current": "guess",
                                                "passphrase": "director-key-3",
                                                "repeat": "director-key-3"}, "/account")
    assert "закрыта на 15 минут" in _flashes(director, "/account")
    _post(director, "/account/key/passphrase", {"kind": "person", "current": "director-key-2",
                                                "passphrase": "director-key-3",
                                                "repeat": "director-key-3"}, "/account")
    assert "Подпись вашим ключом закрыта до" in _flashes(director, "/account")
    again = app.test_client()
    assert again.post("/login", data={"login": "orlova", "password": "new-password-1",
                                      "csrf_token": csrf(again)}).status_code == 302


def test_a_secretary_makes_the_seal_key_and_refused_forms_change_nothing(fresh):
    app, archive, _journal = fresh
    admin = login(app, "admin")
    _post(admin, "/people/pki", {"ca_passphrase": ROOT, "repeat": ROOT}, "/people")
    code = _add(admin, full_name="Иванова Нина Львовна", position="Секретарь",
                login="ivanova", role="secretary")
    client = app.test_client()
    client.post("/login", data={"login": "ivanova", "password": code,
                                "csrf_token": csrf(client)})
    assert "Пароль ключа печати" in client.get("/account/setup").get_data(as_text=True)
    before = archive_state(archive)
    answer = _post(client, "/account/setup", {
        "password": "secretary-pass", "repeat": "secretary-pass",
        "key_passphrase": "personal-key", "key_repeat": "personal-key"}, "/account/setup")
    assert answer.status_code == 422 and "Пароль ключа печати должен быть не короче 8" in \
        answer.get_data(as_text=True)
    logged = {"audit_entry", "audit_head", "login_attempt"}
    after = archive_state(archive)
    assert {k: v for k, v in after.items() if k not in logged} == {
        k: v for k, v in before.items() if k not in logged}
    _post(client, "/account/setup", {
        "password": "secretary-pass", "repeat": "secretary-pass",
        "key_passphrase": "personal-key", "key_repeat": "personal-key",
        "seal_passphrase": "seal-key-pass", "seal_repeat": "seal-key-pass"}, "/account/setup")
    assert "Ключ печати школы создан" in _flashes(client)
    _post(admin, "/people/certificates", {"ca_passphrase": ROOT}, "/people")
    assert "Иванова Нина Львовна (печать школы)" in _flashes(admin, "/people")
    assert "выпущен" in client.get("/account").get_data(as_text=True)


def test_names_are_shown_as_text_and_other_people_cannot_use_the_page(fresh):
    app, archive, _journal = fresh
    admin = login(app, "admin")
    code = _add(admin, full_name="<script>alert(1)</script> Тест", position="<b>x</b>",
                login="xss", role="teacher")
    page = admin.get("/people").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    teacher = _first_login(app, "xss", code, "teacher-password", "teacher-key")
    for path in ("/people",):
        assert teacher.get(path).status_code == 403
    assert _post(teacher, "/people", {"full_name": "X", "position": "Y", "login": "y",
                                      "role": "director"}, "/account").status_code == 403
    assert _post(teacher, "/people/admin/code", {}, "/account").status_code == 403
    # Another school's login does not exist for this administrator.
    assert _post(admin, "/people/nobody/code", {}, "/people").status_code == 404


def test_a_session_opened_before_a_new_code_does_not_reach_the_setup_page(fresh):
    app, archive, _journal = fresh
    admin = login(app, "admin")
    code = _add(admin, full_name="Орлова Вера Павловна", position="Директор", login="orlova",
                role="director")
    owner = _first_login(app, "orlova", code, "director-password", "director-key")
    assert owner.get("/").status_code == 200
    post = _post(admin, "/people/orlova/code", {}, "/people")
    assert post.status_code == 200 and "data-code" in post.get_data(as_text=True)
    # The old session (or a copy of its cookie) is logged out, not let set a new password.
    answer = owner.get("/account/setup")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert owner.get("/").headers["Location"].startswith("/login")
