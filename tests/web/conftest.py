"""A small school with signers, web accounts, an inspector (current and expired), and a
second school whose documents nobody here may see."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from archive_service.accounts.service import create_account, grant_inspection
from archive_service.actors import Actor
from archive_service.app import create_app
from archive_service.journals.service import import_file
from archive_service.rendering.service import render_snapshots
from archive_service.snapshots.service import create_snapshots
from tests.signatures.test_chain import TSA, USERS, _setup
from tests.support.journal import tiny, write_json
from tests.support.prepared import prepared

PASSWORD = "web-password-1"
ACTOR = Actor("test admin")


@pytest.fixture
def web(archive, tmp_path):
    """(app, archive, journal id, other school's document id)."""
    return make_web(archive, tmp_path)


@pytest.fixture
def web_sqlite(sqlite_archive, tmp_path):
    """The same on SQLite only (the browser tests: the database is not their subject)."""
    return make_web(sqlite_archive, tmp_path)


@pytest.fixture
def web_pg(tmp_path, pg_url):
    """The same on PostgreSQL only (the API fuzz run: stricter types than SQLite)."""
    from tests.conftest import make_archive

    archive = make_archive(tmp_path, pg_url)
    yield make_web(archive, tmp_path)
    archive.dispose()


def make_web(archive, tmp_path):
    """Set up the schools and accounts (built once per session and database kind:
    tests/support/prepared.py) and build the app."""
    journal, other_document = prepared(archive, "web", lambda a: _build_web(a, tmp_path))
    settings = dataclasses.replace(archive.settings, tsa_passphrase=TSA, secure_cookies=False)
    archive.settings = settings
    app = create_app({"ARCHIVE": archive, "SECRET_KEY": "test", "TESTING": True})
    return app, archive, journal, other_document


def _build_web(archive, tmp_path):
    journal = _setup(archive, tmp_path)
    for login, name, _position, roles in USERS:
        create_account(archive, school_code="T-001", login=login, full_name=name,
                       password=PASSWORD, roles=roles, actor=ACTOR)
    create_account(archive, school_code="T-001", login="admin", full_name="Админ Админов",
                   password=PASSWORD, roles=[("administrator", "")], actor=ACTOR)
    today = dt.date.today()
    for login, ends in (("inspector", today + dt.timedelta(days=10)),
                        ("expired", today - dt.timedelta(days=1))):
        create_account(archive, school_code=None, login=login, full_name=f"Проверяющий {login}",
                       password=PASSWORD, roles=[("inspector", "")], actor=ACTOR)
        grant_inspection(archive, login=login, school_code="T-001", year="2025-2026",
                         starts=today - dt.timedelta(days=20), ends=ends, basis="Приказ № 1",
                         actor=ACTOR)
    other = tiny()
    other["school"]["code"], other["school"]["name"] = "T-002", "Другая школа"
    import_file(archive, write_json(other, tmp_path / "other.json"), actor=ACTOR)
    [snap] = create_snapshots(archive, period="2025-2026/Q1", class_name=None,
                              school_code="T-002", actor=ACTOR)
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=ACTOR, workers=1)
    return journal, outcome.documents[0].id


def csrf(client, path="/login") -> str:
    """The CSRF token of the session, read from a page's form."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(app, who: str):
    """A test client logged in as ``who`` (None: anonymous)."""
    client = app.test_client()
    if who is not None:
        token = csrf(client)
        answer = client.post("/login", data={"login": who, "password": PASSWORD,
                                             "csrf_token": token})
        assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def fresh_app(archive, *, school_code: str = "T-001", school_name: str = "МБОУ «Тестовая школа»"):
    """A new school as the region's operator leaves it: the school and its first
    administrator («admin», ``PASSWORD``), nothing imported, no keys. Returns the app."""
    archive.settings = dataclasses.replace(archive.settings, tsa_passphrase=TSA,
                                           secure_cookies=False)
    create_account(archive, school_code=school_code, school_name=school_name, login="admin",
                   full_name="Админ Админов", password=PASSWORD,
                   roles=[("administrator", "")], actor=ACTOR)
    return create_app({"ARCHIVE": archive, "SECRET_KEY": "test", "TESTING": True})


def post(client, path: str, data: dict, *, page: str = "/account", **kw):
    """A form post with the session's CSRF token (read from ``page``)."""
    return client.post(path, data={**data, "csrf_token": csrf(client, page)}, **kw)


def flashes(client, path: str = "/") -> str:
    """The messages a page shows (and consumes)."""
    return " ".join(re.findall(r'<div class="flash [a-z]+" role="status">([^<]*)</div>',
                               client.get(path).get_data(as_text=True)))


def school_with_signers(archive, tmp_path):
    """``fresh_app`` plus the tiny journal imported (nothing frozen), the school PKI, and the
    chain's signers (``USERS``) with keys and web accounts. Returns the app."""
    from archive_service.signatures.service import NewUser, add_users, init_pki
    from tests.signatures.test_chain import pw

    app = fresh_app(archive)
    import_file(archive, write_json(tiny(), tmp_path / "j.json"), actor=ACTOR)
    init_pki(archive, school_code=None, ca_passphrase="ca-passphrase",
             seal_passphrase=pw("seal"), tsa_passphrase=TSA)
    add_users(archive, school_code=None, ca_passphrase="ca-passphrase", kdf_rounds=1000,
              users=[NewUser(login_, name, position, roles, pw(login_))
                     for login_, name, position, roles in USERS])
    for login_, name, _position, roles in USERS:
        create_account(archive, school_code="T-001", login=login_, full_name=name,
                       password=PASSWORD, roles=roles, actor=ACTOR)
    return app
