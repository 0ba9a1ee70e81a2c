"""The period-end procedure as one resumable job (seed 000, sections 4-5).

``start_close`` makes (or finds) the run of a period over a scope of schools; each school
then goes through ``close_school`` (import from its configured source, the classes the period
applies to recorded as rows of the run and handed to the dispatcher) and each class through
``close_class`` (completeness check, snapshot, journal copy and summary sheet as PDF/A; the
documents' signature chains are open from then on). When the last class is final,
``finish_run`` makes the encrypted backup and the run is done, or waits for a person.

Who runs the steps is the dispatcher's business: ``Inline`` calls them in this process (the
embedded SQLite default and ``--inline``), ``closing.queue`` defers them as tasks of the
PostgreSQL-backed queue that any number of ``archive worker`` processes share.

Every step is idempotent, so a retry, a killed worker or a second ``archive close-period``
never duplicates anything: an unchanged journal gives back its existing snapshot (the class
row is locked while it is decided), an existing snapshot its existing documents, and a class
row that is done is not touched again. Register numbers are not given here at all: a copy is
numbered when the secretary registers it after the seal.

Problems a person must solve (a rejected import file, a journal that changed after its
snapshot, a school that forbids snapshots of incomplete journals, no backup keys) do not
fail the run's tasks: they are recorded on the row as ``attention`` with the message the
service would have shown, and a new start of the same close retries exactly those rows.
Anything else (a database or storage outage) fails the task, which the queue retries with
backoff and, after the last attempt, leaves in the dead-letter list (``archive jobs``).
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select, update

from archive_service.actors import Actor
from archive_service.closing.models import CloseClass, CloseRun, CloseSchool
from archive_service.db import Archive
from archive_service.errors import (
    ArchiveError,
    ConfigError,
    ImportRejectedError,
    NotFoundError,
    StorageError,
)
from archive_service.journals.models import AcademicYear, Period, School, SchoolClass
from archive_service.orm import insert_missing

#: The actor of the queue's own work (a scheduled close, a worker's task).
SYSTEM = Actor("Служба закрытия периодов", "system")

FINAL_CLASS = ("done", "attention")
FINAL_SCHOOL = ("dispatched", "attention")
IMPORT_PATTERNS = ("*.json", "*.xlsx", "*.xlsm", "*.xls", "*.ods", "*.csv")


class Dispatcher(Protocol):
    """Runs (or queues) the steps of a run."""

    def school(self, run_id: int, school_code: str) -> None: ...

    def klass(self, run_id: int, close_class_id: int) -> None: ...

    def finish(self, run_id: int) -> None: ...


@dataclass
class Inline:
    """Runs every step at once in this process, one after the other."""

    archive: Archive
    actor: Actor
    progress: Callable[[str], None] = lambda _msg: None

    def school(self, run_id: int, school_code: str) -> None:
        close_school(self.archive, run_id, school_code, actor=self.actor, dispatch=self)

    def klass(self, run_id: int, close_class_id: int) -> None:
        try:
            name = close_class(self.archive, close_class_id, actor=self.actor, dispatch=self)
        except ArchiveError as exc:  # recorded on the row; the run goes on with the others
            name = exc.message
        except Exception as exc:  # noqa: BLE001 - recorded on the row, reported at the end
            name = str(exc)
        self.progress(name)

    def finish(self, run_id: int) -> None:
        finish_run(self.archive, run_id, actor=self.actor)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def worker_name() -> str:
    """host:pid of this process (recorded on the class row it works on)."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- sources ---------------------------------------------------------------------------------

def import_source(archive: Archive, code: str, settings: dict | None) -> Path | None:
    """The folder a school's e-journal exports land in: the school's ``import_source``
    setting, else ``ARCHIVE_IMPORT_ROOT/<code>``; None when neither exists."""
    own = (settings or {}).get("import_source")
    if own:
        return Path(own)
    root = archive.settings.import_root
    if root is not None and (root / code).is_dir():
        return root / code
    return None


