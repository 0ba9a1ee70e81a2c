"""The JSON API (``/api/v1``): the same operations and permission checks as the web pages.

Authentication is the same session cookie (``POST /api/v1/login``). The API takes JSON
bodies only (``Content-Type: application/json``), which a cross-site form cannot send, so it
is exempt from the form CSRF token; the cookie is SameSite=Lax as well. The OpenAPI 3.0
document is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, jsonify, request, session

from archive_service.accounts.service import authenticate
from archive_service.audit.service import verify
from archive_service.errors import ArchiveError, NotFoundError
from archive_service.register.service import (
    folder_pdf,
    form_period_folder,
    register_document,
    register_list_for,
)
from archive_service.signatures.service import return_document, sign_documents
from archive_service.signatures.views import dashboard, document_view, require_signer
from archive_service.web import archive, attachment, current, login_required

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_ID = 2**31 - 1


def _body(*fields: str) -> dict[str, str]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ArchiveError("Ожидается тело запроса JSON (Content-Type: application/json).")
    out = {}
    for name in fields:
        value = data.get(name)
        if not isinstance(value, str):
            raise ArchiveError(f"Поле «{name}» обязательно и должно быть строкой.")
        out[name] = value
    return out


def _doc(document_id: int) -> int:
    if document_id > MAX_ID:
        raise NotFoundError(f"Документ № {document_id} не найден.")
    return document_id


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    return value


@bp.post("/login")
def login():
    """Log in; the session cookie authenticates the next requests."""
    data = _body("login", "password")
    who = authenticate(archive(), data["login"].strip(), data["password"],
                       remote=request.remote_addr or "")
    session.clear()
    session["login"] = who.login
    session.permanent = True
    return jsonify(_me(who))


@bp.post("/logout")
def logout():
    """End the session (JSON only, like every API post)."""
    if not request.is_json:
        raise ArchiveError("Ожидается Content-Type: application/json.")
    session.clear()
    return "", 204


def _me(who) -> dict[str, Any]:
    return {"login": who.login, "full_name": who.full_name,
            "roles": sorted(f"{r}:{c}" if c else r for r, c in who.roles)}


@bp.get("/me")
@login_required
def me():
    """Who is logged in."""
    return jsonify(_me(current()))


@bp.get("/queue")
@login_required
def queue():
    """Documents waiting for this person, registrations, overdue steps."""
    board = dashboard(archive(), current())
    return jsonify({name: [_plain(x) for x in getattr(board, name)]
                    for name in ("to_sign", "to_register", "overdue")})


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    """A document: the chain, its signatures' latest verification, the register entry."""
    view = document_view(archive(), current(), _doc(document_id))
    entry = view.register
    return jsonify({
        "document": _plain(view.line), "pages": view.pages, "sha256": view.sha256,
        "chain": _plain(view.chain), "verified": view.verified,
        "verified_at": view.verified_at.isoformat(timespec="seconds"),
        "signatures": [_plain(s) for s in view.signatures],
        "register": None if entry is None else {
            "number": entry.number, "year": entry.year, "location": entry.location,
            "handed_over_by": entry.handed_over_by, "received_by": entry.received_by}})


@bp.post("/documents/<int:document_id>/sign")
@login_required
def sign(document_id: int):
    """Sign this person's fields of the current step."""
    who = current()
    data = _body("passphrase")
    require_signer(archive(), who)
    [outcome] = sign_documents(archive(), document_ids=[_doc(document_id)], login=who.login,
                               passphrase=data["passphrase"],
                               tsa_passphrase=archive().settings.tsa_passphrase or "",
                               actor=who.actor)
    return jsonify({"document_id": outcome.document_id, "fields": list(outcome.fields)})


@bp.post("/documents/<int:document_id>/return")
@login_required
def return_(document_id: int):
    """Return the document with a reason."""
    who = current()
    data = _body("reason")
    require_signer(archive(), who)
    state = return_document(archive(), document_id=_doc(document_id), login=who.login,
                            reason=data["reason"], actor=who.actor)
    return jsonify(_plain(state))


@bp.post("/documents/<int:document_id>/register")
@login_required
def register(document_id: int):
    """The secretary registers the certified copy."""
    who = current()
    data = _body("location")
    require_signer(archive(), who)
    row = register_document(archive(), document_id=_doc(document_id), login=who.login,
                            location=data["location"], actor=who.actor)
    return jsonify(row.as_dict()), 201


@bp.get("/register")
@login_required
def register_rows():
    """The register as this person may see it."""
    year = request.args.get("year") or None
    query = request.args.get("q") or None
    if year is not None:
        _year(year)
    if query is not None and len(query) > 200:
        raise ArchiveError("Строка поиска длиннее 200 символов.")
    rows = register_list_for(archive(), current(), year=year, query=query)
    return jsonify({"rows": [r.as_dict() for r in rows]})


