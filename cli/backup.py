"""``archive backup keys init|rotate``, ``create``, ``list``, ``verify``, ``restore``, ``copy``,
``log``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive_service.config import Settings
from archive_service.errors import ConfigError, NotFoundError
from cli.context import actor, echo_json, open_archive, secret_from_file
from cli.errors import EXIT_PROBLEMS_FOUND, handle_errors

if TYPE_CHECKING:
    from archive_service.backups.service import Opener
    from archive_service.db import Archive


#: The service's default term (backups.service.DEFAULT_RETAIN_DAYS; the CLI's own copy so that
#: ``--help`` imports no service: tests/cli/test_lazy_cli.py keeps the two equal).
DEFAULT_RETAIN_DAYS = 365


@click.group(help="Зашифрованные резервные копии, которые открывает только директор "
                  "(или ключ восстановления из сейфа), и журнал пользования ими.")
def backup() -> None:
    """Backup commands."""


@backup.group(help="Ключи резервных копий.")
def keys() -> None:
    """Key commands."""


def _write_sheet(path: Path, text: str) -> None:
    try:
        path.write_text(text, "utf-8")
        path.chmod(0o600)
    except OSError as exc:
        raise ConfigError(f"Не удалось записать ключ восстановления в {path}: {exc}") from None


@keys.command("init", help="Создать ключи: ключ директора (под кодом директора) и ключ "
                           "восстановления (распечатать и хранить в сейфе).")
@click.option("--director-passphrase-file", type=click.Path(path_type=Path), required=True,
              help="Файл с кодом директора (первая строка).")
@click.option("--escrow-out", type=click.Path(path_type=Path), required=True,
              help="Куда записать лист ключа восстановления (для печати).")
@click.option("--school-name", default="", help="Название школы на листе ключа.")
@handle_errors
def keys_init(director_passphrase_file: Path, escrow_out: Path, school_name: str) -> None:
    """Create the backup keys."""
    from archive_service.backups import service as backups

    if escrow_out.exists():
        raise ConfigError(f"Файл {escrow_out} уже существует: ключ восстановления не "
                          "записывается поверх другого файла.")
    sheet = backups.init_keys(open_archive(), actor=actor(), school=school_name,
                              director_code=secret_from_file(director_passphrase_file,
                                                             "код директора"))
    _write_sheet(escrow_out, sheet)
    click.echo(f"Ключи созданы. Лист ключа восстановления: {escrow_out} — распечатайте его, "
               "уберите в сейф и удалите файл.")


@keys.command("rotate", help="Сменить код директора и/или ключ восстановления (старый "
                             "остаётся в силе, пока новый не проверен). Копии после смены "
                             "делаются с новыми ключами и прежними кодом и листом не "
                             "открываются.")
@click.option("--director-passphrase-file", type=click.Path(path_type=Path), required=True,
              help="Файл с нынешним кодом директора.")
@click.option("--new-passphrase-file", type=click.Path(path_type=Path),
              help="Файл с новым кодом директора.")
@click.option("--new-escrow-out", type=click.Path(path_type=Path),
              help="Сделать новый ключ восстановления и записать его лист сюда.")
@click.option("--school-name", default="")
@handle_errors
def keys_rotate(director_passphrase_file, new_passphrase_file, new_escrow_out,
                school_name) -> None:
    """Change the director's code or the escrow key."""
    from archive_service.backups import service as backups

    if not new_passphrase_file and not new_escrow_out:
        raise ConfigError("Укажите --new-passphrase-file или --new-escrow-out (или оба).")
    if new_escrow_out and new_escrow_out.exists():
        raise ConfigError(f"Файл {new_escrow_out} уже существует.")
    sheet = backups.rotate_keys(
        open_archive(), actor=actor(), school=school_name,
        director_code=secret_from_file(director_passphrase_file, "код директора"),
        new_director_code=new_passphrase_file and secret_from_file(new_passphrase_file,
                                                                   "новый код директора"),
        new_escrow=bool(new_escrow_out))
    if sheet:
        _write_sheet(new_escrow_out, sheet)
        click.echo(f"Новый ключ восстановления: {new_escrow_out}. Старый лист храните, пока "
                   "не истечёт срок хранения сделанных с ним копий.")
    if new_passphrase_file:
        click.echo("Код директора изменён; прежние копии открываются новым кодом.")
    click.echo("Следующая резервная копия запишет все объекты заново, с новыми ключами: "
               "прежний код и прежний лист не откроют ничего, сделанного после смены.")


