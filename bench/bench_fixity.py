"""Benchmark: a full fixity pass over a generated region beside plain ``sha256sum``.

Generates a region-sized archive on the embedded defaults (SQLite + local files): schools x
classes, each class with its year snapshot (100 KB), journal copy (300 KB) and summary
sheet (60 KB) stored as real objects whose records carry their SHA-256. Then, alternating,
``archive fixity run --share 100`` (in process: every item re-read, re-hashed, recorded,
plus the audit chains) and ``sha256sum`` over the very same files (one process, through
xargs), with the files in the page cache for both. Prints objects and MB per second and the
ratio. Target (fixity issue): ours within 1.5x of sha256sum.

    .venv/bin/python bench/bench_fixity.py [--schools 100] [--classes 25] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import speed_line  # noqa: E402

from archive_service.actors import Actor  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive, upgrade  # noqa: E402
from archive_service.fixity.service import run_fixity  # noqa: E402

SIZES = {"snapshot": 100_000, "journal": 300_000, "summary": 60_000}
NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def generate(archive: Archive, schools: int, classes: int) -> list[Path]:
    """Rows through the driver, objects through the storage; returns the object files."""
    from archive_service.storage.base import content_key

    conn = archive.engine.raw_connection()
    cur = conn.cursor()
    files = []
    sid = did = cid = 0
    with archive.storage.batch():
        for s in range(1, schools + 1):
            cur.execute("INSERT INTO school (id, code, name, source_system, settings) "
                        "VALUES (?, ?, ?, 'bench', '{}')", (s, f"S{s:04d}", f"Школа № {s}"))
            cur.execute("INSERT INTO academic_year (id, school_id, label, start_date, end_date,"
                        " dates_given) VALUES (?, ?, '2025-2026', '2025-09-01', '2026-05-26', 1)",
                        (s, s))
            cur.execute("INSERT INTO period (id, academic_year_id, code, kind, name, start_date,"
                        " end_date) VALUES (?, ?, 'Y', 'year', 'год', '2025-09-01', "
                        "'2026-05-26')", (s, s))
            for c in range(classes):
                cid += 1
                cur.execute("INSERT INTO school_class (id, school_id, academic_year_id, name, "
                            "grade, period_scheme) VALUES (?, ?, ?, ?, 5, 'quarters')",
                            (cid, s, s, f"5-{c}"))
                blobs = {kind: os.urandom(size) for kind, size in SIZES.items()}
                keys = {kind: archive.storage.put(data) for kind, data in blobs.items()}
                sums = {kind: hashlib.sha256(data).hexdigest() for kind, data in blobs.items()}
                files += [archive.storage.root / k for k in keys.values()]
                sid += 1
                cur.execute("INSERT INTO period_snapshot (id, school_id, school_class_id, "
                            "period_id, version, sha256, size, storage_key, created_at, "
                            "created_by) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 'bench')",
                            (sid, s, cid, s, sums["snapshot"], SIZES["snapshot"],
                             keys["snapshot"], NOW.isoformat(" ")))
                for kind in ("journal", "summary"):
                    did += 1
                    cur.execute("INSERT INTO rendered_document (id, school_id, snapshot_id, "
                                "kind, renderer_version, number, sha256, size, storage_key, "
                                "pages, sheets, steps, created_at, created_by) VALUES "
                                "(?, ?, ?, ?, 2, ?, ?, ?, ?, 40, 20, '[]', ?, 'bench')",
                                (did, s, sid, kind, f"D{did}", sums[kind], SIZES[kind],
                                 keys[kind], NOW.isoformat(" ")))
    conn.commit()
    conn.close()
    assert all(content_key(p.name) for p in files)
    return files


def main() -> None:
    """Generate, time both in alternation, print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=100)
    ap.add_argument("--classes", type=int, default=25)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        archive = Archive(Settings.from_env({"ARCHIVE_HOME": str(home)}))
        upgrade(archive.engine)
        t0 = time.perf_counter()
        files = generate(archive, args.schools, args.classes)
        size = sum(p.stat().st_size for p in files)
        print(f"generated {len(files):,} objects, {size / 1e6:,.0f} MB ({args.schools} schools "
              f"x {args.classes} classes x snapshot + journal + summary) in "
              f"{time.perf_counter() - t0:.1f} s")
        print(speed_line())
        listing = home / "files.txt"
        listing.write_bytes(b"\0".join(str(p).encode() for p in files))
        ours, theirs, parallel = [], [], []
        cores = os.cpu_count() or 1
        for _ in range(args.rounds):
            t = time.perf_counter()
            subprocess.run(f"xargs -0 sha256sum < {listing} > /dev/null", shell=True,
                           check=True)
            theirs.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(f"xargs -0 -P {cores} -n 200 sha256sum < {listing} > /dev/null",
                           shell=True, check=True)
            parallel.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = run_fixity(archive, actor=Actor("bench"), share=100)
            ours.append(time.perf_counter() - t)
            assert report.ok and report.items == len(files), report.problems[:3]
        o, s = statistics.median(ours), statistics.median(theirs)
        print(f"{'':32} {'seconds':>8} {'objects/s':>10} {'MB/s':>8}")
        print(f"{'archive fixity run --share 100':32} {o:8.2f} {len(files) / o:10,.0f} "
              f"{size / 1e6 / o:8,.0f}")
        print(f"{'sha256sum (same files)':32} {s:8.2f} {len(files) / s:10,.0f} "
              f"{size / 1e6 / s:8,.0f}")
        p = statistics.median(parallel)
        print(f"{f'sha256sum, {cores} processes':32} {p:8.2f} {len(files) / p:10,.0f} "
              f"{size / 1e6 / p:8,.0f}")
        print(f"ratio ours / sha256sum: {o / s:.2f}, ours / {cores} sha256sum processes: "
              f"{o / p:.2f} (target: <= 1.5); medians of {args.rounds} alternating rounds, "
              "files in the page cache for all")
        print(speed_line())
        archive.dispose()


if __name__ == "__main__":
    main()
