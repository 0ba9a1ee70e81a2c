"""Benchmark: the monthly timestamp renewal's look over a school's sealed copies.

Runs ``archive demo`` (the demo school, every copy signed and sealed) into a temporary
``ARCHIVE_HOME``, then times ``renew_timestamps`` with a window in which nothing is due:
the cost every monthly run pays for every sealed copy of the region just to find out that
nothing needs renewing. The first run after sealing and the runs after it are printed
apart, and a run with the schedule table (``archival_timestamp_state``) emptied, in which
every copy is read and parsed: what copies sealed before the table existed cost once, and
what each copy costs at its yearly re-check. Prints seconds per run and milliseconds per
sealed copy, and projects them to a region's sealed copies.

    .venv/bin/python bench/bench_renewal.py [--rounds 5] [--region-copies 3000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import speed_line  # noqa: E402

from archive_service.actors import Actor  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive  # noqa: E402
from archive_service.demo.service import run_demo  # noqa: E402
from archive_service.demo.signers import DEMO_TSA_PASSPHRASE  # noqa: E402
from archive_service.signatures.renewal import renew_timestamps  # noqa: E402


def main() -> None:
    """Run the benchmark and print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--region-copies", type=int, default=3_000_000,
                    help="sealed copies of a region to project to (1,000 schools x ~3,000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(Settings.from_env({"ARCHIVE_HOME": tmp}))
        t0 = time.perf_counter()
        run_demo(archive, out=Path(tmp) / "demo", seed=1, period_code="Y", actor=Actor("bench"),
                 with_xlsx=False, backup=False)
        print(f"demo school built and sealed in {time.perf_counter() - t0:.0f} s")
        print(speed_line())
        times, checked = [], 0
        for _ in range(args.rounds + 1):
            t0 = time.perf_counter()
            report = renew_timestamps(archive, school_code=None, within=dt.timedelta(0),
                                      tsa_passphrase=DEMO_TSA_PASSPHRASE, actor=Actor("bench"))
            times.append(time.perf_counter() - t0)
            checked = report.checked
            assert report.renewed == (), report
        from archive_service.signatures.models import ArchivalTimestampState

        with archive.unit_of_work() as uow:
            uow.session.query(ArchivalTimestampState).delete()
        t0 = time.perf_counter()
        renew_timestamps(archive, school_code=None, within=dt.timedelta(0),
                         tsa_passphrase=DEMO_TSA_PASSPHRASE, actor=Actor("bench"))
        unscheduled = time.perf_counter() - t0
        first, later = times[0], statistics.median(times[1:])
        print(f"sealed copies looked at: {checked}, renewed: 0 (nothing due)")
        print(f"  first run after sealing: {first:.3f} s ({first / checked * 1000:.2f} ms per copy)")
        print(f"  later runs (median of {args.rounds}): {later:.3f} s "
              f"({later / checked * 1000:.2f} ms per copy)")
        print(f"  with no schedule rows (every copy read): {unscheduled:.3f} s "
              f"({unscheduled / checked * 1000:.2f} ms per copy)")
        per_hour = args.region_copies / checked / 3600
        print(f"  projected to {args.region_copies:,} sealed copies: a monthly run "
              f"{later * per_hour:.2f} h of one core; reading every copy "
              f"{unscheduled * per_hour:.1f} h (once, and spread over the yearly re-checks)")
        print(speed_line())
        archive.dispose()


if __name__ == "__main__":
    main()
