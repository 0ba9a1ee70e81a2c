"""PAdES signatures into the pre-created fields, with a visible Russian stamp and a timestamp.

Built on pyHanko. The signer is pyHanko's ``Signer`` abstraction, so an external certified
GOST provider (which signs a prepared digest) can replace the local ECDSA key later.
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import os
import tempfile
from dataclasses import dataclass
from functools import cache

import fontpkg_pt_sans
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko import stamp
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import _ensure_esic_ext
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import FieldError
from signing.pki import Credential, check_valid

STAMP_TEXT = ("Документ подписан электронной подписью\n"
              "Сертификат: %(serial)s\n"
              "Владелец: %(owner)s\n"
              "%(position)s\n"
              "Действителен с %(valid_from)s по %(valid_to)s\n"
              "Подписано: %(ts)s")


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


def school_timestamper(tsa: Credential, chain: list[x509.Certificate]) -> timestamps.TimeStamper:
    """RFC 3161 timestamps from the school's own TSA key (in process).

    A configured external TSA is ``pyhanko.sign.timestamps.HTTPTimeStamper(url)``.
    """
    return timestamps.DummyTimeStamper(
        tsa_cert=asn1_cert(tsa.certificate), tsa_key=_asn1_key(tsa),
        certs_to_embed=SimpleCertificateStore.from_certs([asn1_cert(c) for c in chain]))


class _PdfA2Signer(signers.PdfSigner):
    """pyHanko's PdfSigner without the ISO 32002 extension for ECDSA.

    That registration raises the file's /Version to 2.0, which PDF/A-2b forbids (rule
    6.1.2-1); ECDSA P-256 is plain PDF 1.7 signing, so only the PAdES (ESIC) extension stays.
    """

    def register_extensions(self, pdf_out, *, md_algorithm: str) -> None:
        if self.signature_meta.subfilter == SigSeedSubFilter.PADES:
            _ensure_esic_ext(pdf_out)


STAMP_CHARACTERS = ("".join(chr(c) for c in range(0x20, 0x7F))
                    + "".join(chr(c) for c in range(0x400, 0x460)) + "№«»–—…·")


@cache
def _stamp_font() -> str:
    """PT Sans cut down once per process to the characters a stamp uses.

    pyHanko subsets the stamp font again for every signature; on the full 443 KB font
    that took half of the signing time, on this 29 KB cut a small fraction.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(fontpkg_pt_sans.ROOT / "files" / "PT_Sans-Web-Regular.ttf"))
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=STAMP_CHARACTERS)
    subsetter.subset(font)
    handle, path = tempfile.mkstemp(prefix="stamp-font-", suffix=".ttf")
    with os.fdopen(handle, "wb") as out:
        font.save(out)
    atexit.register(os.unlink, path)
    return path


@cache
def _stamp_style() -> stamp.TextStampStyle:
    return stamp.TextStampStyle(
        stamp_text=STAMP_TEXT, border_width=1, timestamp_format="%d.%m.%Y %H:%M UTC",
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(_stamp_font()), font_size=7))


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


def field_names(pdf: bytes) -> dict[str, bool]:
    """The signature fields of a PDF and whether each is already signed."""
    from pyhanko.sign.fields import enumerate_sig_fields

    reader = PdfFileReader(io.BytesIO(pdf))
    return {name: value is not None for name, value, _ref in enumerate_sig_fields(reader)}


def sign(pdf: bytes, request: SignRequest, *, now: dt.datetime | None = None) -> bytes:
    """Sign one pre-created field as an incremental update; returns the new file."""
    now = now or dt.datetime.now(dt.UTC)
    check_valid(request.certificate, now)
    fields = field_names(pdf)
    if request.field not in fields:
        raise FieldError(f"В документе нет поля подписи «{request.field}».")
    if fields[request.field]:
        raise FieldError(f"Поле подписи «{request.field}» уже подписано.")
    cert = request.certificate
    meta = signers.PdfSignatureMetadata(
        field_name=request.field, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
        # Revocation data of every signer goes into the DSS (B-LT), so that each signature
        # stays verifiable after its certificate expires; the seal adds the document
        # timestamp (B-LTA).
        embed_validation_info=request.validation_context is not None,
        use_pades_lta=request.archival,
        validation_context=request.validation_context)
    pdf_signer = _PdfA2Signer(meta, request.signer, timestamper=request.timestamper,
                              stamp_style=_stamp_style())
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = pdf_signer.sign_pdf(
        writer, existing_fields_only=True, bytes_reserved=16384,
        appearance_text_params={
            "serial": format(cert.serial_number, "X"),
            "owner": _cn(cert),
            "position": request.position,
            "valid_from": f"{cert.not_valid_before_utc:%d.%m.%Y}",
            "valid_to": f"{cert.not_valid_after_utc:%d.%m.%Y}",
        })
    return out.getvalue()


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
