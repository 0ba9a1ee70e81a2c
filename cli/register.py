"""``archive register add|list|export``."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import actor, echo_json, open_archive
from cli.errors import handle_errors


@click.group(help="Реестр бумажных копий ЭЖ (ведёт секретарь).")
def register() -> None:
    """Register commands."""


@register.command("add", help="Принять заверенную копию от заместителя директора и занести "
                              "её в реестр под следующим номером.")
@click.argument("document_id", type=int)
@click.option("--as", "login", required=True, help="Логин секретаря.")
@click.option("--location", required=True, help="Место хранения (сейф, папка).")
@handle_errors
def register_add(document_id: int, login: str, location: str) -> None:
    """Register a document."""
    from archive_service.register.service import register_document

    row = register_document(open_archive(), document_id=document_id, login=login,
                            location=location, actor=actor())
    click.echo(f"Зарегистрирован № {row.number} ({row.year}): {row.title}, листов "
               f"{row.sheets}; передал(а) {row.handed_over_by}, принял(а) {row.received_by}")


@register.command("list", help="Записи реестра.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--year", help="Учебный год, например 2025-2026.")
@click.option("--search", "query", help="Поиск по любому полю (класс, ФИО, место…).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def register_ls(school_code, year, query, as_json) -> None:
    """List the register."""
    from archive_service.register.service import register_list

    rows = register_list(open_archive(), school_code=school_code, year=year, query=query)
    if as_json:
        echo_json([r.as_dict() for r in rows])
        return
    for r in rows:
        click.echo(f"№ {r.number} ({r.year}) {r.received_at[:10]} {r.title}, листов {r.sheets}, "
                   f"{r.location} — {r.status}")
    click.echo(f"Записей: {len(rows)}")


@register.command("export", help="Выгрузить реестр за учебный год в .xlsx или .pdf.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--year", required=True, help="Учебный год, например 2025-2026.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@handle_errors
def register_export(school_code, year, out: Path) -> None:
    """Export the register."""
    from archive_service.register import export
    from archive_service.register.service import register_list

    rows = register_list(open_archive(), school_code=school_code, year=year)
    export.write(rows, out, school=rows[0].school_name, year=year)
    click.echo(f"Реестр за {year}: {len(rows)} записей записано в {out}")


@register.command("folder", help="Сформировать общую папку за период (четверть, полугодие, "
                                 "год): PDF/A с описью и вложенными заверенными копиями; папка "
                                 "получает свой номер в реестре.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--year", required=True, help="Учебный год, например 2025-2026.")
@click.option("--period", "period_code", required=True, help="Период: Q1-Q4, H1-H2, T1-T3, Y.")
@click.option("--as", "login", required=True, help="Логин секретаря.")
@click.option("--location", required=True, help="Место хранения папки.")
@click.option("--out", type=click.Path(path_type=Path), help="Куда записать файл папки.")
@click.option("--anyway", metavar="ПРИЧИНА", help="Сформировать неполной (без классов, у "
              "которых нет заверенных печатью копий), с этой причиной (записывается в журнал "
              "аудита и в папку).")
@handle_errors
def register_folder(school_code, year, period_code, login, location, out, anyway) -> None:
    """Form the period folder."""
    from archive_service.register.service import folder_pdf, form_period_folder

    archive = open_archive()
    row = form_period_folder(archive, school_code=school_code, year=year,
                             period_code=period_code, login=login, location=location,
                             actor=actor(), anyway=anyway)
    click.echo(f"Сформирована общая папка № {row.number} ({row.year}): {row.title}, листов "
               f"{row.sheets}; место хранения: {row.location}")
    if out:
        _name, data = folder_pdf(archive, school_code=row.school, year=row.year,
                                 number=row.number, reader=actor())
        out.write_bytes(data)
        click.echo(f"Файл папки записан в {out} ({len(data)} байт)")


@register.command("folder-export", help="Выгрузить файл сформированной общей папки.")
@click.argument("number", type=int)
@click.option("--school", "school_code", help="Код школы.")
@click.option("--year", required=True, help="Учебный год, например 2025-2026.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@handle_errors
def register_folder_export(number, school_code, year, out: Path) -> None:
    """Export a period folder's file."""
    from archive_service.register.service import folder_pdf

    _name, data = folder_pdf(open_archive(), school_code=school_code, year=year, number=number,
                             reader=actor())
    out.write_bytes(data)
    click.echo(f"Общая папка № {number} ({year}) записана в {out} ({len(data)} байт)")
