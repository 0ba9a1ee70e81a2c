"""``archive init`` and ``archive school``: the database and per-school settings."""

from __future__ import annotations

import click

from archive_service.errors import ConflictError, NotFoundError
from cli.context import open_archive
from cli.errors import handle_errors


@click.command(help="Создать или обновить базу данных архива (миграции до последней версии).")
@handle_errors
def init() -> None:
    """Upgrade the database to the head migration."""
    from archive_service.db import upgrade

    archive = open_archive()
    upgrade(archive.engine)
    click.echo(f"База данных готова: {archive.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Хранилище: {archive.storage.url}")
    if archive.engine.dialect.name == "postgresql":
        from archive_service.closing.queue import ensure_schema

        ensure_schema(archive)
        click.echo("Очередь заданий (procrastinate) готова: archive worker")


@click.group(help="Настройки школы.")
def school() -> None:
    """School settings."""


@school.command("set", help="Изменить настройки школы.")
@click.argument("code")
@click.option("--block-snapshot-on-incomplete/--no-block-snapshot-on-incomplete", default=None,
              help="Запрещать срез журнала, пока проверка полноты находит замечания.")
@click.option("--signature-chain", help="Шаги подписания через запятую, например "
              "teachers,class_leader,deputy,director,seal (по умолчанию — этот порядок).")
@click.option("--summary-chain", help="Шаги подписания сводной ведомости через запятую (по "
              "умолчанию — как у журнала: учителя подтверждают итоговые отметки).")
@click.option("--time-zone", help="Часовой пояс школы (имя IANA, например Asia/Yekaterinburg; "
              "по умолчанию Europe/Moscow): в нём штампы подписей показывают время.")
@click.option("--import-source", type=click.Path(file_okay=False),
              help="Папка, куда электронный журнал школы выгружает файлы (для archive "
                   "close-period; по умолчанию ARCHIVE_IMPORT_ROOT/КОД).")
@handle_errors
def school_set(code: str, block_snapshot_on_incomplete: bool | None,
               signature_chain: str | None, summary_chain: str | None, time_zone: str | None,
               import_source: str | None) -> None:
    """Change school settings."""
    from sqlalchemy import select

    from archive_service.journals.models import School

    archive = open_archive()
    with archive.unit_of_work() as uow:
        sch = uow.session.scalars(select(School).filter_by(code=code)).one_or_none()
        if sch is None:
            raise NotFoundError(f"Школа с кодом «{code}» не найдена.")
        settings = dict(sch.settings or {})
        if block_snapshot_on_incomplete is not None:
            settings["block_snapshot_on_incomplete"] = block_snapshot_on_incomplete
        if signature_chain is not None:
            settings["signature_chain"] = [s.strip() for s in signature_chain.split(",")
                                           if s.strip()]
        if summary_chain is not None:
            settings["summary_chain"] = [s.strip() for s in summary_chain.split(",")
                                         if s.strip()]
        if time_zone is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConflictError(f"Часовой пояс «{time_zone[:60]}» неизвестен: укажите имя "
                                    "IANA, например Europe/Moscow или Asia/Yekaterinburg."
                                    ) from None
            settings["time_zone"] = time_zone
        if import_source is not None:
            from pathlib import Path

            settings["import_source"] = str(Path(import_source).resolve())
        sch.settings = settings
        from archive_service.rendering.service import signature_chain as check_chain

        check_chain(sch)  # refuses an unknown step before anything is committed
        check_chain(sch, "summary")
    click.echo(f"Настройки школы {code}: {settings}")
