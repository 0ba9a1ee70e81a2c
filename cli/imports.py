"""``archive import FILE...``: load journal exports (JSON or spreadsheets)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive_service.errors import ImportRejectedError
from archive_service.journals.service import CHANGE_NAMES, import_files
from cli.context import actor, echo_json, open_archive
from cli.errors import exit_code_for, handle_errors


@click.command("import", help="Загрузить файлы журнала (.json или .xlsx). Каждый файл "
               "принимается целиком или не принимается вовсе; повторная загрузка ничего не меняет.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@handle_errors
def import_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Import each file in its own unit of work; report every rejection, exit non-zero if any."""
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
    for exc in rejected:
        click.secho(exc.message, fg="red", err=True)
    if rejected:
        sys.exit(exit_code_for(rejected[0]))
