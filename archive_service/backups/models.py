"""Backup keys, the backups made, and the backup usage log (журнал пользования резервными
копиями)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class BackupKeyring(Base):
    """The archive's backup keys; exactly one row is ``active``.

    Public halves only, except: ``director_locked`` (the director's private keys, the
    current and the retired ones, under the director's code: the server cannot open it) and
    ``signing_private`` (the Ed25519 manifest key: scheduled backups sign without a person,
    like the school TSA signs timestamps). ``signing_private`` never goes into a backup: the
    backup's database image carries it blank (``dump.REDACTED``), so a restored archive
    makes a new one at its first key change. The escrow private key is never stored: it is
    printed once and kept in the safe. ``dedup_secret`` is retired (issue 30: it opened every
    object); migration 0020 blanked it.

    A code change or a new escrow key adds a row and retires the old one in one transaction,
    after the new lock was opened with the new code: an interrupted change leaves the old
    row active and the old code working. Every change makes a new director key pair.
    """

    __tablename__ = "backup_keyring"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean)
    director_public: Mapped[str] = mapped_column(String(64))
    director_locked: Mapped[str] = mapped_column(Text)  # JSON from HolderKey.lock
    escrow_public: Mapped[str] = mapped_column(String(64))
    signing_public: Mapped[str] = mapped_column(String(64))
    signing_private: Mapped[str] = mapped_column(String(64))
    dedup_secret: Mapped[str] = mapped_column(String(64))


class BackupObject(Base):
    """One object written to a backup medium (``data/ab/<random name>``), with its key in
    the only form the server keeps: wrapped for the director's and the escrow public keys
    of the keyring it was made with. A later backup to a medium that still holds the object
    lists it again (deduplication) with the same wrapped key; after a key change, objects
    are written anew for the new keys (old secrets open nothing made later)."""

    __tablename__ = "backup_object"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the plaintext
    keyring_id: Mapped[int] = mapped_column(ForeignKey("backup_keyring.id"))
    size: Mapped[int] = mapped_column(Integer)  # sealed bytes on the medium
    sealed_sha256: Mapped[str] = mapped_column(String(64))
    plain_size: Mapped[int] = mapped_column(Integer)
    zstd: Mapped[bool] = mapped_column(Boolean)
    erasable: Mapped[bool] = mapped_column(Boolean)  # its key has an erasure share
    wrap: Mapped[str] = mapped_column(Text)  # JSON from crypto.ObjectWrapper.wrap
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class BackupObjectShare(Base):
    """The erasure share of an object's key: never in a backup's database image
    (``dump.NOT_IN_BACKUPS``), written to each medium as a signed, short-locked erasure file
    (``keys/erasure-<backup>.json``) and deleted when an act destroys the object's file, so
    that no backup, earlier or later, opens it again."""

    __tablename__ = "backup_object_share"
    name: Mapped[str] = mapped_column(ForeignKey("backup_object.name"), primary_key=True)
    share: Mapped[str] = mapped_column(String(64))


class Backup(Base):
    """A complete backup (recorded only after its signed manifest was written)."""

    __tablename__ = "backup"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    target: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(300))
    retain_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    files: Mapped[int] = mapped_column(Integer)
    bytes_total: Mapped[int] = mapped_column(Integer)
    bytes_written: Mapped[int] = mapped_column(Integer)
    manifest_sha256: Mapped[str] = mapped_column(String(64))


class BackupEvent(Base):
    """One line of the backup usage log (immutable): creation, copy to a medium, handover,
    verification, access, restore, key change; with who is responsible for it."""

    __tablename__ = "backup_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    backup_id: Mapped[str] = mapped_column(String(40))  # "" for key changes
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(32))
    medium: Mapped[str] = mapped_column(String(300), default="")
    handed_by: Mapped[str] = mapped_column(String(300), default="")
    received_by: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    details: Mapped[str] = mapped_column(Text, default="{}")


class BackupEventCertificate(Base):
    """A person's signature certifying one line of the backup usage log (immutable).

    Seed 000/004: the secretary keeps the log, the administrator certifies each transfer.
    The signature (ECDSA or RSA with the person's key from the school PKI) covers the line's
    canonical text (``service.event_text``), so a changed line no longer verifies.
    """

    __tablename__ = "backup_event_certificate"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("backup_event.id"), index=True)
    login: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(300))
    cert_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)  # base64
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
