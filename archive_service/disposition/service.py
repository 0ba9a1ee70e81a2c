"""The disposition of archived records, one public face over its modules: holds
(``holds``), destruction acts (draft -> commission review -> director's signature:
``acts``), their execution (``execution``), tombstones, the storage-level retention locks
(``locks``) and the disposal records on backups (``records``).

Decisions written down here:

- The items are the rendered documents (journal copies and summary sheets, including
  superseded versions) and the period folders. A journal copy's snapshot (the frozen journal
  data it was drawn from, holding every daily mark) is destroyed with it; the summary sheet,
  a self-contained signed PDF, is what stays for 75 years.
- Only items due for destruction enter an act; summary sheets reaching the end of their
  term are due for review by the commission (action ``review``), never destroyed here.
- A journal copy or folder is destroyed only when its class's year summary sheet is sealed
  and verifies: the plan reads the recorded verifications, execution verifies again.
- Execution re-checks everything under the act's lock (status, holds, dates, storage locks,
  the summary sheets, the director's signature on the act); any refusal deletes nothing.
  Objects are deleted inside the unit of work, before the tombstones commit: if the commit
  fails, the act stays approved and running it again finishes the work.
- When every journal copy of a class is destroyed, the class's daily records (lessons,
  marks, attendance) are deleted from the journal tables too; students, enrolments and the
  period marks (what the summary sheet shows) stay.
- Holds block the plan, the act's drafting and its execution. There is no other way to
  delete an archived object in this service.
- Backups: see ``record_disposal`` (a signed disposal record on every backup target, which
  restore obeys).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from archive_service.db import Archive
from archive_service.disposition.acts import (  # noqa: F401  (the public face)
    STATUS_NAMES,
    ActInfo,
    act_file,
    approve_act,
    create_act,
    list_acts,
    review_act,
)
from archive_service.disposition.common import (  # noqa: F401  (the public face)
    RECORDS_ROLES,
    school_by_code,
    school_code_of,
)
from archive_service.disposition.execution import (  # noqa: F401  (the public face)
    ExecuteOutcome,
    execute_act,
)
from archive_service.disposition.holds import (  # noqa: F401  (the public face)
    HoldInfo,
    lift_hold,
    list_holds,
    place_hold,
)
from archive_service.disposition.plan import PlanRow, plan
from archive_service.disposition.records import (  # noqa: F401  (the public face)
    DISPOSALS,
    disposal_record,
    load_disposals,
    record_disposal,
    resend_disposal,
)


def retention_plan(archive: Archive, *, as_of: dt.date, school_code: str | None = None
                   ) -> Iterator[PlanRow]:
    """Every archived item with its decision as of ``as_of`` (streamed)."""
    with archive.sessions() as s:
        school_id = school_by_code(s, school_code).id if school_code else None
        yield from plan(s, archive.settings, as_of=as_of, school_id=school_id)

