"""The real browser of the browser tests: Debian's chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A launched headless chromium (a loud skip, or a failure under CI, when missing)."""
    if not os.path.exists(CHROMIUM):
        from tests.conftest import _unavailable

        _unavailable("chromium is not installed (make test installs it); browser tests not run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def browser():
    """A browser for one test."""
    with chromium() as b:
        yield b
