"""One school's audit trail as its page and the API show it: the hash chain, the anchors
outside the database and the register re-checked against the trail (issue 30)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from archive_service.audit.anchor import PREFIX, verify_anchors
from archive_service.audit.service import verify
from archive_service.db import Archive


@dataclass(frozen=True)
class TrailStatus:
    """What a director or administrator sees of the school's audit trail."""

    checked: int
    problems: list[str]
    last_checkpoint: dt.datetime | None


def trail_status(archive: Archive, school_id: int | None) -> TrailStatus:
    """The checks of ``archive audit verify`` for one school (its chain, the archive's own
    chain 0 as its checkpoints anchor it, its register)."""
    from archive_service.register.recheck import verify_register

    checked, problems = verify(archive)
    chains = {school_id, 0}
    problems += verify_anchors(archive, school_id=school_id)
    messages = [p.message for p in problems if p.chain in chains]
    messages += [p.message for p in verify_register(archive, school_id=school_id)]
    last = max((k for k in archive.storage.keys(f"{PREFIX}{school_id or 0:06d}/")),
               default=None)
    when = None
    if last is not None:
        stamp = last.rsplit("/", 1)[-1].removesuffix(".json")
        when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=dt.UTC)
    return TrailStatus(checked, messages, when)
