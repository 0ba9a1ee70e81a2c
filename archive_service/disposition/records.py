"""The signed disposal records on every backup target, which restore obeys (a destroyed
document never comes back from an older backup).
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.db import Archive
from archive_service.disposition.acts import STATUS_NAMES, find_act
from archive_service.disposition.locks import PERMANENT_LOCK_YEARS, midnight
from archive_service.disposition.models import DisposalAct, DisposalItem, Tombstone
from archive_service.errors import (
    ArchiveError,
    ConflictError,
)

DISPOSALS = "disposals/"


def disposal_record(s: Session, act: DisposalAct) -> dict:
    """What a backup target keeps of an executed act: the act, its items and tombstones."""
    def row(obj) -> dict:  # noqa: ANN001 - any mapped row
        out = {}
        for c in obj.__table__.c:
            v = getattr(obj, c.name)
            out[c.name] = v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
        return out

    return {"format": "archive-disposal-1", "act": row(act),
            "items": [row(i) for i in s.scalars(select(DisposalItem).filter_by(act_id=act.id))],
            "tombstones": [row(t) for t in s.scalars(select(Tombstone).filter_by(
                act_id=act.id))]}


def record_disposal(archive: Archive, *, act_id: int) -> list[str]:
    """Write the executed act's disposal record to every backup target the archive knows.

    Backups are immutable (Object Lock), so destroyed items cannot be cut out of them.
    Instead every target carries a record of each executed act, written with the same
    lock, and restoring any backup from that target leaves the listed objects out and
    brings the act and its tombstones in (``backups.service.restore``). And the erasure
    shares of the destroyed files' keys are deleted and each target's erasure file is
    rewritten without them (``backups.erasure``): no backup opens those files again. The record is
    sealed with the backup keyring's signing key, so it cannot be forged to hide data.
    Returns the targets it could not be written to (the act stays executed; run
    ``resend_disposal`` once they are back).
    """
    from archive_service.backups import erasure
    from archive_service.backups.models import Backup
    from archive_service.backups.service import open_target, seal_disposal

    with archive.sessions() as s:
        act = s.get(DisposalAct, act_id)
        destroyed = [k for t in s.scalars(select(Tombstone).filter_by(act_id=act.id))
                     for k in t.object_keys]
        targets = sorted(set(s.scalars(select(Backup.target))))
        if not targets:  # no backups yet: nothing on any medium to reach
            return []
        name = f"{DISPOSALS}{act.school_id}-{act.number}.json"
        data = seal_disposal(s, disposal_record(s, act))
    # The destroyed files' erasure shares go first: from here on no backup opens them once
    # each medium's erasure file is rewritten without them (below, or at the medium's next
    # backup when it is away now).
    erasure.shred(archive, destroyed)
    failed = []
    forever = midnight(dt.date.today().replace(year=dt.date.today().year
                                                  + PERMANENT_LOCK_YEARS))
    for url in targets:
        try:
            target = open_target(url)
            if not target.exists(name):
                target.write(name, data,
                             retain_until=forever if url.startswith("s3://") else None)
            erasure.write_shares(archive, target, f"act-{act_id}-{_stamp()}")
        except (ArchiveError, OSError) as exc:
            failed.append(f"{url}: {getattr(exc, 'message', None) or exc}")
    return failed


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def resend_disposal(archive: Archive, *, number: int, school_code: str | None = None
                    ) -> list[str]:
    """Write the disposal record of an executed act to every backup target that lacks it
    (after a target was unreachable at execution); returns the targets still failing."""
    with archive.sessions() as s:
        act = find_act(s, school_code, number)
        if act.status != "executed":
            raise ConflictError(f"Акт № {number} {STATUS_NAMES[act.status]}: записи об "
                                "уничтожении пишутся только для исполненного акта.")
        act_id = act.id
    return record_disposal(archive, act_id=act_id)


def load_disposals(data_items: list[bytes]) -> list[dict]:
    """Parse disposal records (already checked by the backup service)."""
    return [json.loads(d) for d in data_items]

