"""Benchmark: how fast the ``archive`` command answers, as a person at a shell waits for it.

Each command runs as a real process of the installed console script (interpreter start
included), ``--runs`` times; the median and the slowest wall-clock seconds are printed.
Goals from issue 29: ``archive --help`` and ``archive <group> --help`` ≤ 0.3 s, light commands
(list, status) ≤ 0.6 s. The light commands run on a fresh SQLite home holding the demo
school's first class, imported and snapshotted.

    .venv/bin/python bench/bench_cli.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import speed_line  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = shutil.which("archive", path=str(ROOT / ".venv" / "bin")) or "archive"

HELP = [["--help"], ["backup", "--help"], ["retention", "--help"], ["register", "--help"],
        ["sign", "--help"], ["close-period", "--help"]]
LIGHT = [["snapshot", "list"], ["close-status", "--list"], ["fixity", "status"],
         ["backup", "list"], ["jobs"], ["register", "list"], ["audit", "list", "--limit", "5"],
         ["retention", "rules"]]


def _run(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    result = subprocess.run([ARCHIVE, *args], env=env, capture_output=True, text=True)
    return time.perf_counter() - t0, result.returncode, result.stderr


def main() -> None:
    """Run the benchmark and print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    print(speed_line())
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_ACTOR": "Бенчмарк"}
        for key in ("ARCHIVE_DATABASE_URL", "ARCHIVE_STORAGE_URL"):
            env.pop(key, None)
        for setup in (["init"], ["demo-data", "--out", str(home / "demo"), "--no-xlsx"]):
            subprocess.run([ARCHIVE, *setup], env=env, check=True, capture_output=True)
        first = home / "demo" / "json" / "1А.json"
        for setup in (["import", str(first)],
                      ["snapshot", "create", "--period", "2025-2026/Q1", "--all"]):
            subprocess.run([ARCHIVE, *setup], env=env, check=True, capture_output=True)
        print(f"{'command':42} {'median s':>9} {'max s':>7}  exit  warnings")
        for group, goal in ((HELP, 0.3), (LIGHT, 0.6)):
            for command in group:
                _run(command, env)  # warm the file cache once
                runs = [_run(command, env) for _ in range(args.runs)]
                times = [t for t, _code, _err in runs]
                code = runs[-1][1]
                warned = any("warn" in err.lower() for _t, _c, err in runs)
                label = "archive " + " ".join(command)
                median = statistics.median(times)
                print(f"{label:42} {median:9.3f} {max(times):7.3f}  {code:4}  "
                      f"{'YES' if warned else 'no':8} (goal ≤ {goal} s: "
                      f"{'met' if median <= goal else 'NOT met'})")
    print(speed_line())


if __name__ == "__main__":
    main()
