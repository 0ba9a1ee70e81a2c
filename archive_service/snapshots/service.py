"""Freezing, listing and verifying period snapshots.

A snapshot is the canonical serialisation of one class's journal for one period, stored in
content-addressed storage, with its SHA-256, who and when. It is never modified: the row is
protected by database triggers, the blob by its content address. A corrected journal gives
a new version with a reason; the old version stays.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import (
    ArchiveError,
    NotFoundError,
    SnapshotBatchError,
    SnapshotBlockedError,
    SnapshotChangedError,
    SnapshotError,
    StorageObjectMissingError,
)
from archive_service.journals.lookup import PeriodRef, classes_for, find_period, find_school
from archive_service.journals.models import AcademicYear, Period, School, SchoolClass
from archive_service.journals.values import given_class as norm_class_name
from archive_service.snapshots.models import PeriodSnapshot
from archive_service.storage.base import sha256_hex


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot record as shown to people and written as JSON."""

    id: int
    school: str
    academic_year: str
    period: str
    period_name: str
    class_name: str
    version: int
    sha256: str
    size: int
    created_at: str
    created_by: str
    reason: str | None
    storage_key: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class SnapshotOutcome:
    """The result of a snapshot request: the snapshot and whether it was created now."""

    snapshot: SnapshotInfo
    created: bool


@dataclass(frozen=True)
class VerifyOutcome:
    """The result of re-hashing one stored snapshot."""

    snapshot: SnapshotInfo
    ok: bool
    problem: str | None = None


def snapshot_info(s: Session, snap: PeriodSnapshot) -> SnapshotInfo:
    """A snapshot row as the pages, the CLI and the inspection report show it."""
    sc = s.get(SchoolClass, snap.school_class_id)
    period = s.get(Period, snap.period_id)
    year = s.get(AcademicYear, sc.academic_year_id)
    school = s.get(School, snap.school_id)
    created = snap.created_at if snap.created_at.tzinfo else snap.created_at.replace(tzinfo=dt.UTC)
    return SnapshotInfo(snap.id, school.code, year.label, period.code, period.name, sc.name,
                        snap.version, snap.sha256, snap.size, created.isoformat(timespec="seconds"),
                        snap.created_by, snap.reason, snap.storage_key)


def create_snapshots(archive: Archive, *, period: str, class_name: str | None,
                     school_code: str | None, actor: Actor,
                     reason: str | None = None) -> list[SnapshotOutcome]:
    """Snapshot one class (or every class using the period), each in its own unit of work."""
    ref = PeriodRef.parse(period)
    with archive.sessions() as s:
        school = find_school(s, school_code)
        year, per = find_period(s, school, ref)
        classes = classes_for(s, year, per, class_name)
        targets, names = [c.id for c in classes], [c.name for c in classes]
        school_id, period_id = school.id, per.id
    if not targets:
        raise NotFoundError(f"Нет классов, к которым относится период {ref.code} {ref.year}.")
    if len(targets) == 1:
        return [create_one(archive, school_id, targets[0], period_id, actor, reason)]
    # Many classes: one blocked class must not hold up the others.
    done: list[SnapshotOutcome] = []
    failures: list[tuple[str, ArchiveError]] = []
    for class_id, name in zip(targets, names, strict=True):
        try:
            done.append(create_one(archive, school_id, class_id, period_id, actor, reason))
        except SnapshotError as exc:
            failures.append((name, exc))
    if failures:
        raise SnapshotBatchError(done, failures)
    return done


def create_one(archive: Archive, school_id: int, class_id: int, period_id: int, actor: Actor,
               reason: str | None) -> SnapshotOutcome:
    """Snapshot one class for one period in its own unit of work (the period close's job),
    retried when a concurrent snapshot of the same class wins the race."""
    for attempt in range(5):
        try:
            with archive.unit_of_work() as uow:
                return _create_in(uow, school_id, class_id, period_id, actor, reason)
        except (DBIntegrityError, OperationalError):
            # Another process created the same version concurrently (unique constraint) or
            # held the SQLite write lock: read again and decide anew.
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _create_in(uow, school_id: int, class_id: int, period_id: int, actor: Actor,
               reason: str | None) -> SnapshotOutcome:
    # Here, not at the top: listing snapshots (``archive snapshot list``) loads no journal
    # reader.
    from archive_service.checks.service import check_class, summarise
    from archive_service.snapshots.canonical import canonical_bytes, snapshot_content

    s = uow.session
    # Serialise snapshotting of one class (PostgreSQL row lock; SQLite locks the database).
    sc = s.scalars(select(SchoolClass).where(SchoolClass.id == class_id).with_for_update()).one()
    period = s.get(Period, period_id)
    school = s.get(School, school_id)
    if school.settings.get("block_snapshot_on_incomplete"):
        findings = check_class(s, sc, period)
        if findings:
            counts = ", ".join(f"{k}: {n}" for k, n in sorted(summarise(findings).items()))
            raise SnapshotBlockedError(
                f"Срез журнала {sc.name} за «{period.name}» не создан: школа требует полного "
                f"журнала, а проверка нашла замечания ({counts}). Посмотрите их командой "
                f"archive check --period {_ref(s, sc, period)} --class {sc.name}.")
    data = canonical_bytes(snapshot_content(s, sc, period))
    digest = sha256_hex(data)
    latest = s.scalars(
        select(PeriodSnapshot).filter_by(school_class_id=sc.id, period_id=period.id)
        .order_by(PeriodSnapshot.version.desc()).limit(1)).one_or_none()
    if latest is not None and latest.sha256 == digest:
        return SnapshotOutcome(snapshot_info(s, latest), False)
    if latest is not None and not reason:
        raise SnapshotChangedError(
            f"Журнал {sc.name} за «{period.name}» изменился после среза версии {latest.version} "
            f"(sha256 {latest.sha256[:12]}…). Прежний срез не меняется; чтобы зафиксировать "
            "исправленный журнал новой версией, укажите причину: --reason «…».")
    key = uow.put_blob(data)
    snap = PeriodSnapshot(
        school_id=school.id, school_class_id=sc.id, period_id=period.id,
        version=(latest.version + 1) if latest else 1, sha256=digest, size=len(data),
        storage_key=key, reason=reason, supersedes_id=latest.id if latest else None,
        created_at=dt.datetime.now(dt.UTC), created_by=actor.name)
    s.add(snap)
    s.flush()
    uow.audit(actor, "snapshot.create", "snapshot", snap.id, chain=school.id,
              details={"class": sc.name, "period": period.code, "version": snap.version,
                       "sha256": digest, "reason": reason})
    return SnapshotOutcome(snapshot_info(s, snap), True)


