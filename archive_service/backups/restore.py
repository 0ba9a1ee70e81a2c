"""Restoring a backup, whole or a selection, into an empty database and storage, checked
against its manifest.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.backups import dump, subset
from archive_service.backups.common import WORKERS, BackupError
from archive_service.backups.log import log_event
from archive_service.backups.objects import _destroyed_keys, disposals_on
from archive_service.backups.opening import OpenedBackup, Opener, _trust, open_backup
from archive_service.backups.subset import Selection
from archive_service.db import Archive, make_engine
from archive_service.errors import (
    ConflictError,
    StorageObjectMissingError,
)

# --- restore ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestoreReport:
    """What a restore put back, and whether it all matches the backup's manifest."""

    backup_id: str
    files: int
    bytes: int
    tables: dict[str, int]
    documents: int
    audit_entries: int
    signatures_ok: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def restore_backup(archive: Archive | None, *, target_url: str, backup_id: str, opener: Opener,
                   into: Archive, actor: Actor, overwrite: bool = False, log: bool = True,
                   verify_signatures: bool = False, selection: Selection | None = None
                   ) -> RestoreReport:
    """Restore a whole backup (or a selected school, year or document: ``subset.py``) into an
    empty database and storage, then prove it matches.

    ``archive``: the live archive whose keys are trusted and whose usage log records the
    restore (None on a fresh machine: the escrow sheet then vouches for the manifest).
    A database or storage that already holds anything is refused unless ``overwrite`` (the
    database's rows must still be gone: an existing archive is never merged into).
    """
    opened = open_backup(target_url, backup_id, opener, archive=archive)
    disposals = disposals_on(opened.target, _trust(archive, opener))
    destroyed = _destroyed_keys(disposals)
    if not overwrite:
        if not dump.is_empty(into.engine) or any(True for _ in into.storage.keys()):
            raise ConflictError(
                "Восстановление отменено: в указанной базе данных или хранилище уже есть "
                "данные. Восстанавливайте в пустые (новая база, пустой каталог) — действующий "
                "архив так не перезаписывается.")
    if not dump.is_empty(into.engine):
        raise ConflictError("Восстановление отменено: в базе данных уже есть записи архива; "
                            "создайте пустую базу данных.")
    # Objects first, then the database; on any failure the objects written are removed
    # again, so a refused backup leaves the target as empty as it was.
    database = opened.index["database"]
    written: list[str] = []
    expected: dict[str, dict[str, Any]] | None = database.get("tables")
    only: set[str] | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if selection is not None:  # a school, year or document: the dump, filtered
                only, subset_dump, revision = _select(opened, Path(tmp), selection)
                files, size = _restore_files(opened, into, written, destroyed, only)
                with open(subset_dump, "rb") as fh:
                    expected = _load_dump(into, revision, iter(fh))
            elif database["kind"] == "sqlite":
                files, size = _restore_files(opened, into, written, destroyed)
                image = Path(tmp) / "image.sqlite3"
                opened.write_image(image)
                if into.engine.dialect.name == "sqlite":
                    _place_sqlite(image, into, database["sha256"])
                else:  # SQLite archive into PostgreSQL: through the portable dump
                    source = make_engine(f"sqlite:///{image}")
                    try:
                        expected = _load_dump(into, database["revision"], _dump_lines(
                            source, Path(tmp) / "dump"))
                    finally:
                        source.dispose()
            else:
                files, size = _restore_files(opened, into, written, destroyed)
                _load_dump(into, _dump_revision(opened), opened.dump_lines())
    except BaseException:
        for key in written:
            into.storage.delete(key)
        raise
    _migrate(into, "head")
    counts = _counts(into)
    report = _check_restored(opened, into, counts, files, size, verify_signatures, expected,
                             destroyed, only)
    if disposals:
        from archive_service.disposition.restore import apply_disposals

        apply_disposals(into, disposals)
    # The retention locks are the storage's, not the backup's: set them again.
    from archive_service.disposition.locks import lock_new_objects

    with into.sessions() as s:
        from archive_service.rendering.models import RenderedDocument

        lock_new_objects(into, document_ids=list(s.scalars(select(RenderedDocument.id))))
    if archive is not None and log:
        log_event(archive, backup_id=backup_id, action="restore", actor=actor,
                  medium=opened.target.url, outcome="ok" if report.ok else "failed",
                  details={"into": into.settings.database_url.split("@")[-1],
                           "files": files, "problems": report.problems[:20],
                           "selection": selection.describe() if selection else "вся копия"})
    return report


