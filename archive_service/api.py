"""The JSON API (``/api/v1``): the same operations and permission checks as the web pages.

Authentication is the same session cookie (``POST /api/v1/login``). The API takes JSON
bodies only (``Content-Type: application/json``), which a cross-site form cannot send, so it
is exempt from the form CSRF token; the cookie is SameSite=Lax as well. The OpenAPI 3.0
document is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, g, jsonify, request, session

from archive_service.accounts.service import authenticate, end_sessions
from archive_service.errors import ArchiveError, NotFoundError, check_text
from archive_service.register.service import (
    MAX_PER_PAGE,
    PER_PAGE,
    folder_pdf,
    form_period_folder,
    register_document,
    register_page_for,
)
from archive_service.signatures.service import return_document, sign_documents
from archive_service.signatures.views import dashboard, document_view, require_signer
from archive_service.web import (
    MAX_ID,
    archive,
    attachment,
    current,
    permits,
    start_session,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _body(*fields: str) -> dict[str, str]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ArchiveError("Ожидается тело запроса JSON (Content-Type: application/json).")
    out = {}
    for name in fields:
        value = data.get(name)
        if not isinstance(value, str):
            raise ArchiveError(f"Поле «{name}» обязательно и должно быть строкой.")
        out[name] = check_text(value, name)
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
    start_session(who, setup=who.must_setup)  # with setup, 403 until the password is set
    return jsonify(_me(who))


@bp.post("/logout")
def logout():
    """End the session (JSON only, like every API post)."""
    if not request.is_json:
        raise ArchiveError("Ожидается Content-Type: application/json.")
    if g.get("principal") is not None:
        end_sessions(archive(), g.principal.login)
    session.clear()
    return "", 204


def _me(who) -> dict[str, Any]:
    return {"login": who.login, "full_name": who.full_name,
            "roles": sorted(f"{r}:{c}" if c else r for r, c in who.roles)}


@bp.get("/me")
@permits("account")
def me():
    """Who is logged in."""
    return jsonify(_me(current()))


@bp.get("/queue")
@permits("dashboard")
def queue():
    """Documents waiting for this person, registrations, overdue steps."""
    board = dashboard(archive(), current())
    return jsonify({name: [_plain(x) for x in getattr(board, name)]
                    for name in ("to_sign", "to_register", "overdue")})


@bp.get("/documents/<id:document_id>")
@permits("document.read")
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


@bp.post("/documents/<id:document_id>/sign")
@permits("document.sign")
def sign(document_id: int):
    """Sign this person's fields of the current step."""
    who = current()
    require_signer(archive(), who, _doc(document_id))
    data = _body("passphrase")
    [outcome] = sign_documents(archive(), document_ids=[_doc(document_id)], login=who.login,
                               passphrase=data["passphrase"],
                               tsa_passphrase=archive().settings.tsa_passphrase or "",
                               actor=who.actor)
    return jsonify({"document_id": outcome.document_id, "fields": list(outcome.fields)})


@bp.post("/documents/<id:document_id>/return")
@permits("document.sign")
def return_(document_id: int):
    """Return the document with a reason."""
    who = current()
    require_signer(archive(), who, _doc(document_id))
    data = _body("reason")
    state = return_document(archive(), document_id=_doc(document_id), login=who.login,
                            reason=data["reason"], actor=who.actor)
    return jsonify(_plain(state))


@bp.post("/documents/<id:document_id>/register")
@permits("document.register")
def register(document_id: int):
    """The secretary registers the certified copy."""
    who = current()
    require_signer(archive(), who, _doc(document_id))
    data = _body("location")
    row = register_document(archive(), document_id=_doc(document_id), login=who.login,
                            location=data["location"], actor=who.actor)
    return jsonify(row.as_dict()), 201


@bp.get("/register")
@permits("register.read")
def register_rows():
    """The register as this person may see it."""
    year = request.args.get("year") or None
    query = request.args.get("q") or None
    if year is not None:
        _year(year)
    if query is not None and len(query) > 200:
        raise ArchiveError("Строка поиска длиннее 200 символов.")
    found = register_page_for(archive(), current(), year=year, query=query,
                              page=_positive("page", 1), per_page=_positive("per_page", PER_PAGE))
    return jsonify({"rows": [r.as_dict() for r in found.rows], "total": found.total,
                    "page": found.page, "per_page": found.per_page, "pages": found.pages})


