"""Benchmark: closing a period for a generated region with 1, 2 and 4 queue workers.

Generates a region (``--schools`` schools x ``--classes`` classes of the demo generator, full
journals) as export folders, then, each on a fresh PostgreSQL database and fresh storage:

- ``inline``: ``archive close-period --inline`` — the same steps in one process, no queue;
- ``N workers``: N ``archive worker`` processes started and idle first, then
  ``archive close-period --no-wait`` queues the work and the bench polls the run.

Each close imports every school's exports, checks, snapshots and renders every class (no
backup keys: the backup is skipped, the same in every mode). Time is read from the run's own
rows: from the run's creation to the last class finished (classes per second) and to the
run's end. Prints classes per second per mode, the speed-up over one worker, the queue's
overhead (1 worker against inline) and the projection to a region of 1,000 schools.

    .venv/bin/python bench/bench_close.py [--schools 8] [--classes 6] [--workers 1,2,4]
        [--storage local|s3]

Targets (region issue): throughput grows close to linearly with workers until the cores
run out; the queue adds under 10 % over the same work in one process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import speed_line  # noqa: E402

from archive_service.closing.models import CloseClass, CloseRun  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive  # noqa: E402
from archive_service.demo.writers import write_region  # noqa: E402

ARCHIVE = str(Path(sys.executable).with_name("archive"))
PG = os.environ.get("ARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PERIOD = "2025-2026/Q1"
#: Classes that study by quarters (Q1 applies to them), in the demo generator's grades.
QUARTER_CLASSES = ["1А", "2А", "3А", "4А", "5А", "6А", "7А", "8А", "9А", "1Б", "2Б", "3Б",
                   "4Б", "5Б", "6Б", "7Б", "8Б", "9Б", "5В", "7В", "9В"]


def _admin() -> sa.Engine:
    return sa.create_engine(PG, isolation_level="AUTOCOMMIT")


def _fresh(work: Path, name: str, storage: str, exports: Path) -> dict[str, str]:
    db = f"bench_close_{name}_{uuid.uuid4().hex[:6]}"
    with _admin().connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
    home = work / name
    url = sa.make_url(PG).set(database=db).render_as_string(hide_password=False)
    if storage == "s3":
        storage_url = f"s3://bench-{uuid.uuid4().hex[:8]}/objects?endpoint={os.environ['BENCH_S3']}"
        from archive_service.backups.service import open_target

        open_target(storage_url).ensure_bucket(object_lock=True)
    else:
        storage_url = f"file://{home / 'objects'}"
    env = {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": url,
           "ARCHIVE_STORAGE_URL": storage_url, "ARCHIVE_IMPORT_ROOT": str(exports),
           "ARCHIVE_ACTOR": "bench", "ARCHIVE_WORKER_HEARTBEAT_SECONDS": "2"}
    subprocess.run([ARCHIVE, "init"], env=env, check=True, capture_output=True)
    env["BENCH_DB"] = db
    return env


def _drop(env: dict[str, str]) -> None:
    with _admin().connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{env["BENCH_DB"]}" WITH (FORCE)'))


def _timings(env: dict[str, str]) -> tuple[int, float, float, float]:
    """(classes done, seconds to the last class, seconds to the run's end, summed class
    task seconds) of the only run."""
    archive = Archive(Settings.from_env(env))
    with archive.sessions() as s:
        run = s.scalars(sa.select(CloseRun)).one()
        rows = s.scalars(sa.select(CloseClass).where(CloseClass.run_id == run.id)).all()
    archive.dispose()
    done = [r for r in rows if r.status == "done"]
    last = max(r.finished_at for r in done)
    busy = sum((r.finished_at - r.started_at).total_seconds() for r in done)
    return (len(done), (last - run.created_at).total_seconds(),
            (run.finished_at - run.created_at).total_seconds(), busy)


def _inline(env: dict[str, str]) -> tuple[int, float, float, float]:
    out = subprocess.run([ARCHIVE, "close-period", "--period", PERIOD, "--all-schools",
                          "--inline"], env=env, capture_output=True, text=True)
    assert out.returncode in (0, 10), out.stderr
    return _timings(env)


def _queued(env: dict[str, str], workers: int) -> tuple[int, float, float, float]:
    procs = [subprocess.Popen([ARCHIVE, "worker", "--name", f"bench-{i}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i in range(workers)]
    archive = Archive(Settings.from_env(env))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every worker registered and idle
            with archive.engine.connect() as conn:
                alive = conn.execute(sa.text("SELECT count(*) FROM procrastinate_workers")
                                     ).scalar()
            if alive >= workers:
                break
            time.sleep(0.2)
        out = subprocess.run([ARCHIVE, "close-period", "--period", PERIOD, "--all-schools",
                              "--no-wait"], env=env, capture_output=True, text=True)
        assert out.returncode in (0, 10), out.stderr
        while True:
            with archive.sessions() as s:
                status = s.scalars(sa.select(CloseRun.status)).one()
            if status != "running":
                break
            time.sleep(0.2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        archive.dispose()
    return _timings(env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=8)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--storage", choices=["local", "s3"], default="local")
    parser.add_argument("--region-classes", type=int, default=21,
                        help="Classes per school that close a quarter in the projection.")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-close-"))
    try:
        t = time.perf_counter()
        exports = work / "exports"
        write_region(exports, schools=args.schools, classes=QUARTER_CLASSES[:args.classes])
        print(f"region: {args.schools} schools x {args.classes} classes generated in "
              f"{time.perf_counter() - t:.1f} s; {os.cpu_count()} cores; storage "
              f"{args.storage}; PostgreSQL {sa.make_url(PG).host}")
        print(speed_line())
        results: dict[str, tuple[int, float, float, float]] = {}
        for mode in ["inline", *counts]:
            env = _fresh(work, str(mode), args.storage, exports)
            try:
                results[str(mode)] = _inline(env) if mode == "inline" else _queued(env, mode)
            finally:
                _drop(env)
            n, to_last, to_end, busy = results[str(mode)]
            label = "inline (one process)" if mode == "inline" else f"{mode} worker(s)"
            print(f"{label:22} classes {n:4}  to last class {to_last:6.2f} s  "
                  f"{n / to_last:6.2f} classes/s  run end {to_end:6.2f} s  "
                  f"class tasks {busy / n:5.2f} s each")
        base = results["inline"][1]
        one = results.get("1")
        if one:
            print(f"queue overhead, 1 worker vs inline: {100 * (one[1] / base - 1):+.1f} % "
                  f"({one[1]:.2f} s vs {base:.2f} s)")
            for mode in counts:
                n, to_last = results[str(mode)][:2]
                print(f"speed-up with {mode} worker(s): {one[1] / to_last:.2f}x "
                      f"(linear would be {mode}x; cores {os.cpu_count()})")
        best = max(counts, key=lambda m: results[str(m)][0] / results[str(m)][1])
        rate = results[str(best)][0] / results[str(best)][1]
        per_core = rate / min(best, os.cpu_count() or 1)
        total = 1000 * args.region_classes
        print(f"projection, 1,000 schools x {args.region_classes} classes = {total:,} classes: "
              f"this machine ({best} workers, {rate:.2f} classes/s) {total / rate / 3600:.1f} h;"
              f" at {per_core:.2f} classes/s per core, 16 cores "
              f"{total / (per_core * 16) / 3600:.1f} h, 64 cores "
              f"{total / (per_core * 64) / 3600:.2f} h")
        print(speed_line())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