def _year(year: str) -> str:
    if len(year) != 9 or year[4] != "-" or not (year[:4] + year[5:]).isdigit():
        raise ArchiveError("Учебный год указывается так: 2025-2026.")
    return year


@bp.post("/register/folders")
@login_required
def folder_form():
    """The secretary forms the general folder of a period; it gets its register number."""
    who = current()
    data = _body("year", "period", "location")
    require_signer(archive(), who)
    row = form_period_folder(archive(), school_code=None, year=_year(data["year"]),
                             period_code=data["period"], login=who.login,
                             location=data["location"], actor=who.actor)
    return jsonify(row.as_dict()), 201


@bp.get("/register/folders/<school>/<year>/<int:number>")
@login_required
def folder_file(school: str, year: str, number: int):
    """A period folder's PDF/A file."""
    who = current()
    name, data = folder_pdf(archive(), school_code=school, year=_year(year),
                            number=min(number, MAX_ID), reader=who.actor, who=who)
    return attachment(data, "application/pdf", name)


@bp.get("/audit/verify")
@login_required
def audit_verify():
    """Recompute the audit hash chains (director, administrator)."""
    who = current()
    who.require("director", "administrator")
    checked, problems = verify(archive())
    mine = [p for p in problems if p.chain == who.school_id]
    return jsonify({"checked": checked, "ok": not mine,
                    "problems": [{"seq": p.seq, "message": p.message} for p in mine]})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.0 description of this API."""
    return jsonify(OPENAPI)


def _op(summary: str, *, body: dict | None = None, ok: int = 200, ok_schema: dict | None = None,
        params: list | None = None, errors: tuple[int, ...] = (401,)) -> dict:
    responses: dict[str, Any] = {str(ok): {"description": "ok", "content": {
        "application/json": {"schema": ok_schema or {"type": "object"}}}}
                                 if ok != 204 else {"description": "no content"}}
    for code in errors:
        responses[str(code)] = {"$ref": "#/components/responses/Error"}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": list(body), "properties": body}}}}
    if params:
        op["parameters"] = params
    return op


_DOC_ID = {"name": "document_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1}}
_STR = {"type": "string"}
_ACTION_ERRORS = (400, 401, 403, 404, 409, 422)
OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Архив электронных журналов", "version": "1"},
    "components": {
        "responses": {"Error": {"description": "отказ с сообщением", "content": {
            "application/json": {"schema": {"type": "object", "required": ["message"],
                                            "properties": {"error": {},
                                                           "message": _STR}}}}}}},
    "paths": {
        "/api/v1/login": {"post": _op("Вход", body={"login": _STR, "password": _STR},
                                      errors=(400, 403))},
        "/api/v1/logout": {"post": _op("Выход", ok=204, body={}, errors=(400,))},
        "/api/v1/me": {"get": _op("Кто вошёл")},
        "/api/v1/queue": {"get": _op("Что ждёт этого человека")},
        "/api/v1/documents/{document_id}": {"get": _op(
            "Документ: цепочка, проверка подписей, реестр", params=[_DOC_ID],
            errors=(401, 404))},
        "/api/v1/documents/{document_id}/sign": {"post": _op(
            "Подписать свои поля текущего шага", body={"passphrase": _STR}, params=[_DOC_ID],
            errors=_ACTION_ERRORS)},
        "/api/v1/documents/{document_id}/return": {"post": _op(
            "Вернуть на исправление", body={"reason": _STR}, params=[_DOC_ID],
            errors=_ACTION_ERRORS)},
        "/api/v1/documents/{document_id}/register": {"post": _op(
            "Зарегистрировать заверенную копию", body={"location": _STR}, ok=201,
            params=[_DOC_ID], errors=_ACTION_ERRORS)},
        "/api/v1/register": {"get": _op("Реестр", params=[
            {"name": "year", "in": "query", "required": False, "schema": _STR},
            {"name": "q", "in": "query", "required": False, "schema": _STR}],
            errors=(400, 401))},
        "/api/v1/register/folders": {"post": _op(
            "Сформировать общую папку за период", ok=201,
            body={"year": _STR, "period": _STR, "location": _STR}, errors=_ACTION_ERRORS)},
        "/api/v1/register/folders/{school}/{year}/{number}": {"get": {
            "summary": "Файл общей папки (PDF/A-3)", "parameters": [
                {"name": "school", "in": "path", "required": True, "schema": _STR},
                {"name": "year", "in": "path", "required": True, "schema": _STR},
                {"name": "number", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": {"description": "PDF", "content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}}},
                **{str(c): {"$ref": "#/components/responses/Error"} for c in (400, 401, 404)}}}},
        "/api/v1/audit/verify": {"get": _op("Проверка журнала аудита", errors=(401, 403))},
        "/api/v1/openapi.json": {"get": _op("Это описание", errors=())},
    },
}
