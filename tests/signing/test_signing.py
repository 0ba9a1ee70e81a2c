"""The pure signing library: school PKI, PAdES into the pre-created fields, verification."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pikepdf
import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import pades, pki
from signing.errors import CertificateNotValidError, FieldError, WrongPassphraseError
from signing.verify import verify_pdf
from tests.support.signing import NOW, SCHOOL, sign_chain


@pytest.fixture(scope="module")
def signed(unsigned, school):
    pdf, fields = unsigned
    root, timestamper = school
    return sign_chain(pdf, fields, root, timestamper), fields, root


def test_the_whole_chain_verifies_and_the_seal_ends_it(signed):
    pdf, fields, root = signed
    result = verify_pdf(pdf, roots=[root.certificate])
    assert result.ok, [(s.field, s.summary) for s in result.broken()]
    signatures = result.signatures[:-1]
    assert [s.field for s in signatures] == [f.name for f in fields]
    assert result.document_timestamps == 1  # B-LTA after the seal
    assert all(s.timestamp_time is not None for s in result.signatures)  # B-T on each
    assert signatures[-1].signer == SCHOOL


def test_signatures_remain_valid_in_the_future_if_timestamps_are_renewed(signed):
    """pyHanko's simulated PAdES-LTA validation 8 years on, past the signers' certificates
    (personal 3 years, seal 5) but within the TSA's (10): each signature still validates,
    because the DSS holds the school CRL and the document timestamp proves when everything
    existed. Past the TSA certificate it needs a renewed timestamp (docs/signing.md)."""
    from signing.verify import future_validation

    pdf, fields, root = signed
    assert future_validation(pdf, roots=[root.certificate], years=8) == {
        f.name: True for f in fields}
    assert not all(future_validation(pdf, roots=[root.certificate], years=11).values())


def test_poppler_agrees(signed, tmp_path):
    pdf, fields, _root = signed
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert out.count("Signature is Valid.") == len(fields)


def test_signing_with_ecdsa_keeps_pdf_1x_for_pdfa(signed):
    pdf, _fields, _root = signed
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert opened.pdf_version < "2.0"
        assert str(opened.Root.get("/Version", "/1.7")) < "/2.0"
        assert "/ISO_" not in str(opened.Root.get("/Extensions", {}))


def test_a_flipped_byte_names_the_broken_signatures(signed):
    pdf, fields, root = signed
    data = bytearray(pdf)
    at = pdf.index(b"snapshot-sha256:") + 20  # a byte of the first revision's XMP text
    data[at] ^= 0x01
    result = verify_pdf(bytes(data), roots=[root.certificate])
    assert not result.ok and result.error is None
    broken = {s.field: s.summary for s in result.broken()}
    assert set(broken) >= {f.name for f in fields}  # every signature covers that byte
    assert set(broken.values()) == {"подписанные данные изменены"}


def test_a_flipped_byte_in_a_later_revision_breaks_that_signature_and_the_later_ones(signed):
    """The byte ranges are hashed in one pass (signing.verify._digest_together): a byte
    changed after the third signature's /Contents (a digit of its signing time /M) is covered
    by it and by every later one, not by the first two."""
    pdf, fields, root = signed
    third = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[2]
    _start, _first, second, length = third.byte_range
    at = pdf.index(b"/M (D", second, second + length) + len(b"/M (D\\072") + 3  # year
    data = bytearray(pdf)
    data[at] = ord("7") if data[at] != ord("7") else ord("8")
    result = verify_pdf(bytes(data), roots=[root.certificate])
    assert not result.ok and result.error is None
    broken = [s.field for s in result.broken()]
    assert broken == [s.field for s in result.signatures[2:]]
    assert fields[0].name not in broken and fields[1].name not in broken


def test_the_byte_ranges_hashed_together_give_pyhankos_digests(signed):
    from pyhanko.sign.general import byte_range_digest

    from signing.verify import _digest_together

    pdf, fields, _root = signed
    embedded = list(PdfFileReader(io.BytesIO(pdf)).embedded_signatures)
    assert len(embedded) == len(fields) + 1  # and the document timestamp
    _digest_together(pdf, embedded)
    for sig in embedded:
        algorithm = sig.external_md_algorithm
        assert sig.external_digests[algorithm] == byte_range_digest(
            io.BytesIO(pdf), sig.byte_range, algorithm)[1]


def test_a_damaged_signature_is_an_error_not_a_crash(signed):
    pdf, _fields, root = signed
    data = bytearray(pdf)
    seal = pdf.rfind(b"/Contents <", 0, pdf.rfind(b"/Contents <"))  # the seal's CMS
    data[seal + 60] = ord("0") if data[seal + 60] != ord("0") else ord("1")
    result = verify_pdf(bytes(data), roots=[root.certificate])
    assert not result.ok and "файл повреждён" in (result.error or "")


def test_a_damaged_file_is_described_in_russian(signed):
    """The parser's own reason («startxref not found») is not what a secretary reads."""
    pdf, _fields, root = signed
    cut = verify_pdf(pdf[: len(pdf) // 2], roots=[root.certificate])
    assert not cut.ok and "файл обрезан" in cut.error and "startxref not found" not in cut.error
    other = verify_pdf(b"PK\x03\x04" + pdf[4:], roots=[root.certificate])
    assert not other.ok and "это не PDF" in other.error


def test_untrusted_root_is_reported(signed):
    pdf, _fields, _root = signed
    stranger = pki.create_root("Чужой УЦ", now=NOW)
    result = verify_pdf(pdf, roots=[stranger.certificate])
    assert not result.ok
    assert all(s.summary == "сертификат не ведёт к корневому сертификату школы"
               for s in result.broken())


def test_a_signed_field_cannot_be_signed_again(signed, school):
    pdf, fields, root = signed
    _root, timestamper = school
    cred = pki.issue_person(root, name="Кто-то", position="Учитель", school=SCHOOL, now=NOW)
    with pytest.raises(FieldError, match="уже подписано"):
        pades.sign(pdf, pades.SignRequest(fields[0].name, pades.local_signer(
            cred, [root.certificate]), cred.certificate, "Учитель", timestamper))


def test_expired_certificate_is_refused(unsigned, school):
    pdf, fields = unsigned
    root, timestamper = school
    old = pki.issue_person(root, name="Бывший Учитель", position="Учитель", school=SCHOOL,
                           now=NOW - dt.timedelta(days=800), days=365)
    with pytest.raises(CertificateNotValidError, match="им подписывать нельзя"):
        pades.sign(pdf, pades.SignRequest(fields[0].name, pades.local_signer(
            old, [root.certificate]), old.certificate, "Учитель", timestamper))


def test_a_revoked_certificate_is_refused_whatever_the_revocation_date(unsigned, school):
    from signing.errors import CertificateRevokedError

    pdf, fields = unsigned
    root, timestamper = school
    cred = pki.issue_person(root, name="Уволенный Учитель", position="Учитель", school=SCHOOL,
                            now=NOW)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # even one dated in the future
    crl = pki.issue_crl(root, now=NOW, number=2, revoked=[
        pki.Revocation(cred.certificate.serial_number, later, "affiliation_changed")])
    with pytest.raises(CertificateRevokedError, match="отозван .*сменил должность"):
        pades.sign(pdf, pades.SignRequest(fields[0].name, pades.local_signer(
            cred, [root.certificate]), cred.certificate, "Учитель", timestamper, crl=crl))
    other = pki.issue_person(root, name="Другой Учитель", position="Учитель", school=SCHOOL,
                             now=NOW)
    assert pki.revocation_of(other.certificate, crl) is None
    assert pades.sign(pdf, pades.SignRequest(fields[0].name, pades.local_signer(
        other, [root.certificate]), other.certificate, "Учитель", timestamper, crl=crl))


@pytest.mark.parametrize("reason", sorted(pki.REVOCATION_REASONS))
def test_the_revocation_list_carries_date_and_reason(school, reason):
    root, _timestamper = school
    at = NOW.replace(microsecond=0)
    crl = pki.issue_crl(root, now=NOW, number=7, revoked=[pki.Revocation(12345, at, reason)])
    assert crl.is_signature_valid(root.certificate.public_key())
    cert = pki.issue_person(root, name="Х", position="Учитель", school=SCHOOL, now=NOW)
    fake = type("Cert", (), {"serial_number": 12345})()  # only the serial number is read
    assert pki.revocation_of(fake, crl) == pki.Revocation(12345, at, reason)
    assert pki.revocation_of(cert.certificate, crl) is None
    with pytest.raises(CertificateNotValidError, match="Неизвестная причина отзыва"):
        pki.issue_crl(root, now=NOW, revoked=[pki.Revocation(1, at, "lost")])


def test_verification_applies_the_revocation_list(signed):
    pdf, _fields, root = signed
    plain = verify_pdf(pdf, roots=[root.certificate])
    first = plain.signatures[0]
    made = first.timestamp_time or first.signing_time
    serial = int(first.certificate_serial, 16)

    def revoked_at(at):
        crl = pki.issue_crl(root, now=dt.datetime.now(dt.UTC), number=2, revoked=[
            pki.Revocation(serial, at, "key_compromise")])
        return verify_pdf(pdf, roots=[root.certificate], crls=[crl])

    after = revoked_at(made.replace(microsecond=0) + dt.timedelta(seconds=1))
    assert after.ok and after.signatures[0].revoked_at is not None
    assert "после подписи" in after.signatures[0].summary
    assert after.signatures[1:] == plain.signatures[1:]
    before = revoked_at(made - dt.timedelta(hours=1))
    assert not before.ok and [s.field for s in before.broken()] == [first.field]
    assert before.signatures[0].summary.startswith("сертификат отозван")
    again = type(before).from_dict(before.as_dict())  # the stored form keeps it
    assert again == before and not again.ok


def test_private_keys_are_stored_encrypted(school):
    root, _ts = school
    person = pki.issue_person(root, name="Иванова Анна", position="Учитель", school=SCHOOL,
                              now=NOW)
    stored = pki.encrypt_key(person.private_key, "секретный пароль")
    algorithm = asn1_keys.EncryptedPrivateKeyInfo.load(stored)["encryption_algorithm"]
    assert (algorithm.kdf, algorithm.kdf_hmac, algorithm.kdf_iterations,
            algorithm.encryption_cipher) == ("pbkdf2", "sha256", pki.KDF_ROUNDS, "aes")
    plain = person.private_key.private_bytes(serialization.Encoding.DER,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    assert plain[-32:] not in stored
    key = pki.decrypt_key(stored, "секретный пароль", owner="Иванова Анна")
    assert key.private_numbers() == person.private_key.private_numbers()
    with pytest.raises(WrongPassphraseError, match="Неверный пароль ключа"):
        pki.decrypt_key(stored, "не тот пароль", owner="Иванова Анна")
    with pytest.raises(WrongPassphraseError, match="не короче 8"):
        pki.encrypt_key(person.private_key, "короткий"[:5])


def test_external_pkcs12_can_be_imported(school):
    root, _ts = school
    person = pki.issue_person(root, name="Внешний Сертификат", position="Директор",
                              school=SCHOOL, now=NOW)
    blob = pkcs12.serialize_key_and_certificates(
        b"x", person.private_key, person.certificate, [root.certificate],
        BestAvailableEncryption(b"p12-password"))
    imported = pki.import_pkcs12(blob, "p12-password")
    assert imported.owner == "Внешний Сертификат"
    with pytest.raises(WrongPassphraseError, match="PKCS#12 не открывается"):
        pki.import_pkcs12(blob, "wrong")


def test_root_certificate_is_exportable(school):
    root, _ts = school
    assert pki.pem(root.certificate).startswith(b"-----BEGIN CERTIFICATE-----")


def test_poppler_trusts_the_issuer_given_the_school_root(signed, tmp_path):
    pdf, fields, root = signed
    nss = tmp_path / "nss"
    nss.mkdir()
    (tmp_path / "root.pem").write_bytes(pki.pem(root.certificate))
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "school-root", "-t", "CT,C,C",
                    "-i", str(tmp_path / "root.pem")], check=True)
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True,
                         text=True).stdout
    assert out.count("Signature is Valid.") == len(fields)
    assert out.count("Certificate is Trusted.") == len(fields)


