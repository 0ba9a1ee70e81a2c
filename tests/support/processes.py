"""Several processes acting at one moment on one PostgreSQL archive (concurrency tests)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any


def archive_env(tmp_path: Path, pg_url: str) -> dict[str, str]:
    """The environment that points a fresh process at the test's archive."""
    return {"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_DATABASE_URL": pg_url,
            "ARCHIVE_STORAGE_URL": f"file://{tmp_path / 'objects'}"}


def run_together(target: Callable[..., Any], calls: list[tuple], *, tmp_path: Path,
                 pg_url: str) -> list[Any]:
    """``target(env, *call, barrier)`` in one spawned process per call, all released at once
    by the barrier; their results in call order."""
    env = archive_env(tmp_path, pg_url)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(len(calls))
        with ctx.Pool(len(calls)) as pool:
            return pool.starmap(target, [(env, *call, barrier) for call in calls])
