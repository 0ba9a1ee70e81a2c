"""Benchmark: the retention plan over a million archived items on PostgreSQL.

Generates a region-sized archive straight into a scratch PostgreSQL database with COPY
(schools x 10 academic years x classes x 5 periods x journal copy + summary sheet; every
year summary sealed and verified, one hold per 50 schools), then plans retention in a fresh
process and prints seconds, items per second, decisions and the peak resident memory of
that process. Target (retention issue): 5 s or less for 1,000,000 items.

    .venv/bin/python bench/bench_retention.py [--schools 400] [--classes 25] [--as-of 2040-01-01]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import speed_line  # noqa: E402

from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive, upgrade  # noqa: E402

PERIODS = [("Q1", "quarter", 9, 1, 10, 31), ("Q2", "quarter", 11, 1, 12, 28),
           ("Q3", "quarter", 1, 9, 3, 20), ("Q4", "quarter", 3, 30, 5, 26),
           ("Y", "year", 9, 1, 5, 26)]
NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def _copy(conn, table: str, cols: list[str], rows) -> None:  # noqa: ANN001
    driver = conn.connection.driver_connection
    with driver.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def generate(url: str, schools: int, classes: int, years: int) -> int:
    """Fill the database; returns the number of archived documents."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        _copy(conn, "school", ["id", "code", "name", "source_system", "settings"],
              ((s, f"S{s:04d}", f"Школа № {s}", "bench", "{}") for s in range(1, schools + 1)))
        _copy(conn, "signing_user", ["id", "school_id", "login", "full_name", "position", "cert",
                                     "key", "created_at"],
              ((s, s, f"secretary{s}", "Секретарь", "Секретарь", b"", b"", NOW)
               for s in range(1, schools + 1)))
        year_rows, period_rows, class_rows, snap_rows, doc_rows, seal_rows, ver_rows = \
            [], [], [], [], [], [], []
        ay = pid = cid = sid = did = 0
        periods_of: dict[int, list[tuple[int, str]]] = {}
        for s in range(1, schools + 1):
            for y in range(2016, 2016 + years):
                ay += 1
                year_rows.append((ay, s, f"{y}-{y + 1}", dt.date(y, 9, 1), dt.date(y + 1, 5, 26),
                                  True))
                periods_of[ay] = []
                for code, kind, m1, d1, m2, d2 in PERIODS:
                    pid += 1
                    start = dt.date(y if m1 >= 9 else y + 1, m1, d1)
                    end = dt.date(y if m2 >= 9 else y + 1, m2, d2)
                    period_rows.append((pid, ay, code, kind, code, start, end))
                    periods_of[ay].append((pid, code))
                for c in range(classes):
                    cid += 1
                    class_rows.append((cid, s, ay, f"{c % 11 + 1}{'АБВГ'[c // 11 % 4]}{c}",
                                       c % 11 + 1, "quarters"))
                    for p, code in periods_of[ay]:
                        sid += 1
                        snap_rows.append((sid, s, cid, p, 1, "0" * 64, 1, f"sha256/00/{sid}",
                                          NOW, "bench"))
                        for kind in ("journal", "summary"):
                            did += 1
                            doc_rows.append((did, s, sid, kind, 2, f"D{did}", "0" * 64, 1,
                                             f"doc/{did}", 40, 20, "[]", NOW, "bench"))
                            if kind == "summary" and code == "Y":
                                seal_rows.append((did, 1, "seal", "seal", s, "secretary", NOW,
                                                  "0" * 64, "0" * 64, f"h{did}", f"sig/{did}"))
                                ver_rows.append((did, f"h{did}", NOW, "bench", True, "{}"))
        _copy(conn, "academic_year", ["id", "school_id", "label", "start_date", "end_date",
                                      "dates_given"], year_rows)
        _copy(conn, "period", ["id", "academic_year_id", "code", "kind", "name", "start_date",
                               "end_date"], period_rows)
        _copy(conn, "school_class", ["id", "school_id", "academic_year_id", "name", "grade",
                                     "period_scheme"], class_rows)
        _copy(conn, "period_snapshot", ["id", "school_id", "school_class_id", "period_id",
                                        "version", "sha256", "size", "storage_key",
                                        "created_at", "created_by"], snap_rows)
        _copy(conn, "rendered_document", ["id", "school_id", "snapshot_id", "kind",
                                          "renderer_version", "number", "sha256", "size",
                                          "storage_key", "pages", "sheets", "steps",
                                          "created_at", "created_by"], doc_rows)
        _copy(conn, "signature_record", ["document_id", "sequence", "step", "field", "user_id",
                                         "role", "signed_at", "cert_sha256", "hash_before",
                                         "hash_after", "storage_key"], seal_rows)
        _copy(conn, "document_verification", ["document_id", "sha256", "verified_at",
                                              "verified_by", "ok", "result"], ver_rows)
        _copy(conn, "retention_hold", ["school_id", "year", "reason", "placed_by", "placed_at"],
              ((s, "2017-2018", "проверка", "bench", NOW) for s in range(1, schools + 1, 50)))
        for table in ("school", "signing_user", "academic_year", "period", "school_class",
                      "period_snapshot", "rendered_document"):
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT MAX(id) FROM {table}))"))
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return did