def _positive(name: str, default: int) -> int:
    """A whole-number query parameter."""
    value = request.args.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        raise ArchiveError(f"Параметр «{name}» — целое положительное число.")
    return int(value)


def _year(year: str) -> str:
    if len(year) != 9 or year[4] != "-" or not (year.isascii() and (year[:4] + year[5:]).isdigit()):
        raise ArchiveError("Учебный год указывается так: 2025-2026.")
    return year


@bp.post("/register/folders")
@permits("folder.form")
def folder_form():
    """The secretary forms the general folder of a period; it gets its register number."""
    who = current()
    data = _body("year", "period", "location")
    anyway = (request.get_json(silent=True) or {}).get("anyway")
    if anyway is not None and not isinstance(anyway, str):
        raise ArchiveError("Поле «anyway» (причина неполной папки) должно быть строкой.")
    require_signer(archive(), who)
    row = form_period_folder(archive(), school_code=None, year=_year(data["year"]),
                             period_code=data["period"], login=who.login,
                             location=data["location"], actor=who.actor,
                             anyway=check_text(anyway, "anyway") if anyway else None)
    return jsonify(row.as_dict()), 201


@bp.get("/register/folders/<school>/<year>/<id:number>")
@permits("folder.read")
def folder_file(school: str, year: str, number: int):
    """A period folder's PDF/A file."""
    who = current()
    name, data = folder_pdf(archive(), school_code=school, year=_year(year),
                            number=min(number, MAX_ID), reader=who.actor, who=who)
    return attachment(data, "application/pdf", name)


@bp.get("/audit/verify")
@permits("audit.read")
def audit_verify():
    """Recompute the audit hash chains, check them against their checkpoints and the
    register against them (director, administrator)."""
    from archive_service.audit.overview import trail_status

    who = current()
    status = trail_status(archive(), who.school_id)
    return jsonify({"checked": status.checked, "ok": not status.problems,
                    "problems": [{"message": m} for m in status.problems],
                    "last_checkpoint": status.last_checkpoint.isoformat()
                    if status.last_checkpoint else None})


# --- inspection: search and verification reports -------------------------------------------

@bp.get("/search")
@permits("search")
def search_ledgers():
    """Ledgers by school, year, period, class, kind, register number or student."""
    from archive_service.inspection.blueprint import criteria_from
    from archive_service.inspection.service import search

    who = current()
    found = search(archive(), criteria_from(request.args), reader=who.actor, who=who)
    return jsonify({"found": [f.as_dict() for f in found]})


@bp.get("/documents/<id:document_id>/report")
@permits("document.read")
def document_report(document_id: int):
    """The verification report of a document (JSON; the PDF/A is on the web page)."""
    from archive_service.inspection.report import report_data

    who = current()
    return jsonify(report_data(archive(), _doc(document_id), reader=who.actor, who=who))


# --- retention: the plan, holds and acts (the same service calls as the page) --------------

def _retention_school() -> str:
    from archive_service.disposition.service import school_code_of

    return school_code_of(archive(), current().school_id)


def _optional(data: dict, name: str, kind: type) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind) or isinstance(value, bool):
        raise ArchiveError(f"Поле «{name}» должно быть {'числом' if kind is int else 'строкой'}.")
    return check_text(value, name) if isinstance(value, str) else value


@bp.get("/retention/plan")
@permits("retention.manage")
def retention_plan():
    """The plan as of a date: counts, and the items that are not simply kept."""
    from archive_service.disposition.blueprint import parse_day
    from archive_service.disposition.service import retention_plan as plan

    school = _retention_school()
    day = parse_day(request.args.get("as_of"))
    counts: dict[str, int] = {}
    rows = []
    for row in plan(archive(), as_of=day, school_code=school):
        counts[row.status] = counts.get(row.status, 0) + 1
        if row.status not in ("not_yet_due", "destroyed") and len(rows) < 10000:
            rows.append({**row.as_dict(), "due_on": row.due_on and row.due_on.isoformat()})
    return jsonify({"as_of": day.isoformat(), "counts": counts, "rows": rows})


