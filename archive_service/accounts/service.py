"""Accounts, authentication with throttling, and the principal every request acts as.

Passwords are hashed with Argon2id (argon2-cffi's defaults). Five failed logins for one
login within 15 minutes lock it for the rest of those 15 minutes, whatever the password.
An inspector has no school roles: what they may read comes from inspection grants (school,
year or every year, first and last day); after the last day the account sees nothing.
Permission checks live here and in the domain services, never in templates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

import argon2.profiles
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select

from archive_service.accounts.models import Account, AccountRole, InspectionGrant, LoginAttempt
from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import ConflictError, NotFoundError, PermissionDeniedError
from archive_service.journals.models import DEFAULT_TIME_ZONE, School
from archive_service.journals.values import given_class as norm_class_name
from archive_service.orm import aware
from signing.clock import local_time

ROLES = ("director", "deputy", "secretary", "administrator", "teacher", "class_leader",
         "inspector")
ROLE_NAMES = {"director": "директор", "deputy": "заместитель директора",
              "secretary": "секретарь", "administrator": "администратор",
              "teacher": "учитель", "class_leader": "классный руководитель",
              "inspector": "проверяющий"}
#: Failed logins in ``LOCK_WINDOW`` before a refusal: of one login from one client address
#: (that address is refused for it: someone guessing at one desk does not lock the owner
#: out at another), of one login from every address (guessing spread over many
#: addresses), and of one address whatever the logins (one address can neither spray
#: passwords nor lock every account). A school behind one NAT address stays far below it.
MAX_FAILURES = 5
MAX_LOGIN_FAILURES = 20
MAX_ADDRESS_FAILURES = 50
LOCK_WINDOW = dt.timedelta(minutes=15)
#: Argon2id for passwords with RFC 9106's second recommended option (t=3, 64 MiB, p=4;
#: argon2-cffi's default). A hash carries its parameters, so a later change of them still
#: verifies the hashes made before.
PASSWORD_PARAMETERS = argon2.profiles.RFC_9106_LOW_MEMORY
_hasher = PasswordHasher.from_parameters(PASSWORD_PARAMETERS)


@cache
def _dummy_hash() -> str:
    """Checked against for a login nobody has, so that the answer takes the time of a real
    check (the login's existence does not show in the timing). Made at the first such login,
    not at import: a CLI listing that imports this module spends no Argon2 time."""
    return _hasher.hash("no such account: a check that takes the usual time")


@dataclass(frozen=True)
class Grant:
    """An inspector's read access."""

    school_id: int
    year: str
    starts: dt.date
    ends: dt.date


@dataclass(frozen=True)
class Principal:
    """The logged-in person as the services see them."""

    account_id: int
    login: str
    full_name: str
    school_id: int | None
    roles: frozenset[tuple[str, str]]
    grants: tuple[Grant, ...] = field(default=())
    school_code: str | None = None  # the school's code and name (None without a school)
    school_name: str | None = None
    #: Logged in with the administrator's one-time code: only the page where the owner sets
    #: their own password (and key passphrase) is open until then.
    must_setup: bool = False
    session_version: int = 0  # see Account.session_version
    #: The school's time zone (``School.time_zone``): pages show moments in it.
    time_zone: str = DEFAULT_TIME_ZONE

    @property
    def actor(self) -> Actor:
        """For audit entries: the name and the main role."""
        main = next((r for r in ROLES if any(role == r for role, _c in self.roles)), "user")
        return Actor(f"{self.full_name} ({self.login})", main)

    def has(self, *roles: str) -> bool:
        """Whether the person holds any of these roles (in any class)."""
        return any(role in roles for role, _c in self.roles)

    @property
    def is_inspector(self) -> bool:
        return self.has("inspector")

    def may_read_school(self, school_id: int, year: str | None = None,
                        today: dt.date | None = None) -> bool:
        """Staff read their own school; an inspector what a current grant covers."""
        if not self.is_inspector:
            return self.school_id == school_id
        today = today or dt.date.today()
        return any(g.school_id == school_id and g.starts <= today <= g.ends
                   and (not g.year or year is None or g.year == year) for g in self.grants)

    def require(self, *roles: str) -> None:
        """Refuse unless the person holds one of the roles (inspectors never write)."""
        if self.is_inspector or not self.has(*roles):
            names = ", ".join(ROLE_NAMES[r] for r in roles)
            raise PermissionDeniedError(f"Действие доступно только ролям: {names}.")


def hash_password(password: str) -> str:
    """An Argon2id hash; refuses short passwords."""
    if len(password) < 10:
        raise ConflictError("Пароль должен быть не короче 10 символов.")
    return _hasher.hash(password)


def verify_password(digest: str, password: str) -> bool:
    """Whether ``password`` matches the Argon2 ``digest`` (False for a malformed digest)."""
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def create_account(archive: Archive, *, school_code: str | None, login: str, full_name: str,
                   password: str, roles: list[tuple[str, str]], actor: Actor,
                   now: dt.datetime | None = None, school_name: str | None = None) -> int:
    """A named account with roles in its school (an inspector's school comes from grants).

    ``school_name``: when the school is not in the archive yet, it is created with this
    name (a new school's first administrator, before its first import, which then keeps
    the code and writes the name from the e-journal).
    """
    from archive_service.journals.lookup import find_school

    now = now or dt.datetime.now(dt.UTC)
    for role, cls in roles:
        if role not in ROLES:
            raise ConflictError(f"Неизвестная роль «{role}»: допустимы {', '.join(ROLES)}.")
        if role == "class_leader" and not cls:
            raise ConflictError("Для роли class_leader укажите класс: class_leader:7А.")
    digest = hash_password(password)
    with archive.unit_of_work() as uow:
        s = uow.session
        if s.scalars(select(Account).filter_by(login=login)).first():
            raise ConflictError(f"Учётная запись «{login}» уже есть.")
        inspector = any(r == "inspector" for r, _c in roles)
        school = None
        if not inspector and school_name and school_code and s.scalars(
                select(School).filter_by(code=school_code)).first() is None:
            school = School(code=school_code, name=" ".join(school_name.split()), settings={})
            s.add(school)
            s.flush()
            uow.audit(actor, "school.create", "school", school_code, chain=school.id,
                      details={"name": school.name})
        school = school or (None if inspector else find_school(s, school_code))
        account = Account(login=login, full_name=full_name,
                          school_id=school.id if school else None, password_hash=digest,
                          active=True, created_at=now)
        s.add(account)
        s.flush()
        for role, cls in roles:
            s.add(AccountRole(account_id=account.id, role=role,
                              class_name=norm_class_name(cls) if cls else ""))
        uow.audit(actor, "account.create", "account", login,
                  chain=school.id if school else 0,
                  details={"name": full_name, "roles": [f"{r}:{c}" if c else r
                                                        for r, c in roles]})
        return account.id


def grant_inspection(archive: Archive, *, login: str, school_code: str, year: str,
                     starts: dt.date, ends: dt.date, basis: str, actor: Actor) -> None:
    """Give an inspector read access to a school (a year, or every year if "") for a time."""
    from archive_service.journals.lookup import find_school

    if ends < starts:
        raise ConflictError("Дата окончания проверки раньше даты начала.")
    if not basis.strip():
        raise ConflictError("Укажите основание проверки (приказ, письмо, номер и дата).")
    with archive.unit_of_work() as uow:
        s = uow.session
        account = _account(s, login)
        if not s.scalars(select(AccountRole).filter_by(account_id=account.id,
                                                       role="inspector")).first():
            raise ConflictError(f"«{login}» — не учётная запись проверяющего.")
        school = find_school(s, school_code)
        s.add(InspectionGrant(account_id=account.id, school_id=school.id, year=year,
                              starts=starts, ends=ends, basis=basis.strip()))
        uow.audit(actor, "inspection.grant", "account", login, chain=school.id,
                  details={"year": year or "все", "starts": starts.isoformat(),
                           "ends": ends.isoformat(), "basis": basis.strip()})


def _account(s, login: str) -> Account:
    account = s.scalars(select(Account).filter_by(login=login)).one_or_none()
    if account is None:
        raise NotFoundError(f"Учётная запись «{login}» не найдена.")
    return account


#: The principal's queries, built once since they run on every request. Roles are joined;
#: an inspector's grants come in a second query, run only for an inspector.
_PRINCIPAL = (select(Account.id, Account.full_name, Account.school_id, School.code, School.name,
                     Account.password_set, Account.session_version, School.settings,
                     AccountRole.role, AccountRole.class_name)
              .outerjoin(School, School.id == Account.school_id)
              .outerjoin(AccountRole, AccountRole.account_id == Account.id)
              .where(Account.login == bindparam("login"), Account.active.is_(True)))
_GRANTS = (select(InspectionGrant.school_id, InspectionGrant.year, InspectionGrant.starts,
                  InspectionGrant.ends)
           .where(InspectionGrant.account_id == bindparam("account_id")))


def principal(archive: Archive, login: str) -> Principal | None:
    """The active account's principal, or None (read on every request, on a plain
    connection without a transaction: no ORM objects are made)."""
    with archive.read_engine.connect() as conn:
        found = conn.execute(_PRINCIPAL, {"login": login}).all()
        if not found:
            return None
        account_id, full_name, school_id, code, name, password_set, version, settings = \
            found[0][:8]
        roles = frozenset((r.role, r.class_name) for r in found if r.role is not None)
        grants = tuple(Grant(*g) for g in conn.execute(_GRANTS, {"account_id": account_id})
                       ) if any(role == "inspector" for role, _c in roles) else ()
        zone = (settings or {}).get("time_zone") or DEFAULT_TIME_ZONE
        return Principal(account_id, login, full_name, school_id, roles, grants, code, name,
                         not password_set, version, zone)


def end_sessions(archive: Archive, login: str) -> int:
    """End every session of the account (logout: a copied cookie dies too); returns the
    new session version."""
    with archive.unit_of_work() as uow:
        account = uow.session.scalars(select(Account).filter_by(login=login)).one_or_none()
        if account is None:
            return 0
        account.session_version = (account.session_version or 0) + 1
        return account.session_version



def authenticate(archive: Archive, login: str, password: str, *, remote: str,
                 now: dt.datetime | None = None) -> Principal:
    """Check the password; throttles repeated failures; every attempt is recorded."""
    now = now or dt.datetime.now(dt.UTC)
    refused = PermissionDeniedError("Неверный логин или пароль.")
    with archive.unit_of_work() as uow:
        s = uow.session
        since = now - LOCK_WINDOW
        failed = select(func.count(LoginAttempt.id)).where(LoginAttempt.ok.is_(False),
                                                             LoginAttempt.at >= since)
        here = s.scalar(failed.where(LoginAttempt.login == login,
                                     LoginAttempt.remote == remote)) or 0
        anywhere = s.scalar(failed.where(LoginAttempt.login == login)) or 0
        if here >= MAX_FAILURES or anywhere >= MAX_LOGIN_FAILURES:
            last = s.scalar(select(func.max(LoginAttempt.at)).where(
                LoginAttempt.login == login, LoginAttempt.ok.is_(False)))
            # In the default zone, not the account's school's: the answer must not tell an
            # existing login from an unknown one.
            until = local_time(aware(last) + LOCK_WINDOW, DEFAULT_TIME_ZONE)
            raise PermissionDeniedError(
                f"Слишком много неудачных попыток входа: вход для «{login}» закрыт до "
                f"{until}. Обратитесь к администратору, если забыли пароль.")
        from_address = s.scalar(failed.where(LoginAttempt.remote == remote)) or 0
        if from_address >= MAX_ADDRESS_FAILURES:
            raise PermissionDeniedError(
                "Слишком много неудачных попыток входа с этого компьютера: вход с него закрыт "
                f"на {LOCK_WINDOW.seconds // 60} минут.")
        account = s.scalars(select(Account).filter_by(login=login, active=True)).one_or_none()
        ok = verify_password(account.password_hash if account else _dummy_hash(), password) \
            and account is not None
        expired = ok and not account.password_set and account.setup_expires is not None and \
            aware(account.setup_expires) < now
        s.add(LoginAttempt(login=login, remote=remote, at=now, ok=ok and not expired))
    if expired:
        raise PermissionDeniedError(
            f"Одноразовый код для первого входа «{login}» истёк "
            f"{aware(account.setup_expires).astimezone():%d.%m.%Y}: попросите администратора "
            "выдать новый код.")
    if not ok:
        raise refused
    found = principal(archive, login)
    assert found is not None
    return found
