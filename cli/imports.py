"""``archive import FILE...``: load journal exports (JSON or spreadsheets)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive_service.errors import ImportRejectedError
from cli.context import actor, echo_json, open_archive
from cli.errors import exit_code_for, handle_errors


@click.command("import", help="Загрузить файлы журнала (.json, .xlsx, .xls, .ods, .csv или "
               "таблица HTML, сохранённая как .xls). Каждый файл "
               "принимается целиком или не принимается вовсе; повторная загрузка ничего не меняет.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@handle_errors
def import_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Import each file in its own unit of work; report every rejection, exit non-zero if any."""
    from archive_service.journals.service import CHANGE_NAMES, import_files

    archive = open_archive()
    who = actor()
    results, rejected = [], []
    with click.progressbar(import_files(archive, list(files), actor=who), length=len(files),
                           label="Загрузка", file=sys.stderr, show_pos=True) as bar:
        for outcome in bar:
            if isinstance(outcome, ImportRejectedError):
                rejected.append(outcome)
            else:
                results.append(outcome)
    if as_json:
        echo_json({"imported": [r.__dict__ for r in results],
                   "rejected": [{"file": e.file, "problems": [str(p) for p in e.problems]}
                                for e in rejected]})
    else:
        for r in results:
            what = "изменения: " + ", ".join(f"{CHANGE_NAMES.get(k, k)} {v}"
                                              for k, v in sorted(r.counts.items())) \
                if r.changed else "без изменений (уже загружено)"
            click.echo(f"{r.file_name}: принят, классы {', '.join(r.classes)}; {what}")
            for note in r.notes:
                click.echo(f"  прочитано с поправкой: {note}")
    for exc in rejected:
        click.secho(exc.message, fg="red", err=True)
    if rejected:
        sys.exit(exit_code_for(rejected[0]))


def _school_code(archive, code: str | None) -> str:
    from archive_service.journals.lookup import find_school

    with archive.sessions() as s:
        return find_school(s, code).code


@click.group("attendance-codes", help="Написания кодов посещаемости, которые читает загрузка "
             "журнала: встроенные (Н, НБ, Н/Б, Б, УП, ОП, О…) и свои написания школы.")
def attendance_codes() -> None:
    """The school's attendance spellings (journals.codes)."""


@attendance_codes.command("list", help="Показать все написания, которые читает загрузка.")
@click.option("--school", "school_code", help="Код школы (если школ несколько).")
@handle_errors
def codes_list(school_code: str | None) -> None:
    from archive_service.journals import codes

    archive = open_archive()
    for spelling, code, meaning, own in codes.table(archive, _school_code(archive, school_code)):
        click.echo(f"{spelling:<10} {code}  {meaning}{'  (своё написание школы)' if own else ''}")


@attendance_codes.command("add", help="Добавить своё написание кода (например ПР → Н).")
@click.option("--school", "school_code", help="Код школы (если школ несколько).")
@click.option("--spelling", required=True, help="Как пишет электронный журнал, например ПР.")
@click.option("--means", "code", required=True, help="Код положения: Б, У, Н или О.")
@handle_errors
def codes_add(school_code: str | None, spelling: str, code: str) -> None:
    from archive_service.journals import codes

    archive = open_archive()
    stored = codes.add_code(archive, school_code=_school_code(archive, school_code),
                            spelling=spelling, code=code, actor=actor())
    click.echo(f"Написание «{stored}» читается как {code.strip().upper()}.")


@attendance_codes.command("remove", help="Убрать своё написание школы.")
@click.option("--school", "school_code", help="Код школы (если школ несколько).")
@click.option("--spelling", required=True)
@handle_errors
def codes_remove(school_code: str | None, spelling: str) -> None:
    from archive_service.journals import codes

    archive = open_archive()
    codes.remove_code(archive, school_code=_school_code(archive, school_code),
                      spelling=spelling, actor=actor())
    click.echo(f"Написание «{spelling.strip()}» убрано.")