def schools_in_scope(archive: Archive, school_code: str | None) -> list[str]:
    """One school, or every school: those in the archive and those with a folder under
    ``ARCHIVE_IMPORT_ROOT`` (a school appears in the archive with its first import)."""
    with archive.sessions() as s:
        known = set(s.scalars(select(School.code)))
    if school_code is not None:
        root = archive.settings.import_root
        if school_code not in known and not (root and (root / school_code).is_dir()):
            raise NotFoundError(f"Школа с кодом «{school_code}» не найдена ни в архиве, ни в "
                                f"папке выгрузок ({root or 'ARCHIVE_IMPORT_ROOT не задан'}).")
        return [school_code]
    root = archive.settings.import_root
    if root is not None and root.is_dir():
        known |= {p.name for p in root.iterdir() if p.is_dir()}
    if not known:
        raise NotFoundError("Нет ни одной школы: ни в архиве, ни в папке выгрузок "
                            "ARCHIVE_IMPORT_ROOT.")
    return sorted(known)


# --- starting and resuming -------------------------------------------------------------------

@dataclass(frozen=True)
class Started:
    """A run and whether it was created now (False: an unfinished run is continued)."""

    run_id: int
    created: bool
    schools: list[str]


def start_close(archive: Archive, *, period: str, school_code: str | None, actor: Actor,
                trigger: str = "manual", classes: list[str] | None = None) -> Started:
    """Create the run of a period over one school or all, or continue the unfinished one.

    Continuing puts every row that waited for a person back in the queue (the person has
    had the chance to fix the cause) and adds schools that appeared since. ``classes``: only
    these classes of one school (the web's choice); a run continued for other classes (or
    for all) grows to cover them.
    """
    from archive_service.journals.lookup import PeriodRef
    from archive_service.journals.values import given_class as norm_class_name

    ref = PeriodRef.parse(period)
    period = f"{ref.year}/{ref.code}"
    if classes is not None:
        if school_code is None:
            raise ArchiveError("Классы выбираются только для одной школы.")
        classes = sorted({norm_class_name(c) for c in classes if c and c.strip()})
        if not classes:
            raise ArchiveError("Не выбрано ни одного класса.")
        if any(len(c) > 20 or "\x00" in c for c in classes):
            raise ArchiveError("Название класса указано неверно (например: 7А).")
    codes = schools_in_scope(archive, school_code)
    scope = school_code or "*"
    now = _now()
    with archive.unit_of_work() as uow:
        s = uow.session
        run = s.scalars(select(CloseRun).where(
            CloseRun.period == period, CloseRun.scope == scope,
            CloseRun.status.in_(("running", "attention"))).with_for_update()).first()
        created = run is None
        if created:
            run = CloseRun(period=period, scope=scope, trigger=trigger, status="running",
                           created_at=now, created_by=actor.name, classes=classes)
            s.add(run)
            s.flush()
        else:
            run.status, run.message, run.finished_at = "running", None, None
            if run.classes is not None:  # grows to the classes asked for now (None: all)
                run.classes = None if classes is None else sorted(set(run.classes) |
                                                                  set(classes))
                # The school is listed again: its new classes get their rows.
                s.execute(update(CloseSchool).where(CloseSchool.run_id == run.id)
                          .values(status="pending", updated_at=now))
            s.execute(update(CloseSchool).where(CloseSchool.run_id == run.id,
                                                CloseSchool.status == "attention")
                      .values(status="pending", message=None, updated_at=now))
            s.execute(update(CloseClass).where(CloseClass.run_id == run.id,
                                               CloseClass.status.in_(("attention", "failed")))
                      .values(status="pending", message=None))
        for code in codes:
            insert_missing(s, CloseSchool, run_id=run.id, school_code=code, status="pending",
                           imported=0, classes=0, updated_at=now)
        run_id = run.id
    return Started(run_id, created, codes)


def dispatch_pending(archive: Archive, run_id: int, dispatch: Dispatcher) -> int:
    """Hand every unfinished school and class of a run to the dispatcher; returns how many."""
    with archive.sessions() as s:
        schools = list(s.scalars(select(CloseSchool.school_code).where(
            CloseSchool.run_id == run_id, CloseSchool.status == "pending")
            .order_by(CloseSchool.school_code)))
        classes = list(s.scalars(select(CloseClass.id).where(
            CloseClass.run_id == run_id, CloseClass.school_id.in_(
                select(School.id).where(School.code.in_(select(CloseSchool.school_code).where(
                    CloseSchool.run_id == run_id, CloseSchool.status == "dispatched")))),
            CloseClass.status.not_in(FINAL_CLASS)).order_by(CloseClass.id)))
    for code in schools:
        dispatch.school(run_id, code)
    for class_row in classes:
        dispatch.klass(run_id, class_row)
    if not schools and not classes:
        _maybe_finish(archive, run_id, dispatch)
    return len(schools) + len(classes)


