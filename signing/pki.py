"""The school's own PKI: a root CA, personal certificates, the seal and the TSA.

Signing keys are ECDSA P-256 (fast, small signatures; the TSA key is RSA); private keys
are stored as PKCS#8 EncryptedPrivateKeyInfo (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC) under
the owner's passphrase, so the server never holds a usable key without its owner and a copy
of the database does not give the keys away to a quick guess: 600,000 PBKDF2 rounds (the
OWASP figure for PBKDF2-HMAC-SHA256) cost about 0.25 s per opening here. That is why a signer
opens the key once per action and signs every waiting document with it.
An externally issued PKCS#12 can be imported instead.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from asn1crypto import algos as asn1_algos
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.errors import (
    CertificateNotValidError,
    CertificateRevokedError,
    WrongPassphraseError,
)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class Credential:
    """A certificate and its private key."""

    certificate: x509.Certificate
    private_key: PrivateKey

    @property
    def serial_hex(self) -> str:
        """The serial number as printed on stamps."""
        return format(self.certificate.serial_number, "X")

    @property
    def owner(self) -> str:
        """The subject's common name."""
        return self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def _cut(text: str, limit: int = 64) -> str:
    """The common name within 64 bytes of UTF-8 (the bound cryptography enforces; X.520's
    ub-common-name); the full names stay in O and title, which have no such bound."""
    if len(text.encode()) <= limit:
        return text
    while len((text + "…").encode()) > limit:
        text = text[:-1]
    return text.rstrip() + "…"


def _name(common_name: str, *, organisation: str, title: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
             x509.NameAttribute(NameOID.COMMON_NAME, _cut(common_name))]
    if title:
        parts.append(x509.NameAttribute(NameOID.TITLE, title))
    return x509.Name(parts)


def _build(subject: x509.Name, issuer: Credential | None, key: PrivateKey | PublicKey, *,
           not_before: dt.datetime, days: int, ca: bool,
           eku: list[x509.ObjectIdentifier] | None) -> x509.Certificate:
    """A certificate for ``key`` (a private key, or only the public half of a key its owner
    holds), signed by ``issuer`` (None: self-signed, ``key`` then private)."""
    public = key if isinstance(key, PublicKey) else key.public_key()
    issuer_name = issuer.certificate.subject if issuer else subject
    signing_key = issuer.private_key if issuer else key
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer_name).public_key(public)
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_before + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public),
                              critical=False))
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()),
            critical=False)
    usage = dict(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                 encipher_only=False, decipher_only=False)
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(signing_key, hashes.SHA256())


