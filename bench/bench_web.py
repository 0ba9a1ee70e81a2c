"""Benchmark: the register search and the document page under concurrent clients, on
PostgreSQL, with a region-sized register.

Builds (not timed) a database ``archive_bench_web`` on the PostgreSQL server:
* one real demo school (``--classes`` classes) imported, snapshotted, rendered and signed
  through the whole chain with its register entries and web accounts;
* synthetic register entries so that the register is region-sized: ``--schools`` schools
  (the real one included) x ``--years`` academic years x (``--classes-per-school`` classes x
  2 kinds x 5 periods + 5 period folders), written with COPY. Synthetic schools have register
  lines only (no documents behind them); the real school has ``--years`` years of lines too,
  so its searches scan a full school history.

Then starts the production server (gunicorn, ``--web-workers`` processes x ``--threads``) on
127.0.0.1 and drives it with an open-loop load at ``--rate`` requests per second for
``--seconds`` (latency counted from each request's scheduled time, so a server falling behind
shows), a mix of: the register page searched by year and text (HTML), the same search through
the JSON API, and the document page (HTML: chain, signatures' verification, register entry).
Each document is viewed once before the run (its verification is made then and reused, as in
production within ARCHIVE_VERIFY_MAX_AGE_HOURS); the time of those first views is printed too.
Finally a closed-loop run with ``--clients`` clients as fast as they can. After each run,
the CPU time per request of the web server, PostgreSQL and the load generator (from /proc).
``bench/bench_web_instructions.py`` counts the application's instructions per request on
the same database, a figure the machine's load does not move.

    .venv/bin/python bench/bench_web.py [--schools 1000] [--years 10] [--rate 100]
        [--seconds 20] [--web-workers 2] [--threads 4] [--reuse]

ARCHIVE_BENCH_POSTGRES_URL: the server (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from machine import speed_line  # noqa: E402

from archive_service.actors import Actor  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive, upgrade  # noqa: E402

DB = "archive_bench_web"
ACTOR = Actor("bench")
PERIODS = ["Q1", "Q2", "Q3", "Q4", "Y"]
PERIOD_NAMES = {"Q1": "1 четверть", "Q2": "2 четверть", "Q3": "3 четверть",
                "Q4": "4 четверть", "Y": "год"}
QUERIES = ["7А", "сводная", "Сейф", "четверть", "5Б", "год", "копия", "11А"]


def main() -> None:
    """Build the data, run the server, drive it, print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=1000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--classes", type=int, default=3, help="real classes in the real school")
    ap.add_argument("--classes-per-school", type=int, default=30)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--web-workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    ap.add_argument("--reuse", action="store_true", help="keep an existing bench database")
    args = ap.parse_args()
    admin, url, home, env = environment()
    if not (args.reuse and database_exists(admin)):
        _build(admin, url, home, env, args)
    archive = Archive(Settings.from_env(env))
    docs, years = documents_and_years(archive)
    with archive.engine.connect() as conn:
        entries = conn.execute(sa.text("SELECT count(*) FROM register_entry")).scalar()
        schools = conn.execute(sa.text("SELECT count(*) FROM school")).scalar()
        size = conn.execute(sa.text("SELECT pg_size_pretty(pg_total_relation_size("
                                    "'register_entry'))")).scalar()
    archive.dispose()
    print(f"register: {entries:,} entries, {schools} schools, table {size}; "
          f"real school: {len(docs)} signed documents, years {years[0]}..{years[-1]}")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.web_workers), "--threads", str(args.threads),
         "-k", "gthread", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "archive_service.app:create_app()"],
        env={**os.environ, **env}, cwd=Path(__file__).resolve().parents[1])
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        login = secretary(url)
        first = []
        warm = _Client(base, login)
        for doc in docs:
            t0 = time.perf_counter()
            assert warm.get(f"/documents/{doc}") == 200
            first.append(time.perf_counter() - t0)
        print(f"first view of each document (verifies its signatures): "
              f"median {statistics.median(first) * 1000:.0f} ms, max {max(first) * 1000:.0f} ms"
              f" over {len(docs)} documents")
        rng = random.Random(7)

        def request() -> tuple[str, str]:
            kind = rng.choice(KINDS)
            return kind, path_for(kind, rng, docs, years)

        sessions = [_Client(base, login) for _ in range(args.clients)]
        print(speed_line())
        print(f"\nopen loop: {args.rate:.0f} requests/s for {args.seconds:.0f} s "
              f"(gunicorn {args.web_workers} workers x {args.threads} threads, {args.clients} clients)")
        before = _cpu(server.pid)
        results = _open_loop(base, sessions, request, args.rate, args.seconds)
        _report(results, args.seconds)
        _report_cpu(before, _cpu(server.pid), len(results))
        print(f"\nclosed loop: {args.clients} clients as fast as they can for 10 s")
        before = _cpu(server.pid)
        results = _closed_loop(base, sessions, request, 10)
        _report(results, 10)
        _report_cpu(before, _cpu(server.pid), len(results))
        print(speed_line())
    finally:
        server.terminate()
        server.wait(10)


