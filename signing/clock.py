"""Moments as a school's clock shows them (stamps, pages, messages): never a bare UTC time."""

from __future__ import annotations

import datetime as dt


def local_time(moment: dt.datetime, zone: str) -> str:
    """«06.12.2026 14:05 (UTC+05:00)»: a moment as the clock of a time zone shows it, with
    its offset (never a bare UTC time)."""
    from zoneinfo import ZoneInfo

    here = moment.astimezone(ZoneInfo(zone))
    offset = here.strftime("%z")
    return f"{here:%d.%m.%Y %H:%M} (UTC{offset[:3]}:{offset[3:]})"
