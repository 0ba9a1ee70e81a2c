"""Runs started in the web: who does the work (a thread of this process, or the queue).

``ARCHIVE_WEB_DISPATCH=inline`` (the default): a background thread of the web process that
took the request runs the steps one after another (``closing.service.Inline``), as ``archive
close-period --inline`` would; the run's rows keep where it stands, so the progress page of
any web process shows it, and starting the same close again continues it. One thread per run
in a process: a second start of a run this process is already working on only continues
what waits. ``queue``: the steps go to the PostgreSQL task queue of the ``archive worker``
processes (a region), exactly as ``archive close-period`` sends them.
"""

from __future__ import annotations

import logging
import threading

from archive_service.actors import Actor
from archive_service.closing import service
from archive_service.db import Archive

log = logging.getLogger(__name__)
_ACTIVE: set[int] = set()
_LOCK = threading.Lock()


def dispatch(archive: Archive, run_id: int, actor: Actor) -> threading.Thread | None:
    """Hand the run's pending steps to the configured workers; returns the thread that
    works on them here (None: the queue's workers do, or this process already is)."""
    if archive.settings.web_dispatch == "queue":
        from archive_service.closing import queue

        queue.ensure_schema(archive)
        app = queue.make_app(archive.settings)
        with app.open():
            service.dispatch_pending(archive, run_id, queue.Queued(app))
        return None
    with _LOCK:
        if run_id in _ACTIVE:
            return None
        _ACTIVE.add(run_id)
    thread = threading.Thread(target=_run, args=(archive, run_id, actor), daemon=True,
                              name=f"close-run-{run_id}")
    thread.start()
    return thread


def _run(archive: Archive, run_id: int, actor: Actor) -> None:
    try:
        service.dispatch_pending(archive, run_id, service.Inline(archive, actor))
    except Exception:  # noqa: BLE001 - the rows say where it stopped; the log says why
        log.exception("close run %s stopped", run_id)
    finally:
        with _LOCK:
            _ACTIVE.discard(run_id)


def working(run_id: int) -> bool:
    """Whether a thread of this process works on the run now."""
    with _LOCK:
        return run_id in _ACTIVE
