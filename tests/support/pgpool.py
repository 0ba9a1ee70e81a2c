"""Test databases on PostgreSQL made one test ahead, in a background thread.

A ``CREATE DATABASE … TEMPLATE`` costs 0.1-0.4 s of waiting on the server's disk and a
``DROP DATABASE`` another 0.05 s; a few hundred tests each wait for both, most of them twice
(the fresh database, then the prepared state's copy: tests/support/prepared.py). The
pool makes the next copy of a template while the current test runs and drops the used ones
behind it, so a test takes a database that is already there. One thread per pool does the
work in order; tests of one pytest process run one after another, so one spare suffices.

A database taken is the test's: the pool hands it over by name and drops it when given back.
``take(name=…)`` gives the spare a chosen name (a rename, which is immediate): the prepared
states keep the name of the test's database, which its archive's engine already holds.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

import sqlalchemy as sa


class DatabasePool:
    """Copies of one template database, one kept ready ahead."""

    def __init__(self, admin_url: str, template: str, prefix: str) -> None:
        self._admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._template = template
        self._prefix = prefix
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"pgpool-{prefix}")
        self._lock = threading.Lock()
        self._spare: Future[str] | None = self._thread.submit(self._create)

    def _execute(self, statement: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(sa.text(statement))

    def _create(self) -> str:
        name = f"{self._prefix}_{uuid.uuid4().hex[:10]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    def take(self, *, name: str | None = None) -> str:
        """A fresh copy of the template (named ``name`` if given; nothing may be connected to
        an existing database of that name: it is dropped first)."""
        with self._lock:
            spare = self._spare or self._thread.submit(self._create)
            self._spare = None
            made = spare.result()  # a failure to create surfaces here, in the test's setup
            self._spare = self._thread.submit(self._create)
        if name is None:
            return made
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._execute(f'ALTER DATABASE "{made}" RENAME TO "{name}"')
        return name

    def give_back(self, name: str) -> None:
        """Drop a database taken from this pool (in the background)."""
        self._thread.submit(self._execute, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop the spare, finish every pending drop and stop the thread."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            try:
                self.give_back(spare.result())
            except sa.exc.SQLAlchemyError:
                pass  # it was never made: nothing to drop
        self._thread.shutdown(wait=True)
        self._admin.dispose()
