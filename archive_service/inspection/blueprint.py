"""The search page and the verification report downloads (inspectors and staff)."""

from __future__ import annotations

import json

from flask import Blueprint, render_template, request

from archive_service.errors import ArchiveError, check_text
from archive_service.inspection.report import report_data, report_pdf
from archive_service.inspection.service import Criteria, search
from archive_service.web import archive, attachment, current, permits

bp = Blueprint("inspection", __name__)


def criteria_from(args) -> Criteria:  # noqa: ANN001 - request.args
    """Search criteria from a query string (empty fields are absent)."""
    def text(name: str) -> str | None:
        value = check_text((args.get(name) or "").strip(), name)
        return value or None

    number = text("number")
    if number is not None and not (number.isascii() and number.isdigit()):
        raise ArchiveError("Номер по реестру — целое число.")
    kind = text("kind")
    if kind not in (None, "journal", "summary"):
        raise ArchiveError("Вид документа: journal или summary.")
    return Criteria(text("school"), text("year"), text("period"), text("class"), kind,
                    int(number) if number is not None else None, text("student"))


@bp.get("/search")
@permits("search")
def search_page():
    """The search form and its results (within the person's school or grants)."""
    who = current()
    found, error = None, None
    if any(request.args.get(k) for k in ("school", "year", "period", "class", "kind",
                                         "number", "student")):
        try:
            found = search(archive(), criteria_from(request.args), reader=who.actor, who=who)
        except ArchiveError as exc:
            error = exc.message
    return render_template("search.html", found=found, error=error, args=request.args)


@bp.get("/documents/<id:document_id>/report.<fmt>")
@permits("document.read")
def report(document_id: int, fmt: str):
    """The verification report of a document, PDF/A or JSON."""
    who = current()
    data = report_data(archive(), document_id, reader=who.actor, who=who)
    name = f"протокол-проверки-{data['document']['number']}"
    if fmt == "json":
        return attachment(json.dumps(data, ensure_ascii=False, indent=1).encode(),
                          "application/json", f"{name}.json")
    if fmt == "pdf":
        return attachment(report_pdf(data), "application/pdf", f"{name}.pdf")
    return render_template("error.html", message="Протокол бывает PDF или JSON."), 404
