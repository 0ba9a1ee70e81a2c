"""The audit trail page for the director and the administrator."""

from __future__ import annotations

import json

from flask import Blueprint, render_template

from archive_service.audit.service import entries, verify
from archive_service.web import archive, current, permits

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@permits("audit.read")
def audit_page():
    """The newest entries of the person's school and whether the chains verify."""
    who = current()
    rows = entries(archive(), chain=who.school_id, limit=200)
    checked, problems = verify(archive())
    return render_template("audit.html", rows=rows, checked=checked,
                           problems=[p for p in problems if p.chain == who.school_id],
                           details=lambda e: json.loads(e.details))
