"""Benchmark: CPU instructions the web application spends per request, counted by valgrind.

Wall-clock figures on a shared machine swing by a third within an hour; instruction counts
do not (callgrind counts the same for the same code and inputs whatever else runs). This runs
the Flask application in-process (Werkzeug's test client: no HTTP server, no load generator)
against the database ``bench/bench_web.py`` builds, logged in as the real school's secretary,
for each kind of request of that bench's mix, twice under ``valgrind --tool=callgrind``: once
with only the start-up and a warm-up of 30 requests, once with ``--requests`` more. The
difference divided by ``--requests`` is printed: instructions of the application process per
request (PostgreSQL's own work is not in it). About 4 minutes per kind.

    .venv/bin/python bench/bench_web.py --seconds 1   # once, builds the bench database
    .venv/bin/python bench/bench_web_instructions.py [--requests 30] [--kinds register document]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_web  # noqa: E402

WARM_UP = 30


def main() -> None:
    """Count, per kind of request, and print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--kinds", nargs="+", choices=bench_web.KINDS,
                    default=["register", "document"])
    ap.add_argument("--inner", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        _serve(args.inner[0], int(args.inner[1]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian package valgrind)")
    if not bench_web.database_exists(bench_web.environment()[0]):
        raise SystemExit("no bench database: run .venv/bin/python bench/bench_web.py first")
    for kind in args.kinds:
        base = _instructions(kind, 0)
        more = _instructions(kind, args.requests)
        print(f"{kind:10s} {(more - base) / args.requests / 1e6:7.2f} M instructions per "
              f"request ({args.requests} requests after {WARM_UP} warm-up)")


def _instructions(kind: str, requests: int) -> int:
    """Instructions callgrind counts for the whole inner process."""
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, __file__, "--inner", kind, str(requests)],
            capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"the run under valgrind failed:\n{run.stderr[-2000:]}")
    return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def _serve(kind: str, requests: int) -> None:
    """Inside valgrind: start the application, log in, warm up, then ``requests`` more."""
    _admin, url, _home, env = bench_web.environment()
    os.environ.update(env)
    from archive_service.app import create_app
    from archive_service.demo.signers import DEMO_PASSWORD

    app = create_app()
    docs, years = bench_web.documents_and_years(app.extensions["archive"])
    client = app.test_client()
    answer = client.post("/api/v1/login", json={"login": bench_web.secretary(url),
                                                "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.data
    rng = random.Random(7)  # the same paths in both runs
    for _ in range(WARM_UP):
        assert client.get(bench_web.path_for(kind, rng, docs, years)).status_code == 200
    for _ in range(requests):
        assert client.get(bench_web.path_for(kind, rng, docs, years)).status_code == 200


if __name__ == "__main__":
    main()
