"""Wrong key passphrases: five in a row lock signing with that key for 15 minutes.

A signing key is opened with its owner's passphrase on every signing action; whoever has a
person's session (a desk left unlocked) could otherwise try passphrases without end. The
count is per key (a person's key, the school seal's), kept in ``key_attempt`` outside the
action's own unit of work (a refused action writes nothing else); the lock is written to
the audit, and the right passphrase after wrong ones ends the count.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import SignatureRefusedError
from archive_service.orm import aware
from archive_service.signatures.models import KeyAttempt

MAX_WRONG = 5
LOCK = dt.timedelta(minutes=15)
KIND_NAMES = {"person": "вашим ключом", "seal": "ключом печати школы"}


class WrongKeyPassphrase(SignatureRefusedError):
    """A key did not open with the passphrase given (``kind``: person or seal)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind



def _wrong_since(s, school_id: int, login: str, kind: str, now: dt.datetime
                 ) -> list[dt.datetime]:
    """The wrong attempts of the window after the last right one, oldest first."""
    rows = s.execute(select(KeyAttempt.at, KeyAttempt.ok).where(
        KeyAttempt.school_id == school_id, KeyAttempt.login == login,
        KeyAttempt.kind == kind, KeyAttempt.at >= now - LOCK).order_by(KeyAttempt.at)).all()
    wrong: list[dt.datetime] = []
    for at, ok in rows:
        wrong = [] if ok else [*wrong, aware(at)]
    return wrong


def check(s, *, school_id: int, login: str, kinds: set[str], now: dt.datetime) -> None:
    """Refuse while a key the action needs is locked (saying until when)."""
    for kind in sorted(kinds):
        wrong = _wrong_since(s, school_id, login, kind, now)
        if len(wrong) >= MAX_WRONG:
            from archive_service.journals.models import School
            from signing.clock import local_time

            until = local_time(wrong[-1] + LOCK, s.get(School, school_id).time_zone)
            raise SignatureRefusedError(
                f"Подпись {KIND_NAMES[kind]} закрыта до {until}: пароль ключа введён "
                f"неверно {MAX_WRONG} раз подряд. Если пароль забыт, создайте новый ключ на "
                "странице «Моя учётная запись».")


def failed(archive: Archive, *, school_id: int, login: str, kind: str, actor: Actor,
           message: str, now: dt.datetime) -> SignatureRefusedError:
    """Record a wrong passphrase; the refusal to raise says how many tries are left (the
    fifth locks the key, and that goes to the audit)."""
    with archive.unit_of_work() as uow:
        s = uow.session
        s.add(KeyAttempt(school_id=school_id, login=login, kind=kind, at=now, ok=False))
        s.flush()
        wrong = len(_wrong_since(s, school_id, login, kind, now))
        if wrong >= MAX_WRONG:
            uow.audit(actor, "key.locked", "user", login, chain=school_id,
                      details={"kind": kind, "wrong": wrong,
                               "until": (now + LOCK).isoformat(timespec="minutes")})
    if wrong >= MAX_WRONG:
        return SignatureRefusedError(
            f"{message} Пароль введён неверно {MAX_WRONG} раз подряд: подпись "
            f"{KIND_NAMES[kind]} закрыта на {LOCK.seconds // 60} минут.")
    return SignatureRefusedError(f"{message} Осталось попыток: {MAX_WRONG - wrong}.")


def succeeded(archive: Archive, *, school_id: int, login: str, kinds: set[str],
              now: dt.datetime) -> None:
    """The right passphrase: ends the count of wrong ones (written only if there were)."""
    with archive.sessions() as s:
        pending = [k for k in sorted(kinds) if _wrong_since(s, school_id, login, k, now)]
    if pending:
        with archive.unit_of_work() as uow:
            for kind in pending:
                uow.session.add(KeyAttempt(school_id=school_id, login=login, kind=kind, at=now,
                                           ok=True))


def kinds_of(steps: set[str]) -> set[str]:
    """The keys the steps of an action open."""
    return ({"seal"} if "seal" in steps else set()) | (
        {"person"} if steps - {"seal"} else set())
