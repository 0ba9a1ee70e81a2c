"""People of a school: added by the administrator with a one-time code, the owner's own
password and key passphrase, certificates issued by the root, revocation; both databases."""

from __future__ import annotations

import datetime as dt

import pytest

from archive_service.accounts import people
from archive_service.accounts.service import authenticate, create_account, principal
from archive_service.actors import Actor
from archive_service.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    SignatureRefusedError,
)
from archive_service.journals.service import import_file
from archive_service.rendering.service import render_snapshots
from archive_service.signatures.service import sign_documents
from archive_service.signatures.state import chain_state
from archive_service.snapshots.service import create_snapshots
from tests.support.journal import tiny, write_json
from tests.support.state import archive_state

ROOT = "root-passphrase-of-the-school"
TSA = "tsa-secret-passphrase"
ADMIN_PASSWORD = "admin-password-1"
FAST = 1000  # PBKDF2 rounds of the keys made in these tests (the real default: 600,000)


@pytest.fixture
def school(archive, tmp_path):
    """The tiny journal imported and rendered, an administrator, the school's root (no seal)."""
    import dataclasses

    archive.settings = dataclasses.replace(archive.settings, tsa_passphrase=TSA)
    import_file(archive, write_json(tiny(), tmp_path / "j.json"), actor=Actor("t"))
    [snap] = create_snapshots(archive, period="2025-2026/Q1", class_name=None,
                              school_code=None, actor=Actor("t"))
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=Actor("t"), workers=1)
    create_account(archive, school_code="T-001", login="admin", full_name="Админ Админов",
                   password=ADMIN_PASSWORD, roles=[("administrator", "")], actor=Actor("t"))
    admin = principal(archive, "admin")
    people.init_school_pki(archive, admin, ca_passphrase=ROOT, repeat=ROOT)
    journal = next(d.id for d in outcome.documents if d.kind == "journal")
    return archive, admin, journal


def _first_login(archive, login, code, *, password, key="", seal="", rounds=FAST):
    who = authenticate(archive, login, code, remote="127.0.0.1")
    assert who.must_setup
    return people.complete_setup(archive, who, password=password, repeat=password,
                                 key_passphrase=key, key_repeat=key, seal_passphrase=seal,
                                 seal_repeat=seal, rounds=rounds)


def test_a_teacher_added_by_the_administrator_signs_with_her_own_passphrase(school):
    archive, admin, journal = school
    code = people.add_person(archive, admin, login="Smirnova.on",
                             full_name="Смирнова  Ольга Николаевна", position="Учитель математики",
                             roles=[("teacher", "")])
    assert len(code) == 19 and code.count("-") == 3
    [listed] = [p for p in people.people(archive, admin) if p.login == "smirnova.on"]
    assert listed.full_name == "Смирнова Ольга Николаевна" and not listed.password_set
    assert listed.needs_key and listed.certificate is None
    # The code opens the account only for the setup; the real default KDF rounds here.
    done = _first_login(archive, "smirnova.on", code, password="my-own-password",
                        key="my-key-passphrase", rounds=600_000)
    assert done == ["Пароль входа задан.",
                    "Ключ подписи создан; сертификат выпустит администратор."]
    with pytest.raises(PermissionDeniedError, match="Неверный логин или пароль"):
        authenticate(archive, "smirnova.on", code, remote="127.0.0.1")
    assert not authenticate(archive, "smirnova.on", "my-own-password",
                            remote="127.0.0.1").must_setup
    [request] = people.school_keys(archive, admin).requests
    assert (request.kind, request.login) == ("person", "smirnova.on")
    [issued] = people.issue_certificates(archive, admin, ca_passphrase=ROOT)
    assert issued.login == "smirnova.on" and issued.superseded is None
    [listed] = people.people(archive, admin, query="математ")
    assert listed.certificate.usable and listed.certificate.serial == issued.serial
    assert not listed.needs_key and listed.pending == ()
    [outcome] = sign_documents(archive, document_ids=[journal], login="smirnova.on",
                               passphrase="my-key-passphrase", tsa_passphrase=TSA,
                               actor=Actor("Смирнова"))
    assert outcome.fields
    assert chain_state(archive, journal).fields[0].signed_by == "Смирнова Ольга Николаевна"


