"""The task queue: procrastinate on the archive's own PostgreSQL database.

No broker of our own: the jobs are rows in procrastinate's tables beside the archive's, so
any number of ``archive worker`` processes on any number of machines that reach the same
PostgreSQL (and the same S3 store) share the work. Decisions:

- One job per school (import, then its classes queued) and one per class (check, snapshot,
  render); ``queueing_lock`` keeps at most one waiting job per school/class, ``lock`` runs
  at most one job per class at a time. The steps are idempotent (``closing.service``), so a
  job run twice does nothing the second time.
- Retries: a failing job is retried 5 times with exponential backoff (2, 4, 8, 16, 32 s);
  then it stays ``failed`` in procrastinate's table, the dead-letter list (``archive jobs``)
  from which a person can retry it. Problems a person must solve are not failures: the
  service records them on the run and the job succeeds.
- A worker that dies (killed, machine lost) stops sending heartbeats; after three missed
  heartbeats its job is «stalled» and put back in the queue, by the every-minute
  ``recover_stalled`` task of any live worker and by ``archive close-period`` while it waits.
- Schedule (cron, server time): 00:15 close the periods that ended by the school calendars
  (``close_due_periods``), 01:50 the audit trail's checkpoints (``audit.anchor``), 02:00 the
  daily encrypted backup, 03:00 the daily fixity share.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from sqlalchemy import text
from sqlalchemy.engine import make_url

from archive_service.closing import service
from archive_service.closing.jobs import NAMESPACE, STALLED_AFTER_HEARTBEATS, has_queue, task_name
from archive_service.config import Settings
from archive_service.db import Archive
from archive_service.errors import ArchiveError, StorageError

log = logging.getLogger(__name__)

QUEUE = "archive"
#: Retries after the first attempt (``ARCHIVE_TASK_RETRIES``) and the backoff base
#: (``ARCHIVE_TASK_BACKOFF_SECONDS``): the n-th retry waits base**n seconds.
RETRY = procrastinate.RetryStrategy(
    max_attempts=int(os.environ.get("ARCHIVE_TASK_RETRIES") or 5),
    exponential_wait=int(os.environ.get("ARCHIVE_TASK_BACKOFF_SECONDS") or 2))

#: A school's classes go before the next school's import: schools finish one after another
#: (their chains open early) and a class is worked on while its school's rows are fresh.
PRIORITY_CLASS = 10

bp = procrastinate.Blueprint()


def conninfo(settings: Settings) -> str:
    """The libpq connection string of the archive's PostgreSQL database."""
    service.ensure_config_url(settings.database_url)
    return make_url(settings.database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def make_app(settings: Settings, **pool: Any) -> procrastinate.App:
    """The procrastinate app of this archive (not opened); ``pool``: psycopg pool sizes."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=conninfo(settings), **pool))
    app.add_tasks_from(bp, namespace=NAMESPACE)
    return app


def ensure_schema(archive: Archive) -> bool:
    """Create procrastinate's tables in the archive database unless they exist (under an
    advisory lock: several workers may start at once). Returns whether it created them."""
    with archive.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(724100913)"))
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
            return False
        # Straight to the driver: the schema text holds «%» that is not a placeholder.
        conn.connection.dbapi_connection.cursor().execute(SchemaManager.get_schema())
    return True


@functools.cache
def _archive() -> Archive:
    """The archive of this worker process, configured by its environment."""
    return Archive(Settings.from_env())


@dataclass
class Queued:
    """Dispatches the steps of a run as jobs of the queue."""

    app: procrastinate.App

    def _defer(self, task: str, queueing_lock: str, lock: str | None = None,
               priority: int = 0, **kwargs: Any) -> None:
        try:
            self.app.configure_task(task_name(task), queue=QUEUE, queueing_lock=queueing_lock,
                                    lock=lock, priority=priority).defer(**kwargs)
        except AlreadyEnqueued:  # one waiting job for it is enough
            pass

    def school(self, run_id: int, school_code: str) -> None:
        self._defer("close_school", f"close-school-{run_id}-{school_code}",
                    run_id=run_id, school_code=school_code)

    def klass(self, run_id: int, close_class_id: int) -> None:
        self._defer("close_class", f"close-class-{close_class_id}",
                    lock=f"close-class-{close_class_id}", priority=PRIORITY_CLASS, run_id=run_id,
                    close_class_id=close_class_id)

    def finish(self, run_id: int) -> None:
        self._defer("finish_close", f"close-finish-{run_id}", lock=f"close-finish-{run_id}",
                    priority=PRIORITY_CLASS, run_id=run_id)


# --- tasks -----------------------------------------------------------------------------------

@bp.task(name="close_school", retry=RETRY, pass_context=True)
def close_school(context: procrastinate.JobContext, run_id: int, school_code: str) -> None:
    service.close_school(_archive(), run_id, school_code, actor=service.SYSTEM,
                         dispatch=Queued(context.app))


@bp.task(name="close_class", retry=RETRY, pass_context=True)
def close_class(context: procrastinate.JobContext, run_id: int, close_class_id: int) -> None:
    try:
        line = service.close_class(_archive(), close_class_id, actor=service.SYSTEM,
                                   dispatch=Queued(context.app))
    except StorageError:
        raise  # an outage: retried
    except ArchiveError as exc:  # recorded on the run for a person; not a failure of the job
        line = exc.message
    log.info("close run %s: %s", run_id, line)


@bp.task(name="finish_close", retry=RETRY)
def finish_close(run_id: int) -> None:
    service.finish_run(_archive(), run_id, actor=service.SYSTEM)


@bp.periodic(cron="15 0 * * *")
@bp.task(name="close_due_periods", queueing_lock="close_due_periods", pass_context=True)
def close_due_periods(context: procrastinate.JobContext, timestamp: int) -> None:
    today = dt.datetime.fromtimestamp(timestamp).date()
    for started in service.close_due_periods(_archive(), today=today,
                                             dispatch=Queued(context.app)):
        log.info("scheduled close run %s for %s", started.run_id, started.schools)


@bp.periodic(cron="50 1 * * *")
@bp.task(name="daily_audit_checkpoint", queueing_lock="daily_audit_checkpoint")
def daily_audit_checkpoint(timestamp: int) -> None:
    """Anchor every school's audit chain with its TSA before the nightly backup (issue 30)."""
    from archive_service.audit.anchor import make_checkpoints
    from archive_service.errors import ConfigError

    archive = _archive()
    if not archive.settings.tsa_passphrase:
        raise ConfigError("Не задан ARCHIVE_TSA_PASSPHRASE: контрольные точки журнала аудита "
                          "не сделаны.")
    for point in make_checkpoints(archive, tsa_passphrase=archive.settings.tsa_passphrase,
                                  actor=service.SYSTEM):
        log.info("audit checkpoint %s", point.key)