def environment() -> tuple[str, str, Path, dict[str, str]]:
    """The PostgreSQL server's URL, the bench database's URL, the archive home and the
    ARCHIVE_* settings the bench's server runs with."""
    admin = os.environ.get("ARCHIVE_BENCH_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    url = sa.make_url(admin).set(database=DB).render_as_string(hide_password=False)
    home = Path(tempfile.gettempdir()) / "archive-bench-web"
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": url,
           "ARCHIVE_STORAGE_URL": f"file://{home / 'objects'}",
           "ARCHIVE_INSECURE_COOKIES": "1", "ARCHIVE_SECRET_KEY": "bench-secret-key",
           "ARCHIVE_TSA_PASSPHRASE": "bench-tsa"}
    return admin, url, home, env


def documents_and_years(archive: Archive) -> tuple[list[int], list[str]]:
    """The real school's documents and the years of its register lines."""
    with archive.engine.connect() as conn:
        docs = [r[0] for r in conn.execute(sa.text(
            "SELECT id FROM rendered_document ORDER BY id"))]
        years = [r[0] for r in conn.execute(sa.text(
            "SELECT DISTINCT year FROM register_entry WHERE school_id = 1 ORDER BY year"))]
    return docs, years


KINDS = ("register", "api", "document")


def path_for(kind: str, rng: random.Random, docs: list[int], years: list[str]) -> str:
    """A request of the mix: the register page or API searched by year and text, or a
    document page."""
    if kind == "document":
        return f"/documents/{rng.choice(docs)}"
    year, q = rng.choice(years), rng.choice(QUERIES)
    path = "/register" if kind == "register" else "/api/v1/register"
    return f"{path}?{urlencode({'year': year, 'q': q})}"


def database_exists(admin: str) -> bool:
    """Whether the bench database is on the server."""
    engine = sa.create_engine(admin)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": DB}).scalar()
    engine.dispose()
    return bool(found)


