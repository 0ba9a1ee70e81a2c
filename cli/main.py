"""Entry point of the ``archive`` console script.

The commands load lazily (click's lazy group pattern): ``archive --help`` and
``archive <group> --help`` import only click and the command's own module, and each command
module imports its services inside the commands, so the CLI answers at once (issue 29:
``--help`` ≤ 0.3 s). The short help of each command is written here beside where it is
loaded from; tests/cli/test_lazy_cli.py keeps it equal to the command's own.
"""

from __future__ import annotations

import importlib
import warnings

import click
import click.utils

from cli import russian

# pyHanko imports DSA from cryptography, which warns that DSA is deprecated: the archive
# never uses DSA, and no command may print warning text a secretary cannot act on.
warnings.filterwarnings("ignore", message=r"(?s).*DSA is deprecated")

russian.install()

#: command name -> (module, attribute, short help shown by ``archive --help``).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "account": ("cli.web", "account",
        "Учётные записи для входа в веб-интерфейс."),
    "attendance-codes": ("cli.imports", "attendance_codes",
        "Написания кодов посещаемости, которые читает загрузка журнала: встроенные (Н, НБ, "
        "Н/Б, Б, УП, ОП, О…) и свои написания школы."),
    "audit": ("cli.audit", "audit",
        "Журнал аудита: кто, когда и что сделал или просмотрел."),
    "backup": ("cli.backup", "backup",
        "Зашифрованные резервные копии, которые открывает только директор (или ключ "
        "восстановления из сейфа), и журнал пользования ими."),
    "chain": ("cli.signatures", "chain",
        "Цепочка подписей документа: что подписано, чья очередь."),
    "check": ("cli.check", "check",
        "Проверить полноту журнала за период (отметки, темы, домашние задания, итоговые "
        "отметки, пропуски)."),
    "close-period": ("cli.closing", "close_period",
        "Закрыть период: загрузка из источника школы, проверка полноты, срезы, копии журналов"
        " и сводные ведомости PDF/A, открытие цепочек подписей, резервная копия."),
    "close-status": ("cli.closing", "close_status",
        "Ход и итог закрытия периода (по умолчанию — последнего)."),
    "demo": ("cli.demo", "demo",
        "Главный сценарий на встроенных настройках: демо-школа, загрузка, проверка, срезы, "
        "PDF/A, подписи."),
    "demo-data": ("cli.demo", "demo_data",
        "Записать демонстрационную школу (JSON и книги Excel)."),
    "document": ("cli.render", "document",
        "Архивные документы."),
    "export-package": ("cli.inspection", "export_package_command",
        "Архивный пакет BagIt (SHA-512) за учебный год школы: документы, срезы, протоколы, "
        "реестр, сертификаты."),
    "fixity": ("cli.fixity", "fixity",
        "Проверка целостности хранимых объектов (по расписанию: ежедневно)."),
    "import": ("cli.imports", "import_command",
        "Загрузить файлы журнала (.json, .xlsx, .xls, .ods, .csv или таблица HTML, "
        "сохранённая как .xls)."),
    "init": ("cli.setup", "init",
        "Создать или обновить базу данных архива (миграции до последней версии)."),
    "jobs": ("cli.closing", "jobs",
        "Задания очереди; по умолчанию — список отказов (задания, исчерпавшие повторы)."),
    "pki": ("cli.signatures", "pki",
        "Инфраструктура ключей школы."),
    "register": ("cli.register", "register",
        "Реестр бумажных копий ЭЖ (ведёт секретарь)."),
    "render": ("cli.render", "render",
        "Сформировать PDF/A-документы (копию журнала и сводную ведомость) из срезов."),
    "report": ("cli.inspection", "report_command",
        "Протокол проверки документа (PDF/A; --json — то же в JSON)."),
    "retention": ("cli.retention", "retention",
        "Сроки хранения (5 и 75 лет), акты об уничтожении, удержания."),
    "return": ("cli.signatures", "return_",
        "Вернуть документ на исправление с указанием причины."),
    "school": ("cli.setup", "school",
        "Настройки школы."),
    "search": ("cli.inspection", "search_command",
        "Найти архивные журналы: по школе, году, периоду, классу, виду, номеру по реестру или"
        " ученику (во всех классах и годах)."),
    "serve": ("cli.web", "serve",
        "Запустить веб-интерфейс для разработки (только 127.0.0.1)."),
    "sign": ("cli.signatures", "sign",
        "Подписать документы: все поля этого пользователя на текущем шаге."),
    "snapshot": ("cli.snapshot", "snapshot",
        "Неизменяемые срезы журнала за период."),
    "timestamps": ("cli.signatures", "timestamps",
        "Штампы времени архивных копий."),
    "user": ("cli.signatures", "user",
        "Пользователи, подписывающие документы."),
    "verify": ("cli.signatures", "verify",
        "Проверить подписи документа архива или выгруженного PDF (с --root)."),
    "worker": ("cli.closing", "worker",
        "Запустить обработчик заданий очереди (PostgreSQL): закрытие периодов, ежедневные "
        "резервная копия и проверка целостности."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when one is run or asked for help."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy:
            return None
        module, attribute, _short = self.lazy[name]
        command = getattr(importlib.import_module(module), attribute)
        russian.localise(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table: listing commands imports none of them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, click.utils.make_default_short_help(self.lazy[n][2], limit))
                for n in names]
        with formatter.section(russian.MESSAGES["Commands"]):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS,
             help="Архив электронных классных журналов: срезы, проверки, копии, хранение.")
@click.version_option(package_name="school-journal-archive", message="%(prog)s, версия %(version)s")
def main() -> None:
    """The ``archive`` command group."""


russian.localise(main)

if __name__ == "__main__":  # pragma: no cover
    main()
