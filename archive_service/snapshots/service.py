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
from archive_service.checks.service import check_class, summarise
from archive_service.db import Archive
from archive_service.errors import (
    ArchiveError,
    ConflictError,
    NotFoundError,
    SnapshotBatchError,
    SnapshotBlockedError,
    SnapshotChangedError,
    SnapshotError,
    StorageObjectMissingError,
)
from archive_service.journals.models import AcademicYear, Period, School, SchoolClass
from archive_service.journals.values import given_class as norm_class_name
from archive_service.snapshots.canonical import canonical_bytes, snapshot_content
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


@dataclass(frozen=True)
class PeriodRef:
    """A period named as «2025-2026/Q1» (year label / period code)."""

    year: str
    code: str

    @classmethod
    def parse(cls, text: str) -> PeriodRef:
        """Parse «2025-2026/Q1»."""
        from archive_service.journals.values import parse_period

        year, sep, code = text.partition("/")
        if not sep:
            raise NotFoundError(
                f"Период «{text}» указан неверно: ожидается учебный год и период, "
                "например 2025-2026/Q1 (Q1-Q4 четверти, H1-H2 полугодия, T1-T3 триместры, "
                "Y учебный год).")
        try:
            return cls(year.strip(), parse_period(code))
        except ValueError as exc:
            raise NotFoundError(f"Период «{text}»: {exc}.") from None


def find_school(session: Session, code: str | None) -> School:
    """The school by code, or the only school when there is exactly one."""
    if code:
        school = session.scalars(select(School).filter_by(code=code)).one_or_none()
        if school is None:
            raise NotFoundError(f"Школа с кодом «{code}» не найдена: сначала загрузите её журнал.")
        return school
    schools = session.scalars(select(School).limit(2)).all()
    if not schools:
        raise NotFoundError("В архиве нет ни одной школы: сначала загрузите журнал (archive import).")
    if len(schools) > 1:
        raise NotFoundError("В архиве несколько школ: укажите школу (--school КОД).")
    return schools[0]


def find_period(session: Session, school: School, ref: PeriodRef) -> tuple[AcademicYear, Period]:
    """The academic year and period named by a reference."""
    year = session.scalars(select(AcademicYear).filter_by(school_id=school.id, label=ref.year)
                           ).one_or_none()
    if year is None:
        raise NotFoundError(f"Учебный год {ref.year} школы {school.code} не найден.")
    period = session.scalars(select(Period).filter_by(academic_year_id=year.id, code=ref.code)
                             ).one_or_none()
    if period is None:
        raise NotFoundError(f"Период {ref.code} учебного года {ref.year} не найден: его даты "
                            "приходят с импортом журнала.")
    return year, period


def classes_for(session: Session, year: AcademicYear, period: Period,
                class_name: str | None) -> list[SchoolClass]:
    """The classes a command applies to: one by name, or all that use this period."""
    query = select(SchoolClass).filter_by(academic_year_id=year.id)
    if class_name:
        try:
            name = norm_class_name(class_name)
        except ConflictError as exc:
            raise NotFoundError(f"{exc.message} Укажите класс так, как в журнале (например "
                                "7А).") from None
        sc = session.scalars(query.filter_by(name=name)).one_or_none()
        if sc is None:
            raise NotFoundError(f"Класс {name} в {year.label} учебном году не найден.")
        if not applies(sc, period):
            raise ConflictError(f"Класс {sc.name} учится не по периодам вида «{period.name}»: "
                                f"выберите его период ({_scheme_hint(sc)}).")
        return [sc]
    classes = [c for c in session.scalars(query) if applies(c, period)]
    return sorted(classes, key=lambda c: (c.grade, c.name))


def applies(sc: SchoolClass, period: Period) -> bool:
    """Whether a period belongs to the class's scheme (the year applies to every class)."""
    from archive_service.journals.values import PERIOD_SCHEMES

    return period.code == "Y" or PERIOD_SCHEMES[period.kind] == sc.period_scheme


def _scheme_hint(sc: SchoolClass) -> str:
    return {"quarters": "Q1-Q4", "half_years": "H1-H2", "trimesters": "T1-T3"}[sc.period_scheme]


def _info(s: Session, snap: PeriodSnapshot) -> SnapshotInfo:
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
        return [_create_one(archive, school_id, targets[0], period_id, actor, reason)]
    # Many classes: one blocked class must not hold up the others.
    done: list[SnapshotOutcome] = []
    failures: list[tuple[str, ArchiveError]] = []
    for class_id, name in zip(targets, names, strict=True):
        try:
            done.append(_create_one(archive, school_id, class_id, period_id, actor, reason))
        except SnapshotError as exc:
            failures.append((name, exc))
    if failures:
        raise SnapshotBatchError(done, failures)
    return done


def _create_one(archive: Archive, school_id: int, class_id: int, period_id: int, actor: Actor,
                reason: str | None) -> SnapshotOutcome:
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
        return SnapshotOutcome(_info(s, latest), False)
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
    return SnapshotOutcome(_info(s, snap), True)


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
        return [_info(s, snap) for snap in s.scalars(
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
        info, school_id = _info(s, snap), snap.school_id
        from archive_service.disposition.service import snapshot_destroyed

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
            infos = [_info(s, snap)]
        else:
            infos = [_info(s, snap) for snap in s.scalars(
                _select(s, school_code=school_code, period=period, class_name=class_name))]
        from archive_service.disposition.service import destroyed_keys

        destroyed = destroyed_keys(s)
    return [_verify(archive, info, destroyed) for info in infos]