def test_the_secretary_sets_up_the_seal_and_seals(school):
    archive, admin, _journal = school
    code = people.add_person(archive, admin, login="secretary", full_name="Иванова Нина Львовна",
                             position="Секретарь", roles=[("secretary", "")])
    who = authenticate(archive, "secretary", code, remote="")
    mine = people.own_account(archive, who)
    assert mine.needs_key and mine.needs_seal and mine.seal == "нет"
    with pytest.raises(ConflictError, match="должен отличаться"):
        people.complete_setup(archive, who, password="secretary-pass", repeat="secretary-pass",
                              key_passphrase="same-passphrase", key_repeat="same-passphrase",
                              seal_passphrase="same-passphrase", seal_repeat="same-passphrase",
                              rounds=FAST)
    _first_login(archive, "secretary", code, password="secretary-pass", key="key-passphrase",
                 seal="seal-passphrase")
    assert people.school_keys(archive, admin).seal == "ожидает выпуска"
    issued = people.issue_certificates(archive, admin, ca_passphrase=ROOT)
    assert sorted(i.kind for i in issued) == ["person", "seal"]
    assert people.school_keys(archive, admin).seal.startswith("выпущен, действует до ")
    who = principal(archive, "secretary")
    people.change_key_passphrase(archive, who, kind="seal", current="seal-passphrase",
                                 passphrase="new-seal-passphrase",
                                 repeat="new-seal-passphrase")
    with pytest.raises(SignatureRefusedError, match="Неверный пароль ключа"):
        people.change_key_passphrase(archive, who, kind="seal", current="seal-passphrase",
                                     passphrase="x" * 10, repeat="x" * 10)


def test_setup_refusals_change_nothing(school):
    archive, admin, _journal = school
    code = people.add_person(archive, admin, login="zam", full_name="Кузьмина Елена Петровна",
                             position="Заместитель директора", roles=[("deputy", "")])
    who = authenticate(archive, "zam", code, remote="")
    before = archive_state(archive)
    for kwargs, message in [
        (dict(password="password-one", repeat="password-two"), "Пароли не совпадают"),
        (dict(password="short", repeat="short"), "не короче 10"),
        (dict(password="password-one", repeat="password-one"), "не короче 8"),
        (dict(password="password-one", repeat="password-one", key_passphrase="password-one",
              key_repeat="password-one"), "не должен совпадать с паролем входа"),
        (dict(password="password-one", repeat="password-one", key_passphrase="key-pass-1",
              key_repeat="key-pass-2"), "не совпадают"),
    ]:
        with pytest.raises(ConflictError, match=message):
            people.complete_setup(archive, who, rounds=FAST, **kwargs)
    assert archive_state(archive) == before


def test_only_the_administrator_adds_people_and_every_refusal_says_why(school):
    archive, admin, _journal = school
    code = people.add_person(archive, admin, login="petrova", full_name="Петрова Анна Ивановна",
                             position="Учитель", roles=[("class_leader", "7а"), ("teacher", "")])
    assert [p.roles for p in people.people(archive, admin, query="петрова")] == [
        (("class_leader", "7А"), ("teacher", ""))]
    _first_login(archive, "petrova", code, password="petrova-password", key="petrova-key")
    teacher = principal(archive, "petrova")
    before = archive_state(archive)
    attempts = [
        (lambda: people.add_person(archive, teacher, login="x", full_name="Х", position="У",
                                   roles=[("teacher", "")]), PermissionDeniedError,
         "администратор"),
        (lambda: people.add_person(archive, admin, login="petrova", full_name="Х",
                                   position="У", roles=[("teacher", "")]), ConflictError,
         "уже занят"),
        (lambda: people.add_person(archive, admin, login="Петрова", full_name="Х",
                                   position="У", roles=[("teacher", "")]), ConflictError,
         "латинские буквы"),
        (lambda: people.add_person(archive, admin, login="x", full_name="Х", position="У",
                                   roles=[("class_leader", "9Я")]), ConflictError,
         "Класса 9Я в журнале школы нет"),
        (lambda: people.add_person(archive, admin, login="x", full_name="Х", position="У",
                                   roles=[("inspector", "")]), ConflictError, "здесь не выдаётся"),
        (lambda: people.add_person(archive, admin, login="x", full_name=" ", position="У",
                                   roles=[("teacher", "")]), ConflictError, "ФИО"),
        (lambda: people.add_person(archive, admin, login="x", full_name="Х", position="У",
                                   roles=[]), ConflictError, "хотя бы одну роль"),
        (lambda: people.issue_certificates(archive, admin, ca_passphrase="wrong root"),
         SignatureRefusedError, "Неверный пароль ключа \\(корневой сертификат школы\\)"),
        (lambda: people.issue_certificates(archive, teacher, ca_passphrase=ROOT),
         PermissionDeniedError, "администратор"),
        (lambda: people.new_code(archive, admin, login="nobody"), NotFoundError, "нет"),
        (lambda: people.set_active(archive, admin, login="admin", active=False), ConflictError,
         "Свою учётную запись"),
        (lambda: people.revoke(archive, admin, login="petrova", reason="key_compromise",
                               ca_passphrase=ROOT), NotFoundError, "нет сертификата"),
        (lambda: people.init_school_pki(archive, admin, ca_passphrase=ROOT, repeat=ROOT),
         ConflictError, "уже есть корневой сертификат"),
    ]
    for attempt, error, message in attempts:
        with pytest.raises(error, match=message):
            attempt()
    assert archive_state(archive) == before


