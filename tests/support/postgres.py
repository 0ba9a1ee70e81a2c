"""Finding PostgreSQL for the tests, or starting a throwaway cluster.

Order: ``ARCHIVE_TEST_POSTGRES_URL``; the server this kind of machine runs on
127.0.0.1:5432 (trust auth, database ``test``); a throwaway cluster made with ``initdb``
in a temporary directory on a free loopback port. If none works, the PostgreSQL tests are
skipped with a loud message, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def reachable(url: str) -> bool:
    """Whether a PostgreSQL URL accepts connections."""
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


class Throwaway:
    """A PostgreSQL cluster in a temporary directory, stopped and removed at the end."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="archive-pg-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.prefix = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        self.user = "postgres" if self.prefix else getpass.getuser()
        self.url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Create and start the cluster; returns its URL."""
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("initdb/pg_ctl not found")
        data = self.dir / "data"
        subprocess.run([*self.prefix, initdb, "-D", str(data), "-A", "trust", "-U", self.user,
                        "--no-sync"], check=True, capture_output=True)
        subprocess.run([*self.prefix, pg_ctl, "-D", str(data), "-l", str(self.dir / "log"),
                        "-o", f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F", "-w", "start"],
                       check=True, capture_output=True)
        for _ in range(50):
            if reachable(self.url):
                return self.url
            time.sleep(0.2)
        raise RuntimeError("throwaway PostgreSQL did not start")

    def stop(self) -> None:
        """Stop and delete the cluster."""
        pg_ctl = _bin("pg_ctl")
        subprocess.run([*self.prefix, pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