def _build(admin: str, url: str, home: Path, env: dict, args) -> None:
    import shutil

    from archive_service.demo.generator import CLASSES, YEAR, generate_school
    from archive_service.demo.signers import DEMO_TSA_PASSPHRASE, sign_demo_school
    from archive_service.demo.writers import write_json
    from archive_service.journals.service import import_files
    from archive_service.rendering.service import render_snapshots
    from archive_service.snapshots.service import create_snapshots

    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB}"'))
    engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
    env = {**env, "ARCHIVE_TSA_PASSPHRASE": DEMO_TSA_PASSPHRASE}
    os.environ["ARCHIVE_TSA_PASSPHRASE"] = DEMO_TSA_PASSPHRASE
    t0 = time.perf_counter()
    archive = Archive(Settings.from_env(env))
    upgrade(archive.engine)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_json(generate_school(1, classes=CLASSES[:args.classes]), Path(tmp))
        for outcome in import_files(archive, paths, actor=ACTOR):
            if isinstance(outcome, Exception):
                raise outcome
    snaps = create_snapshots(archive, period=f"{YEAR}/Q1", class_name=None, school_code=None,
                             actor=ACTOR)
    render_snapshots(archive, [o.snapshot.id for o in snaps], actor=ACTOR, workers=2)
    signed = sign_demo_school(archive, tsa_passphrase=DEMO_TSA_PASSPHRASE, actor=ACTOR)
    print(f"real school: {len(signed.documents)} documents, {signed.signatures} signatures, "
          f"{signed.registered} registered in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    rows = _synthetic(archive, args)
    print(f"synthetic register: {rows:,} entries written in {time.perf_counter() - t0:.0f} s")
    archive.dispose()


def _synthetic(archive: Archive, args) -> int:
    """Schools 2..N and every school's other years, straight into the tables with COPY."""
    from archive_service.demo.generator import YEAR
    from archive_service.register.models import searchable

    first = int(YEAR[:4])
    years = [f"{y}-{y + 1}" for y in range(first - args.years + 1, first + 1)]
    classes = [f"{g}{c}" for g in range(1, 12) for c in "АБВ"][:args.classes_per_school]
    with archive.engine.begin() as conn:
        driver = conn.connection.driver_connection
        with driver.cursor() as cur:
            with cur.copy("COPY school (id, code, name, settings) FROM STDIN") as copy:
                for n in range(2, args.schools + 1):
                    copy.write_row((n, f"R-{n:04d}", f"МБОУ «Школа № {n}»", "{}"))
            cur.execute("SELECT setval('school_id_seq', (SELECT max(id) FROM school))")
        total = 0
        cols = ("school_id, year, number, kind, title, class_name, period_code, sheets, "
                "handed_over_by, handover_hash, received_by, received_at, location, "
                "search_text")

        def line(school, year, number, kind, title, name, period, sheets, by, received,
                 location):
            text = searchable(number=number, year=year, received_at=received, title=title,
                              class_name=name, period_code=period, handed_over_by=by,
                              received_by="Иванова Нина Львовна", location=location,
                              document_number=None)
            return (school, year, number, kind, title, name, period, sheets, by, "0" * 64,
                    "Иванова Нина Львовна", received, location, text)

        rng = random.Random(1)
        with driver.cursor() as cur, cur.copy(
                f"COPY register_entry ({cols}) FROM STDIN") as copy:
            for school in range(1, args.schools + 1):
                for year in years:
                    if school == 1 and year == YEAR:
                        continue  # the real school's current year is real
                    number, start = 0, dt.date(int(year[:4]), 11, 1)
                    for p_i, period in enumerate(PERIODS):
                        received = dt.datetime.combine(start + dt.timedelta(days=60 * p_i),
                                                       dt.time(10), dt.UTC)
                        for name in classes:
                            for kind, title in (("journal", "Копия классного журнала"),
                                                ("summary", "Сводная ведомость отметок")):
                                number += 1
                                copy.write_row(line(
                                    school, year, number, kind,
                                    f"{title} {name}, {PERIOD_NAMES[period]} {year}", name,
                                    period, rng.randint(20, 60), "Кузьмина Елена Петровна",
                                    received,
                                    f"Сейф № 1, папка «{year}, {PERIOD_NAMES[period]}»"))
                        number += 1
                        copy.write_row(line(
                            school, year, number, "folder",
                            f"Общая папка за период: {PERIOD_NAMES[period]} {year}", None,
                            period, 900, "Иванова Нина Львовна", received, "Сейф № 1, полка 2"))
                    total += number
    # A live region's database is vacuumed by autovacuum long before anyone searches it; a
    # table just filled by COPY is not yet, and autovacuum would start on it during the
    # measured run. VACUUM (outside a transaction) sets the visibility map now; CHECKPOINT
    # then writes the 2 GB the build dirtied, which the server would otherwise write (and the
    # disk would be saturated with, 100 % I/O wait seen) during the first measured minutes.
    with archive.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE)"))
        try:
            conn.execute(sa.text("CHECKPOINT"))
        except sa.exc.DBAPIError as exc:  # not a superuser (pg_checkpoint role from PG 15)
            print(f"CHECKPOINT refused ({exc.orig}); the first run may meet the writes")
    return total