@bp.periodic(cron="0 2 * * *")
@bp.task(name="daily_backup", queueing_lock="daily_backup", retry=RETRY)
def daily_backup(timestamp: int) -> None:
    backup_id, problem = service.make_backup(_archive(), service.SYSTEM)
    if problem:
        raise ArchiveError(problem)  # a failed job: seen in archive jobs and the metrics
    log.info("daily backup %s", backup_id)


@bp.periodic(cron="0 3 * * *")
@bp.task(name="daily_fixity", queueing_lock="daily_fixity")
def daily_fixity(timestamp: int) -> None:
    from archive_service.fixity.service import run_fixity

    report = run_fixity(_archive(), actor=service.SYSTEM)
    if report.problems:
        raise ArchiveError(f"Проверка целостности № {report.run_id}: нарушений "
                           f"{len(report.problems)} (archive fixity status).")


@bp.periodic(cron="30 4 1 * *")
@bp.task(name="monthly_timestamp_renewal", queueing_lock="monthly_timestamp_renewal")
def monthly_timestamp_renewal(timestamp: int) -> None:
    """Renew the archival timestamps that expire within two years, in every school."""
    from archive_service.errors import ConfigError
    from archive_service.signatures.renewal import DEFAULT_WINDOW, renew_region

    archive = _archive()
    if not archive.settings.tsa_passphrase:
        raise ConfigError("Не задан ARCHIVE_TSA_PASSPHRASE: штампы времени не продлены.")
    for report in renew_region(archive, within=DEFAULT_WINDOW,
                               tsa_passphrase=archive.settings.tsa_passphrase,
                               actor=service.SYSTEM):
        log.info("school %s: %s of %s sealed copies renewed", report.school,
                 len(report.renewed), report.checked)


@bp.periodic(cron="* * * * *")
@bp.task(name="recover_stalled", queueing_lock="recover_stalled", pass_context=True)
async def recover_stalled_task(context: procrastinate.JobContext, timestamp: int) -> None:
    await recover_stalled_async(context.app, _archive().settings)


async def recover_stalled_async(app: procrastinate.App, settings: Settings) -> list[int]:
    """Put the jobs of dead workers back in the queue; returns their ids."""
    silent = settings.worker_heartbeat_seconds * STALLED_AFTER_HEARTBEATS
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=silent))
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
            log.warning("job %s (%s) of a dead worker goes back to the queue", job.id,
                        job.task_name)
        except UniqueViolation:
            # The same work already waits in a newer job (one waiting job per class): the
            # dead one ends as aborted instead of staying «doing» for ever.
            await app.job_manager.finish_job(job, Status.ABORTED, delete_job=False)
            log.warning("job %s (%s) of a dead worker aborted: a newer job does the same work",
                        job.id, job.task_name)
    return [job.id for job in stalled]


def recover_stalled(settings: Settings) -> list[int]:
    """``recover_stalled_async`` from synchronous code (its own short connection)."""

    async def run() -> list[int]:
        app = make_app(settings, min_size=1, max_size=1)
        async with app.open_async():
            return await recover_stalled_async(app, settings)

    return asyncio.run(run())


def run_worker(settings: Settings, *, name: str | None = None, concurrency: int = 1) -> None:
    """One worker process: runs jobs until SIGINT/SIGTERM (finishing the current one)."""
    archive = _archive()
    ensure_schema(archive)
    app = make_app(settings)
    heartbeat = settings.worker_heartbeat_seconds
    app.run_worker(queues=None, concurrency=concurrency, name=name or service.worker_name(),
                   update_heartbeat_interval=heartbeat,
                   stalled_worker_timeout=heartbeat * STALLED_AFTER_HEARTBEATS,
                   fetch_job_polling_interval=min(5.0, heartbeat))


def retry_failed(archive: Archive, job_id: int) -> None:
    """Put a failed (dead-letter) job back in the queue now."""
    from archive_service.errors import ConflictError, NotFoundError

    with archive.engine.connect() as conn:
        status = conn.execute(text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"),
                              {"id": job_id}).scalar() if has_queue(archive) else None
    if status is None:
        raise NotFoundError(f"Задания № {job_id} в очереди нет (список: archive jobs).")
    if status != "failed":
        raise ConflictError(f"Задание № {job_id} не в списке отказов: его состояние «{status}».")
    app = make_app(archive.settings)
    with app.open():
        app.job_manager.retry_job_by_id(job_id, retry_at=dt.datetime.now(dt.UTC))