# --- one school ------------------------------------------------------------------------------

def close_school(archive: Archive, run_id: int, school_code: str, *, actor: Actor,
                 dispatch: Dispatcher) -> None:
    """Import the school's exports, then record and dispatch its classes of the period."""
    from archive_service.journals.service import import_files

    with archive.sessions() as s:
        row = s.scalars(select(CloseSchool).filter_by(run_id=run_id, school_code=school_code)
                        ).one()
        if row.status in FINAL_SCHOOL:
            return
        run = s.get(CloseRun, run_id)
        period, chosen = run.period, run.classes
        school = s.scalars(select(School).filter_by(code=school_code)).one_or_none()
        source = import_source(archive, school_code, school.settings if school else None)
    imported, problems = 0, []
    if source is not None:
        files = sorted(p for pattern in IMPORT_PATTERNS for p in source.glob(pattern))
        if not files and school is None:
            problems.append(f"в папке выгрузок {source} нет файлов журнала (*.json, *.xlsx, "
                            "*.xls, *.ods, *.csv)")
        for outcome in import_files(archive, files, actor=actor):
            if isinstance(outcome, ImportRejectedError):
                problems.append(outcome.message)
                continue
            imported += 1
            if outcome.school_code != school_code:
                problems.append(f"файл {outcome.file_name} относится к школе "
                                f"{outcome.school_code}, а лежит в папке школы {school_code}")
    elif school is None:
        problems.append("источник выгрузок не настроен (ARCHIVE_IMPORT_ROOT или "
                        "archive school set --import-source), а в архиве школы ещё нет")
    if problems:
        # A rejected file means the journal is not the school's final one: freezing it now
        # would archive the wrong marks. The person fixes the export and starts again.
        _school_done(archive, run_id, school_code, "attention", imported, 0,
                     "Загрузка журнала: " + "\n".join(problems))
        _maybe_finish(archive, run_id, dispatch)
        return
    try:
        targets = _classes_of(archive, school_code, period)
        if chosen is not None:
            unknown = sorted(set(chosen) - {name for _s, _c, name in targets})
            if unknown:
                raise NotFoundError(f"Нет классов {', '.join(unknown)}, к которым относится "
                                    f"период {period}.")
            targets = [t for t in targets if t[2] in chosen]
    except ArchiveError as exc:
        _school_done(archive, run_id, school_code, "attention", imported, 0, exc.message)
        _maybe_finish(archive, run_id, dispatch)
        return
    with archive.unit_of_work() as uow:
        for school_id, class_id, name in targets:
            insert_missing(uow.session, CloseClass, run_id=run_id, school_id=school_id,
                           school_class_id=class_id, class_name=name, status="pending",
                           attempts=0, findings={}, documents=[])
    with archive.sessions() as s:
        ids = list(s.scalars(select(CloseClass.id).where(
            CloseClass.run_id == run_id, CloseClass.status.not_in(FINAL_CLASS),
            CloseClass.school_id == targets[0][0]).order_by(CloseClass.id))) if targets else []
    # Dispatched before the school is marked: a worker killed in between leaves the school
    # pending, and its retry dispatches again (the queue keeps one waiting job per class).
    for class_row in ids:
        dispatch.klass(run_id, class_row)
    _school_done(archive, run_id, school_code, "dispatched", imported, len(targets), None)
    _maybe_finish(archive, run_id, dispatch)


def _classes_of(archive: Archive, school_code: str, period: str) -> list[tuple[int, int, str]]:
    from archive_service.journals.lookup import PeriodRef, classes_for, find_period, find_school

    with archive.sessions() as s:
        school = find_school(s, school_code)
        year, per = find_period(s, school, PeriodRef.parse(period))
        return [(school.id, c.id, c.name) for c in classes_for(s, year, per, None)]


def _school_done(archive: Archive, run_id: int, code: str, status: str, imported: int,
                 classes: int, message: str | None) -> None:
    with archive.unit_of_work() as uow:
        uow.session.execute(update(CloseSchool).where(
            CloseSchool.run_id == run_id, CloseSchool.school_code == code).values(
            status=status, imported=imported, classes=classes, message=message,
            updated_at=_now()))