def _hold(h) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v
            for k, v in dataclasses.asdict(h).items()}


@bp.get("/retention/holds")
@permits("retention.manage")
def retention_holds():
    """Holds of the school, lifted ones too."""
    from archive_service.disposition.service import list_holds

    return jsonify({"holds": [_hold(h) for h in list_holds(
        archive(), include_lifted=True, school_code=_retention_school())]})


@bp.post("/retention/holds")
@permits("retention.manage")
def retention_hold_add():
    """Place a hold (reason; optionally year, class_name, document_id)."""
    from archive_service.disposition.service import place_hold

    school = _retention_school()
    data = _body("reason")
    raw = request.get_json()
    hold = place_hold(archive(), actor=current().actor, school_code=school,
                      reason=data["reason"], year=_optional(raw, "year", str),
                      class_name=_optional(raw, "class_name", str),
                      document_id=_optional(raw, "document_id", int))
    return jsonify(_hold(hold)), 201


@bp.post("/retention/holds/<id:hold_id>/lift")
@permits("retention.manage")
def retention_hold_lift(hold_id: int):
    """Lift a hold with a reason."""
    from archive_service.disposition.service import lift_hold

    school = _retention_school()
    data = _body("reason")
    return jsonify(_hold(lift_hold(archive(), actor=current().actor, hold_id=hold_id,
                                   school_code=school, reason=data["reason"])))


def _act(info) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v
            for k, v in dataclasses.asdict(info).items()}


@bp.get("/retention/acts")
@permits("retention.manage")
def retention_acts():
    """The school's acts, newest first."""
    from archive_service.disposition.service import list_acts

    return jsonify({"acts": [_act(a) for a in list_acts(archive(),
                                                         school_code=_retention_school())]})


@bp.post("/retention/acts")
@permits("retention.manage")
def retention_act_create():
    """Draft an act from the plan as of a date."""
    from archive_service.disposition.blueprint import parse_day
    from archive_service.disposition.service import create_act

    school = _retention_school()
    data = _body("as_of")
    info = create_act(archive(), actor=current().actor, school_code=school,
                      as_of=parse_day(data["as_of"]))
    return jsonify(_act(info)), 201


@bp.post("/retention/acts/<id:number>/review")
@permits("retention.manage")
def retention_act_review(number: int):
    """The expert commission's decision: agree or reject, protocol, members."""
    from archive_service.disposition.service import review_act

    school = _retention_school()
    data = _body("decision", "protocol", "members")
    if data["decision"] not in ("agree", "reject"):
        raise ArchiveError("Решение комиссии: agree (согласовать) или reject (отклонить).")
    return jsonify(_act(review_act(archive(), actor=current().actor, number=number,
                                   school_code=school, agree=data["decision"] == "agree",
                                   protocol=data["protocol"], members=data["members"])))


@bp.post("/retention/acts/<id:number>/approve")
@permits("retention.approve")
def retention_act_approve(number: int):
    """The director approves the act with their signature key's passphrase."""
    from archive_service.disposition.service import approve_act

    school = _retention_school()
    who = current()
    data = _body("passphrase")
    return jsonify(_act(approve_act(archive(), actor=who.actor, number=number,
                                    school_code=school, login=who.login,
                                    passphrase=data["passphrase"])))


@bp.post("/retention/acts/<id:number>/execute")
@permits("retention.manage")
def retention_act_execute(number: int):
    """Execute an approved act."""
    from archive_service.disposition.service import execute_act

    school = _retention_school()
    _body()
    done = execute_act(archive(), actor=current().actor, number=number, school_code=school)
    return jsonify({**_act(done.act), "destroyed": done.items,
                    "objects_deleted": done.objects_deleted,
                    "classes_cleared": list(done.classes_cleared),
                    "disposal_failures": list(done.disposal_failures)})


