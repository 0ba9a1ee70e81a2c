"""Backup, verification and restore of a 1 GiB archive-like dataset, beside restic.

    python bench/bench_backup.py [--size-mib 1024] [--workdir DIR]

The dataset is an archive on SQLite with local storage: ~1 MiB PDF-like objects (compressed
streams, i.e. incompressible bytes, with some repeated text as in a rendered journal) and an
audit trail of 200,000 entries in the database. Both tools back up the same files to the
same disk, in one run: our ``create_backup`` (first and unchanged second run), level-2 and
level-3 verification and restore; restic (Debian package ``restic``) ``backup`` (first and
second run), ``check --read-data`` and ``restore`` (followed by a sync: ours syncs the
restored files). Prints seconds and MB/s per operation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import speed_line  # noqa: E402

from archive_service.actors import Actor  # noqa: E402
from archive_service.audit.chain import GENESIS, entry_hash  # noqa: E402
from archive_service.audit.models import AuditEntry, AuditHead  # noqa: E402
from archive_service.backups import service as backups  # noqa: E402
from archive_service.backups.service import Opener  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive, bulk_insert, upgrade  # noqa: E402

ACTOR = Actor("bench", "administrator")
CODE = "код-директора-бенчмарка"


def make_dataset(home: Path, size_mib: int) -> Archive:
    archive = Archive(Settings(home=home, database_url=f"sqlite:///{home / 'archive.sqlite3'}",
                               storage_url=f"file://{home / 'objects'}"))
    upgrade(archive.engine)
    rng = random.Random(1)
    text = ("Иванов Иван Иванович 5 4 5 н 3 Алгебра 7А четверть " * 40).encode()
    total = 0
    while total < size_mib * 2**20:
        size = rng.randint(600, 1400) * 1024
        body = os.urandom(int(size * 0.85)) + text * (int(size * 0.15) // len(text) + 1)
        body = b"%PDF-1.7\n" + body[:size]
        archive.storage.put(body)
        total += len(body)
    # A valid audit chain (a restore checks it): 200,000 reads of documents.
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    entries, prev = [], GENESIS
    for i in range(200_000):
        row = {"chain": 1, "seq": i + 1, "at": at + dt.timedelta(seconds=i),
               "actor": "Секретарь Иванова Н. Л.", "role": "secretary",
               "action": "document.read", "object_type": "document",
               "object_id": str(i % 5000), "details": '{"number": "7А-2025-2026-Y"}',
               "prev_hash": prev}
        prev = entry_hash(**row)
        entries.append({**row, "hash": prev})
    for e in entries:  # stored as SQLAlchemy stores times on SQLite (bulk_insert does not)
        e["at"] = e["at"].strftime("%Y-%m-%d %H:%M:%S.%f")
    with archive.unit_of_work() as uow:
        bulk_insert(uow.session, AuditEntry.__table__, entries)
        uow.session.add(AuditHead(chain=1, last_seq=len(entries), last_hash=prev))
    return archive


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--rounds", type=int, default=3,
                        help="first backups and restores repeated into fresh places; medians")
    args = parser.parse_args()
    restic = shutil.which("restic")
    if restic is None:
        sys.exit("restic is not installed: apt-get install restic (make bench-backup does it)")
    work = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=args.workdir))
    try:
        home = work / "home"
        home.mkdir()
        print(speed_line())
        print(f"dataset: {args.size_mib} MiB under {home} …", flush=True)
        archive = make_dataset(home, args.size_mib)
        with archive.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        data = du(home)
        print(f"dataset: {data / 2**20:.0f} MiB in {sum(1 for _ in archive.storage.keys())} "
              f"objects + database; restic {subprocess.run([restic, 'version'], text=True, capture_output=True).stdout.split()[1]}")  # noqa: E501
        backups.init_keys(archive, director_code=CODE, actor=ACTOR)
        rows: list[tuple[str, float, float, float]] = []  # name, ours, restic, MB

        ours_disk, restic_repo = work / "ours", work / "restic"
        env = {**os.environ, "RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(restic_repo),
               "RESTIC_CACHE_DIR": str(work / "restic-cache")}

        def run_restic(*a: str) -> None:
            subprocess.run([restic, "-q", *a], env=env, check=True,
                           stdout=subprocess.DEVNULL)

        ids: list[str] = []
        sources = [str(home / "objects"), str(home / "archive.sqlite3")]
        firsts, r_firsts = [], []
        for i in range(args.rounds):  # alternating, each into a fresh place; round 0 is kept
            disk = ours_disk if i == 0 else work / f"ours-{i}"
            firsts.append(timed(lambda disk=disk: ids.append(backups.create_backup(
                archive, target_url=str(disk), actor=ACTOR).id)))
            repo = restic_repo if i == 0 else work / f"restic-{i}"
            subprocess.run([restic, "-q", "init"], env={**env, "RESTIC_REPOSITORY": str(repo)},
                           check=True, stdout=subprocess.DEVNULL)
            r_firsts.append(timed(lambda repo=repo: subprocess.run(
                [restic, "-q", "backup", *sources], env={**env, "RESTIC_REPOSITORY": str(repo)},
                check=True, stdout=subprocess.DEVNULL)))
            if i:
                shutil.rmtree(disk)
                shutil.rmtree(repo)
        rows.append(("backup, first run", statistics.median(firsts),
                     statistics.median(r_firsts), data))
        ids = ids[:1]
        second = timed(lambda: ids.append(backups.create_backup(
            archive, target_url=str(ours_disk), actor=ACTOR).id))
        r_second = timed(lambda: run_restic("backup", *sources))
        rows.append(("backup, unchanged second run", second, r_second, data))
        v2 = timed(lambda: _ok(backups.verify_backup(archive, target_url=str(ours_disk),
                                                     backup_id=ids[0], level=2, actor=ACTOR)))
        r_check = timed(lambda: run_restic("check", "--read-data"))
        rows.append(("verify: level 2 / check --read-data", v2, r_check, du(ours_disk)))
        v3 = timed(lambda: _ok(backups.verify_backup(
            archive, target_url=str(ours_disk), backup_id=ids[0], level=3, actor=ACTOR,
            opener=Opener(director_code=CODE), workdir=work)))
        rows.append(("verify: level 3 (decrypt + trial restore)", v3, float("nan"), data))
        restores, r_restores = [], []
        for i in range(args.rounds):
            into_home = work / f"restored-{i}"
            into_home.mkdir()
            into = Archive(Settings(home=into_home,
                                    database_url=f"sqlite:///{into_home / 'archive.sqlite3'}",
                                    storage_url=f"file://{into_home / 'objects'}"))
            restores.append(timed(lambda into=into: _ok(backups.restore_backup(
                archive, target_url=str(ours_disk), backup_id=ids[0],
                opener=Opener(director_code=CODE), into=into, actor=ACTOR))))
            into.dispose()
            shutil.rmtree(into_home)
            # Ours ends with the restored files on disk (one sync at the end); restic's
            # restore does not sync, so its time includes the same final sync.
            r_restores.append(timed(lambda i=i: (run_restic(
                "restore", "latest", "--target", str(work / f"restic-restored-{i}")),
                os.sync())))
            shutil.rmtree(work / f"restic-restored-{i}")
        rows.append(("restore", statistics.median(restores), statistics.median(r_restores),
                     data))
        print(f"\nfirst runs and restores: median of {args.rounds}, alternating ours and restic")
        print(f"stored: ours {du(ours_disk) / 2**20:.0f} MiB, restic "
              f"{du(restic_repo) / 2**20:.0f} MiB (2 backups each)")
        print(f"{'operation':44} {'ours s':>8} {'MB/s':>7} {'restic s':>9} {'MB/s':>7} "
              f"{'ratio':>6}")
        for name, ours, theirs, size in rows:
            mb = size / 1e6
            ratio = theirs / ours if theirs == theirs else float("nan")
            print(f"{name:44} {ours:8.2f} {mb / ours:7.0f} {theirs:9.2f} "
                  f"{mb / theirs if theirs == theirs else float('nan'):7.0f} {ratio:6.2f}")
        print("ratio = restic seconds / our seconds (above 1: we are faster)")
        print(speed_line())
        archive.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ok(report) -> None:
    if not report.ok:
        raise SystemExit(f"verification failed: {report.problems[:3]}")


if __name__ == "__main__":
    main()
