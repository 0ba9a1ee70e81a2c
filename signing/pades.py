"""PAdES signatures into the pre-created fields, with a visible Russian stamp and a timestamp.

Built on pyHanko. The signer is pyHanko's ``Signer`` abstraction, so an external certified
GOST provider (which signs a prepared digest) can replace the local ECDSA key later.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass
from functools import cache

from asn1crypto import cms, core
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko import stamp
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.general import SigningError, as_signing_certificate, simple_cms_attribute
from pyhanko.sign.signers.pdf_signer import _ensure_esic_ext
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from signing import (
    speedups,  # noqa: F401  (installs the faster readers into pyHanko)
    stampfont,
)
from signing.clock import local_time
from signing.errors import FieldError, TimestampUnavailableError
from signing.pki import Credential, check_valid


class _ExpectedNoFetching(logging.Filter):
    """Drop pyHanko's warning that revocation data is embedded without fetching.

    That is our design, not an accident: the school's own CRLs are given to the validation
    context and nothing is fetched from the network.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(_ExpectedNoFetching())

#: The stamp as seed 002 shows it (its last page): «ДОКУМЕНТ ПОДПИСАН ЭЛЕКТРОННОЙ
#: ПОДПИСЬЮ», «СВЕДЕНИЯ О СЕРТИФИКАТЕ ЭП», the certificate's serial, its owner in full, its
#: validity; then the signer's position and the signing time in the school's time zone.
#: Lines wider than ``STAMP_TEXT_WIDTH`` are wrapped, so the stamp fills its field at
#: ``STAMP_FONT_SIZE`` without being scaled down (the fields are ``FIELD_W`` x ``FIELD_H``
#: of the renderer: 186 x 116 pt, room for eleven lines).
STAMP_FONT_SIZE = 7
STAMP_TEXT_WIDTH = 164.0
STAMP_TEXT = "%(stamp)s"


def stamp_text(*, serial: str, owner: str, position: str, valid_from: str, valid_to: str,
               signed_at: str) -> str:
    """The stamp's lines (``STAMP_TEXT``), each at most ``STAMP_TEXT_WIDTH`` wide."""
    lines = ["ДОКУМЕНТ ПОДПИСАН", "ЭЛЕКТРОННОЙ ПОДПИСЬЮ", "СВЕДЕНИЯ О СЕРТИФИКАТЕ ЭП",
             f"Сертификат {serial}", f"Владелец {owner}", position,
             f"Действителен с {valid_from} по {valid_to}", f"Подписано {signed_at}"]
    return "\n".join(part for line in lines if line
                     for part in stampfont.wrap(line, STAMP_FONT_SIZE, STAMP_TEXT_WIDTH))


def asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    """A cryptography certificate as asn1crypto's (pyHanko's) type."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(credential: Credential) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(credential.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def local_signer(credential: Credential, chain: list[x509.Certificate]) -> signers.Signer:
    """A pyHanko signer for a key held here (the pluggable point for other providers)."""
    return signers.SimpleSigner(
        signing_cert=asn1_cert(credential.certificate), signing_key=_asn1_key(credential),
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert(c) for c in chain]))


# The school TSA's policy (RFC 3161 TSTInfo.policy): an OID under the UUID arc 2.25
# (ITU-T X.667), which needs no registration; uuid5(NAMESPACE_URL,
# "urn:archive-service:school-tsa-policy:1").
SCHOOL_TSA_POLICY = "2.25.77709662688276039730591063822705592794"


class SchoolTimeStamper(timestamps.DummyTimeStamper):
    """The school's own RFC 3161 time-stamping authority, in process.

    pyHanko's in-process TSA does the protocol; this class gives it our policy OID and an
    accuracy of one second, and loads the RSA key once: pyHanko re-parses it for every
    token, and cryptography's consistency check of an RSA key costs about 38 ms here.
    """

    def __init__(self, tsa: Credential, chain: list[x509.Certificate]) -> None:
        super().__init__(
            tsa_cert=asn1_cert(tsa.certificate), tsa_key=_asn1_key(tsa),
            certs_to_embed=SimpleCertificateStore.from_certs([asn1_cert(c) for c in chain]))
        if not isinstance(tsa.private_key, rsa.RSAPrivateKey):
            raise TypeError("the school TSA key must be RSA")
        self._private_key = tsa.private_key

    def _build_tst_info(self, message_imprint, dt, req):  # noqa: ANN001, ANN202
        info = super()._build_tst_info(message_imprint, dt, req)
        info["policy"] = SCHOOL_TSA_POLICY
        info["accuracy"] = {"seconds": 1}
        return info

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: dt.datetime):  # noqa: ANN202
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate",
                                 as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._private_key.sign(
            signed_attrs.dump(), padding.PKCS1v15(),
            get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


def school_timestamper(tsa: Credential, chain: list[x509.Certificate]) -> timestamps.TimeStamper:
    """RFC 3161 timestamps from the school's own TSA key (in process)."""
    return SchoolTimeStamper(tsa, chain)


