"""Work a person starts in the web that takes longer than a page should wait.

A daemon thread of the web process that took the request, one per key at a time: a second
start of the same key while it runs is refused (``start`` returns False) instead of doing
the work twice. What the work did is recorded by the service it calls (a close run's rows,
the backup usage log), so any web process can show it; this registry only says whether this
process is working on a key now. Decision: no broker for one school's web. A region sends
close runs to the worker queue instead (``ARCHIVE_WEB_DISPATCH=queue``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)
_ACTIVE: set[str] = set()
_LOCK = threading.Lock()


def start(key: str, work: Callable[[], object]) -> threading.Thread | None:
    """Run ``work`` in a background thread unless work under ``key`` runs already here;
    returns the thread, or None when it was already running."""
    with _LOCK:
        if key in _ACTIVE:
            return None
        _ACTIVE.add(key)

    def run() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 - the service recorded the outcome; the log says why
            log.exception("background work %s stopped", key)
        finally:
            with _LOCK:
                _ACTIVE.discard(key)

    thread = threading.Thread(target=run, daemon=True, name=f"background-{key}")
    thread.start()
    return thread


def busy(key: str) -> bool:
    """Whether this process works on ``key`` now."""
    with _LOCK:
        return key in _ACTIVE


def busy_with(prefix: str) -> list[str]:
    """The keys this process works on that begin with ``prefix``."""
    with _LOCK:
        return sorted(k for k in _ACTIVE if k.startswith(prefix))