def test_a_long_school_name_fits_the_certificate_names():
    """The demo school's full name is 99 bytes of UTF-8; the common name is bounded to 64."""
    name = "Муниципальное бюджетное общеобразовательное учреждение «Средняя школа № 1»"
    root = pki.create_root(name, now=NOW)
    seal = pki.issue_organisation(root, school=name, now=NOW)
    for cert in (root.certificate, seal.certificate):
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert len(cn.encode()) <= 64 and cn.endswith("…")
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == name


def test_the_school_tsa_answers_rfc3161_with_its_own_policy(school):
    import hashlib

    from asn1crypto import tsp

    _root, timestamper = school
    digest = hashlib.sha256(b"journal").digest()
    request = tsp.TimeStampReq({
        "version": 1, "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                                          "hashed_message": digest},
        "nonce": 12345, "cert_req": True})
    reply = timestamper.request_tsa_response(request)
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["policy"].dotted == pades.SCHOOL_TSA_POLICY
    assert info["accuracy"]["seconds"].native == 1
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == 12345


def test_a_chain_result_survives_its_json_form():
    import json

    from signing.verify import ChainResult, SignatureResult

    when = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    result = ChainResult((SignatureResult("f1", "Иванова", "1A", when, None, True, True, False,
                                          0, False, "не доверена"),), 1, None)
    back = ChainResult.from_dict(json.loads(json.dumps(result.as_dict())))
    assert back == result and back.ok is False and back.broken() == list(result.signatures)


