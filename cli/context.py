"""Shared CLI plumbing: the configured archive and the acting person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from archive_service.actors import Actor
from archive_service.config import Settings

if TYPE_CHECKING:
    from archive_service.db import Archive


def open_archive() -> Archive:
    """The archive configured by the environment (ARCHIVE_HOME, ARCHIVE_DATABASE_URL…).

    Imported here, not at the top: every command module imports this one, and ``--help``
    must not load SQLAlchemy (issue 29: the CLI answers at once)."""
    from archive_service.db import Archive

    return Archive(Settings.from_env())


def actor() -> Actor:
    """Who is running this command."""
    return Actor.from_env()


def echo_json(data: Any) -> None:
    """Print machine-readable output."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def secret_from_file(path: Path, what: str) -> str:
    """The first line of a file holding a passphrase (never asked on the command line)."""
    from archive_service.errors import ConfigError

    data = read_file(path, what)
    try:
        return data.decode("utf-8").splitlines()[0].strip()
    except (IndexError, UnicodeDecodeError):
        raise ConfigError(f"Не удалось прочитать {what} из файла {path}: файл пуст или не "
                          "в кодировке UTF-8.") from None


def read_file(path: Path, what: str) -> bytes:
    """A file's bytes, or a ConfigError in Russian saying which file and why."""
    from archive_service.errors import ConfigError

    try:
        return path.read_bytes()
    except FileNotFoundError:
        reason = "такого файла нет"
    except IsADirectoryError:
        reason = "это папка, а не файл"
    except PermissionError:
        reason = "нет прав на чтение"
    except OSError as exc:
        reason = f"ошибка чтения (код {exc.errno})"
    raise ConfigError(f"Не удалось прочитать {what} из файла {path}: {reason}.")


def tsa_passphrase() -> str:
    """The school TSA key's passphrase (the server secret ``ARCHIVE_TSA_PASSPHRASE``)."""
    import os

    from archive_service.errors import ConfigError

    value = os.environ.get("ARCHIVE_TSA_PASSPHRASE")
    if not value:
        raise ConfigError("Не задан ARCHIVE_TSA_PASSPHRASE — пароль ключа службы штампов "
                          "времени школы (задаётся администратором сервера).")
    return value
