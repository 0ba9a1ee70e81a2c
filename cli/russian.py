"""Click's own messages in Russian.

Everything a user reads must be in Russian. Click marks its messages for gettext but ships
no Russian catalog, and its modules bind ``gettext`` at import time; so the CLI rebinds
that name in click's modules to a lookup in the table below (unknown messages pass through).
"""

from __future__ import annotations

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

MESSAGES = {
    "%(prog)s, version %(version)s": "%(prog)s, версия %(version)s",
    "Aborted!": "Прервано.",
    "Commands": "Команды",
    "Options": "Параметры",
    "Positional arguments": "Позиционные аргументы",
    "Usage:": "Использование:",
    "Show this message and exit.": "Показать эту справку и выйти.",
    "Show the version and exit.": "Показать версию и выйти.",
    "Error: {message}": "Ошибка: {message}",
    "Try '{command} {option}' for help.": "Справка: «{command} {option}».",
    "Missing argument": "Не указан аргумент",
    "Missing option": "Не указан параметр",
    "Missing parameter": "Не указан параметр",
    "Missing command.": "Не указана команда.",
    "Missing {param_type}": "Не указан {param_type}",
    "Missing parameter: {param_name}": "Не указан параметр: {param_name}",
    "No such command {name!r}.": "Нет такой команды {name!r}.",
    "No such option {name!r}.": "Нет такого параметра {name!r}.",
    "Option {name!r} does not take a value.": "Параметр {name!r} не принимает значения.",
    "Invalid value for {param_hint}: {message}": "Недопустимое значение {param_hint}: {message}",
    "Invalid value: {message}": "Недопустимое значение: {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} — не {number_type}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} не существует.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} — это папка.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} недоступен для чтения.",
    "Could not open file {filename!r}: {message}": "Не удалось открыть файл {filename!r}: {message}",
    "default: {default}": "по умолчанию: {default}",
    "file": "файл",
    "directory": "папка",
    "path": "путь",
    "integer": "целое число",
    "required": "обязательный",
}


def _translate(message: str) -> str:
    return MESSAGES.get(message, message)


def install() -> None:
    """Make click speak Russian."""
    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.termui, click.types):
        if hasattr(module, "_"):
            module._ = _translate


def localise(command: click.Command) -> None:
    """Russian metavariables in the usage lines of a command tree."""
    command.options_metavar = "[ПАРАМЕТРЫ]"
    if isinstance(command, click.Group):
        command.subcommand_metavar = "КОМАНДА [АРГУМЕНТЫ]..."
        for sub in command.commands.values():
            localise(sub)
    for param in command.params:
        if isinstance(param, click.Option) and param.metavar is None and not param.is_flag \
                and not param.count:
            param.metavar = {"integer": "ЧИСЛО", "integer range": "ЧИСЛО", "float": "ЧИСЛО",
                             "float range": "ЧИСЛО", "path": "ПУТЬ"}.get(param.type.name,
                                                                        "ТЕКСТ")
        if isinstance(param, click.Argument) and param.metavar is None:
            param.metavar = {"files": "ФАЙЛ...", "code": "КОД_ШКОЛЫ",
                             "snapshot_id": "НОМЕР_СРЕЗА",
                             "document_id": "НОМЕР_ДОКУМЕНТА"}.get(param.name, param.name.upper())