def test_the_collector_is_paused_while_verifying_and_runs_again_after(signed):
    import gc
    import threading

    from signing.verify import collector_paused

    pdf, _fields, root = signed
    seen = []
    assert gc.isenabled()
    with collector_paused():
        seen.append(gc.isenabled())
        with collector_paused():  # another verification at the same time
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())  # the first one still runs
        other = threading.Thread(target=verify_pdf, args=(pdf,), kwargs={"roots": [
            root.certificate]})
        other.start()
        other.join()
        seen.append(gc.isenabled())
    assert seen == [False, False, False, False] and gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a verification that fails")
    assert gc.isenabled()
    gc.disable()  # off already: left off
    try:
        verify_pdf(pdf, roots=[root.certificate])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_verification_leaves_nothing_for_the_collector(signed):
    import gc

    pdf, _fields, root = signed
    verify_pdf(pdf, roots=[root.certificate])
    gc.collect()
    assert verify_pdf(pdf, roots=[root.certificate]).ok
    assert gc.collect() == 0  # all freed by reference counting as the verification ends


def test_a_byte_range_of_another_shape_is_left_to_pyhanko():
    """Only ranges ``[0, a, b, c]`` are hashed together; others keep no digest here, so
    pyHanko computes theirs itself."""
    from types import SimpleNamespace

    from signing.verify import _digest_together

    def sig(byte_range):
        return SimpleNamespace(byte_range=byte_range, external_md_algorithm="sha256",
                               external_digests={})

    data = bytes(range(256)) * 4
    plain, shifted, three, odd = (sig([0, 100, 200, 50]), sig([10, 90, 200, 50]),
                                  sig([0, 10, 20, 10, 40, 10]), sig(["x", 1, 2, 3]))
    _digest_together(data, [plain, shifted, three, odd])
    import hashlib
    assert plain.external_digests["sha256"] == hashlib.sha256(data[:100] + data[200:250]).digest()
    assert shifted.external_digests == three.external_digests == odd.external_digests == {}


