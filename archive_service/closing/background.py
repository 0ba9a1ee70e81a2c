"""Close runs started in the web: who does the work (a thread of this process, or the queue).

``ARCHIVE_WEB_DISPATCH=inline`` (the default): a background thread of the web process that
took the request runs the steps one after another (``closing.service.Inline``), as ``archive
close-period --inline`` would; the run's rows keep where it stands, so the progress page of
any web process shows it, and starting the same close again continues it. One thread per run
in a process (``archive_service.background``). ``queue``: the steps go to the PostgreSQL task
queue of the ``archive worker`` processes (a region), exactly as ``archive close-period``
sends them.
"""

from __future__ import annotations

import threading

from archive_service import background
from archive_service.actors import Actor
from archive_service.closing import service
from archive_service.db import Archive


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
    return background.start(f"close-run-{run_id}", lambda: service.dispatch_pending(
        archive, run_id, service.Inline(archive, actor)))


def working(run_id: int) -> bool:
    """Whether a thread of this process works on the run now."""
    return background.busy(f"close-run-{run_id}")
