"""The signature chain as a workflow: order, roles, refusals, concurrency; both databases."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from archive_service.actors import Actor
from archive_service.errors import (
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    SignatureRefusedError,
)
from archive_service.journals.service import import_file
from archive_service.rendering.service import render_snapshots
from archive_service.signatures.service import (
    add_user,
    init_pki,
    sign_document,
    sign_documents,
    signing_queue,
    verify_document,
)
from archive_service.signatures.state import chain_state
from archive_service.snapshots.service import create_snapshots
from tests.support.journal import tiny, write_json
from tests.support.prepared import prepared
from tests.support.processes import run_together
from tests.support.state import archive_state

ACTOR = Actor("test")
TSA = "tsa-secret-passphrase"
USERS = [  # login, name, position, roles
    ("smirnova", "Смирнова Ольга Николаевна", "Учитель математики", [("teacher", "")]),
    ("belova", "Белова Ирина Сергеевна", "Учитель английского языка", [("teacher", "7А")]),
    ("petrova", "Петрова Анна Ивановна", "Учитель", [("class_leader", "7А")]),
    ("zam", "Кузьмина Елена Петровна", "Заместитель директора по УВР", [("deputy", "")]),
    ("director", "Орлова Вера Павловна", "Директор", [("director", "")]),
    ("secretary", "Иванова Нина Львовна", "Секретарь", [("secretary", "")]),
]


def pw(login: str) -> str:
    return f"{login}-passphrase"


def _setup(archive, tmp_path):
    """The tiny school imported, frozen and rendered, its PKI and the chain's signers; the
    journal copy's id. Built once per session and database kind (tests/support/prepared.py)."""
    return prepared(archive, "chain", lambda a: _build(a, tmp_path))


def _build(archive, tmp_path):
    import_file(archive, write_json(tiny(), tmp_path / "j.json"), actor=ACTOR)
    [snap] = create_snapshots(archive, period="2025-2026/Q1", class_name=None,
                              school_code=None, actor=ACTOR)
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=ACTOR, workers=1)
    init_pki(archive, school_code=None, ca_passphrase="ca-passphrase",
             seal_passphrase=pw("seal"), tsa_passphrase=TSA)
    for login, name, position, roles in USERS:
        add_user(archive, school_code=None, login=login, full_name=name, position=position,
                 roles=roles, passphrase=pw(login), ca_passphrase="ca-passphrase")
    return next(d.id for d in outcome.documents if d.kind == "journal")


def _sign(archive, doc_id, login, passphrase=None):
    """Sign as ``login``; the pseudo-login "register" is the secretary registering it."""
    if login == "register":
        from archive_service.register.service import register_document

        return register_document(archive, document_id=doc_id, login="secretary",
                                 location="Сейф № 1", actor=ACTOR)
    return sign_document(archive, document_id=doc_id, login=login,
                         passphrase=passphrase or pw(login if login != "secretary" else "seal"),
                         tsa_passphrase=TSA, actor=ACTOR)


def test_the_full_chain_in_order_verifies(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    assert chain_state(archive, doc).next_step == "teachers"
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        assert _sign(archive, doc, login)
    state = chain_state(archive, doc)
    assert state.next_step is None
    assert [f.signed_by for f in state.fields] == [
        "Смирнова Ольга Николаевна", "Белова Ирина Сергеевна", "Петрова Анна Ивановна",
        "Кузьмина Елена Петровна", "Орлова Вера Павловна", "Иванова Нина Львовна"]
    result = verify_document(archive, doc)
    assert result.ok and result.document_timestamps == 1
    # The archive's CRL went into the DSS: the chain survives its certificates (B-LTA).
    from cryptography import x509

    from archive_service.signatures.models import SchoolPki
    from archive_service.signatures.service import signed_pdf
    from signing.verify import future_validation

    with archive.sessions() as s:
        root = x509.load_pem_x509_certificate(s.query(SchoolPki).one().root_cert)
    future = future_validation(signed_pdf(archive, doc), roots=[root], years=8)
    assert future and all(future.values())


def test_one_action_signs_the_whole_queue_and_a_bad_list_signs_nothing(archive, tmp_path):
    journal = _setup(archive, tmp_path)
    summary = next(d for d in signing_queue(archive, "smirnova") if d != journal)
    # The summary sheet carries the teachers' confirmation of their final marks too (seed
    # 000, 4.2): both copies wait for the teachers first.
    assert signing_queue(archive, "smirnova") == [journal, summary]
    assert signing_queue(archive, "petrova") == []
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="Сейчас очередь шага «учителя-предметники»"):
        sign_documents(archive, document_ids=[summary, journal], login="petrova",
                       passphrase=pw("petrova"), tsa_passphrase=TSA, actor=ACTOR)
    assert archive_state(archive) == before  # checked before anything was signed
    for login in ("smirnova", "belova"):  # one action signs a teacher's whole queue
        done = sign_documents(archive, document_ids=None, login=login, passphrase=pw(login),
                              tsa_passphrase=TSA, actor=ACTOR)
        assert [o.document_id for o in done] == [journal, summary]
    done = sign_documents(archive, document_ids=None, login="petrova",
                          passphrase=pw("petrova"), tsa_passphrase=TSA, actor=ACTOR)
    assert [o.document_id for o in done] == [journal, summary]
    assert signing_queue(archive, "petrova") == []
    assert signing_queue(archive, "zam") == [journal, summary]


