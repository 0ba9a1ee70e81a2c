"""Renewing the archival timestamps of sealed copies, and a new TSA certificate: the copy
stays whole and verifiable past the old TSA certificate; refusals change nothing; runs
repeat safely; the command line (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from archive_service.errors import (
    ArchiveError,
    ConflictError,
    NotFoundError,
    SignatureRefusedError,
)
from archive_service.fixity.service import run_fixity
from archive_service.inspection.report import report_data
from archive_service.signatures.models import SchoolPki, SignatureRecord
from archive_service.signatures.renewal import reissue_tsa, renew_region, renew_timestamps
from archive_service.signatures.service import signed_pdf, verify_document
from archive_service.signatures.state import chain_state
from signing.verify import lta_validation
from tests.signatures.test_chain import ACTOR, TSA, _setup, _sign
from tests.support.state import archive_state

CA = "ca-passphrase"
#: Longer than the school TSA certificate of ``pki init`` (10 years): every sealed copy is due.
BEYOND_THE_TSA = dt.timedelta(days=365 * 10 + 30)


def _sealed(archive, tmp_path) -> int:
    doc = _setup(archive, tmp_path)
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, doc, login)
    return doc


def _root(archive) -> x509.Certificate:
    with archive.sessions() as s:
        return x509.load_pem_x509_certificate(s.query(SchoolPki).one().root_cert)


def test_a_renewed_copy_stays_whole_and_verifiable_past_the_old_tsa_certificate(archive,
                                                                                tmp_path):
    doc = _sealed(archive, tmp_path)
    sealed = signed_pdf(archive, doc)
    # The same TSA certificate would gain nothing: refused, nothing written.
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="archive pki tsa-reissue"):
        renew_timestamps(archive, school_code=None, within=BEYOND_THE_TSA,
                         tsa_passphrase=TSA, actor=ACTOR)
    assert archive_state(archive) == before
    # Nothing is due within two years: nothing to do.
    quiet = renew_timestamps(archive, school_code=None, within=dt.timedelta(days=730),
                             tsa_passphrase=TSA, actor=ACTOR)
    assert (quiet.checked, quiet.renewed) == (1, ())
    assert archive_state(archive) == before

    cert = reissue_tsa(archive, school_code=None, ca_passphrase=CA, tsa_passphrase=TSA,
                       actor=ACTOR, days=365 * 15)
    report = renew_timestamps(archive, school_code=None, within=BEYOND_THE_TSA,
                              tsa_passphrase=TSA, actor=ACTOR)
    [renewed] = report.renewed
    assert renewed.document_id == doc and renewed.new_expiry == cert.not_valid_after_utc
    assert renewed.old_expiry < renewed.new_expiry

    now = signed_pdf(archive, doc)
    assert now.startswith(sealed)  # appended, nothing signed rewritten
    result = verify_document(archive, doc)
    assert result.ok and result.document_timestamps == 2
    assert chain_state(archive, doc).next_step is None  # still sealed, nothing to sign
    with archive.sessions() as s:
        last = s.query(SignatureRecord).filter_by(document_id=doc).order_by(
            SignatureRecord.sequence.desc()).first()
        assert (last.step, last.user_id, last.role) == ("archive_timestamp", None, "tsa")
    # Ten and a half years on the first TSA certificate has expired; only the renewed
    # timestamp still proves the signatures (real PAdES-LTA validation, nothing simulated).
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 10 + 180)
    assert not any(lta_validation(sealed, roots=[_root(archive)], at=later).values())
    assert all(lta_validation(now, roots=[_root(archive)], at=later).values())
    # Fixity, the inspector's report and a second run all see the renewed copy.
    assert run_fixity(archive, actor=ACTOR, share=100).ok
    custody = report_data(archive, doc, reader=ACTOR)["custody"]
    assert any(c["event"].startswith("штамп времени продлён")
               and c["by"] == "служба штампов времени школы" for c in custody)
    settled = archive_state(archive)
    again = renew_timestamps(archive, school_code=None, within=BEYOND_THE_TSA,
                             tsa_passphrase=TSA, actor=ACTOR)
    assert again.renewed == () and archive_state(archive) == settled


@pytest.mark.parametrize("call, error, match", [
    (lambda a: renew_timestamps(a, school_code=None, within=BEYOND_THE_TSA,
                                tsa_passphrase="not-the-tsa-passphrase"),
     SignatureRefusedError, "Неверный пароль ключа \\(служба штампов времени школы\\)"),
    (lambda a: reissue_tsa(a, school_code=None, ca_passphrase="wrong", tsa_passphrase=TSA),
     SignatureRefusedError, "Неверный пароль ключа \\(корневой сертификат школы\\)"),
    (lambda a: renew_timestamps(a, school_code="NO-SUCH", within=BEYOND_THE_TSA,
                                tsa_passphrase=TSA),
     NotFoundError, "NO-SUCH"),
])
def test_refusals_change_nothing(archive, tmp_path, call, error, match):
    _sealed(archive, tmp_path)
    before = archive_state(archive)
    with pytest.raises(error, match=match):
        call(archive)
    assert archive_state(archive) == before


def test_renew_from_the_command_line(tmp_path):
    from tests.cli.test_cli import run
    from tests.signatures.test_chain import USERS
    from tests.signatures.test_cli_signing import school_from_the_cli

    home = tmp_path
    secret, _root_pem = school_from_the_cli(home, USERS)
    for login in ("smirnova", "belova", "petrova", "zam"):
        run(home, "sign", "1", "--as", login, "--passphrase-file", str(secret[login]),
            check=True)
    run(home, "register", "add", "1", "--as", "secretary", "--location", "Сейф № 1",
        check=True)
    run(home, "sign", "1", "--as", "director", "--passphrase-file", str(secret["director"]),
        check=True)
    run(home, "sign", "1", "--as", "secretary", "--passphrase-file", str(secret["seal"]),
        check=True)
    nothing = run(home, "timestamps", "renew", check=True).stdout
    assert "заверенных копий 1, продлено 0" in nothing
    stuck = run(home, "timestamps", "renew", "--within-years", "11")
    assert stuck.returncode == 5 and "archive pki tsa-reissue" in stuck.stderr, stuck.stderr
    out = run(home, "pki", "tsa-reissue", "--ca-passphrase-file", str(secret["ca"]),
              "--years", "15", check=True).stdout
    assert "Служба штампов времени: новый сертификат" in out
    renewed = run(home, "timestamps", "renew", "--within-years", "11", check=True).stdout
    assert "штамп времени продлён" in renewed and "продлено 1" in renewed, renewed
    assert "Все подписи верны." in run(home, "verify", "1", check=True).stdout
    assert "продлено 0" in run(home, "timestamps", "renew", "--within-years", "11",
                              check=True).stdout
    import json

    [region] = json.loads(run(home, "timestamps", "renew", "--all", "--json",
                              check=True).stdout)
    assert (region["checked"], region["renewed"]) == (1, [])
    assert "--within-years ЧИСЛО" in run(home, "timestamps", "renew", "--help",
                                         check=True).stdout
    both = run(home, "timestamps", "renew", "--all", "--school", "X")
    assert both.returncode == 2 and "не оба" in both.stderr


def test_a_new_tsa_certificate_never_outlives_the_school_root(archive, tmp_path):
    _setup(archive, tmp_path)
    root = _root(archive)
    cert = reissue_tsa(archive, school_code=None, ca_passphrase=CA, tsa_passphrase=TSA,
                       days=365 * 40)
    assert cert.not_valid_after_utc <= root.not_valid_after_utc
    assert cert.not_valid_after_utc > root.not_valid_after_utc - dt.timedelta(days=2)
    before = archive_state(archive)
    with pytest.raises(SignatureRefusedError, match="Корневой сертификат школы действует до"):
        reissue_tsa(archive, school_code=None, ca_passphrase=CA, tsa_passphrase=TSA,
                    now=root.not_valid_after_utc + dt.timedelta(days=1))
    assert archive_state(archive) == before


def test_the_region_run_renews_every_school_and_gathers_the_failures(archive, tmp_path):
    doc = _sealed(archive, tmp_path)
    with pytest.raises(ArchiveError, match="(?s)не удалось у 1 из 1 школ.*archive pki tsa-reissue"):
        renew_region(archive, within=BEYOND_THE_TSA, tsa_passphrase=TSA)
    reissue_tsa(archive, school_code=None, ca_passphrase=CA, tsa_passphrase=TSA,
                days=365 * 15)
    [report] = renew_region(archive, within=BEYOND_THE_TSA, tsa_passphrase=TSA)
    assert [r.document_id for r in report.renewed] == [doc]


def test_a_damaged_copy_is_named_and_left_alone(archive, tmp_path):
    from pathlib import Path

    from archive_service.errors import RenewalBatchError

    doc = _sealed(archive, tmp_path)
    reissue_tsa(archive, school_code=None, ca_passphrase=CA, tsa_passphrase=TSA,
                days=365 * 15)
    with archive.sessions() as s:
        key = s.query(SignatureRecord).filter_by(document_id=doc).order_by(
            SignatureRecord.sequence.desc()).first().storage_key
    blob = Path(archive.storage.root) / key
    piece = blob.read_bytes()
    blob.chmod(0o644)
    blob.write_bytes(piece[:-30] + bytes([piece[-30] ^ 1]) + piece[-29:])
    before = archive_state(archive)
    with pytest.raises(RenewalBatchError, match=r"продлено 0, не продлено 1(?s:.*)изменён в "
                                                r"хранилище"):
        renew_timestamps(archive, school_code=None, within=BEYOND_THE_TSA, tsa_passphrase=TSA)
    assert archive_state(archive) == before


def test_an_expired_tsa_certificate_is_refused_before_anything_is_written(archive, tmp_path):
    _sealed(archive, tmp_path)
    with archive.sessions() as s:
        tsa = x509.load_pem_x509_certificate(s.query(SchoolPki).one().tsa_cert)
    before = archive_state(archive)
    with pytest.raises(SignatureRefusedError, match="(?s)Сертификат службы штампов времени "
                                                    "школы недействителен.*tsa-reissue"):
        renew_timestamps(archive, school_code=None, within=dt.timedelta(days=30),
                         tsa_passphrase=TSA, now=tsa.not_valid_after_utc + dt.timedelta(days=1))
    assert archive_state(archive) == before


def _schedule(archive, doc):
    from archive_service.signatures.models import ArchivalTimestampState

    with archive.sessions() as s:
        row = s.get(ArchivalTimestampState, doc)
        return None if row is None else (row.sha256, row.expires_at.replace(tzinfo=dt.UTC)
                                         if row.expires_at.tzinfo is None else row.expires_at)


def _set_schedule(archive, doc, **values):
    from archive_service.signatures.models import ArchivalTimestampState

    with archive.unit_of_work() as uow:
        row = uow.session.get(ArchivalTimestampState, doc)
        if values.pop("delete", False):
            uow.session.delete(row)
        for name, value in values.items():
            setattr(row, name, value)


def test_the_schedule_is_kept_at_the_seal_and_read_again_when_it_cannot_be_trusted(
        archive, tmp_path):
    """Which copies are due comes from ``archival_timestamp_state``; a missing row (a copy
    sealed before the table), one for other bytes, or one a year old is read again from the
    copy itself, and a refusal writes no row."""
    from signing import pades

    doc = _sealed(archive, tmp_path)
    expires = pades.last_archival_timestamp(signed_pdf(archive, doc)).expires
    with archive.sessions() as s:
        digest = s.query(SignatureRecord).filter_by(document_id=doc).order_by(
            SignatureRecord.sequence.desc()).first().hash_after
    assert _schedule(archive, doc) == (digest, expires)  # written at the seal
    quiet = dt.timedelta(days=30)
    _set_schedule(archive, doc, delete=True)
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="tsa-reissue"):  # due, and no time to gain
        renew_timestamps(archive, school_code=None, within=BEYOND_THE_TSA, tsa_passphrase=TSA)
    assert archive_state(archive) == before  # no row either
    renew_timestamps(archive, school_code=None, within=quiet, tsa_passphrase=TSA)
    assert _schedule(archive, doc) == (digest, expires)
    far = expires + dt.timedelta(days=365 * 20)
    _set_schedule(archive, doc, sha256="0" * 64, expires_at=far)  # for other bytes
    renew_timestamps(archive, school_code=None, within=quiet, tsa_passphrase=TSA)
    assert _schedule(archive, doc) == (digest, expires)
    two_years_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=730)
    _set_schedule(archive, doc, expires_at=far, read_at=two_years_ago)  # too old to trust
    with pytest.raises(ConflictError, match="tsa-reissue"):
        renew_timestamps(archive, school_code=None, within=BEYOND_THE_TSA, tsa_passphrase=TSA)
    renew_timestamps(archive, school_code=None, within=quiet, tsa_passphrase=TSA)
    assert _schedule(archive, doc) == (digest, expires)
    # A row that is right and young is trusted: the copy is not read at all (here its last
    # piece is even gone from storage, which is fixity's to find).
    from pathlib import Path

    with archive.sessions() as s:
        key = s.query(SignatureRecord).filter_by(document_id=doc).order_by(
            SignatureRecord.sequence.desc()).first().storage_key
    blob = Path(archive.storage.root) / key
    blob.chmod(0o644)
    blob.unlink()
    assert renew_timestamps(archive, school_code=None, within=quiet,
                            tsa_passphrase=TSA).checked == 1