def secretary(url: str) -> str:
    """The login of a secretary of the real school."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        login = conn.execute(sa.text(
            "SELECT a.login FROM account a JOIN account_role r ON r.account_id = a.id "
            "WHERE r.role = 'secretary' LIMIT 1")).scalar()
    engine.dispose()
    return login


class _Client:
    """One logged-in client on one keep-alive connection (http.client: the load generator
    shares the server's cores, and requests costs several times more CPU per request)."""

    def __init__(self, base: str, login: str) -> None:
        from archive_service.demo.signers import DEMO_PASSWORD

        with requests.Session() as web:
            answer = web.post(f"{base}/api/v1/login",
                              json={"login": login, "password": DEMO_PASSWORD})
            answer.raise_for_status()
            self.cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
        self.host, self.port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)

    def get(self, path: str) -> int:
        """GET the path; the status (the body is read and dropped)."""
        try:
            self.conn.request("GET", path, headers={"Cookie": self.cookie})
            answer = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the server closed the kept-alive connection: once more
            self.conn.request("GET", path, headers={"Cookie": self.cookie})
            answer = self.conn.getresponse()
        answer.read()
        return answer.status


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(base: str) -> None:
    for _ in range(100):
        try:
            if requests.get(f"{base}/health", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start")


def _open_loop(base, sessions, request, rate, seconds):
    """Requests at fixed times; latency from the scheduled time (no coordinated omission)."""
    n = int(rate * seconds)
    plan = [request() for _ in range(n)]
    start = time.perf_counter() + 0.5
    lock, next_i, results = threading.Lock(), [0], []

    def client(session):
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= n:
                return
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            kind, path = plan[i]
            status = session.get(path)
            results.append((kind, time.perf_counter() - due, status))

    _run(client, sessions)
    return results


def _closed_loop(base, sessions, request, seconds):
    stop = time.perf_counter() + seconds
    results, lock = [], threading.Lock()

    def client(session):
        while time.perf_counter() < stop:
            with lock:
                kind, path = request()
            t0 = time.perf_counter()
            status = session.get(path)
            results.append((kind, time.perf_counter() - t0, status))

    _run(client, sessions)
    return results


def _run(client, sessions) -> None:
    """One thread per client session, until each is done."""
    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _cpu(server: int) -> dict[str, float] | None:
    """CPU seconds used so far by the web server (gunicorn and its workers), PostgreSQL (every
    process of the cluster, exited backends included) and this process (the load generator),
    read from /proc (None where there is no /proc or PostgreSQL is not on this machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:  # exited meanwhile
                continue
            name, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:]
            fields = rest.split()  # fields[0] is the state (field 3 of proc(5))
            stats[int(entry.name)] = (name, int(fields[1]), [int(f) for f in fields[11:15]])
    server_pids = {server} | {pid for pid, (_n, ppid, _t) in stats.items() if ppid == server}
    in_server = sum(sum(t[:2]) for pid, (_n, _p, t) in stats.items() if pid in server_pids)
    postgres = [(pid, ppid, t) for pid, (n, ppid, t) in stats.items() if n == "postgres"]
    if not postgres:
        return None
    pg_pids = {pid for pid, _p, _t in postgres}
    # The postmaster's own time and that of its exited children, plus every live process.
    in_pg = sum(sum(t[:2]) + (sum(t[2:]) if ppid not in pg_pids else 0)
                for _pid, ppid, t in postgres)
    return {"server": in_server / tick, "postgres": in_pg / tick,
            "load generator": time.process_time()}


def _report_cpu(before, after, requests_done: int) -> None:
    """CPU milliseconds per request of each part, between two ``_cpu`` readings."""
    if before is None or after is None:
        print("  CPU per request: not measured (no /proc, or PostgreSQL on another machine)")
        return
    parts = "  ".join(f"{name} {(after[name] - before[name]) / requests_done * 1000:.1f} ms"
                      for name in before)
    print(f"  CPU per request: {parts}")


def _report(results, seconds) -> None:
    def line(name, rows):
        times = sorted(r[1] for r in rows)
        errors = sum(1 for r in rows if r[2] != 200)
        p = statistics.quantiles(times, n=100, method="inclusive")
        print(f"  {name:<28} {len(rows):6d} req {len(rows) / seconds:7.1f} req/s  "
              f"p50 {p[49] * 1000:6.1f} ms  p99 {p[98] * 1000:6.1f} ms  "
              f"max {times[-1] * 1000:6.1f} ms  errors {errors}")

    names = {"register": "register page (HTML)", "api": "register search (API)",
             "document": "document page (HTML)"}
    for kind, name in names.items():
        line(name, [r for r in results if r[0] == kind])
    line("all", results)


if __name__ == "__main__":
    main()
