"""Benchmark: import the full demo school and snapshot one period for every class.

Prints seconds per stage and the peak resident memory of the process. The target from the
spine issue is 10 s or less for import + snapshot of a whole school on a 2-core machine.

    .venv/bin/python bench/bench_import_snapshot.py [--seed 1] [--period Y] [--xlsx]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

With --postgres, a temporary database is created on that server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import speed_line  # noqa: E402

from archive_service.actors import Actor  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive, upgrade  # noqa: E402
from archive_service.demo.generator import YEAR  # noqa: E402
from archive_service.demo.service import write_demo_data  # noqa: E402
from archive_service.journals.service import import_files  # noqa: E402
from archive_service.snapshots.service import create_snapshots  # noqa: E402


def main() -> None:
    """Run the benchmark and print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--period", default="Y")
    ap.add_argument("--xlsx", action="store_true", help="import the spreadsheets instead of JSON")
    ap.add_argument("--postgres", help="admin URL of a PostgreSQL server (default: SQLite)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        json_files, xlsx_files = write_demo_data(home / "demo", args.seed, xlsx=args.xlsx)
        files = xlsx_files if args.xlsx else json_files
        t_gen = time.perf_counter() - t0
        env = {"ARCHIVE_HOME": str(home)}
        scratch = None
        if args.postgres:
            scratch = f"archive_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
            env["ARCHIVE_DATABASE_URL"] = sa.make_url(args.postgres).set(
                database=scratch).render_as_string(hide_password=False)
        archive = Archive(Settings.from_env(env))
        upgrade(archive.engine)
        actor = Actor("bench")
        print(speed_line())
        t1 = time.perf_counter()
        for outcome in import_files(archive, files, actor=actor):
            if not hasattr(outcome, "changed"):
                raise SystemExit(f"import failed: {outcome}")
        t_import = time.perf_counter() - t1
        t2 = time.perf_counter()
        outcomes = create_snapshots(archive, period=f"{YEAR}/{args.period}", class_name=None,
                                    school_code=None, actor=actor)
        t_snap = time.perf_counter() - t2
        size = sum(o.snapshot.size for o in outcomes)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"database:            {archive.engine.url.get_backend_name()}")
        print(f"input:               {len(files)} {'xlsx' if args.xlsx else 'json'} files "
              f"(generated in {t_gen:.2f} s, not counted)")
        print(f"import:              {t_import:.2f} s")
        print(f"snapshot {args.period:>2}:         {t_snap:.2f} s for {len(outcomes)} classes "
              f"({size / 1e6:.1f} MB canonical JSON)")
        print(f"import + snapshot:   {t_import + t_snap:.2f} s")
        print(f"peak RSS:            {peak_mb:.0f} MB")
        print(speed_line())
        archive.dispose()
        if scratch:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE "{scratch}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
