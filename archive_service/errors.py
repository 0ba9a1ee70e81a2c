"""The ArchiveError tree: one base per subsystem.

Every message is written for a school secretary: it names the file, sheet, row, column,
class, period or step that needs attention. HTTP statuses and CLI exit codes are assigned
in exactly one place each (``archive_service.app`` and ``cli.errors``).
"""

from __future__ import annotations

from dataclasses import dataclass


class ArchiveError(Exception):
    """Base of every domain error of the service."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PartlyDone:
    """Mixin of the errors of a batch in which some items failed after the others were done:
    both lists kept (``done``, ``failures``: name and error), and one message, ``HEAD``
    formatted with the counts ``{done}`` and ``{failed}``, then a line per failure."""

    HEAD = ""

    def __init__(self, done: list, failures: list[tuple[str, ArchiveError]]) -> None:
        self.done = done
        self.failures = failures
        lines = "\n".join(f"  - {name}: {error.message}" for name, error in failures)
        super().__init__(self.HEAD.format(done=len(done), failed=len(failures)) + "\n" + lines)


class ConfigError(ArchiveError):
    """The service is configured wrongly (environment variables, URLs)."""


class NotFoundError(ArchiveError):
    """A school, class, period or snapshot the user named does not exist."""


class ConflictError(ArchiveError):
    """The request contradicts what is already recorded."""


class PermissionDeniedError(ArchiveError):
    """The actor may not do this."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, with where it is.

    ``at`` is a location a person can find: «лист «Алгебра», ячейка D5» for a
    spreadsheet, «classes[0].courses[2].lessons[5]» for JSON.
    """

    file: str
    message: str
    at: str | None = None

    def __str__(self) -> str:
        return f"{self.file}, {self.at}: {self.message}" if self.at else f"{self.file}: {self.message}"


class ImportRejectedError(ArchiveError):
    """An import file was rejected; nothing of it was stored."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  … и ещё {len(problems) - 50}" if len(problems) > 50 else ""
        super().__init__(
            f"Файл {file} не загружен: найдено ошибок: {len(problems)}. "
            f"Ничего из этого файла не сохранено. Исправьте и загрузите снова.\n{shown}{more}"
        )


class SnapshotError(ArchiveError):
    """Base for period snapshot errors."""


class SnapshotBlockedError(SnapshotError):
    """The school requires a complete journal before a snapshot, and it is not complete."""


class SnapshotChangedError(SnapshotError):
    """The journal changed since the last snapshot; a new version needs a reason."""


class SnapshotBatchError(PartlyDone, SnapshotError):
    """Some classes of a multi-class snapshot request failed; the others were snapshotted."""

    HEAD = ("Срезы созданы не для всех классов: готово {done}, не создано {failed}. Остальные "
            "классы обработаны; исправьте и повторите для этих:")


class SignatureRefusedError(ArchiveError):
    """A signature was refused: wrong passphrase, certificate not valid, field problem."""


class SigningBatchError(PartlyDone, ArchiveError):
    """Some documents of one signing action failed; the others were signed."""

    HEAD = ("Подписаны не все документы: подписано {done}, не подписано {failed}. Остальные "
            "подписаны; для этих повторите после исправления:")


class RenewalBatchError(PartlyDone, ArchiveError):
    """Some copies of a timestamp renewal run failed; the others were renewed."""

    HEAD = ("Штамп времени продлён не у всех копий: продлено {done}, не продлено {failed}. "
            "Исправьте и повторите (продлённые копии повтор не затронет):")


class IntegrityError(ArchiveError):
    """Stored bytes no longer match their recorded hash (tampering or corruption)."""


class StorageError(ArchiveError):
    """Base for object storage errors."""


class StorageReadOnlyError(StorageError):
    """An attempt to overwrite or change an immutable stored object."""


class StorageObjectMissingError(StorageError):
    """A stored object that the records point to is not in storage."""


def check_text(value: str, field: str) -> str:
    """Refuse text a database cannot store (NUL; PostgreSQL rejects it with an error the
    person could not act on)."""
    if "\x00" in value:
        raise ArchiveError(f"Поле «{field}» содержит недопустимый символ (NUL); введите текст "
                           "заново.")
    return value