# --- one class -------------------------------------------------------------------------------

def close_class(archive: Archive, close_class_id: int, *, actor: Actor,
                dispatch: Dispatcher) -> str:
    """Check, snapshot and render one class of a run; returns a line for the progress.

    A domain refusal is recorded on the row as ``attention`` (and raised again for the
    caller to report); any other failure as ``failed`` before it propagates to the queue's
    retry.
    """
    from archive_service.checks.service import check_class, summarise
    from archive_service.journals.lookup import PeriodRef, find_period
    from archive_service.rendering.service import render_snapshots
    from archive_service.snapshots.service import create_one

    with archive.unit_of_work() as uow:
        row = uow.session.get(CloseClass, close_class_id, with_for_update=True)
        if row is None:
            raise NotFoundError(f"Строки закрытия периода № {close_class_id} нет.")
        label = f"{row.class_name}"
        if row.status == "done":
            return f"{label}: уже готово"
        run = uow.session.get(CloseRun, row.run_id)
        row.status, row.worker, row.started_at = "running", worker_name(), _now()
        row.attempts += 1
        run_id, period_ref = row.run_id, run.period
        school_id, class_id = row.school_id, row.school_class_id
    try:
        with archive.sessions() as s:
            sc = s.get(SchoolClass, class_id)
            _year, period = find_period(s, s.get(School, school_id), PeriodRef.parse(period_ref))
            findings = summarise(check_class(s, sc, period))
            period_id, school_code = period.id, s.get(School, school_id).code
        label = f"{school_code} {sc.name}"
        snap = create_one(archive, school_id, class_id, period_id, actor, None)
        [rendered] = render_snapshots(archive, [snap.snapshot.id], actor=actor, workers=1)
        documents = [d.id for d in rendered.documents]
    except Exception as exc:
        if isinstance(exc, ArchiveError) and not isinstance(exc, StorageError):
            # A snapshot refused, a period missing: a person decides.
            _class_done(archive, close_class_id, "attention", exc.message)
            _maybe_finish(archive, run_id, dispatch)
        else:  # an outage or a fault: the queue retries, then lists it in archive jobs
            detail = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            _class_done(archive, close_class_id, "failed",
                        f"Сбой при обработке класса (задание повторяется, после последней "
                        f"попытки — в списке archive jobs): {detail}")
        raise
    _class_done(archive, close_class_id, "done", None, findings=findings,
                snapshot_id=snap.snapshot.id, documents=documents)
    _maybe_finish(archive, run_id, dispatch)
    return (f"{label}: срез № {snap.snapshot.id}" + ("" if snap.created else " (уже был)")
            + f", документы {', '.join(map(str, documents))}")


def _class_done(archive: Archive, close_class_id: int, status: str, message: str | None,
                **values: Any) -> None:
    with archive.unit_of_work() as uow:
        uow.session.execute(update(CloseClass).where(CloseClass.id == close_class_id).values(
            status=status, message=message, finished_at=_now(), **values))


def _maybe_finish(archive: Archive, run_id: int, dispatch: Dispatcher) -> None:
    """Hand the run's end to the dispatcher once nothing of it is open (whoever finishes
    last sees it: every step checks after its own commit)."""
    if _all_final(archive, run_id):
        dispatch.finish(run_id)


def _all_final(archive: Archive, run_id: int) -> bool:
    with archive.sessions() as s:
        schools_open = s.scalar(select(func.count()).select_from(CloseSchool).where(
            CloseSchool.run_id == run_id, CloseSchool.status.not_in(FINAL_SCHOOL)))
        classes_open = s.scalar(select(func.count()).select_from(CloseClass).where(
            CloseClass.run_id == run_id, CloseClass.status.not_in(FINAL_CLASS)))
    return not schools_open and not classes_open


# --- the end of a run ------------------------------------------------------------------------

