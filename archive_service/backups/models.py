"""Backup keys, the backups made, and the backup usage log (журнал пользования резервными
копиями)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class BackupKeyring(Base):
    """The archive's backup keys; exactly one row is ``active``.

    Public halves only, except: ``director_locked`` (the director's private key under the
    director's code: the server cannot open it), ``signing_private`` (the Ed25519 manifest
    key: scheduled backups sign without a person, like the school TSA signs timestamps) and
    ``dedup_secret`` (keys the names and per-object keys of stored objects). The escrow
    private key is never stored: it is printed once and kept in the safe.

    A code change or a new escrow key adds a row and retires the old one in one transaction,
    after the new lock was opened with the new code: an interrupted change leaves the old
    row active and the old code working.
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