def create_root(school: str, *, now: dt.datetime, days: int = 365 * 30) -> Credential:
    """The school's root certificate authority (корневой сертификат школы)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _build(_name(f"УЦ {school}", organisation=school), None, key,
                  not_before=now, days=days, ca=True, eku=None)
    return Credential(cert, key)


def issue_person(root: Credential, *, name: str, position: str, school: str,
                 now: dt.datetime, days: int = 365 * 3) -> Credential:
    """A personal signing certificate (name, position, school) with a fresh key."""
    key = new_key()
    return Credential(certify_person(root, key.public_key(), name=name, position=position,
                                     school=school, now=now, days=days), key)


def issue_organisation(root: Credential, *, school: str, now: dt.datetime,
                       days: int = 365 * 5) -> Credential:
    """The organisation's certificate used for the school seal (печать организации)."""
    key = new_key()
    return Credential(certify_organisation(root, key.public_key(), school=school, now=now,
                                           days=days), key)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh signing key (ECDSA P-256), as every personal and seal key is."""
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: PrivateKey) -> bytes:
    """The public half of a key as PEM (what a key request carries to the issuer)."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(data: bytes) -> PublicKey:
    """A public key from PEM; anything else is a clear refusal."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise CertificateNotValidError("Открытый ключ запроса повреждён: запрос нужно "
                                       "сделать заново.") from None
    if not isinstance(key, PublicKey):
        raise CertificateNotValidError("Открытый ключ запроса неподдерживаемого типа.")
    return key


def certify_person(root: Credential, public_key: PublicKey, *, name: str, position: str,
                   school: str, now: dt.datetime, days: int = 365 * 3) -> x509.Certificate:
    """A personal signing certificate for a key its owner holds (only the public half is
    needed: the private key stays encrypted under the owner's passphrase)."""
    return _build(_name(name, organisation=school, title=position), root, public_key,
                  not_before=now, days=days, ca=False, eku=None)


def certify_organisation(root: Credential, public_key: PublicKey, *, school: str,
                         now: dt.datetime, days: int = 365 * 5) -> x509.Certificate:
    """The seal's certificate for a key its holder made (see ``certify_person``)."""
    return _build(_name(school, organisation=school, title="Печать организации"), root,
                  public_key, not_before=now, days=days, ca=False, eku=None)


def issue_tsa(root: Credential, *, school: str, now: dt.datetime,
              days: int = 365 * 10) -> Credential:
    """The school's time-stamping authority (RFC 3161). RSA: pyHanko's in-process TSA
    signs tokens with RSA only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _build(_name(f"TSA {school}", organisation=school), root, key,
                  not_before=now, days=days, ca=False, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    return Credential(cert, key)


#: Why a certificate is revoked: the reason code of RFC 5280 and its Russian wording.
REVOCATION_REASONS: dict[str, tuple[x509.ReasonFlags, str]] = {
    "key_compromise": (x509.ReasonFlags.key_compromise, "ключ скомпрометирован"),
    "affiliation_changed": (x509.ReasonFlags.affiliation_changed,
                            "владелец сменил должность или не работает в школе"),
    "superseded": (x509.ReasonFlags.superseded, "заменён новым сертификатом"),
    "cessation_of_operation": (x509.ReasonFlags.cessation_of_operation,
                               "больше не используется"),
    "unspecified": (x509.ReasonFlags.unspecified, "причина не указана"),
}


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate: its serial number, since when, and why."""

    serial: int
    revoked_at: dt.datetime
    reason: str  # a key of REVOCATION_REASONS

    @property
    def reason_text(self) -> str:
        """The reason as a person reads it."""
        return REVOCATION_REASONS[self.reason][1]


def issue_crl(root: Credential, *, now: dt.datetime, revoked: list[Revocation] | tuple = (),
              number: int = 1, days: int = 365 * 30) -> x509.CertificateRevocationList:
    """The root's certificate revocation list, re-issued with every revocation.

    It goes into each sealed document's DSS so that the signatures stay verifiable after
    their certificates expire (PAdES LT/LTA), and signing refuses a certificate it lists.
    Nothing is fetched from the network: the archive holds the school's current list and
    hands it to verifiers (``archive pki crl``). Long-lived (its next update 30 years on):
    the list is replaced at each revocation, and an offline verifier is given the current
    one rather than fetching it when it runs out. ``number``: the CRL number (RFC 5280
    5.2.3), which grows with every list issued.
    """
    builder = (x509.CertificateRevocationListBuilder().issuer_name(root.certificate.subject)
               .last_update(now).next_update(now + dt.timedelta(days=days))
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   root.private_key.public_key()), critical=False))
    for r in revoked:
        if r.reason not in REVOCATION_REASONS:
            raise CertificateNotValidError(
                f"Неизвестная причина отзыва «{r.reason}»: допустимы "
                f"{', '.join(REVOCATION_REASONS)}.")
        entry = (x509.RevokedCertificateBuilder().serial_number(r.serial)
                 .revocation_date(r.revoked_at))
        if r.reason != "unspecified":  # RFC 5280 5.3.1: unspecified is not to be written
            entry = entry.add_extension(x509.CRLReason(REVOCATION_REASONS[r.reason][0]),
                                        critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(root.private_key, hashes.SHA256())


def revocation_of(cert: x509.Certificate, crl: x509.CertificateRevocationList | None
                  ) -> Revocation | None:
    """The certificate's entry in the list, or None when it is not revoked."""
    entry = None if crl is None else crl.get_revoked_certificate_by_serial_number(
        cert.serial_number)
    if entry is None:
        return None
    try:
        flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        flag = x509.ReasonFlags.unspecified
    reason = next((k for k, (f, _text) in REVOCATION_REASONS.items() if f == flag),
                  "unspecified")
    return Revocation(cert.serial_number, entry.revocation_date_utc, reason)


KDF_ROUNDS = 600_000


def encrypt_key(key: PrivateKey, passphrase: str, *, rounds: int = KDF_ROUNDS) -> bytes:
    """The private key as PKCS#8 EncryptedPrivateKeyInfo (DER) under the passphrase.

    cryptography writes PKCS#8 only with its own (low) PBKDF2 count and PKCS#12 only with a
    2,048-round MAC, which would let a guess be checked cheaply; so the standard structure
    is assembled here with asn1crypto around cryptography's PBKDF2 and AES. cryptography and
    OpenSSL (``openssl pkey -inform DER``) open it as any encrypted PKCS#8 key.
    """
    if len(passphrase) < 8:
        raise WrongPassphraseError("Пароль ключа должен быть не короче 8 символов.")
    salt, iv = os.urandom(16), os.urandom(16)
    secret = PBKDF2HMAC(hashes.SHA256(), 32, salt, rounds).derive(passphrase.encode())
    padder = sym_padding.PKCS7(128).padder()
    plain = padder.update(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())) + padder.finalize()
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    return asn1_keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": {"algorithm": "pbes2", "parameters": {
            "key_derivation_func": {"algorithm": "pbkdf2", "parameters": {
                "salt": asn1_algos.Pbkdf2Salt(name="specified", value=salt),
                "iteration_count": rounds, "prf": {"algorithm": "sha256"}}},
            "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv}}},
        "encrypted_data": encryptor.update(plain) + encryptor.finalize(),
    }).dump()


