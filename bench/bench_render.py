"""Benchmark: render the whole demo school (journal copies and summary sheets) as PDF/A.

For one quarter and for the year, with 1 and 2 worker processes, prints pages, seconds,
pages per second per core and peak memory (parent, and the largest worker). The issue's
target is at least 150 pages per second per core.

    .venv/bin/python bench/bench_render.py [--seed 1] [--periods Q1,Y] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import speed_line  # noqa: E402

from archive_service.actors import Actor  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive, upgrade  # noqa: E402
from archive_service.demo.generator import YEAR  # noqa: E402
from archive_service.demo.service import write_demo_data  # noqa: E402
from archive_service.journals.service import import_files  # noqa: E402
from archive_service.rendering.service import render_snapshots  # noqa: E402
from archive_service.snapshots.service import create_snapshots  # noqa: E402


def main() -> None:
    """Run the benchmark and print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--periods", default="Q1,Y")
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    actor = Actor("bench")
    with tempfile.TemporaryDirectory() as tmp:
        json_files, _ = write_demo_data(Path(tmp) / "demo", args.seed, xlsx=False)
        print(speed_line())
        for period in args.periods.split(","):
            for workers in (int(w) for w in args.workers.split(",")):
                home = Path(tmp) / f"{period}-{workers}"
                archive = Archive(Settings.from_env({"ARCHIVE_HOME": str(home)}))
                upgrade(archive.engine)
                list(import_files(archive, json_files, actor=actor))
                snaps = create_snapshots(archive, period=f"{YEAR}/{period}", class_name=None,
                                         school_code=None, actor=actor)
                t0 = time.perf_counter()
                outcomes = render_snapshots(archive, [s.snapshot.id for s in snaps],
                                            actor=actor, workers=workers)
                seconds = time.perf_counter() - t0
                pages = sum(d.pages for o in outcomes for d in o.documents)
                docs = sum(len(o.documents) for o in outcomes)
                parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                print(f"period {period:>2}, {workers} worker(s): {docs} documents, {pages} pages "
                      f"in {seconds:.2f} s = {pages / seconds:.0f} pages/s, "
                      f"{pages / seconds / workers:.0f} pages/s per core; peak RSS parent "
                      f"{parent:.0f} MB, largest worker {child:.0f} MB")
                archive.dispose()
        print(speed_line())


if __name__ == "__main__":
    main()
