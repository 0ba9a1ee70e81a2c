"""Renewing the archival timestamp of a sealed copy (PAdES B-LTA kept valid for decades)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pikepdf
import pytest

from signing import pades, pki
from signing.verify import lta_validation, verify_pdf
from tests.support.signing import NOW, SCHOOL, school_crl, sign_chain


@pytest.fixture(scope="module")
def short_lived(unsigned):
    """A chain sealed with a TSA certificate valid one year, and the school root."""
    pdf, fields = unsigned
    root = pki.create_root(SCHOOL, now=NOW - dt.timedelta(days=1))
    tsa = pki.issue_tsa(root, school=SCHOOL, now=NOW - dt.timedelta(days=1), days=365)
    signed = sign_chain(pdf, fields, root, pades.school_timestamper(tsa, [root.certificate]))
    return signed, fields, root


@pytest.fixture(scope="module")
def renewed(short_lived):
    signed, _fields, root = short_lived
    tsa = pki.issue_tsa(root, school=SCHOOL, now=NOW, days=365 * 10)
    vc = pades.validation_context([root.certificate], crls=[school_crl(root)])
    return pades.renew_archival_timestamp(
        signed, pades.school_timestamper(tsa, [root.certificate]), vc), tsa


def test_a_renewed_timestamp_keeps_the_copy_valid_past_the_old_tsa_certificate(short_lived,
                                                                               renewed):
    """Real PAdES-LTA validation (nothing simulated) two years on: the first TSA certificate
    expired after one year, so without renewal nothing proves the signatures existed while
    it was valid; the renewed timestamp (TSA certificate valid ten years) does, until it in
    turn expires."""
    signed, fields, root = short_lived
    pdf, _tsa = renewed
    two_years = dt.datetime.now(dt.UTC) + dt.timedelta(days=730)
    names = {f.name for f in fields}
    assert lta_validation(signed, roots=[root.certificate], at=two_years) == dict.fromkeys(
        names, False)
    assert lta_validation(pdf, roots=[root.certificate], at=two_years) == dict.fromkeys(
        names, True)
    eight_years = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 8)
    assert all(lta_validation(pdf, roots=[root.certificate], at=eight_years).values())
    eleven_years = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 11)
    assert not any(lta_validation(pdf, roots=[root.certificate], at=eleven_years).values())


def test_the_renewal_is_one_allowed_revision_and_every_signature_still_holds(short_lived,
                                                                             renewed):
    signed, fields, root = short_lived
    pdf, _tsa = renewed
    assert pdf.startswith(signed)  # an incremental update: nothing signed is rewritten
    result = verify_pdf(pdf, roots=[root.certificate], crls=[school_crl(root)])
    assert result.ok, [(s.field, s.summary, s.modified_after) for s in result.signatures]
    assert result.document_timestamps == 2
    assert [s.field for s in result.signatures[:len(fields)]] == [f.name for f in fields]
    assert not any(s.modified_after for s in result.signatures)


def test_poppler_and_pdfa_after_renewal(short_lived, renewed, tmp_path):
    _signed, fields, _root = short_lived
    pdf, _tsa = renewed
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert opened.pdf_version < "2.0"
        assert str(opened.Root.get("/Version", "/1.7")) < "/2.0"
    path = tmp_path / "renewed.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    # poppler checks the signatures; document timestamps it lists without checking them.
    assert out.count("Signature is Valid.") == len(fields)
    assert out.count("Signature #") == len(fields) + 2
    assert "Invalid" not in out


def test_the_expiry_is_read_from_the_last_document_timestamp(short_lived, renewed, unsigned):
    signed, _fields, _root = short_lived
    pdf, tsa = renewed
    first, last = pades.last_archival_timestamp(signed), pades.last_archival_timestamp(pdf)
    assert first.expires < NOW + dt.timedelta(days=366)
    assert last.certificate == tsa.certificate
    assert last.expires == tsa.certificate.not_valid_after_utc
    assert last.field != first.field and last.field.startswith("Timestamp")
    assert pades.last_archival_timestamp(unsigned[0]) is None


def test_a_flipped_byte_in_the_renewal_is_caught(short_lived, renewed):
    signed, _fields, root = short_lived
    pdf, _tsa = renewed
    at = len(signed) + (len(pdf) - len(signed)) // 2
    broken = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]
    assert not verify_pdf(broken, roots=[root.certificate]).ok
