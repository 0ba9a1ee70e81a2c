"""Domain errors to exit codes: the one place the CLI decides how an error ends a run."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import click

from archive_service import errors as e

#: Exit codes (documented in the README). 2 stays click's own usage error.
EXIT_CODES: list[tuple[type[e.ArchiveError], int]] = [
    (e.ImportRejectedError, 3),
    (e.NotFoundError, 4),
    (e.SnapshotBlockedError, 5),
    (e.SnapshotBatchError, 5),
    (e.SigningBatchError, 5),
    (e.RenewalBatchError, 5),
    (e.SnapshotChangedError, 5),
    (e.ConflictError, 5),
    (e.PermissionDeniedError, 6),
    (e.SignatureRefusedError, 12),
    (e.IntegrityError, 7),
    (e.StorageError, 8),
    (e.ConfigError, 9),
    (e.ArchiveError, 1),
]
EXIT_PROBLEMS_FOUND = 10  # a verification or check found problems
EXIT_DATABASE = 11  # the database is unreachable or not migrated


def exit_code_for(error: e.ArchiveError) -> int:
    """The exit code of a domain error."""
    return next(code for cls, code in EXIT_CODES if isinstance(error, cls))


def handle_errors(fn: Callable) -> Callable:
    """Turn domain errors into a Russian message on stderr and the mapped exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import sqlalchemy.exc  # at run time only: ``--help`` loads no SQLAlchemy

        try:
            return fn(*args, **kwargs)
        except e.ArchiveError as exc:
            click.secho(f"Ошибка: {exc.message}", fg="red", err=True)
            sys.exit(exit_code_for(exc))
        except sqlalchemy.exc.DBAPIError as exc:
            # Not a domain error: the database is unreachable or has an older schema.
            click.secho("Ошибка базы данных: она недоступна или её схема устарела — выполните "
                        f"«archive init». Подробности: {exc.orig}", fg="red", err=True)
            sys.exit(EXIT_DATABASE)

    return wrapper
