"""Fixtures of the signing library tests: a school PKI and an unsigned journal copy."""

from __future__ import annotations

import datetime as dt

import pytest

from signing import pades, pki
from tests.support.signing import NOW, SCHOOL


@pytest.fixture(scope="module")
def school():
    """The school root and its timestamper."""
    root = pki.create_root(SCHOOL, now=NOW - dt.timedelta(days=1))
    tsa = pki.issue_tsa(root, school=SCHOOL, now=NOW - dt.timedelta(days=1))
    return root, pades.school_timestamper(tsa, [root.certificate])


@pytest.fixture(scope="module")
def unsigned():
    """A rendered journal copy of the small journal, with its fields and steps."""
    from archive_service.rendering.layout import render_journal
    from archive_service.rendering.pdfa import finish
    from archive_service.rendering.service import document_meta
    from archive_service.snapshots.service import SnapshotInfo
    from tests.support.content import tiny_content

    info = SnapshotInfo(1, "T-001", "2025-2026", "Q1", "1 четверть", "7А", 1, "ab" * 32, 0,
                        "2026-01-10T10:00:00+00:00", "test", None, "k")
    meta = document_meta(info, "journal", "Тест")
    drawn = render_journal(tiny_content(), meta)
    return finish(drawn, meta, title="t", subject="s").pdf, drawn.fields