def external_timestamper(url: str, *, timeout: int = 10) -> timestamps.TimeStamper:
    """RFC 3161 timestamps from an external TSA over HTTP (``ARCHIVE_TSA_URL``)."""
    return timestamps.HTTPTimeStamper(url, timeout=timeout)


class _PdfA2Signer(signers.PdfSigner):
    """pyHanko's PdfSigner without the ISO 32002 extension for ECDSA.

    That registration raises the file's /Version to 2.0, which PDF/A-2b forbids (rule
    6.1.2-1); ECDSA P-256 is plain PDF 1.7 signing, so only the PAdES (ESIC) extension stays.
    """

    def register_extensions(self, pdf_out, *, md_algorithm: str) -> None:
        if self.signature_meta.subfilter == SigSeedSubFilter.PADES:
            _ensure_esic_ext(pdf_out)


@cache
def _stamp_style() -> stamp.TextStampStyle:
    return stamp.TextStampStyle(
        stamp_text=STAMP_TEXT, border_width=1,
        text_box_style=TextBoxStyle(font=stampfont.SharedFontFactory(),
                                    font_size=STAMP_FONT_SIZE))


class _SigningWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, leaving the document's XMP metadata as rendered.

    pyHanko rewrites the metadata stream with every update (its own Producer, the time of
    the update as ModifyDate) and with it the catalog: two more objects in every signature's
    revision, compared again by every later verification. The metadata describes the copy
    as rendered (title, number, the snapshot's hash), which a signature does not change; the
    signing times are in the signatures. (pyHanko's own writer still updates it once more at
    the seal, for the revocation data and the document timestamp.)
    """

    def _update_meta(self) -> None:
        """Nothing: the rendered metadata stays."""


@dataclass(frozen=True)
class SignRequest:
    """What to sign and how."""

    field: str
    signer: signers.Signer
    certificate: x509.Certificate
    position: str
    timestamper: timestamps.TimeStamper
    validation_context: ValidationContext | None = None
    archival: bool = False  # the last step: DSS + document timestamp (PAdES B-LTA)
    #: The school's current revocation list: a certificate it names signs nothing.
    crl: x509.CertificateRevocationList | None = None
    #: The school's time zone (an IANA name): the stamp's signing time is written in it.
    time_zone: str = "Europe/Moscow"


def field_names(reader: PdfFileReader) -> dict[str, bool]:
    """The signature fields of a PDF and whether each is already signed."""
    return {name: value is not None for name, value, _ref in enumerate_sig_fields(reader)}


def sign(pdf: bytes, request: SignRequest, *, now: dt.datetime | None = None) -> bytes:
    """Sign one pre-created field as an incremental update; returns the new file."""
    now = now or dt.datetime.now(dt.UTC)
    check_valid(request.certificate, now, request.crl)
    # One parse of the file serves both the field check and the signing.
    writer = _SigningWriter(io.BytesIO(pdf))
    fields = field_names(writer.prev)
    if request.field not in fields:
        raise FieldError(f"В документе нет поля подписи «{request.field}».")
    if fields[request.field]:
        raise FieldError(f"Поле подписи «{request.field}» уже подписано.")
    cert = request.certificate
    meta = signers.PdfSignatureMetadata(
        field_name=request.field, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
        # At the seal, the revocation data goes into the DSS and a document timestamp follows
        # (B-LTA). Every certificate of the chain is issued by the school root, so the root's
        # CRL embedded then serves every earlier signature too; a DSS update after each
        # signature would only add revisions, and every revision costs each later
        # verification a full change analysis.
        embed_validation_info=request.validation_context is not None and request.archival,
        use_pades_lta=request.archival,
        # The seal's field locks everything; asking for it avoids pyHanko's downgrade warning.
        docmdp_permissions=MDPPerm.NO_CHANGES if request.archival else MDPPerm.FILL_FORMS,
        validation_context=request.validation_context)
    pdf_signer = _PdfA2Signer(meta, request.signer, timestamper=request.timestamper,
                              stamp_style=_stamp_style())
    stamp_params = {"stamp": stamp_text(
        serial=format(cert.serial_number, "X"), owner=_cn(cert), position=request.position,
        valid_from=f"{cert.not_valid_before_utc:%d.%m.%Y}",
        valid_to=f"{cert.not_valid_after_utc:%d.%m.%Y}",
        signed_at=local_time(now, request.time_zone))}
    key = None if request.archival else _reservation_key(cert, request.timestamper)
    reserved = _RESERVED.get(key) if key else None
    try:
        try:
            out = pdf_signer.sign_pdf(writer, existing_fields_only=True,
                                      bytes_reserved=reserved,
                                      appearance_text_params=stamp_params)
        except SigningError:
            if reserved is None:
                raise
            # The remembered space was too small (a TSA's answer grew): size it anew.
            _RESERVED.pop(key, None)
            out = pdf_signer.sign_pdf(_SigningWriter(io.BytesIO(pdf)), existing_fields_only=True,
                                      bytes_reserved=None, appearance_text_params=stamp_params)
            reserved = None
    except TimestampRequestError as exc:
        raise TimestampUnavailableError(
            f"Служба штампов времени не ответила ({exc}); подпись не поставлена, повторите "
            "позже или сообщите администратору (ARCHIVE_TSA_URL).") from None
    if key and reserved is None:
        _remember_reservation(key, out.getbuffer()[len(pdf):])
    return out.getvalue()


#: The space pyHanko sized for the last signature of a signer with a timestamp service, by
#: (certificate fingerprint, timestamp service): pyHanko sizes it by a dry run of the whole
#: signature (its size plus half), about a fifth of each signature's time; one signer's
#: next signature with the same service has the same size within bytes. Too small after
#: all (an external TSA's answer grew), the signature is sized anew (see ``sign``).
_RESERVED: dict[tuple[bytes, str], int] = {}
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+\d+\s*\]")


def _reservation_key(cert: x509.Certificate, timestamper: object) -> tuple[bytes, str] | None:
    if isinstance(timestamper, SchoolTimeStamper):
        service = "school:" + timestamper.tsa_cert.sha256.hex()
    elif isinstance(timestamper, timestamps.HTTPTimeStamper):
        service = "http:" + timestamper.url
    else:
        return None
    return cert.fingerprint(hashes.SHA256()), service


def _remember_reservation(key: tuple[bytes, str], update: memoryview) -> None:
    """Remember the /Contents size of the one signature an incremental update added."""
    found = _BYTE_RANGE.findall(bytes(update))
    if len(found) == 1:
        start, end = (int(n) for n in found[0])
        if len(_RESERVED) > 10_000:  # a region's signers, many times over: start afresh
            _RESERVED.clear()
        _RESERVED[key] = end - start - 2  # the hex string between its angle brackets


def _cn(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def validation_context(roots: list[x509.Certificate], *,
                       crls: list[x509.CertificateRevocationList] | None = None,
                       at: dt.datetime | None = None) -> ValidationContext:
    """Trust the school roots, with the school's CRLs as local revocation data (no fetching)."""
    return ValidationContext(
        trust_roots=[asn1_cert(c) for c in roots], allow_fetching=False,
        crls=[asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER))
              for c in crls or []],
        revocation_mode="soft-fail", moment=at)


