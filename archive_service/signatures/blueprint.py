"""Dashboard, document page, page previews, download, signing and returning from the browser."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from archive_service.errors import NotFoundError
from archive_service.signatures.service import STEP_TITLES, return_document, sign_documents
from archive_service.signatures.views import (
    KIND_NAMES,
    document_pdf,
    document_view,
    page_png,
    readable,
    require_signer,
)
from archive_service.signatures.views import dashboard as dashboard_data
from archive_service.web import archive, attachment, attempt, current, login_required

bp = Blueprint("signatures", __name__)


@bp.get("/")
@login_required
def dashboard():
    """What waits for the logged-in person."""
    from archive_service.fixity.service import last_run

    who = current()
    fixity = last_run(archive()) if who.has("director", "administrator") and \
        not who.is_inspector else None
    return render_template("dashboard.html", board=dashboard_data(archive(), who),
                           steps=STEP_TITLES, fixity=fixity)


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    """The document page: preview, chain with verification, actions."""
    return render_template("document.html", view=document_view(archive(), current(), document_id),
                           steps=STEP_TITLES)


#: Page images: a preview, and the reader's size (A4 at 150 dpi: 1240 px wide, readable).
PAGE_DPI = {"small": 80, "large": 150}


@bp.get("/documents/<int:document_id>/pages/<int:page>.png")
@login_required
def page(document_id: int, page: int):
    """One page image (``size``: small or large)."""
    dpi = PAGE_DPI.get(request.args.get("size", "small"))
    if dpi is None:
        raise NotFoundError("Размер листа: small или large.")
    return Response(page_png(archive(), current(), document_id, page, dpi=dpi),
                    mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.get("/documents/<int:document_id>/read/<int:page>")
@login_required
def reader(document_id: int, page: int):
    """The copy page by page at a readable size (``go``: a page number typed in)."""
    go = request.args.get("go", "")
    if go:
        wanted = int(go) if go.isascii() and go.isdigit() and len(go) < 7 else page
        return redirect(url_for("signatures.reader", document_id=document_id,
                                page=max(1, wanted)), 303)
    doc = readable(archive(), current(), document_id)
    if page > doc.pages:
        return redirect(url_for("signatures.reader", document_id=document_id,
                                page=doc.pages), 303)
    if page < 1:
        return redirect(url_for("signatures.reader", document_id=document_id, page=1), 303)
    title = (f"{KIND_NAMES.get(doc.kind, doc.kind)} {doc.class_name}, {doc.period_name} "
             f"{doc.year}")
    return render_template("reader.html", doc=doc, page=page, pages=doc.pages, title=title)


@bp.get("/documents/<int:document_id>/download")
@login_required
def download(document_id: int):
    """The signed PDF."""
    number, data = document_pdf(archive(), current(), document_id)
    return attachment(data, "application/pdf", f"{number}.pdf")


@bp.post("/documents/<int:document_id>/sign")
@login_required
def sign(document_id: int):
    """Sign with the signer's passphrase (the key never leaves the server unencrypted)."""
    who = current()
    require_signer(archive(), who)
    settings = archive().settings

    def sign_it() -> str:
        [outcome] = sign_documents(
            archive(), document_ids=[document_id], login=who.login,
            passphrase=request.form.get("passphrase", ""),
            tsa_passphrase=settings.tsa_passphrase or "", actor=who.actor)
        return f"Подписано полей: {len(outcome.fields)}."

    attempt(sign_it)
    return redirect(url_for("signatures.document", document_id=document_id), 303)


@bp.post("/documents/<int:document_id>/return")
@login_required
def return_(document_id: int):
    """Send the document back with a reason."""
    who = current()
    require_signer(archive(), who)

    def return_it() -> str:
        return_document(archive(), document_id=document_id, login=who.login,
                        reason=request.form.get("reason", ""), actor=who.actor)
        return "Документ возвращён на исправление."

    attempt(return_it)
    return redirect(url_for("signatures.document", document_id=document_id), 303)
