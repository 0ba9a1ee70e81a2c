"""The register page (search, export) and registering a document from its page."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from archive_service.errors import PermissionDeniedError
from archive_service.register import export
from archive_service.register.service import (
    checked_year,
    folder_pdf,
    form_period_folder,
    known_year,
    register_document,
    register_list_for,
    register_page_for,
)
from archive_service.signatures.views import require_signer
from archive_service.web import archive, attachment, attempt, current, permits

bp = Blueprint("register", __name__)


@bp.get("/register")
@permits("register.read")
def register_page():
    """The register of the person's school, searchable."""
    year, query = request.args.get("year") or None, request.args.get("q") or None
    who = current()
    page = request.args.get("page", "1")
    # A page number typed by hand that is not one: the first page (past the end: the last).
    found = register_page_for(archive(), who, year=year, query=query,
                              page=max(1, int(page)) if page.isascii() and page.isdigit()
                              and len(page) < 7 else 1)
    lines = list(zip(found.rows, _links(found.rows), strict=True))
    return render_template("register.html", found=found, rows=found.rows, lines=lines,
                           year=year or "", query=query or "",
                           may_form=not who.is_inspector and who.has("secretary"),
                           periods=PERIODS)


def _links(rows) -> list[str]:
    """Each line's link: its document's page, or its period folder's PDF.

    ``url_for`` runs once per kind of link (and per school and year), with a marker for the
    number, which is the last part of both paths; each line then puts its own number in
    (``url_for`` matches the rule and quotes every value again for each of the 50 lines)."""
    mark = "987654321"
    built: dict[tuple[str, str] | None, tuple[str, str]] = {}
    out = []
    for r in rows:
        key = None if r.document_id else (r.school, r.year)
        if key not in built:
            url = (url_for("signatures.document", document_id=int(mark)) if key is None else
                   url_for("register.folder_download", school=r.school, year=r.year,
                           number=int(mark)))
            built[key] = tuple(url.rsplit(mark, 1))
        before, after = built[key]
        out.append(f"{before}{r.document_id or r.number}{after}")
    return out


PERIODS = [("Q1", "1 четверть"), ("Q2", "2 четверть"), ("Q3", "3 четверть"),
           ("Q4", "4 четверть"), ("H1", "1 полугодие"), ("H2", "2 полугодие"),
           ("T1", "1 триместр"), ("T2", "2 триместр"), ("T3", "3 триместр"), ("Y", "год")]


@bp.post("/register/folder")
@permits("folder.form")
def folder_form():
    """The secretary forms the period folder (a period or year that does not exist is a
    message on the page, not a 404)."""
    who = current()
    require_signer(archive(), who)
    year = request.form.get("year", "").strip()

    def form() -> str:
        anyway = request.form.get("anyway", "").strip() or None
        row = form_period_folder(archive(), school_code=None, year=year,
                                 period_code=request.form.get("period", ""), login=who.login,
                                 location=request.form.get("location", ""), actor=who.actor,
                                 anyway=anyway)
        return (f"Общая папка сформирована{' неполной' if row.title.endswith('(неполная)') else ''}"
                f": № {row.number} ({row.year}), листов {row.sheets}.")

    attempt(form, refuse=(PermissionDeniedError,))
    return redirect(url_for("register.register_page", year=year), 303)


@bp.get("/register/folder/<school>/<year>/<id:number>.pdf")
@permits("folder.read")
def folder_download(school: str, year: str, number: int):
    """A period folder's file."""
    who = current()
    name, data = folder_pdf(archive(), school_code=school, year=year, number=number,
                            reader=who.actor, who=who)
    return attachment(data, "application/pdf", name)


@bp.get("/register/export.<fmt>")
@permits("register.read")
def register_export(fmt: str):
    """The register for a year as XLSX or PDF."""
    year = checked_year(request.args.get("year", "")) or ""
    if year:
        known_year(archive(), current(), year)
    rows = register_list_for(archive(), current(), year=year or None)
    school = rows[0].school_name if rows else ""
    if fmt == "xlsx":
        data, mime = export.to_xlsx(rows, school=school, year=year), (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    elif fmt == "pdf":
        data, mime = export.to_pdf(rows, school=school, year=year), "application/pdf"
    else:
        return Response("Неизвестный формат", status=404)
    return attachment(data, mime, f"реестр-{year or 'все-годы'}.{fmt}")


@bp.post("/documents/<id:document_id>/register")
@permits("document.register")
def register_add(document_id: int):
    """The secretary registers the certified copy."""
    who = current()
    require_signer(archive(), who, document_id)

    def register() -> str:
        row = register_document(archive(), document_id=document_id, login=who.login,
                                location=request.form.get("location", ""), actor=who.actor)
        return f"Зарегистрирован под № {row.number} ({row.year})."

    attempt(register)
    return redirect(url_for("signatures.document", document_id=document_id), 303)