def test_a_signers_next_signature_reuses_the_sized_space_and_a_too_small_one_is_sized_anew(
        unsigned, school, monkeypatch):
    """pyHanko sizes a signature's space by a dry run; the library remembers the size per
    signer and timestamp service, and sizes anew when the remembered space is too small."""
    from pyhanko.sign.signers.pdf_signer import PdfSigningSession

    pdf, fields = unsigned
    root, timestamper = school
    cred = pki.issue_person(root, name="Орлова Вера Павловна", position="Учитель",
                            school=SCHOOL, now=NOW)
    dry_runs = []
    estimate = PdfSigningSession.estimate_signature_container_size

    def counted(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        dry_runs.append(1)
        return estimate(self, *args, **kwargs)

    monkeypatch.setattr(PdfSigningSession, "estimate_signature_container_size", counted)
    monkeypatch.setattr(pades, "_RESERVED", {})

    def sign(doc: bytes, field) -> bytes:  # noqa: ANN001
        return pades.sign(doc, pades.SignRequest(
            field.name, pades.local_signer(cred, [root.certificate]), cred.certificate,
            "Учитель", timestamper))

    first = sign(pdf, fields[0])
    [(key, size)] = pades._RESERVED.items()
    second = sign(first, fields[1])
    assert len(dry_runs) == 1  # the second signature used the remembered size
    pades._RESERVED[key] = 200  # far too small for a CMS with a timestamp token
    third = sign(second, fields[2])
    assert len(dry_runs) == 2 and abs(pades._RESERVED[key] - size) < 64  # sized anew
    result = verify_pdf(third, roots=[root.certificate])
    assert not result.broken() and [s.field for s in result.signatures] == [
        f.name for f in fields[:3]]


@pytest.mark.parametrize("tail", [b"GARBAGE", b"\n% a comment\n", b"\x00" * 3])
def test_bytes_after_the_end_of_a_signed_file_are_reported(signed, tail):
    """Readers ignore what follows %%EOF and no signature covers it: the file is refused as
    not the one signed, the signatures themselves still shown as they are."""
    pdf, _fields, root = signed
    result = verify_pdf(pdf + tail, roots=[root.certificate])
    assert not result.ok and result.error.startswith(
        f"после конца файла (%%EOF) дописано {len(tail)} байт")
    assert all(s.holds for s in result.signatures)
    assert verify_pdf(pdf + b"\r\n", roots=[root.certificate]).ok  # a line end is no change
    # A false end after the end: pyHanko refuses to read it at all.
    assert not verify_pdf(pdf + b"x\n%%EOF\n", roots=[root.certificate]).ok


def test_a_broken_line_always_says_why(signed):
    """A revision added after the seal breaks the signatures, each saying what broke it."""
    from pyhanko.pdf_utils import generic

    from tests.support.signing import append_update

    pdf, _fields, root = signed

    def rotate(writer):  # noqa: ANN001
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        page["/Rotate"] = generic.NumberObject(90)
        writer.update_container(page)

    result = verify_pdf(append_update(pdf, rotate), roots=[root.certificate])
    assert result.broken()
    assert all(s.summary != "подпись верна" for s in result.broken())
