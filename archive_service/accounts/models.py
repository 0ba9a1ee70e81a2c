"""Accounts (argon2 password hashes), their roles, inspection grants, login attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from archive_service.orm import Base


class Account(Base):
    """A person who logs in. A signer's account shares its login with their signing user."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(300))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: The position printed in the person's signing certificate («учитель математики»).
    position: Mapped[str | None] = mapped_column(String(300))
    #: False while the account opens only with the one-time code the administrator handed
    #: over (``password_hash`` is that code's hash): the owner sets their own password first.
    password_set: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: When the one-time code stops opening the account (None once the password is set).
    setup_expires: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Raised when the account's sessions must end (logout, a new password or one-time code):
    #: a session cookie carries the version it was opened with (web.load_principal).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AccountRole(Base):
    """A role of an account in its school; ``class_name`` "" unless the role is per class."""

    __tablename__ = "account_role"
    __table_args__ = (UniqueConstraint("account_id", "role", "class_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    role: Mapped[str] = mapped_column(String(32))
    class_name: Mapped[str] = mapped_column(String(16), default="")


class InspectionGrant(Base):
    """Read-only access of an inspector to one school (one year or all) for a time."""

    __tablename__ = "inspection_grant"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    year: Mapped[str] = mapped_column(String(9), default="")  # "" = every year
    starts: Mapped[dt.date] = mapped_column(Date)
    ends: Mapped[dt.date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(300))  # the order or letter of the inspection


class LoginAttempt(Base):
    """A login attempt, kept for throttling and for the audit of access."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), index=True)
    remote: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)
