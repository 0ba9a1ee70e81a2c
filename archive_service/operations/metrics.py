"""Prometheus metrics, read from the database at each scrape.

Nothing is counted in process memory: any of N web processes answers the same figures,
read from the queue's tables (procrastinate) and the archive's own. Figures:

- ``archive_queue_jobs{task,status}``: jobs by task and status (``failed`` = the dead-letter
  list; ``todo`` = queue depth).
- ``archive_workers_alive``: workers whose last heartbeat is within three heartbeat periods.
- ``archive_task_duration_seconds{task,quantile}`` and ``archive_task_wait_seconds{task,quantile}``
  (0.5, 0.95, 0.99 of jobs finished in the last hour: running time; time from deferred, or
  scheduled, to started), ``archive_task_finished_last_hour{task,status}``.
- ``archive_close_classes{status}`` of the runs still running; ``archive_close_runs{status}``.
- ``archive_last_backup_timestamp_seconds``, ``archive_last_fixity_timestamp_seconds`` and
  ``archive_last_fixity_ok``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select, text

from archive_service.db import Archive

QUANTILES = (0.5, 0.95, 0.99)


class ArchiveCollector:
    """A prometheus_client collector over one archive's database."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def collect(self) -> Iterator[Metric]:
        from archive_service.closing.jobs import NAMESPACE, STALLED_AFTER_HEARTBEATS, has_queue

        yield from self._archive_metrics()
        if not has_queue(self.archive):
            return
        jobs = GaugeMetricFamily("archive_queue_jobs", "Jobs of the task queue by status.",
                                 labels=["task", "status"])
        alive = GaugeMetricFamily("archive_workers_alive", "Workers with a recent heartbeat.")
        duration = GaugeMetricFamily(
            "archive_task_duration_seconds",
            "Running time of jobs finished in the last hour (quantiles).",
            labels=["task", "quantile"])
        wait = GaugeMetricFamily(
            "archive_task_wait_seconds",
            "Time from deferred (or scheduled) to started of jobs started in the last hour.",
            labels=["task", "quantile"])
        finished = GaugeMetricFamily("archive_task_finished_last_hour",
                                     "Jobs finished in the last hour by outcome.",
                                     labels=["task", "status"])
        silent = self.archive.settings.worker_heartbeat_seconds * STALLED_AFTER_HEARTBEATS
        strip = len(NAMESPACE) + 1
        with self.archive.engine.connect() as conn:
            for task, status, n in conn.execute(text(
                    "SELECT task_name, status::text, count(*) FROM procrastinate_jobs "
                    "GROUP BY 1, 2 ORDER BY 1, 2")):
                jobs.add_metric([task[strip:], status], n)
            alive.add_metric([], conn.execute(text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - make_interval(secs => :s)"), {"s": silent}
            ).scalar())
            for task, status, n, *qs in conn.execute(text("""
                    SELECT j.task_name, e.type::text, count(*),
                           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY
                             extract(epoch FROM e.at - s.at))
                    FROM procrastinate_events e
                    JOIN procrastinate_jobs j ON j.id = e.job_id
                    JOIN LATERAL (SELECT max(at) AS at FROM procrastinate_events
                                  WHERE job_id = e.job_id AND type = 'started'
                                    AND at <= e.at) s ON true
                    WHERE e.type IN ('succeeded', 'failed', 'deferred_for_retry')
                      AND e.at > now() - interval '1 hour'
                    GROUP BY 1, 2""")):
                finished.add_metric([task[strip:], status], n)
                if status == "succeeded" and qs[0]:
                    for q, v in zip(QUANTILES, qs[0], strict=True):
                        duration.add_metric([task[strip:], str(q)], v)
            for task, qs in conn.execute(text("""
                    SELECT j.task_name,
                           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY
                             extract(epoch FROM e.at - greatest(d.at, coalesce(j.scheduled_at,
                             d.at))))
                    FROM procrastinate_events e
                    JOIN procrastinate_jobs j ON j.id = e.job_id
                    JOIN LATERAL (SELECT max(at) AS at FROM procrastinate_events
                                  WHERE job_id = e.job_id
                                    AND type IN ('deferred', 'deferred_for_retry', 'retried')
                                    AND at <= e.at) d ON true
                    WHERE e.type = 'started' AND e.at > now() - interval '1 hour'
                    GROUP BY 1""")):
                for q, v in zip(QUANTILES, qs or [], strict=False):
                    wait.add_metric([task[strip:], str(q)], max(v, 0.0))
        yield from (jobs, alive, duration, wait, finished)

    def _archive_metrics(self) -> Iterator[Metric]:
        from archive_service.backups.models import Backup
        from archive_service.closing.models import CloseClass, CloseRun
        from archive_service.fixity.models import FixityRun

        classes = GaugeMetricFamily("archive_close_classes",
                                    "Classes of the period closes still running, by status.",
                                    labels=["status"])
        runs = GaugeMetricFamily("archive_close_runs", "Period closes by status.",
                                 labels=["status"])
        with self.archive.sessions() as s:
            for status, n in s.execute(select(CloseClass.status, func.count())
                                       .join(CloseRun, CloseRun.id == CloseClass.run_id)
                                       .where(CloseRun.status == "running")
                                       .group_by(CloseClass.status)):
                classes.add_metric([status], n)
            for status, n in s.execute(select(CloseRun.status, func.count())
                                       .group_by(CloseRun.status)):
                runs.add_metric([status], n)
            last_backup = s.scalar(select(func.max(Backup.created_at)))
            fixity = s.scalars(select(FixityRun).where(FixityRun.finished_at.is_not(None))
                               .order_by(FixityRun.id.desc()).limit(1)).first()
        yield classes
        yield runs
        if last_backup is not None:
            yield GaugeMetricFamily("archive_last_backup_timestamp_seconds",
                                    "When the latest backup was made.",
                                    value=_epoch(last_backup))
        if fixity is not None:
            yield GaugeMetricFamily("archive_last_fixity_timestamp_seconds",
                                    "When the latest fixity run finished.",
                                    value=_epoch(fixity.finished_at))
            yield GaugeMetricFamily("archive_last_fixity_ok",
                                    "1 when the latest fixity run found nothing wrong.",
                                    value=1.0 if fixity.status == "ok" else 0.0)


def _epoch(at) -> float:  # noqa: ANN001 - a datetime, naive on SQLite (UTC)
    import datetime as dt

    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp()


def exposition(archive: Archive) -> bytes:
    """The metrics in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(archive))
    return generate_latest(registry)