def test_each_action_stores_only_what_it_appended_and_a_changed_piece_is_caught(
        archive, tmp_path):
    from pathlib import Path

    from sqlalchemy import select

    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import SignatureRecord
    from archive_service.signatures.service import signed_pdf

    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    with archive.sessions() as s:
        rendered = s.get(RenderedDocument, doc)
        [record] = s.scalars(select(SignatureRecord).filter_by(document_id=doc)).all()
        base_key, piece_key = rendered.storage_key, record.storage_key
    base, piece = archive.storage.get(base_key), archive.storage.get(piece_key)
    assert len(piece) < len(base) and signed_pdf(archive, doc) == base + piece
    blob = Path(archive.storage.root) / piece_key
    blob.chmod(0o644)
    blob.write_bytes(piece[:-30] + bytes([piece[-30] ^ 1]) + piece[-29:])
    with pytest.raises(IntegrityError, match="изменён в хранилище"):
        verify_document(archive, doc)
    _refused(archive, doc, "belova", IntegrityError, "изменён в хранилище")


def _refused(archive, doc, login, error, match, passphrase=None):
    """Refused, nothing of the action written (a wrong passphrase is counted in
    key_attempt: the lockout's record, not the action's)."""
    before = archive_state(archive)
    with pytest.raises(error, match=match):
        _sign(archive, doc, login, passphrase)
    after = archive_state(archive)
    after.pop("key_attempt"), before.pop("key_attempt")
    assert after == before


