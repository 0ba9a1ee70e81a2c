"""The demo school's signers: a PKI, one signing user per member of staff, the whole chain.

Every demo key opens with ``DEMO_PASSPHRASE`` (printed by ``archive demo``). Because that
passphrase is public, the demo keys are encrypted with few PBKDF2 rounds
(``DEMO_KDF_ROUNDS``); real users get ``signing.pki.KDF_ROUNDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from archive_service.accounts.people import login_for
from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.journals.lookup import find_school
from archive_service.journals.models import SchoolClass, Staff, StaffRole
from archive_service.register.service import register_document
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import SchoolPki, SigningUser
from archive_service.signatures.service import NewUser, SignOutcome, add_users, init_pki, sign_documents
from archive_service.signatures.state import ROLE_OF_STEP

DEMO_PASSPHRASE = "демо-пароль"
DEMO_TSA_PASSPHRASE = "демо-пароль-службы-штампов"
DEMO_KDF_ROUNDS = 10_000
SIGNING_ROLES = set(ROLE_OF_STEP.values())

@dataclass
class DemoSigning:
    """What the demo signing did."""

    users: int = 0
    registered: int = 0
    documents: set[int] = field(default_factory=set)
    signatures: int = 0


def sign_demo_school(archive: Archive, *, tsa_passphrase: str, actor: Actor,
                     progress: Callable[[str], None] = lambda _m: None) -> DemoSigning:
    """Create the PKI and users if missing, then walk the chain over every waiting document."""
    summary = DemoSigning()
    with archive.sessions() as s:
        school = find_school(s, None)
        have_pki = s.get(SchoolPki, school.id) is not None
    if not have_pki:
        init_pki(archive, school_code=school.code, ca_passphrase=DEMO_PASSPHRASE,
                 seal_passphrase=DEMO_PASSPHRASE, tsa_passphrase=tsa_passphrase, actor=actor)
    users = _staff_users(archive, school.id)
    with archive.sessions() as s:
        existing = set(s.scalars(select(SigningUser.login)))
    new = [u for u in users if u.login not in existing]
    if new:
        add_users(archive, school_code=school.code, users=new, ca_passphrase=DEMO_PASSPHRASE,
                  kdf_rounds=DEMO_KDF_ROUNDS, actor=actor)
    summary.users = len(users)
    _accounts(archive, school.code, users, actor)

    def count(outcome: SignOutcome) -> None:
        summary.documents.add(outcome.document_id)
        summary.signatures += len(outcome.fields)

    secretary = next(u for u in users if ("secretary", "") in u.roles)
    for step, role in ROLE_OF_STEP.items():
        if step == "director":  # the secretary registers the certified copies first
            progress("Секретарь принимает заверенные копии и заносит их в реестр…")
            summary.registered = _register_ready(archive, secretary.login, actor)
        signers = [u for u in users if any(r == role for r, _c in u.roles)]
        progress(f"Подписывают: {_STEP_NAMES[step]} ({len(signers)})…")
        for u in signers:
            sign_documents(archive, document_ids=None, login=u.login,
                           passphrase=DEMO_PASSPHRASE, tsa_passphrase=tsa_passphrase,
                           actor=actor, progress=count)
    return summary


DEMO_PASSWORD = "демо-пароль-2025"


def _accounts(archive: Archive, school_code: str, users: list[NewUser], actor: Actor) -> None:
    """A web account per demo signer (same login), plus an administrator and an inspector."""
    import datetime as dt

    from archive_service.accounts.models import Account
    from archive_service.accounts.service import create_account, grant_inspection

    with archive.sessions() as s:
        existing = set(s.scalars(select(Account.login)))
    for u in users:
        if u.login not in existing:
            create_account(archive, school_code=school_code, login=u.login,
                           full_name=u.full_name, password=DEMO_PASSWORD, roles=u.roles,
                           actor=actor)
    if "admin" not in existing:
        create_account(archive, school_code=school_code, login="admin",
                       full_name="Администратор архива", password=DEMO_PASSWORD,
                       roles=[("administrator", "")], actor=actor)
    if "inspector" not in existing:
        create_account(archive, school_code=None, login="inspector",
                       full_name="Проверяющий Рособрнадзора (демо)", password=DEMO_PASSWORD,
                       roles=[("inspector", "")], actor=actor)
        today = dt.date.today()
        grant_inspection(archive, login="inspector", school_code=school_code, year="",
                         starts=today, ends=today + dt.timedelta(days=30),
                         basis="Демонстрационная проверка", actor=actor)


def _register_ready(archive: Archive, login: str, actor: Actor) -> int:
    """Register every document whose steps before the director's are all signed."""
    from archive_service.errors import ConflictError

    with archive.sessions() as s:
        ids = s.scalars(select(RenderedDocument.id).order_by(RenderedDocument.id)).all()
    count = 0
    for doc_id in ids:
        try:
            register_document(archive, document_id=doc_id, login=login,
                              location="Сейф канцелярии, общая папка за период", actor=actor)
        except ConflictError:  # already registered, or not yet certified
            continue
        count += 1
    return count


_STEP_NAMES = {"teachers": "учителя-предметники", "class_leader": "классные руководители",
               "deputy": "заместитель директора", "director": "директор",
               "seal": "секретарь (печать школы)"}


def _staff_users(archive: Archive, school_id: int) -> list[NewUser]:
    """One signing user per member of staff who signs, with the roles from the journal."""
    with archive.sessions() as s:
        rows = s.execute(
            select(Staff.full_name, Staff.position, StaffRole.role, SchoolClass.name)
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .outerjoin(SchoolClass, SchoolClass.id == StaffRole.school_class_id)
            .where(Staff.school_id == school_id).order_by(Staff.id)).all()
        leaders = s.execute(
            select(Staff.full_name, Staff.position, SchoolClass.name)
            .join(SchoolClass, SchoolClass.class_leader_id == Staff.id)
            .where(Staff.school_id == school_id)).all()
    people: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for name, position, role, cls in rows:
        if role in SIGNING_ROLES:
            people.setdefault(name, (position or "", []))[1].append(
                (role, cls if role == "class_leader" else ""))
    for name, position, cls in leaders:
        people.setdefault(name, (position or "", []))[1].append(("class_leader", cls))
    users, logins = [], set()
    for name, (position, roles) in people.items():
        login = login_for(name)
        while login in logins:
            login += "1"
        logins.add(login)
        users.append(NewUser(login, name, position, sorted(set(roles)), DEMO_PASSPHRASE))
    return users