def finish_run(archive: Archive, run_id: int, *, actor: Actor, backup: bool = True) -> bool:
    """When every school and class is final: the backup, then the run's status. Returns
    whether the run is finished (False: rows still open, nothing done)."""
    with archive.sessions() as s:
        run = s.get(CloseRun, run_id)
        if run is None or run.status != "running" or not _all_final(archive, run_id):
            return False
        attention = s.scalar(select(func.count()).select_from(CloseClass).where(
            CloseClass.run_id == run_id, CloseClass.status == "attention")) + s.scalar(
            select(func.count()).select_from(CloseSchool).where(
                CloseSchool.run_id == run_id, CloseSchool.status == "attention"))
        done = s.scalar(select(func.count()).select_from(CloseClass).where(
            CloseClass.run_id == run_id, CloseClass.status == "done"))
    backup_id, problem = None, None
    if backup and done:
        backup_id, problem = make_backup(archive, actor)
    with archive.unit_of_work() as uow:
        run = uow.session.get(CloseRun, run_id, with_for_update=True)
        if run.status != "running":
            return True
        run.status = "attention" if attention or problem else "done"
        run.backup_id, run.message, run.finished_at = backup_id, problem, _now()
        school = uow.session.scalars(select(School.id).filter_by(code=run.scope)).first() \
            if run.scope != "*" else None
        uow.audit(actor, "close.finish", "close_run", run.id, chain=school or 0,
                  details={"period": run.period, "scope": run.scope, "status": run.status,
                           "backup": backup_id, "attention": attention})
    return True


def make_backup(archive: Archive, actor: Actor) -> tuple[str | None, str | None]:
    """The encrypted backup of the whole archive to the configured target."""
    from archive_service.backups import service as backups

    try:
        backups.active_keyring(archive)
    except NotFoundError:
        return None, ("Резервная копия не сделана: ключи резервного копирования ещё не "
                      "созданы (директор: archive backup keys init).")
    try:
        made = backups.create_backup(archive, target_url=archive.settings.backup_target
                                     or str(archive.settings.home / "backups"),
                                     actor=actor)
    except ArchiveError as exc:
        return None, f"Резервная копия не сделана: {exc.message}"
    return made.id, None


# --- what a person sees ----------------------------------------------------------------------

@dataclass
class RunReport:
    """Where a run stands: counts, what needs a person, the backup."""

    id: int
    period: str
    scope: str
    trigger: str
    status: str
    classes_asked: list[str] | None  # the classes the run was started for (None: all)
    created_at: dt.datetime
    created_by: str
    finished_at: dt.datetime | None
    backup_id: str | None
    message: str | None
    schools: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    snapshots: int = 0
    documents: int = 0
    imported: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    #: (school code, class name or None, message) for every row waiting for a person.
    attention: list[tuple[str, str | None, str]] = field(default_factory=list)
    #: (school code, class name, findings) of classes frozen with completeness remarks.
    remarks: list[tuple[str, str, dict[str, int]]] = field(default_factory=list)

    @property
    def total_classes(self) -> int:
        return sum(self.classes.values())

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "period": self.period, "scope": self.scope,
                "trigger": self.trigger, "status": self.status,
                "created_at": self.created_at.isoformat(timespec="seconds"),
                "created_by": self.created_by,
                "finished_at": self.finished_at and self.finished_at.isoformat(
                    timespec="seconds"),
                "backup_id": self.backup_id, "message": self.message,
                "schools": self.schools, "classes": self.classes,
                "snapshots": self.snapshots, "documents": self.documents,
                "imported": self.imported, "findings": self.findings,
                "attention": [{"school": a, "class": b, "message": m}
                              for a, b, m in self.attention],
                "remarks": [{"school": a, "class": b, "findings": f}
                            for a, b, f in self.remarks]}


def run_report(archive: Archive, run_id: int) -> RunReport:
    """One run as a person reads it."""
    with archive.sessions() as s:
        run = s.get(CloseRun, run_id)
        if run is None:
            raise NotFoundError(f"Закрытие периода № {run_id} не найдено (archive close-period "
                                "--list).")
        report = RunReport(run.id, run.period, run.scope, run.trigger, run.status,
                           run.classes, run.created_at, run.created_by, run.finished_at,
                           run.backup_id, run.message)
        codes = dict(s.execute(select(School.id, School.code)).all())
        findings: collections.Counter[str] = collections.Counter()
        for row in s.scalars(select(CloseSchool).filter_by(run_id=run_id)
                             .order_by(CloseSchool.school_code)):
            report.schools[row.status] = report.schools.get(row.status, 0) + 1
            report.imported += row.imported
            if row.status == "attention":
                report.attention.append((row.school_code, None, row.message or ""))
        for row in s.scalars(select(CloseClass).filter_by(run_id=run_id)
                             .order_by(CloseClass.school_id, CloseClass.id)):
            report.classes[row.status] = report.classes.get(row.status, 0) + 1
            report.snapshots += row.snapshot_id is not None
            report.documents += len(row.documents or [])
            findings.update(row.findings or {})
            if row.status in ("attention", "failed"):
                report.attention.append((codes[row.school_id], row.class_name,
                                         row.message or ""))
            elif row.findings:
                report.remarks.append((codes[row.school_id], row.class_name,
                                       dict(row.findings)))
        report.findings = dict(findings)
    return report


