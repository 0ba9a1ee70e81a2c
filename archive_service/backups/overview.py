"""The backups as the director, the secretary and the administrator see them in the web.

Read-only over ``backups.service``: the last backup and its latest verification, when the
next one is due, every backup with its verification, the restores (an administrator's
command-line step, reported here afterwards), and the backup usage log (журнал пользования
резервными копиями, seed 000 5.2) as lines and as the printable PDF/A log.

Decisions: backups cover the whole archive of the deployment (its database and every stored
object), as ``archive backup create`` does. Scheduled backups are made by the workers every
day at 02:00 server time (``closing.queue``) and at the end of every period close; the next
one is shown as the next 02:00 where workers run (``ARCHIVE_WEB_DISPATCH=queue``), else
the page says that only the close and a person make them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from archive_service.backups.models import Backup, BackupEvent, BackupKeyring
from archive_service.backups.service import certifications, list_backups, usage_log
from archive_service.db import Archive
from archive_service.orm import aware
from archive_service.rendering import tables

#: The log's actions as people read them (the CLI's ``archive backup log`` too).
ACTIONS = {"keys.init": "созданы ключи", "keys.rotate": "изменены ключи", "create": "создана",
           "copy": "записана на носитель и передана", "verify": "проверена",
           "restore": "восстановлена", "access": "выдана"}
#: The daily backup of the workers (``closing.queue.daily_backup``), server time.
DAILY_AT = dt.time(2, 0)



@dataclass(frozen=True)
class Verification:
    """A verification of a backup as its line in the log says."""

    at: dt.datetime
    level: int
    ok: bool
    by: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class BackupLine:
    """One backup with its latest verification."""

    id: str
    created_at: dt.datetime
    created_by: str
    target: str
    files: int
    bytes_total: int
    verification: Verification | None


@dataclass(frozen=True)
class Restore:
    """A restore as the administrator's command reported it to the log."""

    at: dt.datetime
    backup_id: str
    by: str
    ok: bool
    into: str
    selection: str
    files: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class BackupStatus:
    """What the backups page shows."""

    keys: bool
    keys_created: dt.datetime | None
    backups: tuple[BackupLine, ...]  # newest first
    next_at: dt.datetime | None
    scheduled: bool
    restores: tuple[Restore, ...]
    failed_creations: tuple[tuple[dt.datetime, str, str], ...]  # (when, who, why), newest first

    @property
    def last(self) -> BackupLine | None:
        return self.backups[0] if self.backups else None


def _details(event: BackupEvent) -> dict[str, Any]:
    try:
        return json.loads(event.details or "{}")
    except ValueError:
        return {}


def next_daily(now: dt.datetime) -> dt.datetime:
    """The next daily backup moment after ``now`` (server time)."""
    local = now.astimezone()
    at = local.replace(hour=DAILY_AT.hour, minute=DAILY_AT.minute, second=0, microsecond=0)
    return at if at > local else at + dt.timedelta(days=1)


def backup_status(archive: Archive, *, now: dt.datetime | None = None) -> BackupStatus:
    """The backups, their verifications and restores, the keys, the next backup."""
    now = now or dt.datetime.now(dt.UTC)
    with archive.sessions() as s:
        keyring = s.scalars(select(BackupKeyring).order_by(BackupKeyring.id)).first()
    events = usage_log(archive)
    verified: dict[str, Verification] = {}
    restores, failed = [], []
    for e in events:
        details = _details(e)
        if e.action == "verify":
            verified[e.backup_id] = Verification(
                aware(e.at), int(details.get("level") or 0), e.outcome == "ok", e.actor,
                tuple(details.get("problems") or ()))
        elif e.action == "restore":
            restores.append(Restore(aware(e.at), e.backup_id, e.actor, e.outcome == "ok",
                                    str(details.get("into", "")),
                                    str(details.get("selection", "вся копия")),
                                    int(details.get("files") or 0),
                                    tuple(details.get("problems") or ())))
        elif e.action == "create" and e.outcome != "ok":
            failed.append((aware(e.at), e.actor, str(details.get("message", ""))))
    lines = tuple(BackupLine(b.id, aware(b.created_at), b.created_by, b.target, b.files,
                             b.bytes_total, verified.get(b.id)) for b in list_backups(archive))
    scheduled = archive.settings.web_dispatch == "queue"
    return BackupStatus(keyring is not None, aware(keyring.created_at) if keyring else None,
                        lines, next_daily(now) if scheduled and keyring else None, scheduled,
                        tuple(reversed(restores)), tuple(reversed(failed)))


@dataclass(frozen=True)
class LogLine:
    """A line of the backup usage log as the page and the printed log show it."""

    number: int
    at: dt.datetime
    backup_id: str
    action: str
    medium: str
    handed_by: str
    received_by: str
    actor: str
    outcome: str
    certified: tuple[tuple[str, bool], ...]  # (who, signature holds)

    @property
    def certified_text(self) -> str:
        return "; ".join(f"{name}: {'подпись верна' if ok else 'ПОДПИСЬ НЕ СОВПАДАЕТ'}"
                         for name, ok in self.certified)


def log_lines(archive: Archive) -> list[LogLine]:
    """Every line of the usage log, oldest first, each certification checked now."""
    events = usage_log(archive)
    certified = certifications(archive, events)
    from archive_service.accounts.service import ROLE_NAMES

    roles = {**ROLE_NAMES, "system": "служба архива"}
    return [LogLine(i, aware(e.at), e.backup_id, ACTIONS.get(e.action, e.action), e.medium,
                    e.handed_by, e.received_by, f"{e.actor}, {roles.get(e.role, e.role)}",
                    "без замечаний" if e.outcome == "ok" else "НАРУШЕНИЯ",
                    tuple((c.full_name, c.valid) for c in certified.get(e.id, [])))
            for i, e in enumerate(events, start=1)]


LOG_HEADERS = ("№", "Дата и время", "Действие", "Резервная копия", "Носитель",
               "Передал(а)", "Принял(а)", "Кто записал", "Итог", "Заверено подписью")


def log_pdf(archive: Archive, *, school: str, zone: str = "Europe/Moscow") -> bytes:
    """The usage log as the paper log is kept: a PDF/A-2b table, every sheet numbered; times
    in the school's time zone ``zone``."""
    from signing.clock import local_time

    rows = [(ln.number, local_time(ln.at, zone), ln.action,
             ln.backup_id or "—", ln.medium, ln.handed_by, ln.received_by, ln.actor,
             ln.outcome, ln.certified_text) for ln in log_lines(archive)]
    return tables.to_pdf(
        title=f"Журнал пользования резервными копиями\n{school}", headers=LOG_HEADERS,
        rows=rows, widths_mm=(8, 24, 30, 34, 34, 27, 27, 32, 16, 40),
        footer="Журнал пользования резервными копиями",
        note=f"Выгружен {local_time(dt.datetime.now(dt.UTC), zone)}. Каждая запись сделана "
             "под учётной записью того, кто действовал; подписи заверенных записей проверены "
             "при выгрузке.")


def backup_of(archive: Archive, backup_id: str) -> Backup | None:
    """The backup this archive recorded under the id, or None."""
    if not backup_id or len(backup_id) > 40 or "\x00" in backup_id:
        return None
    with archive.sessions() as s:
        return s.get(Backup, backup_id)