def _select(opened: OpenedBackup, tmp: Path, selection: Selection
            ) -> tuple[set[str], Path, str | None]:
    """The selected part of the backup's database as a dump file, the storage keys its rows
    name, and the schema revision (``subset.py`` explains the rules)."""
    database = opened.index["database"]
    if database["kind"] == "sqlite":
        image = tmp / "image.sqlite3"
        opened.write_image(image)
        source = make_engine(f"sqlite:///{image}")
        revision = database["revision"]

        def lines() -> Iterator[bytes]:
            return _dump_lines(source, tmp / "dump")
    else:
        source = None
        revision = _dump_revision(opened)

        def lines() -> Iterator[bytes]:
            return opened.dump_lines()
    try:
        found = subset.roots(lines(), selection)
        # The school's audit checkpoints go with its audit chain (``audit.anchor``).
        folder = f"audit-checkpoints/{found.school_id:06d}/"
        keys: set[str] = {e["key"] for e in opened.index["files"]
                          if e["key"].startswith(folder)}
        out = tmp / "subset"
        with open(out, "wb") as fh:
            for line in subset.select_lines(lines(), found, selection, subset.foreign_keys(),
                                            keys):
                fh.write(line)
    finally:
        if source is not None:
            source.dispose()
    return keys, out, revision


def _dump_revision(opened: OpenedBackup) -> str | None:
    """The schema revision of a dump (format /1 kept it in the manifest, /2 in the index)."""
    database = opened.index["database"]
    if "revision" in database:
        return database["revision"]
    return opened.manifest["source"]["revision"]


def _place_sqlite(image: Path, into: Archive, sha256: str) -> None:
    """Put the database image in place of the (empty) target database file, byte for byte."""
    import shutil

    path = Path(into.engine.url.database)
    into.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(image, path)
    with open(path, "rb") as fh:
        if hashlib.file_digest(fh, "sha256").hexdigest() != sha256:
            raise BackupError(f"База данных {path} после восстановления не совпадает с копией.")


def _dump_lines(engine, path: Path) -> Iterator[bytes]:  # noqa: ANN001
    with open(path, "w+b") as fh:
        dump.dump(engine, fh)
        fh.seek(0)
        yield from fh


def _load_dump(into: Archive, revision: str | None, lines: Iterator[bytes]
               ) -> dict[str, dict[str, Any]]:
    """Migrate the empty database to the dump's schema and load the rows; returns the
    per-table digests of the source as the dump carried them."""
    _migrate(into, revision)
    dump.read_header([next(lines)])
    tables: dict[str, dict[str, Any]] = {}
    dump.load(into.engine, _digesting(lines, tables))
    return tables


def _digesting(lines: Iterator[bytes], tables: dict[str, dict[str, Any]]) -> Iterator[bytes]:
    """Pass dump lines through while computing each table's row count and digest."""
    current, digest, rows = None, None, 0
    for line in lines:
        if line.startswith(b"{"):
            if current is not None:
                tables[current] = {"rows": rows, "sha256": digest.hexdigest()}
            current, digest, rows = json.loads(line)["table"], hashlib.sha256(), 0
        else:
            digest.update(line)
            rows += 1
        yield line
    if current is not None:
        tables[current] = {"rows": rows, "sha256": digest.hexdigest()}


def _counts(into: Archive) -> dict[str, int]:
    from sqlalchemy import func

    with into.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in dump.tables()}


def _migrate(into: Archive, revision: str | None) -> None:
    from alembic import command

    from archive_service.db import alembic_config

    cfg = alembic_config(into.engine.url.render_as_string(hide_password=False))
    with into.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision or "head")