@backup.command("create", help="Сделать резервную копию всего архива на диск (папка) или в "
                               "S3 (s3://корзина/префикс?endpoint=…).")
@click.option("--to", "target", required=True, help="Папка внешнего диска или адрес S3.")
@click.option("--retain-days", default=DEFAULT_RETAIN_DAYS, show_default=True,
              help="Срок хранения копии (в S3 — блокировка удаления до этой даты).")
@handle_errors
def create(target: str, retain_days: int) -> None:
    """Create a backup."""
    from archive_service.backups import service as backups

    archive = open_archive()
    with click.progressbar(length=1, label="Резервная копия", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        summary = backups.create_backup(archive, target_url=target, actor=actor(),
                                        retain_days=retain_days, progress=progress)
    click.echo(f"Резервная копия {summary.id}: файлов {summary.files} (уже были на носителе: "
               f"{summary.reused}), {summary.bytes_total / 2**20:.1f} МиБ, записано "
               f"{summary.bytes_written / 2**20:.1f} МиБ за {summary.seconds:.1f} с → "
               f"{summary.target}")


@backup.command("list", help="Резервные копии этого архива (или найденные на носителе).")
@click.option("--target", help="Показать полные копии на этом носителе.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def list_(target: str | None, as_json: bool) -> None:
    """List backups."""
    if target:
        from archive_service.backups.create import backups_on_target

        ids = backups_on_target(target)
        if as_json:
            echo_json(ids)
        else:
            for bid in ids:
                click.echo(bid)
            click.echo(f"Полных копий на носителе: {len(ids)}")
        return
    from archive_service.backups.log import list_backups

    rows = list_backups(open_archive())
    if as_json:
        echo_json([{"id": b.id, "target": b.target, "created_at": b.created_at,
                    "created_by": b.created_by, "retain_until": b.retain_until,
                    "files": b.files, "bytes": b.bytes_total, "written": b.bytes_written,
                    "manifest_sha256": b.manifest_sha256} for b in rows])
        return
    for b in rows:
        click.echo(f"{b.id}  {b.files} файлов, {b.bytes_total / 2**20:.1f} МиБ, хранить до "
                   f"{b.retain_until:%d.%m.%Y}, {b.target}")
    click.echo(f"Копий: {len(rows)}")


def _opener(passphrase_file: Path | None, escrow_key: Path | None) -> Opener | None:
    from archive_service.backups.service import EscrowKey, Opener

    if passphrase_file and escrow_key:
        raise ConfigError("Укажите что-то одно: код директора или ключ восстановления.")
    if passphrase_file:
        return Opener(director_code=secret_from_file(passphrase_file, "код директора"))
    if escrow_key:
        try:
            text = escrow_key.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            raise ConfigError(f"Не удалось прочитать ключ восстановления из {escrow_key}.") \
                from None
        return Opener(escrow=EscrowKey.parse(text, source=str(escrow_key)))
    return None


def _target_of(archive: Archive | None, backup_id: str, given: str | None) -> str:
    from archive_service.backups import service as backups

    if given:
        return given
    if archive is not None:
        for b in backups.list_backups(archive):
            if b.id == backup_id:
                return b.target
    raise NotFoundError(f"Резервной копии {backup_id} нет в архиве: укажите носитель "
                        "(--from папка или s3://…).")


def _live_archive() -> Archive | None:
    """The configured archive if its database is reachable and holds backup keys."""
    from archive_service.backups import service as backups

    try:
        archive = open_archive()
        backups.active_keyring(archive)
        return archive
    except Exception:  # noqa: BLE001 - a fresh machine has no archive yet
        return None


OPEN_OPTIONS = [
    click.option("--director-passphrase-file", "passphrase_file",
                 type=click.Path(path_type=Path), help="Файл с кодом директора."),
    click.option("--escrow-key", type=click.Path(path_type=Path),
                 help="Файл листа ключа восстановления (вместо кода директора)."),
]


def _open_options(fn):
    for option in reversed(OPEN_OPTIONS):
        fn = option(fn)
    return fn


@backup.command("verify", help="Проверить копию: 1 — все объекты на месте и нужного размера; "
                               "2 — хеши совпадают с подписанной описью; 3 — полная "
                               "расшифровка и проверка подписей (нужен ключ). Код 10 при "
                               "нарушениях.")
@click.argument("backup_id", metavar="КОПИЯ")
@click.option("--from", "source", help="Носитель (по умолчанию — куда копия была сделана).")
@click.option("--level", type=click.IntRange(1, 3), default=2, show_default=True)
@click.option("--share", type=click.FloatRange(0.01, 100), default=100, show_default=True,
              help="Уровень 2: какую долю объектов проверить, в процентах (выбор случайный).")
@_open_options
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def verify(backup_id, source, level, share, passphrase_file, escrow_key, as_json) -> None:
    """Verify a backup."""
    from archive_service.backups import service as backups

    archive = _live_archive()
    report = backups.verify_backup(archive, target_url=_target_of(archive, backup_id, source),
                                   backup_id=backup_id, level=level, actor=actor(),
                                   opener=_opener(passphrase_file, escrow_key),
                                   share=share / 100)
    if as_json:
        echo_json({"backup": report.backup_id, "level": report.level, "ok": report.ok,
                   "objects": report.objects_checked, "bytes": report.bytes_checked,
                   "problems": report.problems, **report.details})
    else:
        for problem in report.problems:
            click.secho(f"  - {problem}", fg="red", err=True)
        click.echo(f"Копия {backup_id}, уровень {level}: проверено объектов "
                   f"{report.objects_checked}, {report.bytes_checked / 2**20:.1f} МиБ. "
                   + ("Нарушений нет." if report.ok else f"Нарушений: {len(report.problems)}."))
        if report.details:
            click.echo(f"Документов с подписями: {report.details['documents']}, подписи "
                       f"верны у {report.details['signatures_ok']}.")
    if not report.ok:
        sys.exit(EXIT_PROBLEMS_FOUND)


@backup.command("restore", help="Восстановить копию в пустую базу данных и хранилище и "
                                "проверить, что всё совпадает с описью.")
@click.argument("backup_id", metavar="КОПИЯ")
@click.option("--from", "source", help="Носитель (по умолчанию — куда копия была сделана).")
@click.option("--into", "into_home", type=click.Path(path_type=Path),
              help="Пустая папка: база SQLite и файлы будут в ней.")
@click.option("--database-url", help="Пустая база данных (например, PostgreSQL).")
@click.option("--storage-url", help="Пустое хранилище (file:///… или s3://…).")
@_open_options
@click.option("--overwrite", is_flag=True,
              help="Разрешить хранилище с файлами (база данных всё равно должна быть пустой).")
@click.option("--school", "school_code", help="Восстановить только эту школу (код).")
@click.option("--year", help="…и только этот учебный год, например 2025-2026.")
@click.option("--document", "document_id", type=int,
              help="Восстановить только этот документ (с его срезом, подписями, записью в "
                   "реестре).")
@handle_errors
def restore(backup_id, source, into_home, database_url, storage_url, passphrase_file,
            escrow_key, overwrite, school_code, year, document_id) -> None:
    """Restore a backup, whole or a selected school, year or document."""
    from archive_service.backups import service as backups
    from archive_service.db import Archive

    selection = None
    if school_code or year or document_id is not None:
        if document_id is not None and (school_code or year):
            raise ConfigError("Либо --document, либо --school/--year.")
        selection = backups.Selection(school=school_code, year=year, document=document_id)
    if into_home is None and not (database_url and storage_url):
        raise ConfigError("Куда восстанавливать: --into ПАПКА или --database-url и "
                          "--storage-url.")
    home = (into_home or Path(".")).resolve()
    into = Archive(Settings(
        home=home, database_url=database_url or f"sqlite:///{home / 'archive.sqlite3'}",
        storage_url=storage_url or f"file://{home / 'objects'}"))
    opener = _opener(passphrase_file, escrow_key)
    if opener is None:
        raise ConfigError("Нужен код директора (--director-passphrase-file) или ключ "
                          "восстановления (--escrow-key).")
    archive = _live_archive()
    report = backups.restore_backup(archive, target_url=_target_of(archive, backup_id, source),
                                    backup_id=backup_id, opener=opener, into=into,
                                    actor=actor(), overwrite=overwrite, selection=selection)
    if selection is not None:
        click.echo(f"Выборочно: {selection.describe()}.")
    for problem in report.problems:
        click.secho(f"  - {problem}", fg="red", err=True)
    click.echo(f"Восстановлено из {backup_id}: файлов {report.files} "
               f"({report.bytes / 2**20:.1f} МиБ), таблиц {len(report.tables)}, строк "
               f"{sum(report.tables.values())}; журнал аудита: {report.audit_entries} записей. "
               + ("Всё совпадает с описью копии." if report.ok else
                  f"Расхождений: {len(report.problems)}."))
    if not report.ok:
        sys.exit(EXIT_PROBLEMS_FOUND)


@backup.command("copy", help="Записать в журнал: копия перенесена на носитель и передана.")
@click.argument("backup_id", metavar="КОПИЯ")
@click.option("--medium", required=True, help="Носитель (например, «Внешний диск № 2»).")
@click.option("--handed-by", required=True, help="Кто передал (ФИО).")
@click.option("--received-by", required=True, help="Кто принял (ФИО).")
@click.option("--as", "login", help="Заверить запись своей электронной подписью (логин).")
@click.option("--passphrase-file", type=click.Path(path_type=Path),
              help="Файл с паролем ключа подписи (с --as).")
@handle_errors
def copy(backup_id, medium, handed_by, received_by, login, passphrase_file) -> None:
    """Record a copy to a medium, certified with the person's key when --as is given."""
    from archive_service.backups import service as backups

    certify = None
    if login:
        if passphrase_file is None:
            raise ConfigError("Чтобы заверить запись (--as), нужен --passphrase-file.")
        certify = (login, secret_from_file(passphrase_file, "пароль ключа подписи"))
    backups.record_copy(open_archive(), backup_id=backup_id, medium=medium,
                        handed_by=handed_by, received_by=received_by, actor=actor(),
                        certify=certify)
    click.echo(f"Записано в журнал пользования резервными копиями: {backup_id} → {medium}, "
               f"передал(а) {handed_by}, принял(а) {received_by}"
               + (f"; заверено подписью ({login})." if login else "."))


@backup.command("log", help="Журнал пользования резервными копиями.")
@click.argument("backup_id", metavar="[КОПИЯ]", required=False)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def log(backup_id: str | None, as_json: bool) -> None:
    """Show the backup usage log."""
    from archive_service.backups import service as backups
    from archive_service.backups.overview import ACTIONS

    archive = open_archive()
    events = backups.usage_log(archive, backup_id=backup_id)
    certified = backups.certifications(archive, events)
    broken = [c for cs in certified.values() for c in cs if not c.valid]
    if as_json:
        echo_json([{"backup": e.backup_id, "at": e.at, "action": e.action, "actor": e.actor,
                    "role": e.role, "medium": e.medium, "handed_by": e.handed_by,
                    "received_by": e.received_by, "outcome": e.outcome,
                    "details": e.details,
                    "certified_by": [{"name": c.full_name, "login": c.login, "valid": c.valid}
                                     for c in certified.get(e.id, [])]} for e in events])
    else:
        for e in events:
            who = f"{e.actor} ({e.role})"
            hand = (f"; передал(а) {e.handed_by}, принял(а) {e.received_by}" if e.handed_by
                    else "")
            mark = "" if e.outcome == "ok" else " — НАРУШЕНИЯ"
            signs = "".join(f"; заверено подписью: {c.full_name} — "
                            + ("подпись верна" if c.valid else "ПОДПИСЬ НЕ СОВПАДАЕТ С ЗАПИСЬЮ")
                            for c in certified.get(e.id, []))
            click.echo(f"{e.at:%d.%m.%Y %H:%M} {e.backup_id or '—'}: "
                       f"{ACTIONS.get(e.action, e.action)}{mark}; {who}"
                       + (f"; {e.medium}" if e.medium else "") + hand + signs)
        click.echo(f"Записей: {len(events)}")
    if broken:
        click.secho(f"Подписи, не совпадающие с записью: {len(broken)} — запись изменена после "
                    "того, как её заверили.", fg="red", err=True)
        sys.exit(EXIT_PROBLEMS_FOUND)
