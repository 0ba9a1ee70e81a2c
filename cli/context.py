"""Shared CLI plumbing: the configured archive and the acting person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from archive_service.actors import Actor
from archive_service.config import Settings
from archive_service.db import Archive


def open_archive() -> Archive:
    """The archive configured by the environment (ARCHIVE_HOME, ARCHIVE_DATABASE_URL…)."""
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

    try:
        return path.read_text("utf-8").splitlines()[0].strip()
    except (OSError, IndexError, UnicodeDecodeError):
        raise ConfigError(f"Не удалось прочитать {what} из файла {path}.") from None
