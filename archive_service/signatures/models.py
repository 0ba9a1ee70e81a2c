"""School PKI material, signing users, and the immutable record of every signature."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class SchoolPki(Base):
    """The school's root certificate, its TSA and its seal (печать организации).

    Private keys are PKCS#8 encrypted: the root's and the seal's under passphrases their
    holders keep, the TSA's under the server secret ``ARCHIVE_TSA_PASSPHRASE`` (timestamps
    are made without a person).
    """

    __tablename__ = "school_pki"
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    root_cert: Mapped[bytes] = mapped_column(LargeBinary)
    root_key: Mapped[bytes] = mapped_column(LargeBinary)
    tsa_cert: Mapped[bytes] = mapped_column(LargeBinary)
    tsa_key: Mapped[bytes] = mapped_column(LargeBinary)
    # None until the seal is certified: a school set up in the web gets its seal once the
    # secretary has made the seal key under her passphrase (``KeyRequest``, kind «seal»).
    seal_cert: Mapped[bytes | None] = mapped_column(LargeBinary)
    seal_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    crl: Mapped[bytes] = mapped_column(LargeBinary)  # the root's CRL (DER), put in each DSS
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SigningUser(Base):
    """A person who signs, with a certificate issued by the school root."""

    __tablename__ = "signing_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    login: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(300))
    position: Mapped[str] = mapped_column(String(300))
    cert: Mapped[bytes] = mapped_column(LargeBinary)
    key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class KeyRequest(Base):
    """A key pair its owner made under their own passphrase, waiting for the school root to
    certify it (запрос на выпуск сертификата).

    The owner sets the passphrase in the web (first login, a forgotten passphrase, a revoked
    or expired certificate); the private key is encrypted under it at once, so the person
    who issues the certificate with the root's passphrase (the administrator) never learns
    it. ``kind``: «person» (a signer; the certificate goes to their ``SigningUser``) or
    «seal» (the school seal, requested by the secretary who applies it). ``status``:
    pending -> issued | withdrawn (a newer request of the same owner replaces it).
    """

    __tablename__ = "key_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    kind: Mapped[str] = mapped_column(String(16))
    login: Mapped[str] = mapped_column(String(100), index=True)
    full_name: Mapped[str] = mapped_column(String(300))
    position: Mapped[str] = mapped_column(String(300))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # PEM
    key: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted PKCS#8 (signing.pki)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(300))
    serial: Mapped[str | None] = mapped_column(String(64))  # the certificate issued


class CertificateRevocation(Base):
    """A certificate the school revoked (append-only, immutable): the school's revocation
    list (``SchoolPki.crl``) is issued anew from these rows at every revocation."""

    __tablename__ = "certificate_revocation"
    __table_args__ = (UniqueConstraint("school_id", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    serial: Mapped[str] = mapped_column(String(64))  # hexadecimal, as on the stamps
    user_id: Mapped[int] = mapped_column(ForeignKey("signing_user.id"))
    cert_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))  # a key of signing.pki.REVOCATION_REASONS
    revoked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str] = mapped_column(String(300))


class SigningRole(Base):
    """A role of a signing user: school-wide, or for one class (class leader, teacher)."""

    __tablename__ = "signing_role"
    __table_args__ = (UniqueConstraint("user_id", "role", "class_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("signing_user.id"))
    role: Mapped[str] = mapped_column(String(32))
    class_name: Mapped[str] = mapped_column(String(20), default="")


class SignatureRecord(Base):
    """One signature put into a document (immutable): who, which step and field, when,
    the certificate, and the document's hash before and after. A renewed archival
    timestamp is one too (``ARCHIVAL_TIMESTAMP_STEP``, no user): every piece appended to a
    copy is a row here, so the copy is always the rendered file plus these pieces."""

    __tablename__ = "signature_record"
    __table_args__ = (UniqueConstraint("document_id", "field"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("rendered_document.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(100))
    # None for a renewed archival timestamp (step ``archive_timestamp``): the school's
    # time-stamping authority made it, no person.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("signing_user.id"))
    role: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cert_sha256: Mapped[str] = mapped_column(String(64))
    hash_before: Mapped[str] = mapped_column(String(64))
    hash_after: Mapped[str] = mapped_column(String(64))
    # The bytes the signing action appended (an incremental update); the records of one
    # action share it. The document = the rendered file + these pieces in sequence order.
    storage_key: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class DocumentReturn(Base):
    """A document sent back by a signer with a reason (возврат на исправление).

    The returned version stays as it is (superseded); the journal is corrected, and the new
    snapshot and its rendered documents take its place in the chain.
    """

    __tablename__ = "document_return"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("rendered_document.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("signing_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    returned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DocumentVerification(Base):
    """One verification of a document's signatures (append-only, immutable).

    Every verification is kept: it is the document's verification history (shown to
    inspectors, written by fixity runs). The document page shows the latest verification of
    the document's current bytes while it is younger than ``ARCHIVE_VERIFY_MAX_AGE_HOURS``
    instead of verifying again on every view (verifying a 21-signature copy takes ~2 s).
    """

    __tablename__ = "document_verification"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("rendered_document.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))  # the bytes verified
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str] = mapped_column(String(300))
    ok: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(Text)  # canonical JSON of signing.verify.ChainResult


class ArchivalTimestampState(Base):
    """When the last document timestamp of a sealed copy expires, as read from its bytes.

    A schedule, not archived content (so mutable, and not in fixity): written at the seal
    and at each renewal, so that the monthly renewal run finds the copies due with one query
    instead of reading and parsing every sealed copy of the region (``bench/bench_renewal.py``).
    A row describes the bytes whose hash it holds; for other bytes, or once it is a year
    old, the run reads the copy again (``signatures.renewal``).
    """

    __tablename__ = "archival_timestamp_state"
    document_id: Mapped[int] = mapped_column(ForeignKey("rendered_document.id"),
                                             primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))  # the copy's bytes it was read from
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class KeyAttempt(Base):
    """A wrong passphrase given for a signing key (``kind``: person or seal), or the right
    one after wrong ones (``ok``: it ends the count): signatures.lockout."""

    __tablename__ = "key_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    login: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)