def plan_child(url: str, as_of: str) -> None:
    """In a fresh process: plan, print figures as JSON."""
    import collections

    from archive_service.disposition.service import retention_plan

    archive = Archive(Settings.from_env({"ARCHIVE_DATABASE_URL": url,
                                         "ARCHIVE_HOME": os.environ["BENCH_HOME"]}))
    t0 = time.perf_counter()
    counts: collections.Counter[str] = collections.Counter()
    for row in retention_plan(archive, as_of=dt.date.fromisoformat(as_of)):
        counts[row.status] += 1
    seconds = time.perf_counter() - t0
    # VmHWM, not getrusage: ru_maxrss survives exec and would report the parent's peak
    # (the generator's), while VmHWM belongs to this process's own memory.
    hwm = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text()
               .splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": seconds, "items": sum(counts.values()), "counts": counts,
                      "peak_rss_mib": hwm / 1024}))


def main() -> None:
    """Generate, plan (three runs), print, drop the scratch database."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=400)
    ap.add_argument("--classes", type=int, default=25)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--as-of", default="2040-01-01")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--postgres", default=os.environ.get(
        "ARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        plan_child(args.child, args.as_of)
        return
    scratch = f"archive_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    url = sa.make_url(args.postgres).set(database=scratch).render_as_string(hide_password=False)
    home = Path(f"/tmp/{scratch}")
    try:
        archive = Archive(Settings.from_env({"ARCHIVE_DATABASE_URL": url,
                                             "ARCHIVE_HOME": str(home)}))
        upgrade(archive.engine)
        archive.dispose()
        t0 = time.perf_counter()
        docs = generate(url, args.schools, args.classes, args.years)
        print(f"generated {docs:,} documents ({args.schools} schools x {args.years} years x "
              f"{args.classes} classes x 5 periods x 2 kinds) in {time.perf_counter() - t0:.1f} s")
        print(speed_line())
        results = []
        for run in range(args.runs):
            out = subprocess.run([sys.executable, __file__, "--child", url, "--as-of",
                                  args.as_of], capture_output=True, text=True, check=True,
                                 env={**os.environ, "BENCH_HOME": str(home)})
            r = json.loads(out.stdout)
            results.append(r)
            print(f"run {run + 1}: plan of {r['items']:,} items as of {args.as_of}: "
                  f"{r['seconds']:.2f} s ({r['items'] / r['seconds']:,.0f} items/s), "
                  f"peak RSS {r['peak_rss_mib']:.0f} MiB")
        best = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
        print(f"median: {best['seconds']:.2f} s, peak RSS {best['peak_rss_mib']:.0f} MiB; "
              f"decisions: {dict(best['counts'])} (target: <= 5 s for 1,000,000 items)")
        print(speed_line())
    finally:
        admin.dispose()
        if args.keep:
            print("kept", url)
        else:
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
