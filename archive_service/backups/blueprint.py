"""The backups page: the director's view of the last backup, its verification and the next
one; creation and verification (levels 1-2) started from the page; the secretary's backup
usage log (seed 000 5.2) with handovers certified by the person's key, printable as PDF/A.

Restoring stays an administrator's command-line step (``archive backup restore``): it needs
the director's code or the escrow sheet at the machine, and an empty database; its report
is shown here afterwards from the usage log. Thin: ``backups.service`` does the work and
writes the log under the named account that acted; ``backups.overview`` reads it.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from archive_service import background
from archive_service.accounts import access
from archive_service.actors import Actor
from archive_service.backups import overview
from archive_service.backups import service as backups
from archive_service.db import Archive
from archive_service.errors import ArchiveError, NotFoundError, PermissionDeniedError
from archive_service.web import (
    archive,
    attachment,
    attempt,
    current,
    field,
    no_store,
    permits,
    refused,
)

bp = Blueprint("backups", __name__)
# Who sees the backups (seed 000 5.2; 004 3.1: the director answers for them, the secretary
# keeps the log and the safe, the administrator makes them): ``access.PERMISSIONS``
# «backups.*».
MIN_CODE = 12


def _target(a: Archive) -> str:
    return a.settings.backup_target or str(a.settings.home / "backups")


@bp.get("/backups")
@permits("backups.read")
def backups_page():
    """The backups, their verifications, restores and the usage log."""
    who = current()
    status = overview.backup_status(archive())
    return no_store(make_response(render_template(
        "backups/backups.html", status=status, lines=overview.log_lines(archive()),
        creating=background.busy("backup-create"),
        verifying=background.busy_with("backup-verify-"), target=_target(archive()),
        may_operate=access.allows(who, "backups.operate"),
        may_keep=access.allows(who, "backups.keep"),
        is_director=who.has("director"))))


@bp.post("/backups/keys")
@permits("backups.keys")
def keys_init():
    """The director creates the backup keys under her code; the escrow sheet is shown once."""
    who = current()

    def make() -> str:
        code, repeat = request.form.get("code", ""), request.form.get("repeat", "")
        if code != repeat:
            raise ArchiveError("Коды не совпадают: введите код директора дважды одинаково.")
        if len(code) < MIN_CODE:
            raise ArchiveError(f"Код директора должен быть не короче {MIN_CODE} символов: им "
                               "открываются все резервные копии архива.")
        return backups.init_keys(archive(), director_code=code, actor=who.actor,
                                 school=who.school_name or "")

    sheet, error = refused(make)
    if error is not None:
        flash(error, "error")
        return redirect(url_for("backups.backups_page"), 303)
    return no_store(make_response(render_template("backups/escrow.html", sheet=sheet)))


def _create(a: Archive, actor: Actor) -> None:
    """Make a backup; a refusal is written to the usage log for the page to show."""
    try:
        backups.create_backup(a, target_url=_target(a), actor=actor)
    except ArchiveError as exc:
        backups.log_event(a, backup_id="", action="create", actor=actor, medium=_target(a),
                          outcome="failed", details={"message": exc.message})


@bp.post("/backups/create")
@permits("backups.operate")
def create():
    """Start a backup of the whole archive to the configured target."""
    who = current()
    a = archive()
    backups.active_keyring(a)  # no keys: the 404 page says the director must create them
    if background.start("backup-create", lambda: _create(a, who.actor)) is None:
        flash("Резервная копия уже создаётся: дождитесь окончания.", "error")
    else:
        flash(f"Создание резервной копии начато ({_target(a)}); итог появится в журнале "
              "пользования.", "ok")
    return redirect(url_for("backups.backups_page"), 303)


@bp.post("/backups/<backup_id>/verify")
@permits("backups.operate")
def verify(backup_id: str):
    """Verify a backup at level 1 (objects and sizes) or 2 (ciphertext hashes); no key
    needed. Level 3 decrypts and stays with the director at the command line."""
    who = current()
    level = request.form.get("level", "")
    if level not in ("1", "2"):
        raise ArchiveError("Уровень проверки на странице: 1 или 2 (уровень 3 — расшифровка — "
                           "выполняет директор командой archive backup verify --level 3).")
    a = archive()
    backup = overview.backup_of(a, backup_id)
    if backup is None:
        raise NotFoundError(f"Резервной копии {backup_id[:40]} нет в архиве.")
    started = background.start(f"backup-verify-{backup_id}", lambda: backups.verify_backup(
        a, target_url=backup.target, backup_id=backup_id, level=int(level), actor=who.actor))
    flash(f"Проверка копии {backup_id} (уровень {level}) начата; итог появится в журнале "
          "пользования." if started else f"Копия {backup_id} уже проверяется.",
          "ok" if started else "error")
    return redirect(url_for("backups.backups_page"), 303)


@bp.post("/backups/log")
@permits("backups.keep")
def log_copy():
    """A backup written to a medium and handed over, certified with the person's key."""
    who = current()

    def record() -> str:
        backup_id = field("backup", limit=40)
        backups.record_copy(archive(), backup_id=backup_id, medium=field("medium", limit=300),
                            handed_by=field("handed_by", limit=300),
                            received_by=field("received_by", limit=300), actor=who.actor,
                            certify=(who.login, request.form.get("passphrase", "")))
        return f"Запись о передаче копии {backup_id} внесена в журнал и заверена подписью."

    attempt(record, refuse=(PermissionDeniedError,))
    return redirect(url_for("backups.backups_page"), 303)


@bp.get("/backups/log.pdf")
@permits("backups.read")
def log_pdf():
    """The usage log as the paper log (PDF/A-2b)."""
    who = current()
    data = overview.log_pdf(archive(), school=who.school_name or "", zone=who.time_zone)
    return no_store(attachment(data, "application/pdf", "журнал-пользования-резервными-копиями.pdf"))