@bp.get("/retention/acts/<id:number>/pdf")
@permits("retention.manage")
def retention_act_pdf(number: int):
    """The act's PDF (signed once approved)."""
    from archive_service.disposition.service import act_file

    school = _retention_school()
    info, data = act_file(archive(), number=number, school_code=school, reader=current().actor)
    return attachment(data, "application/pdf", f"Акт № {info.number} ({info.school}).pdf")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.0 description of this API."""
    return jsonify(OPENAPI)


def _op(summary: str, *, body: dict | None = None, ok: int = 200, ok_schema: dict | None = None,
        params: list | None = None, errors: tuple[int, ...] = (401,),
        optional: dict | None = None) -> dict:
    responses: dict[str, Any] = {str(ok): {"description": "ok", "content": {
        "application/json": {"schema": ok_schema or {"type": "object"}}}}
                                 if ok != 204 else {"description": "no content"}}
    for code in errors:
        responses[str(code)] = {"$ref": "#/components/responses/Error"}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": list(body),
            "properties": {**body, **(optional or {})}}}}}
    if params:
        op["parameters"] = params
    return op


_DOC_ID = {"name": "document_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1}}
_STR = {"type": "string"}


def _int_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1}}
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
        "/api/v1/register": {"get": _op("Реестр (по страницам)", params=[
            {"name": "year", "in": "query", "required": False, "schema": _STR},
            {"name": "q", "in": "query", "required": False, "schema": _STR},
            {"name": "page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1}},
            {"name": "per_page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}],
            errors=(400, 401))},
        "/api/v1/register/folders": {"post": _op(
            "Сформировать общую папку за период", ok=201,
            body={"year": _STR, "period": _STR, "location": _STR},
            optional={"anyway": _STR}, errors=_ACTION_ERRORS)},
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
        "/api/v1/search": {"get": _op(
            "Поиск архивных журналов (в пределах школы или выданного доступа)", params=[
                {"name": n, "in": "query", "required": False, "schema": _STR}
                for n in ("school", "year", "period", "class", "kind", "number", "student")],
            errors=(400, 401))},
        "/api/v1/documents/{document_id}/report": {"get": _op(
            "Протокол проверки документа", params=[_DOC_ID], errors=(401, 404))},
        "/api/v1/retention/plan": {"get": _op(
            "План хранения на дату (что подлежит уничтожению, экспертизе, удержано)",
            params=[{"name": "as_of", "in": "query", "required": False,
                     "schema": {"type": "string", "format": "date"}}],
            errors=(400, 401, 403))},
        "/api/v1/retention/holds": {
            "get": _op("Удержания школы", errors=(401, 403)),
            "post": _op("Наложить удержание", ok=201, body={"reason": _STR},
                        errors=_ACTION_ERRORS)},
        "/api/v1/retention/holds/{hold_id}/lift": {"post": _op(
            "Снять удержание", body={"reason": _STR}, params=[_int_param("hold_id")],
            errors=_ACTION_ERRORS)},
        "/api/v1/retention/acts": {
            "get": _op("Акты о выделении к уничтожению", errors=(401, 403)),
            "post": _op("Составить проект акта по плану на дату", ok=201,
                        body={"as_of": {"type": "string", "format": "date"}},
                        errors=_ACTION_ERRORS)},
        "/api/v1/retention/acts/{number}/review": {"post": _op(
            "Решение экспертной комиссии", params=[_int_param("number")],
            body={"decision": {"type": "string", "enum": ["agree", "reject"]},
                  "protocol": _STR, "members": _STR}, errors=_ACTION_ERRORS)},
        "/api/v1/retention/acts/{number}/approve": {"post": _op(
            "Утвердить акт подписью директора", params=[_int_param("number")],
            body={"passphrase": _STR}, errors=_ACTION_ERRORS)},
        "/api/v1/retention/acts/{number}/execute": {"post": _op(
            "Исполнить утверждённый акт", params=[_int_param("number")], body={},
            errors=(*_ACTION_ERRORS, 503))},
        "/api/v1/retention/acts/{number}/pdf": {"get": {
            "summary": "Файл акта (PDF/A, подписанный после утверждения)",
            "parameters": [_int_param("number")],
            "responses": {"200": {"description": "PDF", "content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}}},
                **{str(c): {"$ref": "#/components/responses/Error"} for c in (401, 403, 404)}}}},
        "/api/v1/openapi.json": {"get": _op("Это описание", errors=())},
    },
}
