"""The upload page: e-journal exports (one or many .json/.xlsx files, or a zip) imported
through the same service as ``archive import``, each file all-or-nothing."""

from __future__ import annotations

from pathlib import PurePath

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from archive_service.errors import ArchiveError
from archive_service.journals import codes
from archive_service.journals.service import (
    CHANGE_NAMES,
    CONTENT_NAMES,
    import_uploads,
    recent_imports,
)
from archive_service.journals.uploads import MAX_UPLOAD
from archive_service.web import archive, attempt, current, field, no_store, permits

bp = Blueprint("journals", __name__)


def _page(results=None, status: int = 200):
    who = current()
    return no_store(make_response(render_template(
        "journals/upload.html", results=results, recent=recent_imports(archive(), who.school_id),
        changes=CHANGE_NAMES, contents=CONTENT_NAMES, limit_mb=MAX_UPLOAD // 2**20,
        codes=codes.table(archive(), who.school_code) if who.school_code else []), status))


@bp.get("/imports")
@permits("journal.import")
def upload_page():
    """The upload form and the school's latest imports."""
    return _page()


@bp.post("/imports")
@permits("journal.import")
def upload():
    """Import the uploaded files; the page lists per file what was stored or every problem."""
    who = current()
    request.max_content_length = MAX_UPLOAD
    files = []
    for item in request.files.getlist("files"):
        name = PurePath(item.filename or "").name.replace("\\", "/").rsplit("/", 1)[-1][:200]
        if name:
            files.append((name, item.read()))
    if not files:
        raise ArchiveError("Не выбрано ни одного файла: выберите выгрузки журнала (.json, .xlsx "
                           "или архив .zip).")
    results = import_uploads(archive(), files, actor=who.actor, school_code=who.school_code)
    rejected = sum(isinstance(r, ArchiveError) for r in results)
    return _page(results, 422 if rejected == len(results) else 200)


@bp.post("/imports/codes")
@permits("journal.import")
def add_code():
    """Add one of the school's own attendance spellings (journals.codes)."""
    who = current()
    attempt(lambda: "Написание «{}» теперь читается как {}.".format(codes.add_code(
        archive(), school_code=who.school_code or "", spelling=field("spelling", limit=20),
        code=field("code", limit=2), actor=who.actor), field("code", limit=2).upper()))
    return redirect(url_for("journals.upload_page") + "#codes", 303)


@bp.post("/imports/codes/remove")
@permits("journal.import")
def remove_code():
    """Remove one of the school's own attendance spellings."""
    who = current()
    attempt(lambda: codes.remove_code(archive(), school_code=who.school_code or "",
                                      spelling=field("spelling", limit=20), actor=who.actor)
            or "Своё написание убрано.")
    return redirect(url_for("journals.upload_page") + "#codes", 303)
