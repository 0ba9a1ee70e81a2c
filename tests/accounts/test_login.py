"""Login throttling and the login oracle (issue 27, item 7): per login and client address,
per login everywhere, per address; an unknown login costs the same Argon2 check."""

from __future__ import annotations

import pytest

from archive_service.accounts import service
from archive_service.accounts.service import authenticate, create_account
from archive_service.actors import Actor
from archive_service.errors import PermissionDeniedError

PASSWORD = "верный-пароль-1"


@pytest.fixture
def school(sqlite_archive):
    for login in ("zam", "director"):
        create_account(sqlite_archive, school_code="T-001", login=login, full_name=login,
                       password=PASSWORD, roles=[("deputy", "")], actor=Actor("Тест"),
                       school_name="МБОУ «Тестовая школа»")
    return sqlite_archive


def _fail(archive, login: str, remote: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(PermissionDeniedError, match="Неверный логин или пароль"):
            authenticate(archive, login, "неверный", remote=remote)


def test_guessing_at_one_address_does_not_lock_the_owner_out_at_another(school):
    _fail(school, "zam", "10.0.0.66", service.MAX_FAILURES)
    with pytest.raises(PermissionDeniedError, match="вход для «zam» закрыт до"):
        authenticate(school, "zam", PASSWORD, remote="10.0.0.66")
    assert authenticate(school, "zam", PASSWORD, remote="10.0.0.7").login == "zam"


def test_guessing_one_login_from_many_addresses_locks_it(school, monkeypatch):
    monkeypatch.setattr(service, "MAX_LOGIN_FAILURES", 10)  # the same rule, fewer Argon2 runs
    for n in range(service.MAX_LOGIN_FAILURES // service.MAX_FAILURES):
        _fail(school, "zam", f"10.1.0.{n}", service.MAX_FAILURES)
    with pytest.raises(PermissionDeniedError, match="вход для «zam» закрыт до"):
        authenticate(school, "zam", PASSWORD, remote="10.0.0.7")


def test_one_address_cannot_spray_passwords_over_every_login(school, monkeypatch):
    """Failures over many logins (none reaching its own limit) close the address,
    even for a right password; another address logs in."""
    monkeypatch.setattr(service, "MAX_ADDRESS_FAILURES", 12)  # the rule, fewer Argon2 runs
    for n in range(service.MAX_ADDRESS_FAILURES // 2):
        _fail(school, f"guess{n}", "10.0.0.66", 2)
    with pytest.raises(PermissionDeniedError, match="с этого компьютера"):
        authenticate(school, "director", PASSWORD, remote="10.0.0.66")
    assert authenticate(school, "director", PASSWORD, remote="10.0.0.8").login == "director"


def test_an_unknown_login_is_checked_against_a_dummy_hash(school, monkeypatch):
    """The same Argon2 work for a login nobody has as for a wrong password (the answer's
    time does not tell whether a login exists); the same message."""
    checked = []
    real = service.verify_password
    monkeypatch.setattr(service, "verify_password",
                        lambda digest, pw: checked.append(digest) or real(digest, pw))
    for login in ("zam", "никто"):
        with pytest.raises(PermissionDeniedError) as info:
            authenticate(school, login, "неверный", remote="10.0.0.9")
        assert info.value.message == "Неверный логин или пароль."
    assert len(checked) == 2 and checked[1] == service._dummy_hash()
    assert checked[0].startswith("$argon2") and checked[1].startswith("$argon2")


def test_the_product_hashes_passwords_with_rfc_9106_parameters():
    """The suite hashes with Argon2's smallest parameters (tests/conftest.py); the product's
    are RFC 9106's second recommendation, and a hash made with them verifies."""
    import argon2

    assert service.PASSWORD_PARAMETERS == argon2.profiles.RFC_9106_LOW_MEMORY
    product = argon2.PasswordHasher.from_parameters(service.PASSWORD_PARAMETERS)
    digest = product.hash("пароль-из-десяти")
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert service.verify_password(digest, "пароль-из-десяти")  # the suite's hasher reads it
    assert not service.verify_password(digest, "другой-пароль")
