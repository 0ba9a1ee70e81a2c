"""The queue's jobs as a person reads them: the dead-letter list and the queue's figures.

Plain SQL over procrastinate's tables, without procrastinate itself, so that ``archive jobs``
and the health page load no task queue (the tasks and the worker are in ``queue``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from archive_service.db import Archive

#: procrastinate's namespace of this archive's task names (``archive:close_class``…).
NAMESPACE = "archive"
#: Missed heartbeats after which a worker counts as dead (its job as stalled).
STALLED_AFTER_HEARTBEATS = 3


def task_name(task: str) -> str:
    """The queue's name of one of this archive's tasks."""
    return f"{NAMESPACE}:{task}"


@dataclass(frozen=True)
class JobInfo:
    """One job of the queue as a person reads it."""

    id: int
    task: str
    status: str
    attempts: int
    args: dict[str, Any]
    at: dt.datetime | None
    message: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "task": self.task, "status": self.status,
                "attempts": self.attempts, "args": self.args,
                "at": self.at and self.at.isoformat(timespec="seconds"),
                "message": self.message}


def has_queue(archive: Archive) -> bool:
    """Whether this archive's database holds the queue's tables."""
    if archive.engine.dialect.name != "postgresql":
        return False
    with archive.engine.connect() as conn:
        return bool(conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar())


def close_jobs_active(archive: Archive) -> bool:
    """Whether any job of a period close waits or runs (a dead worker's counts until it is
    put back)."""
    with archive.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
            "AND task_name = ANY(:tasks)"),
            {"tasks": [task_name(t) for t in ("close_school", "close_class", "finish_close")]}
        ).scalar())


def list_jobs(archive: Archive, *, status: str | None = "failed", limit: int = 200
              ) -> list[JobInfo]:
    """Jobs by status, newest first; ``failed`` is the dead-letter list. A close_class job
    carries the last message recorded on its class row."""
    from archive_service.closing.models import CloseClass

    if not has_queue(archive):
        return []
    where = "WHERE j.status = :status" if status else ""
    with archive.engine.connect() as conn:
        rows = conn.execute(text(f"""
            SELECT j.id, j.task_name, j.status::text AS status, j.attempts, j.args,
                   (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS at
            FROM procrastinate_jobs j {where} ORDER BY j.id DESC LIMIT :limit"""),
            {"status": status, "limit": limit}).mappings().all()
    ids = [r["args"]["close_class_id"] for r in rows
           if isinstance(r["args"].get("close_class_id"), int)]
    with archive.sessions() as s:
        messages = dict(s.execute(select(CloseClass.id, CloseClass.message)
                                  .where(CloseClass.id.in_(ids))).all()) if ids else {}
    return [JobInfo(r["id"], r["task_name"].removeprefix(f"{NAMESPACE}:"), r["status"],
                    r["attempts"], dict(r["args"]), r["at"],
                    messages.get(r["args"].get("close_class_id"))) for r in rows]


