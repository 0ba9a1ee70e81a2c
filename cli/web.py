"""``archive account add|grant`` and ``archive serve``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cli.context import actor, open_archive, secret_from_file
from cli.errors import handle_errors


@click.group(help="Учётные записи для входа в веб-интерфейс.")
def account() -> None:
    """Account commands."""


@account.command("add", help="Создать учётную запись (пароль для входа — из файла).")
@click.option("--login", required=True)
@click.option("--name", required=True, help="ФИО.")
@click.option("--role", "roles", multiple=True, required=True,
              help="director, deputy, secretary, administrator, teacher, class_leader:7А, "
                   "inspector (можно несколько).")
@click.option("--password-file", type=click.Path(path_type=Path), required=True)
@click.option("--school", "school_code", help="Код школы.")
@click.option("--school-name", help="Название школы, если её ещё нет в архиве (первый "
              "администратор новой школы, до первой загрузки журнала).")
@handle_errors
def account_add(login, name, roles, password_file, school_code, school_name) -> None:
    """Create an account."""
    from archive_service.accounts.service import create_account

    parsed = [(r.split(":", 1)[0], r.split(":", 1)[1] if ":" in r else "") for r in roles]
    create_account(open_archive(), school_code=school_code, login=login, full_name=name,
                   password=secret_from_file(password_file, "пароль"), roles=parsed,
                   actor=actor(), school_name=school_name)
    click.echo(f"Учётная запись «{login}» создана.")


@account.command("grant", help="Выдать проверяющему доступ к школе на время проверки.")
@click.option("--login", required=True)
@click.option("--school", "school_code", required=True)
@click.option("--year", default="", help="Учебный год (пусто — все годы).")
@click.option("--from", "starts", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "ends", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--basis", required=True, help="Основание: приказ/письмо, номер, дата.")
@handle_errors
def account_grant(login, school_code, year, starts, ends, basis) -> None:
    """Grant an inspection."""
    from archive_service.accounts.service import grant_inspection

    grant_inspection(open_archive(), login=login, school_code=school_code, year=year,
                     starts=starts.date(), ends=ends.date(), basis=basis, actor=actor())
    click.echo(f"Доступ выдан: {login}, школа {school_code}, {year or 'все годы'}, "
               f"{starts:%d.%m.%Y}–{ends:%d.%m.%Y}.")


@click.command(help="Запустить веб-интерфейс для разработки (только 127.0.0.1). В работе: "
                    "gunicorn 'archive_service.app:create_app()' за TLS-прокси.")
@click.option("--port", default=8000, show_default=True)
def serve(port: int) -> None:
    """Development server on loopback."""
    from archive_service.app import create_app
    from archive_service.demo.signers import DEMO_TSA_PASSPHRASE

    if not os.environ.get("ARCHIVE_TSA_PASSPHRASE"):
        click.echo("ARCHIVE_TSA_PASSPHRASE не задан: используется пароль службы штампов "
                   "демо-школы.", err=True)
        os.environ["ARCHIVE_TSA_PASSPHRASE"] = DEMO_TSA_PASSPHRASE
    os.environ.setdefault("ARCHIVE_INSECURE_COOKIES", "1")  # plain HTTP on loopback only
    from werkzeug.serving import WSGIRequestHandler, run_simple

    class QuietHandler(WSGIRequestHandler):
        """Says «Server: archive», not the versions of Werkzeug and Python."""

        def version_string(self) -> str:
            return "archive"

    app = create_app()
    click.echo(f"Веб-интерфейс: http://127.0.0.1:{port}/ (остановить: Ctrl+C)")
    run_simple("127.0.0.1", port, app, request_handler=QuietHandler, threaded=True)


