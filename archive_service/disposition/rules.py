"""This deployment's retention classes: the library's rules with the configured terms.

Apart from the plan so that ``archive retention rules`` reads the settings and nothing else.
"""

from __future__ import annotations

import retention
from archive_service.config import Settings


def rules(settings: Settings) -> dict[str, retention.RetentionClass]:
    """This deployment's retention classes (terms from ARCHIVE_RETENTION_*_YEARS)."""
    return retention.classes(journal_years=settings.retention_journal_years,
                             summary_years=settings.retention_summary_years)
