"""Revoked certificates: refused for signing, earlier signatures still valid, a new
certificate issued; the refusals change nothing; the command line (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from archive_service.errors import ConflictError, NotFoundError, SignatureRefusedError
from archive_service.signatures.revocation import (
    reissue_certificate,
    revocation_list,
    revoke_certificate,
)
from archive_service.signatures.service import verify_document
from archive_service.signatures.state import chain_state
from tests.signatures.test_chain import ACTOR, USERS, _refused, _setup, _sign
from tests.support.state import archive_state

CA = "ca-passphrase"


def test_a_revoked_certificate_signs_nothing_and_nothing_is_written(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    done = revoke_certificate(archive, login="belova", reason="key_compromise",
                              ca_passphrase=CA, actor=ACTOR)
    assert done.reason_text == "ключ скомпрометирован"
    _refused(archive, doc, "belova", SignatureRefusedError,
             rf"Сертификат {done.serial} \(Белова Ирина Сергеевна\) отозван .*ключ "
             "скомпрометирован.*им подписывать нельзя")
    # A wrong passphrase does not hide the revocation: the certificate is refused first.
    _refused(archive, doc, "belova", SignatureRefusedError, "отозван",
             passphrase="not-the-passphrase")
    crl, listed = revocation_list(archive, None)
    assert [r.serial for r in listed] == [done.serial]
    assert crl.get_revoked_certificate_by_serial_number(int(done.serial, 16)) is not None
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2


def test_signatures_made_before_the_revocation_stay_valid_and_say_so(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    revoke_certificate(archive, login="smirnova", reason="affiliation_changed",
                       ca_passphrase=CA, actor=ACTOR)
    result = verify_document(archive, doc)
    [sig] = result.signatures
    assert result.ok and sig.revoked_at is not None and not sig.revoked_before_signing
    assert "отозван" in sig.summary and "после подписи" in sig.summary


def test_a_new_certificate_signs_again_and_replaces_the_old_one(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    revoke_certificate(archive, login="belova", reason="key_compromise", ca_passphrase=CA,
                       actor=ACTOR)
    new, superseded = reissue_certificate(archive, login="belova", passphrase="new-passphrase",
                                          ca_passphrase=CA, actor=ACTOR)
    assert superseded is None  # it was revoked already
    _sign(archive, doc, "smirnova")
    assert len(_sign(archive, doc, "belova", "new-passphrase")) == 1
    assert verify_document(archive, doc).ok
    assert chain_state(archive, doc).next_step == "class_leader"
    # A valid certificate that is replaced is revoked with it (superseded).
    _new, superseded = reissue_certificate(archive, login="petrova",
                                           passphrase="petrova-new-pass", ca_passphrase=CA)
    _crl, listed = revocation_list(archive, None)
    assert [(r.login, r.reason) for r in listed] == [("belova", "key_compromise"),
                                                      ("petrova", "superseded")]
    assert listed[1].serial == superseded
    _refused(archive, doc, "petrova", SignatureRefusedError, "Неверный пароль ключа")
    assert new.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 2)


@pytest.mark.parametrize("call, error, match", [
    (lambda a: revoke_certificate(a, login="belova", reason="key_compromise",
                                  ca_passphrase="wrong-passphrase"),
     SignatureRefusedError, "Неверный пароль ключа \\(корневой сертификат школы\\)"),
    (lambda a: revoke_certificate(a, login="belova", reason="lost", ca_passphrase=CA),
     ConflictError, "Неизвестная причина отзыва «lost»: допустимы key_compromise"),
    (lambda a: revoke_certificate(a, login="nobody", reason="key_compromise",
                                  ca_passphrase=CA),
     NotFoundError, "Пользователь «nobody» не найден"),
    (lambda a: revoke_certificate(a, login="petrova", reason="superseded", ca_passphrase=CA),
     ConflictError, "уже отозван .*archive user reissue --login petrova"),
    (lambda a: reissue_certificate(a, login="belova", passphrase="short", ca_passphrase=CA),
     SignatureRefusedError, "belova: Пароль ключа должен быть не короче 8 символов"),
    (lambda a: reissue_certificate(a, login="belova", passphrase="new-passphrase",
                                   ca_passphrase="wrong-passphrase"),
     SignatureRefusedError, "Неверный пароль ключа"),
])
def test_refusals_change_nothing(archive, tmp_path, call, error, match):
    _setup(archive, tmp_path)
    revoke_certificate(archive, login="petrova", reason="superseded", ca_passphrase=CA)
    before = archive_state(archive)
    with pytest.raises(error, match=match):
        call(archive)
    assert archive_state(archive) == before


def test_revoke_reissue_and_verify_offline_from_the_command_line(tmp_path):
    from tests.cli.test_cli import run
    from tests.signatures.test_cli_signing import school_from_the_cli

    home = tmp_path
    secret, root = school_from_the_cli(home, USERS[:2], extra=["new"])
    assert "Отозванных сертификатов нет." in run(home, "pki", "crl", check=True).stdout
    run(home, "sign", "1", "--as", "smirnova", "--passphrase-file", str(secret["smirnova"]),
        check=True)
    out = run(home, "user", "revoke", "--login", "smirnova", "--reason", "affiliation_changed",
              "--ca-passphrase-file", str(secret["ca"]), check=True).stdout
    assert "отозван" in out and "archive user reissue --login smirnova" in out
    bad = run(home, "user", "revoke", "--login", "belova", "--reason", "forgot",
              "--ca-passphrase-file", str(secret["ca"]))
    assert bad.returncode == 2 and "forgot" in bad.stderr
    run(home, "user", "revoke", "--login", "belova", "--reason", "key_compromise",
        "--ca-passphrase-file", str(secret["ca"]), check=True)
    refused = run(home, "sign", "1", "--as", "belova", "--passphrase-file",
                  str(secret["belova"]))
    assert refused.returncode == 12 and "отозван" in refused.stderr, refused.stderr  # refused
    crl = tmp_path / "school.crl"
    listed = run(home, "pki", "crl", "--out", str(crl), check=True).stdout
    assert "Смирнова Ольга Николаевна (smirnova)" in listed and "сменил должность" in listed
    exported = tmp_path / "signed.pdf"
    run(home, "document", "export", "1", "--out", str(exported), check=True)
    offline = run(home, "verify", str(exported), "--root", str(root), "--crl", str(crl),
                  check=True).stdout
    assert "после подписи" in offline and "Все подписи верны." in offline
    not_a_crl = run(home, "verify", str(exported), "--root", str(root), "--crl", str(root))
    assert not_a_crl.returncode != 0 and "это не список отозванных сертификатов" in \
        not_a_crl.stderr
    out = run(home, "user", "reissue", "--login", "belova", "--passphrase-file",
              str(secret["new"]), "--ca-passphrase-file", str(secret["ca"]), check=True).stdout
    assert "новый сертификат" in out and "заменённый" not in out  # revoked already
    assert "подписано полей 1" in run(home, "sign", "1", "--as", "belova", "--passphrase-file",
                                      str(secret["new"]), check=True).stdout