def decrypt_key(blob: bytes, passphrase: str, *, owner: str) -> PrivateKey:
    """Open an encrypted private key; a wrong passphrase is a clear error, not a traceback."""
    try:
        key = serialization.load_der_private_key(blob, passphrase.encode())
    except (ValueError, TypeError):
        raise WrongPassphraseError(
            f"Неверный пароль ключа ({owner}): ничего не сделано, введите пароль ещё раз."
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CertificateNotValidError(f"Ключ ({owner}) неподдерживаемого типа.")
    return key


def import_pkcs12(data: bytes, passphrase: str) -> Credential:
    """An externally issued certificate and key (PKCS#12, .p12/.pfx)."""
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(data, passphrase.encode())
    except ValueError:
        raise WrongPassphraseError("Файл PKCS#12 не открывается: неверный пароль или файл "
                                   "повреждён.") from None
    if key is None or cert is None:
        raise CertificateNotValidError("В файле PKCS#12 нет ключа или сертификата.")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateNotValidError("Поддерживаются только ключи ECDSA.")
    return Credential(cert, key)


def check_valid(cert: x509.Certificate, at: dt.datetime,
                crl: x509.CertificateRevocationList | None = None) -> None:
    """Refuse a certificate that is not valid at the given moment, or that the school's
    revocation list names (whatever the moment: a revoked key signs nothing more)."""
    owner = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    if at < cert.not_valid_before_utc or at > cert.not_valid_after_utc:
        raise CertificateNotValidError(
            f"Сертификат {format(cert.serial_number, 'X')} ({owner}) действителен с "
            f"{cert.not_valid_before_utc:%d.%m.%Y} по {cert.not_valid_after_utc:%d.%m.%Y}; "
            f"на {at:%d.%m.%Y} им подписывать нельзя. Обратитесь к администратору за новым.")
    revoked = revocation_of(cert, crl)
    if revoked is not None:
        raise CertificateRevokedError(
            f"Сертификат {format(cert.serial_number, 'X')} ({owner}) отозван "
            f"{revoked.revoked_at:%d.%m.%Y} (причина: {revoked.reason_text}); им подписывать "
            "нельзя. Обратитесь к администратору за новым сертификатом.")


def pem(cert: x509.Certificate) -> bytes:
    """A certificate as PEM (to hand to inspectors with the archive)."""
    return cert.public_bytes(serialization.Encoding.PEM)


def sign_bytes(key: PrivateKey, data: bytes) -> bytes:
    """A detached signature of bytes with a person's key (ECDSA or RSA, SHA-256): how a
    person certifies a log line that is not a PDF."""
    from cryptography.hazmat.primitives.asymmetric import padding

    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_bytes(cert: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the certificate owner's signature of ``data``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    public = cert.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