def _restore_files(opened: OpenedBackup, into: Archive, written: list[str],
                   destroyed: set[str], only: set[str] | None = None) -> tuple[int, int]:
    """Every file of the backup (or those in ``only``) except those destroyed under an
    executed act."""
    entries = [e for e in opened.index["files"] if e["key"] not in destroyed
               and (only is None or e["key"] in only)]

    def one(entry: dict[str, Any]) -> int:
        data = opened.file(entry)
        if into.storage.exists(entry["key"]):
            return len(data)
        if not entry["key"].startswith("sha256/"):  # a named object (audit checkpoint)
            into.storage.write(entry["key"], data)
        elif into.storage.put(data) != entry["key"]:
            raise BackupError(f"Файл {entry['key']} восстановлен под другим ключом.")
        written.append(entry["key"])
        return len(data)

    with into.storage.batch(), ThreadPoolExecutor(WORKERS) as pool:
        sizes = list(pool.map(one, entries))
    return len(entries), sum(sizes)


def _check_restored(opened: OpenedBackup, into: Archive, counts: dict[str, int], files: int,
                    size: int, verify_signatures: bool,
                    expected: dict[str, dict[str, Any]] | None,
                    destroyed: set[str], only: set[str] | None = None) -> RestoreReport:
    """Compare what was restored with the backup. A database restored through the dump is
    compared row by row (per-table digests); a SQLite image was already compared byte for
    byte with the image's hash in the signed index."""
    from archive_service.audit.service import verify as verify_audit

    problems: list[str] = []
    if expected is not None:
        now = dump.table_digests(into.engine)
        for table, want in expected.items():
            got = now.get(table)
            if got is None:
                problems.append(f"таблица {table} не восстановлена")
            elif got != want:
                problems.append(f"таблица {table}: строк {got['rows']} (в копии "
                                f"{want['rows']}), содержимое отличается")
    # Each file's bytes were checked against their SHA-256 before they were written under
    # the key derived from it; here: every file is in the storage with its size.
    for entry in opened.index["files"]:
        key = entry["key"]
        if key in destroyed or (only is not None and key not in only):
            continue  # destroyed under an act, or outside the selection: left out on purpose
        try:
            if into.storage.size(key) != entry["size"]:
                problems.append(f"файл {key} восстановлен не полностью")
        except StorageObjectMissingError:
            problems.append(f"файл {key} не восстановлен")
    # Every audit entry is compared with the backup through its table's digest above; the
    # deep check (level 3) also recomputes the hash chain and verifies every signature.
    audited = counts.get("audit_entry", 0)
    documents = signatures_ok = 0
    if verify_signatures:
        from archive_service.audit.anchor import verify_anchors

        _checked, audit_problems = verify_audit(into)
        audit_problems += verify_anchors(into, restored=True)
        problems.extend(f"журнал аудита: {p.message}" for p in audit_problems)
        documents, signatures_ok, sig_problems = _verify_documents(into, destroyed)
        problems.extend(sig_problems)
    return RestoreReport(opened.manifest["backup"], files, size, counts, documents, audited,
                         signatures_ok, problems)


def _verify_documents(into: Archive, destroyed: set[str] = frozenset()
                      ) -> tuple[int, int, list[str]]:
    """Re-verify the signatures of every signed document of a restored archive (except those
    destroyed under an executed act, whose files were left out)."""
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import SignatureRecord
    from archive_service.signatures.service import verify_document

    with into.sessions() as s:
        from archive_service.disposition.models import Tombstone

        gone = set(s.scalars(select(RenderedDocument.id).where(
            RenderedDocument.storage_key.in_(destroyed)))) if destroyed else set()
        gone |= set(s.scalars(select(Tombstone.document_id).where(
            Tombstone.document_id.is_not(None))))
        signed = sorted(set(s.scalars(select(SignatureRecord.document_id))) - gone)
        numbers = dict(s.execute(select(RenderedDocument.id, RenderedDocument.number)).all())
    problems, ok = [], 0
    for doc_id in signed:
        try:
            result = verify_document(into, doc_id)
        except Exception as exc:  # noqa: BLE001 - reported per document
            problems.append(f"документ {numbers.get(doc_id, doc_id)}: не проверен ({exc})")
            continue
        if result.ok:
            ok += 1
        else:
            problems.append(f"документ {numbers.get(doc_id, doc_id)}: подписи не проходят "
                            "проверку")
    return len(signed), ok, problems