def test_a_forgotten_password_gets_a_new_code_and_an_expired_code_opens_nothing(school):
    archive, admin, _journal = school
    code = people.add_person(archive, admin, login="director", full_name="Орлова Вера Павловна",
                             position="Директор", roles=[("director", "")],
                             now=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    with pytest.raises(PermissionDeniedError, match="истёк.*выдать новый код"):
        authenticate(archive, "director", code, remote="")
    second = people.new_code(archive, admin, login="director")
    _first_login(archive, "director", second, password="director-password", key="director-key")
    third = people.new_code(archive, admin, login="director")
    with pytest.raises(PermissionDeniedError, match="Неверный логин"):
        authenticate(archive, "director", "director-password", remote="")
    assert authenticate(archive, "director", third, remote="").must_setup
    people.set_active(archive, admin, login="director", active=False)
    with pytest.raises(PermissionDeniedError, match="Неверный логин"):
        authenticate(archive, "director", third, remote="")
    assert principal(archive, "director") is None


def test_a_forgotten_key_passphrase_gets_a_new_key_and_the_old_certificate_is_superseded(
        school):
    archive, admin, journal = school
    code = people.add_person(archive, admin, login="smirnova", full_name="Смирнова Ольга "
                             "Николаевна", position="Учитель", roles=[("teacher", "")])
    _first_login(archive, "smirnova", code, password="smirnova-password", key="old-key-pass")
    [first] = people.issue_certificates(archive, admin, ca_passphrase=ROOT)
    who = principal(archive, "smirnova")
    with pytest.raises(ConflictError, match="Пароль входа введён неверно"):
        people.request_key(archive, who, kind="person", password="not mine",
                           passphrase="new-key-pass", repeat="new-key-pass", rounds=FAST)
    people.request_key(archive, who, kind="person", password="smirnova-password",
                       passphrase="new-key-pass", repeat="new-key-pass", rounds=FAST)
    with pytest.raises(PermissionDeniedError):
        people.request_key(archive, who, kind="seal", password="smirnova-password",
                           passphrase="seal-pass-1", repeat="seal-pass-1", rounds=FAST)
    [second] = people.issue_certificates(archive, admin, ca_passphrase=ROOT)
    assert second.superseded == first.serial
    with pytest.raises(SignatureRefusedError, match="Неверный пароль ключа"):
        sign_documents(archive, document_ids=[journal], login="smirnova",
                       passphrase="old-key-pass", tsa_passphrase=TSA, actor=Actor("x"))
    assert sign_documents(archive, document_ids=[journal], login="smirnova",
                          passphrase="new-key-pass", tsa_passphrase=TSA, actor=Actor("x"))
    serial = people.revoke(archive, admin, login="smirnova", reason="affiliation_changed",
                           ca_passphrase=ROOT)
    [listed] = people.people(archive, admin, query="smirnova")
    assert serial == second.serial and listed.certificate.revoked and listed.needs_key


def test_staff_of_the_journal_without_an_account_are_offered(school):
    archive, admin, _journal = school
    names = [m.full_name for m in people.staff_without_account(archive, admin)]
    assert "Смирнова Ольга Николаевна" in names and "Орлова Вера Павловна" in names
    director = next(m for m in people.staff_without_account(archive, admin)
                    if m.full_name == "Орлова Вера Павловна")
    assert director.position == "Директор" and director.roles == (("director", ""),)
    leader = next(m for m in people.staff_without_account(archive, admin)
                  if m.full_name == "Петрова Анна Ивановна")
    assert ("class_leader", "7А") in leader.roles
    people.add_person(archive, admin, login="orlova", full_name="Орлова Вера Павловна",
                      position="Директор", roles=[("director", "")])
    assert "Орлова Вера Павловна" not in [m.full_name for m in
                                          people.staff_without_account(archive, admin)]
    assert people.class_names(archive, admin.school_id) == ["7А"]


def test_a_deactivated_persons_request_is_withdrawn_and_blocks_nobody(school):
    archive, admin, _journal = school
    first = people.add_person(archive, admin, login="smirnova", full_name="Смирнова Ольга "
                              "Николаевна", position="Учитель", roles=[("teacher", "")])
    second = people.add_person(archive, admin, login="belova", full_name="Белова Ирина "
                               "Сергеевна", position="Учитель", roles=[("teacher", "")])
    _first_login(archive, "smirnova", first, password="smirnova-password", key="smirnova-key")
    _first_login(archive, "belova", second, password="belova-password-1", key="belova-key1")
    people.set_active(archive, admin, login="belova", active=False)
    [issued] = people.issue_certificates(archive, admin, ca_passphrase=ROOT)
    assert issued.login == "smirnova"
    assert people.school_keys(archive, admin).requests == []