def renew_archival_timestamp(pdf: bytes, timestamper: timestamps.TimeStamper,
                             validation: ValidationContext) -> bytes:
    """A new document timestamp over a sealed copy (the renewal of PAdES B-LTA).

    One incremental update: the document security store gets the validation data of the
    evidence so far (the school's current CRL, the TSA's certificates), then a document
    timestamp covers all of it, so the copy stays verifiable after the previous timestamp's
    TSA certificate expires. No VRI entries: pyHanko would rewrite the ones the seal wrote,
    which the change analysis (``signing.diff``) rightly refuses as a change to earlier
    revocation data; the DSS's own lists serve every signature of the school's chain.
    """
    from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    try:
        out = signers.PdfTimeStamper(timestamper).timestamp_pdf(
            writer, "sha256", validation,
            dss_settings=TimestampDSSContentSettings(include_vri=False, update_before_ts=True))
    except TimestampRequestError as exc:
        raise TimestampUnavailableError(
            f"Служба штампов времени не ответила ({exc}); штамп не продлён, повторите позже "
            "или сообщите администратору (ARCHIVE_TSA_URL).") from None
    return out.getvalue()


@dataclass(frozen=True)
class ArchivalTimestamp:
    """A copy's last document timestamp: its field and the TSA certificate that made it."""

    field: str
    certificate: x509.Certificate

    @property
    def expires(self) -> dt.datetime:
        """Until when it proves what it covers: its TSA certificate's end of validity."""
        return self.certificate.not_valid_after_utc


def last_archival_timestamp(pdf: bytes) -> ArchivalTimestamp | None:
    """The copy's last document timestamp (None: it has none, i.e. it is not sealed)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    stamps = reader.embedded_timestamp_signatures
    if not stamps:
        return None
    return ArchivalTimestamp(str(stamps[-1].field_name),
                             x509.load_der_x509_certificate(stamps[-1].signer_cert.dump()))
