"""People of a school: one record per person (login, roles, classes, signing certificate).

The administrator adds a person and hands them a one-time code on paper (or reads it out);
the code opens the account once, for seven days, and only to the page where the owner sets
their own password and, if they sign, the passphrase of their signing key (seed 001, XII:
credentials are personal; the administrator never learns them). The key is made then and
waits for its certificate (``signatures.enrolment``), which the administrator issues with
the school root's passphrase. A forgotten password gets a new one-time code; a forgotten
key passphrase a new key and certificate (the old one is revoked as superseded).

Roles: director, deputy, secretary, administrator, teacher (the school), class_leader (one
class). Inspectors are not people of a school: their accounts and grants are made with
``archive account add|grant``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import func, select

from archive_service.accounts.models import Account, AccountRole
from archive_service.accounts.service import (
    ROLE_NAMES,
    Principal,
    hash_password,
    verify_password,
)
from archive_service.db import Archive
from archive_service.errors import ConflictError, NotFoundError, PermissionDeniedError
from archive_service.journals.models import AcademicYear, SchoolClass, Staff, StaffRole
from archive_service.journals.values import given_class as norm_class_name
from archive_service.signatures import enrolment
from archive_service.signatures.models import (
    CertificateRevocation,
    KeyRequest,
    SchoolPki,
    SigningUser,
)
from signing import pki

#: The roles an administrator gives in the web (inspectors: ``archive account``).
SCHOOL_ROLES = ("director", "deputy", "secretary", "administrator", "teacher", "class_leader")
SETUP_DAYS = 7
#: One-time codes: no letters that read alike (0/O, 1/I/L), four groups of four.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_TEXT = 300


_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n",
                      "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y",
                      "", "e", "iu", "ia"], strict=True))


def login_for(full_name: str) -> str:
    """A login from a Russian name: the surname and initials, transliterated (ivanova.an)."""
    parts = full_name.lower().split()
    surname = "".join(_TRANSLIT.get(ch, ch) for ch in parts[0])
    initials = "".join(_TRANSLIT.get(p[0], p[0])[0] for p in parts[1:3])
    return f"{surname}.{initials}" if initials else surname


def one_time_code() -> str:
    """A code for the first login, e.g. «K7QM-3XPA-9RTE-W2HC» (≈ 79 bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class Certificate:
    """A person's signing certificate as their record shows it."""

    serial: str
    valid_to: dt.datetime
    revoked: str | None  # the reason, if revoked

    @property
    def usable(self) -> bool:
        return self.revoked is None and self.valid_to > dt.datetime.now(dt.UTC)

    @property
    def state(self) -> str:
        if self.revoked:
            return f"отозван ({self.revoked})"
        if self.valid_to <= dt.datetime.now(dt.UTC):
            return f"истёк {self.valid_to:%d.%m.%Y}"
        return f"действует до {self.valid_to:%d.%m.%Y}"


@dataclass(frozen=True)
class Person:
    """One person of the school as the page «Сотрудники» lists them."""

    login: str
    full_name: str
    position: str
    roles: tuple[tuple[str, str], ...]
    active: bool
    password_set: bool
    setup_expires: dt.datetime | None
    certificate: Certificate | None
    pending: tuple[str, ...]  # kinds of key requested and not yet certified

    @property
    def signs(self) -> bool:
        return any(role in enrolment.SIGNING_ROLES for role, _c in self.roles)

    @property
    def roles_text(self) -> str:
        return ", ".join(ROLE_NAMES[r] + (f" {c}" if c else "") for r, c in self.roles)

    @property
    def needs_key(self) -> bool:
        """Signs, has no usable certificate and has not asked for one."""
        return self.signs and "person" not in self.pending and not (
            self.certificate and self.certificate.usable)


def require_administrator(who: Principal) -> int:
    """The administrator's school id (refused for everyone else)."""
    who.require("administrator")
    if who.school_id is None:
        raise PermissionDeniedError("Учётная запись администратора не привязана к школе.")
    return who.school_id


def _text(value: str, name: str, *, required: bool = True) -> str:
    value = " ".join(value.split())
    if "\x00" in value:
        raise ConflictError(f"Поле «{name}» содержит недопустимый символ.")
    if required and not value:
        raise ConflictError(f"Заполните поле «{name}».")
    if len(value) > MAX_TEXT:
        raise ConflictError(f"Поле «{name}» длиннее {MAX_TEXT} символов.")
    return value


def _check_roles(s, school_id: int, roles: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The roles normalised; a class leader's class must exist in the school."""
    out = []
    for role, cls in roles:
        if role not in SCHOOL_ROLES:
            raise ConflictError(f"Роль «{role}» здесь не выдаётся: допустимы "
                                + ", ".join(ROLE_NAMES[r] for r in SCHOOL_ROLES) + ".")
        if role == "class_leader":
            name = norm_class_name(cls) if cls.strip() else ""
            if not name:
                raise ConflictError("Для роли «классный руководитель» выберите класс.")
            known = s.scalar(select(func.count()).select_from(SchoolClass)
                             .join(AcademicYear, AcademicYear.id == SchoolClass.academic_year_id)
                             .where(AcademicYear.school_id == school_id,
                                    SchoolClass.name == name))
            if not known:
                raise ConflictError(f"Класса {name} в журнале школы нет: сначала загрузите "
                                    "журнал этого класса.")
            out.append((role, name))
        else:
            out.append((role, ""))
    if not out:
        raise ConflictError("Выберите хотя бы одну роль.")
    return sorted(set(out))


def add_person(archive: Archive, who: Principal, *, login: str, full_name: str, position: str,
               roles: list[tuple[str, str]], now: dt.datetime | None = None) -> str:
    """Add a person to the administrator's school; returns the one-time code to hand over
    (shown once, stored only as its hash)."""
    school_id = require_administrator(who)
    now = now or dt.datetime.now(dt.UTC)
    login = _text(login, "логин").lower()
    if not all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in login) or len(login) > 100:
        raise ConflictError("Логин: латинские буквы, цифры и знаки . _ - (до 100 символов), "
                            "например ivanova.an.")
    full_name = _text(full_name, "ФИО")
    position = _text(position, "должность")
    code = one_time_code()
    with archive.unit_of_work() as uow:
        s = uow.session
        checked = _check_roles(s, school_id, roles)
        if s.scalars(select(Account.id).filter_by(login=login)).first() is not None or \
                s.scalars(select(SigningUser.id).filter_by(login=login)).first() is not None:
            raise ConflictError(f"Логин «{login}» уже занят: выберите другой.")
        account = Account(login=login, full_name=full_name, school_id=school_id,
                          password_hash=hash_password(code), active=True, created_at=now,
                          position=position, password_set=False,
                          setup_expires=now + dt.timedelta(days=SETUP_DAYS))
        s.add(account)
        s.flush()
        for role, cls in checked:
            s.add(AccountRole(account_id=account.id, role=role, class_name=cls))
        uow.audit(who.actor, "account.create", "account", login, chain=school_id,
                  details={"name": full_name, "position": position,
                           "roles": [f"{r}:{c}" if c else r for r, c in checked],
                           "first_login": f"одноразовый код до {SETUP_DAYS} дней"})
    return code


def _own(s, who: Principal, login: str) -> Account:
    """An account of the administrator's school (another school's does not exist here)."""
    account = s.scalars(select(Account).filter_by(login=login)).one_or_none()
    if account is None or account.school_id != who.school_id:
        raise NotFoundError(f"Сотрудника с логином «{login}» нет.")
    return account


def new_code(archive: Archive, who: Principal, *, login: str,
             now: dt.datetime | None = None) -> str:
    """A new one-time code for a person who forgot their password (or whose code expired);
    their password stops working at once. The key and certificate are not touched."""
    require_administrator(who)
    now = now or dt.datetime.now(dt.UTC)
    code = one_time_code()
    with archive.unit_of_work() as uow:
        account = _own(uow.session, who, login)
        if account.login == who.login:
            raise ConflictError("Свой пароль меняют на странице «Моя учётная запись».")
        account.password_hash, account.password_set = hash_password(code), False
        account.setup_expires = now + dt.timedelta(days=SETUP_DAYS)
        account.session_version = (account.session_version or 0) + 1  # old sessions end
        uow.audit(who.actor, "account.code", "account", login, chain=who.school_id,
                  details={"until": account.setup_expires.isoformat(timespec="minutes")})
    return code


def set_active(archive: Archive, who: Principal, *, login: str, active: bool) -> None:
    """Deactivate (or again activate) a person's account: a deactivated account logs in no
    more. Its certificate is revoked separately (the root's passphrase is needed)."""
    require_administrator(who)
    with archive.unit_of_work() as uow:
        account = _own(uow.session, who, login)
        if account.login == who.login and not active:
            raise ConflictError("Свою учётную запись отключить нельзя.")
        if account.active == active:
            return
        account.active = active
        uow.audit(who.actor, "account.activate" if active else "account.deactivate",
                  "account", login, chain=who.school_id)


def _certificate(s, user: SigningUser | None) -> Certificate | None:
    if user is None:
        return None
    cert = x509.load_pem_x509_certificate(user.cert)
    serial = format(cert.serial_number, "X")
    revoked = s.scalars(select(CertificateRevocation.reason).filter_by(
        school_id=user.school_id, serial=serial)).first()
    return Certificate(serial, cert.not_valid_after_utc,
                       pki.REVOCATION_REASONS[revoked][1] if revoked else None)


def people(archive: Archive, who: Principal, *, query: str = "") -> list[Person]:
    """The administrator's school's people, by name; ``query`` finds by name, login,
    position or role (any case)."""
    school_id = require_administrator(who)
    needle = " ".join(query.split()).casefold()
    with archive.sessions() as s:
        accounts = list(s.scalars(select(Account).filter_by(school_id=school_id)
                                  .order_by(Account.full_name)))
        roles: dict[int, list[tuple[str, str]]] = {}
        for r in s.scalars(select(AccountRole).where(
                AccountRole.account_id.in_([a.id for a in accounts]))):
            roles.setdefault(r.account_id, []).append((r.role, r.class_name))
        users = {u.login: u for u in s.scalars(select(SigningUser).filter_by(
            school_id=school_id))}
        pending: dict[str, list[str]] = {}
        for login, kind in s.execute(select(KeyRequest.login, KeyRequest.kind).filter_by(
                school_id=school_id, status="pending")):
            pending.setdefault(login, []).append(kind)
        out = []
        for a in accounts:
            person = Person(a.login, a.full_name, a.position or _staff_position(s, a) or "",
                            tuple(sorted(roles.get(a.id, []))), a.active, a.password_set,
                            a.setup_expires, _certificate(s, users.get(a.login)),
                            tuple(sorted(pending.get(a.login, []))))
            text = " ".join([person.login, person.full_name, person.position,
                             person.roles_text]).casefold()
            if needle in text:
                out.append(person)
        return out


def _staff_position(s, account: Account) -> str | None:
    from archive_service.journals.values import name_key

    return s.scalars(select(Staff.position).filter_by(
        school_id=account.school_id, name_key=name_key(account.full_name))).first()


@dataclass(frozen=True)
class StaffMember:
    """A member of staff known from the imported journal who has no account yet."""

    full_name: str
    position: str
    roles: tuple[tuple[str, str], ...]


def staff_without_account(archive: Archive, who: Principal) -> list[StaffMember]:
    """Staff of the imported journal without an account (to add them in one click: the
    name must be the journal's, since a teacher signs the fields bearing their name)."""
    school_id = require_administrator(who)
    with archive.sessions() as s:
        names = {n.casefold() for n in s.scalars(select(Account.full_name).filter_by(
            school_id=school_id))}
        members: dict[int, StaffMember] = {}
        found = s.execute(select(Staff.id, Staff.full_name, Staff.position, StaffRole.role,
                                 SchoolClass.name)
                          .outerjoin(StaffRole, StaffRole.staff_id == Staff.id)
                          .outerjoin(SchoolClass, SchoolClass.id == StaffRole.school_class_id)
                          .where(Staff.school_id == school_id)
                          .order_by(Staff.full_name)).all()
        grouped: dict[int, tuple[str, str, set[tuple[str, str]]]] = {}
        for sid, name, position, role, cls in found:
            entry = grouped.setdefault(sid, (name, position or "", set()))
            if role in SCHOOL_ROLES:
                entry[2].add((role, cls or "") if role == "class_leader" else (role, ""))
        for sid, (name, position, rs) in grouped.items():
            if name.casefold() not in names:
                members[sid] = StaffMember(name, position, tuple(sorted(rs)))
        return sorted(members.values(), key=lambda m: m.full_name)


def class_names(archive: Archive, school_id: int) -> list[str]:
    """The school's class names (every year), for the class leader's choice."""
    with archive.sessions() as s:
        names = set(s.scalars(select(SchoolClass.name).join(
            AcademicYear, AcademicYear.id == SchoolClass.academic_year_id).where(
            AcademicYear.school_id == school_id)))
    return sorted(names, key=lambda n: (int("".join(ch for ch in n if "0" <= ch <= "9") or 0), n))


# --- the owner's own account -----------------------------------------------------------------

@dataclass(frozen=True)
class OwnAccount:
    """What «Моя учётная запись» shows."""

    login: str
    full_name: str
    position: str
    roles_text: str
    password_set: bool
    signs: bool
    certificate: Certificate | None
    pending: tuple[str, ...]
    seal_holder: bool  # a secretary: the seal is hers to set up and apply
    seal: str  # «нет», «ожидает выпуска», «выпущен»

    @property
    def needs_key(self) -> bool:
        return self.signs and "person" not in self.pending and not (
            self.certificate and self.certificate.usable)

    @property
    def needs_seal(self) -> bool:
        return self.seal_holder and self.seal == "нет"


def own_account(archive: Archive, who: Principal) -> OwnAccount:
    """The logged-in person's account, certificate and key requests."""
    if who.school_id is None:
        raise NotFoundError("Учётная запись не привязана к школе.")
    with archive.sessions() as s:
        account = s.scalars(select(Account).filter_by(login=who.login)).one()
        user = s.scalars(select(SigningUser).filter_by(login=who.login)).one_or_none()
        pending = tuple(sorted(enrolment.pending_for(s, who.login)))
        row = s.get(SchoolPki, who.school_id)
        seal_pending = s.scalars(select(KeyRequest.id).filter_by(
            school_id=who.school_id, kind="seal", status="pending")).first() is not None
        seal = "выпущен" if row is not None and row.seal_cert is not None else (
            "ожидает выпуска" if seal_pending else "нет")
        roles = tuple(sorted(who.roles))
        return OwnAccount(
            who.login, account.full_name, account.position or _staff_position(s, account) or "",
            ", ".join(ROLE_NAMES[r] + (f" {c}" if c else "") for r, c in roles),
            account.password_set, any(r in enrolment.SIGNING_ROLES for r, _c in roles),
            _certificate(s, user), pending, who.has("secretary"), seal)


def _check_new_password(password: str, repeat: str) -> None:
    if password != repeat:
        raise ConflictError("Пароли не совпадают: введите новый пароль дважды одинаково.")


def _check_passphrase(passphrase: str, repeat: str, password: str, what: str) -> None:
    if passphrase != repeat:
        raise ConflictError(f"Пароли {what} не совпадают: введите их дважды одинаково.")
    if len(passphrase) < 8:
        raise ConflictError(f"Пароль {what} должен быть не короче 8 символов.")
    if passphrase == password:
        raise ConflictError(f"Пароль {what} не должен совпадать с паролем входа: иначе тот, "
                            "кто узнал пароль входа, сможет подписывать за вас.")


def complete_setup(archive: Archive, who: Principal, *, password: str, repeat: str,
                   key_passphrase: str = "", key_repeat: str = "", seal_passphrase: str = "",
                   seal_repeat: str = "", now: dt.datetime | None = None,
                   rounds: int = pki.KDF_ROUNDS) -> list[str]:
    """The first login: the owner's password and, if they sign, their signing key (and the
    secretary's seal key when the school has none), in one unit of work. Returns what was
    done, for the page."""
    now = now or dt.datetime.now(dt.UTC)
    mine = own_account(archive, who)
    if mine.password_set:
        raise ConflictError("Пароль уже задан; сменить его можно на странице «Моя учётная "
                            "запись».")
    _check_new_password(password, repeat)
    digest = hash_password(password)
    if mine.needs_key:
        _check_passphrase(key_passphrase, key_repeat, password, "ключа подписи")
    if mine.needs_seal:
        _check_passphrase(seal_passphrase, seal_repeat, password, "ключа печати")
        if seal_passphrase == key_passphrase:
            raise ConflictError("Пароль ключа печати школы должен отличаться от пароля вашего "
                                "личного ключа подписи.")
    done = ["Пароль входа задан."]
    with archive.unit_of_work() as uow:
        s = uow.session
        account = s.scalars(select(Account).filter_by(login=who.login)
                            .with_for_update()).one()
        if account.password_set:
            raise ConflictError("Пароль уже задан.")
        account.password_hash, account.password_set, account.setup_expires = digest, True, None
        if mine.needs_key:
            enrolment.add_request(s, school_id=who.school_id, kind="person", login=who.login,
                                  full_name=mine.full_name, position=mine.position or
                                  "сотрудник", passphrase=key_passphrase, now=now,
                                  rounds=rounds)
            done.append("Ключ подписи создан; сертификат выпустит администратор.")
        if mine.needs_seal:
            enrolment.add_request(s, school_id=who.school_id, kind="seal", login=who.login,
                                  full_name=mine.full_name, position="Печать организации",
                                  passphrase=seal_passphrase, now=now, rounds=rounds)
            done.append("Ключ печати школы создан; сертификат выпустит администратор.")
        uow.audit(who.actor, "account.setup", "account", who.login, chain=who.school_id,
                  details={"key": mine.needs_key, "seal": mine.needs_seal})
    return done


def change_password(archive: Archive, who: Principal, *, current: str, password: str,
                    repeat: str) -> int:
    """The owner changes their password (the current one is checked); every other session
    of the account ends. Returns the new session version (for the session that changed
    it)."""
    _check_new_password(password, repeat)
    digest = hash_password(password)
    with archive.unit_of_work() as uow:
        account = uow.session.scalars(select(Account).filter_by(login=who.login)).one()
        if not verify_password(account.password_hash, current):
            raise ConflictError("Текущий пароль введён неверно: пароль не изменён.")
        account.password_hash = digest
        account.session_version = (account.session_version or 0) + 1
        uow.audit(who.actor, "account.password", "account", who.login,
                  chain=who.school_id or 0)
        return account.session_version


def request_key(archive: Archive, who: Principal, *, kind: str, password: str,
                passphrase: str, repeat: str, now: dt.datetime | None = None,
                rounds: int = pki.KDF_ROUNDS) -> None:
    """A new key under a new passphrase (a forgotten passphrase, a revoked or expired
    certificate, the seal not yet made): the login password confirms it is the owner."""
    now = now or dt.datetime.now(dt.UTC)
    mine = own_account(archive, who)
    if kind == "person" and not mine.signs:
        raise PermissionDeniedError("У вас нет роли, которая подписывает документы.")
    if kind == "seal" and not mine.seal_holder:
        raise PermissionDeniedError("Ключ печати школы задаёт секретарь.")
    _check_passphrase(passphrase, repeat, password,
                      "ключа подписи" if kind == "person" else "ключа печати")
    with archive.unit_of_work() as uow:
        s = uow.session
        account = s.scalars(select(Account).filter_by(login=who.login)).one()
        if not verify_password(account.password_hash, password):
            raise ConflictError("Пароль входа введён неверно: новый ключ не создан.")
        enrolment.add_request(s, school_id=who.school_id, kind=kind, login=who.login,
                              full_name=mine.full_name,
                              position=(mine.position or "сотрудник") if kind == "person"
                              else "Печать организации", passphrase=passphrase, now=now,
                              rounds=rounds)
        uow.audit(who.actor, "key.request", "user", who.login, chain=who.school_id,
                  details={"kind": kind})


def change_key_passphrase(archive: Archive, who: Principal, *, kind: str, current: str,
                          passphrase: str, repeat: str) -> None:
    """The owner re-encrypts their key (or, the secretary, the seal's) under a new
    passphrase; the certificate stays."""
    if kind == "seal" and not who.has("secretary"):
        raise PermissionDeniedError("Пароль ключа печати меняет секретарь.")
    if passphrase != repeat:
        raise ConflictError("Новые пароли не совпадают: введите их дважды одинаково.")
    if len(passphrase) < 8:
        raise ConflictError("Пароль ключа должен быть не короче 8 символов.")
    enrolment.change_key_passphrase(archive, login=who.login, kind=kind,
                                    school_id=who.school_id, current=current, new=passphrase,
                                    actor=who.actor)


def issue_certificates(archive: Archive, who: Principal, *, ca_passphrase: str,
                       now: dt.datetime | None = None) -> list[enrolment.Issued]:
    """The administrator certifies every pending key request of the school."""
    school_id = require_administrator(who)
    with archive.sessions() as s:
        logins = set(s.scalars(select(KeyRequest.login).filter_by(school_id=school_id,
                                                                   status="pending")))
        roles: dict[str, list[tuple[str, str]]] = {}
        for login, role, cls in s.execute(
                select(Account.login, AccountRole.role, AccountRole.class_name)
                .join(AccountRole, AccountRole.account_id == Account.id)
                .where(Account.login.in_(logins), Account.school_id == school_id,
                       Account.active.is_(True))):
            roles.setdefault(login, []).append((role, cls))
    return enrolment.issue_requests(archive, school_id=school_id, ca_passphrase=ca_passphrase,
                                    actor=who.actor, roles_of=roles, now=now)


def revoke(archive: Archive, who: Principal, *, login: str, reason: str,
           ca_passphrase: str) -> str:
    """The administrator revokes a person's certificate; returns its serial."""
    from archive_service.signatures.revocation import revoke_certificate

    require_administrator(who)
    with archive.sessions() as s:
        _own(s, who, login)
    try:
        return revoke_certificate(archive, login=login, reason=reason,
                                  ca_passphrase=ca_passphrase, actor=who.actor).serial
    except NotFoundError:
        raise NotFoundError(f"У сотрудника «{login}» нет сертификата подписи.") from None


def init_school_pki(archive: Archive, who: Principal, *, ca_passphrase: str, repeat: str
                    ) -> str:
    """The administrator creates the school root and TSA (the seal follows from the
    secretary's request); returns the root's serial."""
    from archive_service.signatures.service import init_pki

    school_id = require_administrator(who)
    if ca_passphrase != repeat:
        raise ConflictError("Пароли корневого ключа не совпадают.")
    if len(ca_passphrase) < 12:
        raise ConflictError("Пароль корневого ключа должен быть не короче 12 символов: им "
                            "выпускаются сертификаты всех сотрудников школы.")
    root = init_pki(archive, school_code=None, school_id=school_id, ca_passphrase=ca_passphrase,
                    seal_passphrase=None, tsa_passphrase=archive.settings.tsa_passphrase or "",
                    actor=who.actor)
    return format(root.serial_number, "X")


@dataclass(frozen=True)
class SchoolKeys:
    """The school PKI as the administrator's page shows it."""

    exists: bool
    root_serial: str | None
    root_valid_to: dt.datetime | None
    seal: str  # «нет», «ожидает выпуска», «выпущен до …»
    requests: list[enrolment.RequestLine]


def school_keys(archive: Archive, who: Principal) -> SchoolKeys:
    """The root, the seal and the pending requests of the administrator's school."""
    school_id = require_administrator(who)
    requests = enrolment.pending_requests(archive, school_id)
    with archive.sessions() as s:
        row = s.get(SchoolPki, school_id)
    if row is None:
        return SchoolKeys(False, None, None, "нет", requests)
    root = x509.load_pem_x509_certificate(row.root_cert)
    if row.seal_cert is not None:
        seal = f"выпущен, действует до " \
               f"{x509.load_pem_x509_certificate(row.seal_cert).not_valid_after_utc:%d.%m.%Y}"
    else:
        seal = "ожидает выпуска" if any(r.kind == "seal" for r in requests) else \
            "нет: секретарь задаёт пароль ключа печати при первом входе"
    return SchoolKeys(True, format(root.serial_number, "X"), root.not_valid_after_utc, seal,
                      requests)