@dataclass(frozen=True)
class ClassRow:
    """One class of a run as its progress page lists it."""

    class_name: str
    status: str
    message: str | None
    snapshot_id: int | None
    documents: tuple[int, ...]
    findings: dict[str, int]


def class_rows(archive: Archive, run_id: int) -> list[ClassRow]:
    """The classes of a run, in the order they were recorded."""
    with archive.sessions() as s:
        return [ClassRow(r.class_name, r.status, r.message, r.snapshot_id,
                         tuple(r.documents or ()), dict(r.findings or {}))
                for r in s.scalars(select(CloseClass).filter_by(run_id=run_id)
                                   .order_by(CloseClass.id))]


def school_runs(archive: Archive, *, school_code: str, period: str | None = None,
                limit: int = 10) -> list[RunReport]:
    """The latest runs of one school (of a period, if given), newest first."""
    with archive.sessions() as s:
        query = select(CloseRun.id).where(CloseRun.scope == school_code)
        if period:
            query = query.where(CloseRun.period == period)
        ids = list(s.scalars(query.order_by(CloseRun.id.desc()).limit(limit)))
    return [run_report(archive, i) for i in ids]


def list_runs(archive: Archive, *, limit: int = 20) -> list[RunReport]:
    """The latest runs, newest first."""
    with archive.sessions() as s:
        ids = list(s.scalars(select(CloseRun.id).order_by(CloseRun.id.desc()).limit(limit)))
    return [run_report(archive, i) for i in ids]


# --- scheduling ------------------------------------------------------------------------------

def due_periods(archive: Archive, *, today: dt.date, window_days: int = 14
                ) -> list[tuple[str, str]]:
    """(school code, «year/period») of every period that ended in the last ``window_days``
    days before ``today`` by the school's own calendar and has no close run yet.

    The window keeps a school whose old years are imported for the first time from closing
    every past period at once: those are closed by hand, deliberately.
    """
    since = today - dt.timedelta(days=window_days)
    with archive.sessions() as s:
        rows = s.execute(select(School.code, AcademicYear.label, Period.code)
                         .join(AcademicYear, AcademicYear.school_id == School.id)
                         .join(Period, Period.academic_year_id == AcademicYear.id)
                         .where(Period.end_date < today, Period.end_date >= since)
                         .order_by(Period.end_date, School.code)).all()
        runs = s.execute(select(CloseRun.period, CloseRun.scope)).all()
    started = {(scope, period) for period, scope in runs}
    return [(code, f"{label}/{per}") for code, label, per in rows
            if (code, f"{label}/{per}") not in started
            and ("*", f"{label}/{per}") not in started]


def close_due_periods(archive: Archive, *, today: dt.date, dispatch: Dispatcher,
                      window_days: int = 14) -> list[Started]:
    """Start the close of every period that has just ended (the scheduler's daily call)."""
    started = []
    for code, period in due_periods(archive, today=today, window_days=window_days):
        run = start_close(archive, period=period, school_code=code, actor=SYSTEM,
                          trigger="schedule")
        dispatch_pending(archive, run.run_id, dispatch)
        started.append(run)
    return started


def ensure_config_url(database_url: str) -> None:
    """Refuse a queue on the embedded SQLite database with a clear message."""
    if not database_url.startswith("postgresql"):
        raise ConfigError("Очередь задач работает только с PostgreSQL (ARCHIVE_DATABASE_URL="
                          "postgresql+psycopg://…); на встроенной SQLite закрывайте период "
                          "в одном процессе: archive close-period --inline.")
