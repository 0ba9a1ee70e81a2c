"""The audit trail page for the director and the administrator."""

from __future__ import annotations

import json

from flask import Blueprint, render_template

from archive_service.audit.overview import trail_status
from archive_service.audit.service import entries
from archive_service.web import archive, current, permits

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@permits("audit.read")
def audit_page():
    """The newest entries of the person's school and whether the chains, their checkpoints
    and the register verify."""
    who = current()
    rows = entries(archive(), chain=who.school_id, limit=200)
    status = trail_status(archive(), who.school_id)
    return render_template("audit.html", rows=rows, checked=status.checked,
                           problems=status.problems, last_checkpoint=status.last_checkpoint,
                           details=lambda e: json.loads(e.details))
