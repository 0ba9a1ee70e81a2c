"""Sessions end on the server (issue 27, item 2): a copied session cookie is dead after
logout, a password change, deactivation and an idle hour; the API the same."""

from __future__ import annotations

import pytest

from archive_service import web
from archive_service.accounts.service import create_account
from tests.web.conftest import ACTOR, PASSWORD, fresh_app, login, post


@pytest.fixture
def app(sqlite_archive):
    app = fresh_app(sqlite_archive)
    create_account(sqlite_archive, school_code="T-001", login="zam", full_name="Зам Замов",
                   password=PASSWORD, roles=[("deputy", "")], actor=ACTOR)
    return app


def _copy(app, client):
    """Another browser holding a copy of the client's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _in(client) -> bool:
    return client.get("/account").status_code == 200


def test_logout_kills_a_copied_cookie(app):
    owner = login(app, "zam")
    thief = _copy(app, owner)
    assert _in(thief)
    post(owner, "/logout", {}, page="/account")
    assert not _in(owner) and not _in(thief)
    assert _in(login(app, "zam"))  # a new login opens a new session


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app):
    owner = login(app, "zam")
    thief = _copy(app, owner)
    post(owner, "/account/password", {"current": PASSWORD, "password": "новый-пароль-12",
                                      "repeat": "новый-пароль-12"})
    assert _in(owner) and not _in(thief)


def test_deactivation_ends_the_session(app):
    zam = login(app, "zam")
    admin = login(app, "admin")
    post(admin, "/people/zam/active", {"active": "0"}, page="/people")
    assert not _in(zam)


def test_an_idle_session_ends(app, monkeypatch):
    zam = login(app, "zam")
    assert _in(zam)
    with zam.session_transaction() as s:
        s["seen"] -= web.SESSION_IDLE + 1
    assert not _in(zam)


def test_the_api_logout_kills_a_copied_cookie(app):
    api = app.test_client()
    assert api.post("/api/v1/login", json={"login": "zam", "password": PASSWORD}
                    ).status_code == 200
    thief = _copy(app, api)
    assert thief.get("/api/v1/me").status_code == 200
    assert api.post("/api/v1/logout", json={}).status_code == 204
    assert thief.get("/api/v1/me").status_code == 401