def test_out_of_order_is_refused_naming_who_is_awaited(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    _refused(archive, doc, "zam", ConflictError,
             "Сейчас очередь шага «учителя-предметники».*Белова Ирина Сергеевна")


def test_a_signer_without_the_role_is_refused(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    add_user(archive, school_code=None, login="other", full_name="Посторонний Человек",
             position="Учитель", roles=[("teacher", "")], passphrase=pw("other"),
             ca_passphrase="ca-passphrase")
    _refused(archive, doc, "other", PermissionDeniedError, "не может подписывать")


def test_wrong_passphrase_is_refused_and_nothing_is_written(archive, tmp_path):
    """Nothing of the action is written; the wrong try itself is counted (key_attempt)."""
    doc = _setup(archive, tmp_path)
    before = archive_state(archive)
    with pytest.raises(SignatureRefusedError, match="Неверный пароль ключа.*Осталось попыток: 4"):
        _sign(archive, doc, "smirnova", "not-the-passphrase")
    after = archive_state(archive)
    assert len(after.pop("key_attempt")) == len(before.pop("key_attempt")) + 1
    assert after == before


def test_five_wrong_passphrases_lock_signing_with_that_key_for_15_minutes(archive, tmp_path):
    """Issue 27, item 7: the fifth wrong passphrase in a row locks the key (audited); the
    right one is refused until the lock ends, then signs; the right one before the fifth
    ends the count. Another person's key is not touched."""
    from sqlalchemy import select

    from archive_service.audit.models import AuditEntry

    doc = _setup(archive, tmp_path)
    start = dt.datetime.now(dt.UTC)

    def sign(login, passphrase, minutes=0.0):
        return sign_document(archive, document_id=doc, login=login, passphrase=passphrase,
                             tsa_passphrase=TSA, actor=ACTOR,
                             now=start + dt.timedelta(minutes=minutes))

    for n in range(1, 5):
        with pytest.raises(SignatureRefusedError, match=f"Осталось попыток: {5 - n}"):
            sign("smirnova", "wrong", n / 10)
    with pytest.raises(SignatureRefusedError, match="закрыта на 15 минут"):
        sign("smirnova", "wrong", 0.5)
    with pytest.raises(SignatureRefusedError, match="Подпись вашим ключом закрыта до"):
        sign("smirnova", pw("smirnova"), 1)
    with archive.sessions() as s:
        locked = s.scalars(select(AuditEntry).filter_by(action="key.locked")).all()
    assert [(e.object_id, json.loads(e.details)["kind"]) for e in locked] == [("smirnova", "person")]
    for n in range(4):  # another teacher's key counts on its own
        with pytest.raises(SignatureRefusedError, match="Осталось попыток"):
            sign("belova", "wrong", 1 + n / 10)
    assert sign("belova", pw("belova"), 2)  # four wrong do not lock; the right one signs
    from archive_service.signatures.models import KeyAttempt

    with archive.sessions() as s:  # ... and ends her count
        tries = s.scalars(select(KeyAttempt.ok).filter_by(login="belova")
                          .order_by(KeyAttempt.id)).all()
    assert tries == [False] * 4 + [True]
    assert sign("smirnova", pw("smirnova"), 16)  # the lock is over


def test_a_second_signature_on_a_done_step_is_refused(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    _refused(archive, doc, "smirnova", ConflictError, "уже подписал")


def test_an_expired_certificate_is_refused(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    add_user(archive, school_code=None, login="old", full_name="Смирнова Ольга Николаевна",
             position="Учитель", roles=[("teacher", "")], passphrase=pw("old"),
             ca_passphrase="ca-passphrase", now=past, days=365)
    _refused(archive, doc, "old", SignatureRefusedError, "им подписывать нельзя")


def test_unknown_user_and_document(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    with pytest.raises(NotFoundError, match="Пользователь «nobody» не найден"):
        _sign(archive, doc, "nobody", "whatever-passphrase")
    with pytest.raises(NotFoundError, match="Документ № 999 не найден"):
        _sign(archive, 999, "smirnova")


def _sign_in_process(env: dict, doc: int, login: str, barrier) -> list[str]:
    from archive_service.config import Settings
    from archive_service.db import Archive

    archive = Archive(Settings.from_env(env))
    barrier.wait()
    fields = sign_document(archive, document_id=doc, login=login, passphrase=pw(login),
                           tsa_passphrase=TSA, actor=Actor(f"process {os.getpid()}"))
    archive.dispose()
    return fields


@pytest.mark.postgres
def test_two_teachers_at_once_lose_nothing_on_postgres(tmp_path, pg_url):
    from tests.conftest import make_archive

    archive = make_archive(tmp_path, pg_url)
    doc = _setup(archive, tmp_path)
    results = run_together(_sign_in_process, [(doc, "smirnova"), (doc, "belova")],
                           tmp_path=tmp_path, pg_url=pg_url)
    assert sorted(f for r in results for f in r) == ["teacher_1", "teacher_2"]
    state = chain_state(archive, doc)
    assert state.next_step == "class_leader"
    from archive_service.signatures.service import signed_pdf
    from signing.verify import verify_pdf

    assert len(verify_pdf(signed_pdf(archive, doc), roots=[]).signatures) == 2
    archive.dispose()


def test_a_returned_document_is_not_signed_further(archive, tmp_path):
    from archive_service.signatures.service import return_document

    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    with pytest.raises(ConflictError, match="Укажите причину возврата"):
        return_document(archive, document_id=doc, login="belova", reason="  ")
    state = return_document(archive, document_id=doc, login="belova",
                            reason="Не выставлена четвертная отметка Сидоровой")
    assert state.next_step is None and "Белова Ирина Сергеевна" in state.returned
    assert "четвертная отметка" in chain_state(archive, doc).returned
    _refused(archive, doc, "petrova", ConflictError, "возвращён на исправление")
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="уже возвращён"):
        return_document(archive, document_id=doc, login="zam", reason="ещё раз")
    assert archive_state(archive) == before


def test_only_a_signer_of_the_document_may_return_it(archive, tmp_path):
    from archive_service.signatures.service import return_document

    doc = _setup(archive, tmp_path)
    add_user(archive, school_code=None, login="other", full_name="Посторонний Человек",
             position="Учитель", roles=[("teacher", "")], passphrase=pw("other"),
             ca_passphrase="ca-passphrase")
    before = archive_state(archive)
    with pytest.raises(PermissionDeniedError, match="не участвует в подписании"):
        return_document(archive, document_id=doc, login="other", reason="просто так")
    assert archive_state(archive) == before


def test_a_signer_returns_only_before_the_step_after_theirs_has_signed(archive, tmp_path):
    """Issue 27, item 8: the class leader may return the copy while the deputy has not
    certified it; once the deputy has, only the deputy or the director may (named), and
    nothing is written by the refusal."""
    from archive_service.signatures.service import return_document

    doc = _setup(archive, tmp_path)
    for login in ("smirnova", "belova", "petrova", "zam"):
        _sign(archive, doc, login)
    before = archive_state(archive)
    for login in ("petrova", "smirnova"):
        with pytest.raises(ConflictError, match="уже подписал шаг «.*», следующий после "
                           "вашего: вернуть его теперь может «заместитель директора» или "
                           "«директор»"):
            return_document(archive, document_id=doc, login=login, reason="опечатка")
    assert archive_state(archive) == before
    state = return_document(archive, document_id=doc, login="zam", reason="опечатка в теме")
    assert state.returned


def test_the_class_leader_returns_what_the_deputy_has_not_yet_certified(archive, tmp_path):
    from archive_service.signatures.service import return_document

    doc = _setup(archive, tmp_path)
    for login in ("smirnova", "belova", "petrova"):
        _sign(archive, doc, login)
    assert return_document(archive, document_id=doc, login="petrova", reason="ошибка").returned


def test_a_sealed_document_cannot_be_returned(archive, tmp_path):
    from archive_service.signatures.service import return_document

    doc = _setup(archive, tmp_path)
    for login in ("smirnova", "belova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, doc, login)
    with pytest.raises(ConflictError, match="уже заверен печатью"):
        return_document(archive, document_id=doc, login="director", reason="поздно")


def test_setup_refusals_change_nothing(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    attempts = [
        (lambda: init_pki(archive, school_code=None, ca_passphrase="ca-passphrase",
                          seal_passphrase=pw("seal"), tsa_passphrase=TSA),
         ConflictError, "уже есть корневой сертификат"),
        (lambda: add_user(archive, school_code=None, login="smirnova", full_name="X",
                          position="Y", roles=[("teacher", "")], passphrase=pw("x"),
                          ca_passphrase="ca-passphrase"), ConflictError, "уже есть"),
        (lambda: add_user(archive, school_code=None, login="x", full_name="X", position="Y",
                          roles=[("boss", "")], passphrase=pw("x"),
                          ca_passphrase="ca-passphrase"), ConflictError, "Неизвестная роль"),
        (lambda: add_user(archive, school_code=None, login="x", full_name="X", position="Y",
                          roles=[("class_leader", "")], passphrase=pw("x"),
                          ca_passphrase="ca-passphrase"), ConflictError, "укажите класс"),
        (lambda: add_user(archive, school_code=None, login="x", full_name="X", position="Y",
                          roles=[("teacher", "")], passphrase=pw("x"),
                          ca_passphrase="wrong-passphrase"), SignatureRefusedError,
         "Неверный пароль ключа \\(корневой сертификат школы\\)"),
        (lambda: add_user(archive, school_code=None, login="x", full_name="X", position="Y",
                          roles=[("teacher", "")], passphrase="short",
                          ca_passphrase="ca-passphrase"), SignatureRefusedError,
         "не короче 8 символов"),
    ]
    before = archive_state(archive)
    for attempt, error, match in attempts:
        with pytest.raises(error, match=match):
            attempt()
        assert archive_state(archive) == before
    assert chain_state(archive, doc).next_step == "teachers"


def test_class_names_of_roles_are_normalised(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    add_user(archive, school_code=None, login="leader2", full_name="Петрова Анна Ивановна",
             position="Учитель", roles=[("class_leader", " 7а ")], passphrase=pw("leader2"),
             ca_passphrase="ca-passphrase")
    for login in ("smirnova", "belova"):
        _sign(archive, doc, login)
    assert _sign(archive, doc, "leader2") == ["class_leader"]


def test_a_stamp_says_the_signing_time_in_the_school_s_time_zone(sqlite_archive, tmp_path):
    import subprocess

    from archive_service.journals.models import School
    from archive_service.signatures.service import signed_pdf

    doc = _setup(sqlite_archive, tmp_path)
    with sqlite_archive.unit_of_work() as uow:
        school = uow.session.query(School).one()
        school.settings = {**(school.settings or {}), "time_zone": "Asia/Yekaterinburg"}
    day = dt.date.today() + dt.timedelta(days=1)
    moment = dt.datetime(day.year, day.month, day.day, 6, 30, tzinfo=dt.UTC)
    sign_document(sqlite_archive, document_id=doc, login="smirnova", passphrase=pw("smirnova"),
                  tsa_passphrase=TSA, actor=ACTOR, now=moment)
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf(sqlite_archive, doc))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert f"Подписано {day:%d.%m.%Y} 11:30 (UTC+05:00)" in text
    assert "UTC\n" not in text and "06:30" not in text
