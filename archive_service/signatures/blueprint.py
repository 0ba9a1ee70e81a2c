"""Dashboard, document page, page previews, download, signing and returning from the browser."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from archive_service.errors import NotFoundError
from archive_service.signatures.service import return_document, sign_documents
from archive_service.signatures.state import STEP_TITLES
from archive_service.signatures.views import (
    KIND_NAMES,
    document_pdf,
    document_view,
    page_png,
    readable,
    require_signer,
)
from archive_service.signatures.views import dashboard as dashboard_data
from archive_service.web import archive, attachment, attempt, current, permits

bp = Blueprint("signatures", __name__)


@bp.get("/")
@permits("dashboard")
def dashboard():
    """What waits for the logged-in person."""
    from archive_service.fixity.service import last_run

    who = current()
    fixity = last_run(archive()) if who.has("director", "administrator") and \
        not who.is_inspector else None
    return render_template("dashboard.html", board=dashboard_data(archive(), who),
                           steps=STEP_TITLES, fixity=fixity, todo=_todo(who))


def _todo(who) -> list[tuple[str, str, bool]]:  # noqa: ANN001 - a Principal
    """The person's duties in the period close as (text, address, urgent): the pages their
    roles work on, and what nobody else can do for them (their own key, the seal, the
    school's keys)."""
    from archive_service.accounts import people
    from archive_service.backups.models import BackupKeyring

    if who.is_inspector or who.school_id is None:
        return []
    out: list[tuple[str, str, bool]] = []
    mine = people.own_account(archive(), who)
    if mine.needs_key:
        out.append(("Задайте пароль ключа подписи: без ключа документы не подписать",
                    url_for("accounts.account_page"), True))
    if mine.needs_seal:
        out.append(("Создайте ключ печати школы (его пароль знаете только вы)",
                    url_for("accounts.account_page"), True))
    if who.has("administrator"):
        keys = people.school_keys(archive(), who)
        if not keys.exists:
            out.append(("Создайте корневой сертификат школы", url_for("accounts.people_page"),
                        True))
        elif keys.requests:
            out.append((f"Выпустите сертификаты: запросов {len(keys.requests)}",
                        url_for("accounts.people_page"), True))
        out.append(("Загрузите выгрузку электронного журнала", url_for("journals.upload_page"),
                    False))
    if who.has("deputy"):
        out += [("Проверьте полноту журнала", url_for("checks.report_page"), False),
                ("Зафиксируйте срезы и сформируйте копии", url_for("closing.close_page"),
                 False)]
    if who.has("director", "deputy"):
        out.append(("Ход закрытия периода по классам", url_for("closing.progress_page"), False))
    if who.has("director", "secretary", "administrator"):
        with archive().sessions() as s:
            keyring = s.query(BackupKeyring.id).first() is not None
        if not keyring and who.has("director"):
            out.append(("Создайте ключи резервных копий (код директора)",
                        url_for("backups.backups_page"), True))
        else:
            out.append(("Резервные копии и журнал пользования ими",
                        url_for("backups.backups_page"), False))
    if who.has("secretary"):
        out.append(("Реестр и общая папка за период", url_for("register.register_page"), False))
    return out


@bp.get("/documents/<id:document_id>")
@permits("document.read")
def document(document_id: int):
    """The document page: preview, chain with verification, actions."""
    return render_template("document.html", view=document_view(archive(), current(), document_id),
                           steps=STEP_TITLES)


#: Page images: a preview, and the reader's size (A4 at 150 dpi: 1240 px wide, readable).
PAGE_DPI = {"small": 80, "large": 150}


@bp.get("/documents/<id:document_id>/pages/<id:page>.png")
@permits("document.read")
def page(document_id: int, page: int):
    """One page image (``size``: small or large)."""
    dpi = PAGE_DPI.get(request.args.get("size", "small"))
    if dpi is None:
        raise NotFoundError("Размер листа: small или large.")
    return Response(page_png(archive(), current(), document_id, page, dpi=dpi),
                    mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.get("/documents/<id:document_id>/read/<id:page>")
@permits("document.read")
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


@bp.get("/documents/<id:document_id>/download")
@permits("document.read")
def download(document_id: int):
    """The signed PDF."""
    number, data = document_pdf(archive(), current(), document_id)
    return attachment(data, "application/pdf", f"{number}.pdf")


@bp.post("/documents/<id:document_id>/sign")
@permits("document.sign")
def sign(document_id: int):
    """Sign with the signer's passphrase (the key never leaves the server unencrypted)."""
    who = current()
    require_signer(archive(), who, document_id)
    settings = archive().settings

    def sign_it() -> str:
        [outcome] = sign_documents(
            archive(), document_ids=[document_id], login=who.login,
            passphrase=request.form.get("passphrase", ""),
            tsa_passphrase=settings.tsa_passphrase or "", actor=who.actor)
        return f"Подписано полей: {len(outcome.fields)}."

    attempt(sign_it)
    return redirect(url_for("signatures.document", document_id=document_id), 303)


@bp.post("/sign-queue")
@permits("document.sign")
def sign_queue():
    """Sign every document waiting for this person with one opening of the key (a teacher
    of many classes signs all their copies at once)."""
    who = current()
    require_signer(archive(), who)
    settings = archive().settings

    def sign_all() -> str:
        done = sign_documents(archive(), document_ids=None, login=who.login,
                              passphrase=request.form.get("passphrase", ""),
                              tsa_passphrase=settings.tsa_passphrase or "", actor=who.actor)
        if not done:
            return "Документов, ожидающих вашей подписи, нет."
        return f"Подписано документов: {len(done)}, полей: {sum(len(o.fields) for o in done)}."

    attempt(sign_all)
    return redirect(url_for("signatures.dashboard"), 303)


@bp.post("/documents/<id:document_id>/return")
@permits("document.sign")
def return_(document_id: int):
    """Send the document back with a reason."""
    who = current()
    require_signer(archive(), who, document_id)

    def return_it() -> str:
        return_document(archive(), document_id=document_id, login=who.login,
                        reason=request.form.get("reason", ""), actor=who.actor)
        return "Документ возвращён на исправление."

    attempt(return_it)
    return redirect(url_for("signatures.document", document_id=document_id), 303)