def _ref(s: Session, sc: SchoolClass, period: Period) -> str:
    return f"{s.get(AcademicYear, sc.academic_year_id).label}/{period.code}"


def _select(s: Session, *, school_code: str | None, period: str | None,
            class_name: str | None):
    query = select(PeriodSnapshot).order_by(PeriodSnapshot.id)
    if school_code or period or class_name:
        school = find_school(s, school_code)
        query = query.where(PeriodSnapshot.school_id == school.id)
        if period:
            year, per = find_period(s, school, PeriodRef.parse(period))
            query = query.where(PeriodSnapshot.period_id == per.id)
        if class_name:
            ids = select(SchoolClass.id).where(SchoolClass.school_id == school.id,
                                               SchoolClass.name == norm_class_name(class_name))
            query = query.where(PeriodSnapshot.school_class_id.in_(ids))
    return query


def list_snapshots(archive: Archive, *, school_code: str | None = None,
                   period: str | None = None, class_name: str | None = None) -> list[SnapshotInfo]:
    """Snapshots, oldest first, optionally filtered."""
    with archive.sessions() as s:
        return [snapshot_info(s, snap) for snap in s.scalars(
            _select(s, school_code=school_code, period=period, class_name=class_name))]


def show_snapshot(archive: Archive, snapshot_id: int, *, reader: Actor | None = None
                  ) -> tuple[SnapshotInfo, dict[str, Any]]:
    """One snapshot's record and its verified content.

    ``reader`` is the person who reads it (students' personal data: recorded in the audit
    trail); None for the service's own reads (rendering).
    """
    with archive.sessions() as s:
        snap = s.get(PeriodSnapshot, snapshot_id)
        if snap is None:
            raise NotFoundError(f"Срез № {snapshot_id} не найден (список: archive snapshot list).")
        info, school_id = snapshot_info(s, snap), snap.school_id
        from archive_service.disposition.tombstones import snapshot_destroyed

        if snapshot_destroyed(s, snapshot_id):
            raise NotFoundError(f"Срез № {snapshot_id} уничтожен по акту вместе с копией "
                                "журнала; осталась запись об уничтожении.")
    outcome = _verify(archive, info, set())
    if not outcome.ok:
        from archive_service.errors import IntegrityError

        raise IntegrityError(outcome.problem)
    if reader is not None:
        from archive_service.audit.service import record

        record(archive, reader, "snapshot.read", "snapshot", snapshot_id, chain=school_id,
               details={"class": info.class_name, "period": info.period})
    return info, json.loads(archive.storage.get(info.storage_key))


def _verify(archive: Archive, info: SnapshotInfo, destroyed: set[str]) -> VerifyOutcome:
    label = f"срез № {info.id}: класс {info.class_name}, «{info.period_name}» {info.academic_year}, " \
            f"версия {info.version}"
    if info.storage_key in destroyed:  # destroyed with its journal copy under an act
        return VerifyOutcome(info, True, f"{label}: уничтожен по акту (запись об уничтожении)")
    try:
        data = archive.storage.get(info.storage_key)
    except StorageObjectMissingError:
        return VerifyOutcome(info, False, f"{label}: данные отсутствуют в хранилище")
    if len(data) != info.size or sha256_hex(data) != info.sha256:
        return VerifyOutcome(info, False, f"{label}: содержимое изменено — хеш не совпадает с "
                                          "записанным при создании")
    return VerifyOutcome(info, True)


def verify_snapshots(archive: Archive, *, snapshot_id: int | None = None,
                     school_code: str | None = None, period: str | None = None,
                     class_name: str | None = None) -> list[VerifyOutcome]:
    """Re-hash stored snapshot bytes against their records."""
    with archive.sessions() as s:
        if snapshot_id is not None:
            snap = s.get(PeriodSnapshot, snapshot_id)
            if snap is None:
                raise NotFoundError(f"Срез № {snapshot_id} не найден.")
            infos = [snapshot_info(s, snap)]
        else:
            infos = [snapshot_info(s, snap) for snap in s.scalars(
                _select(s, school_code=school_code, period=period, class_name=class_name))]
        from archive_service.disposition.tombstones import destroyed_keys

        destroyed = destroyed_keys(s)
    return [_verify(archive, info, destroyed) for info in infos]

