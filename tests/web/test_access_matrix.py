"""The access matrix, generated from the permission table the views use.

Every route of the web pages and the API is called as every person of the test school
(and anonymously). What each person must get comes from ``access.PERMISSIONS`` and the
route's declared action (``web.permits``), not from a list written here: refused by the
table, 403; allowed, the status the route answers to what the call carries; a document
read outside the person's classes, 404 (as a document that does not exist). The school
has two classes: 7А, where the teachers smirnova and belova teach and petrova leads, and
7Б, where none of them does. A route without a call below, or a view without a declared
action, fails the test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from archive_service.accounts import access
from archive_service.accounts.service import principal
from archive_service.journals.service import import_file
from archive_service.rendering.service import render_snapshots
from archive_service.snapshots.service import create_snapshots
from tests.support.journal import tiny, write_json
from tests.support.state import archive_state
from tests.web.conftest import ACTOR, csrf, login

PEOPLE = ["smirnova", "belova", "petrova", "zam", "director", "secretary", "admin",
          "inspector", "expired"]
#: Who reads the whole school in the fixture (their roles, or a current grant).
WHOLE = {"zam", "director", "secretary", "admin", "inspector"}
#: Whose classes each document belongs to (the fixture's journal: who teaches or leads).
CLASS_OF = {"doc": {"smirnova", "belova", "petrova"}, "doc_b": set(), "other": set(),
            "missing": set()}
#: Routes nobody logs in for.
PUBLIC = {"static", "accounts.login", "accounts.logout", "api.login", "api.logout",
          "api.openapi", "operations.health", "operations.metrics"}


@dataclass(frozen=True)
class Call:
    """One request to a route and what an allowed person gets: ``status``, or 404 when the
    call ``reads`` a document outside their classes; ``shows``: a document whose number
    the answer lists exactly when the person may read it; ``unlike``: people the route
    answers differently from what the table alone says, with the reason in a comment."""

    method: str
    path: str
    status: int
    data: dict | None = None
    reads: str | None = None
    shows: str | None = None
    unlike: dict[str, int] = field(default_factory=dict)


def at(path: str, target: str) -> str:
    """``path`` with its «{t}» naming the document ``target``."""
    return path.replace("{t}", "{" + target + "}")


WRONG = {"passphrase": "wrong passphrase", "reason": "", "location": ""}
CALLS: dict[str, list[Call]] = {
    "signatures.dashboard": [Call("GET", "/", 200)],
    "signatures.document": [Call("GET", at("/documents/{t}", t), 200, reads=t)
                            for t in ("doc", "doc_b", "other", "missing")],
    "signatures.page": [Call("GET", at("/documents/{t}/pages/1.png", t), 200, reads=t)
                        for t in ("doc", "doc_b", "other")],
    "signatures.reader": [Call("GET", at("/documents/{t}/read/1", t), 200, reads=t)
                          for t in ("doc", "doc_b", "other")],
    "signatures.download": [Call("GET", at("/documents/{t}/download", t), 200, reads=t)
                            for t in ("doc", "doc_b", "other")],
    "inspection.report": [Call("GET", at("/documents/{t}/report.json", t), 200, reads=t)
                          for t in ("doc", "doc_b", "other")],
    "inspection.search_page": [Call("GET", "/search?year=2025-2026", 200, shows="doc_b"),
                               Call("GET", "/search?class=7А", 200, shows="doc")],
    # A wrong passphrase or an empty reason: refused on the page (303), nothing changes.
    "signatures.sign": [Call("POST", at("/documents/{t}/sign", t), 303, WRONG, reads=t)
                        for t in ("doc", "doc_b", "other")],
    "signatures.sign_queue": [Call("POST", "/sign-queue", 303, WRONG)],
    "signatures.return_": [Call("POST", at("/documents/{t}/return", t), 303, WRONG, reads=t)
                           for t in ("doc", "doc_b")],
    "register.register_add": [Call("POST", "/documents/{doc}/register", 303, WRONG,
                                   reads="doc")],
    "register.register_page": [Call("GET", "/register", 200)],
    # The expired grant no longer covers the year: it is not in that person's register.
    "register.register_export": [Call("GET", "/register/export.xlsx?year=2025-2026", 200,
                                      unlike={"expired": 404})],
    "register.folder_download": [Call("GET", "/register/folder/T-001/2025-2026/1.pdf", 404)],
    "register.folder_form": [Call("POST", "/register/folder", 303, WRONG)],
    "audit.audit_page": [Call("GET", "/audit", 200)],
    "journals.upload_page": [Call("GET", "/imports", 200)],
    "journals.upload": [Call("POST", "/imports", 400, {})],  # no file
    "journals.add_code": [Call("POST", "/imports/codes", 303, {})],
    "journals.remove_code": [Call("POST", "/imports/codes/remove", 303, {})],
    "checks.report_page": [Call("GET", "/checks?period=2025-2026/Q1", 200)],
    "checks.course_page": [Call("GET", "/checks/course?period=2025-2026/Q1&class=7А"
                                       "&subject=Алгебра", 200)],
    "checks.export": [Call("GET", "/checks/export.xlsx?period=2025-2026/Q1", 200),
                      Call("GET", "/checks/export.csv?period=2025-2026/Q1", 200)],
    "closing.close_page": [Call("GET", "/close?period=2025-2026/Q1", 200)],
    "closing.close_start": [Call("POST", "/close", 400, {})],  # no class chosen
    "closing.correct": [Call("POST", "/close/correct", 303, {})],
    "closing.run_page": [Call("GET", "/close/runs/999", 404)],
    "closing.run_resume": [Call("POST", "/close/runs/999/resume", 404, {})],
    "closing.progress_page": [Call("GET", "/progress?period=2025-2026/Q1", 200)],
    "accounts.people_page": [Call("GET", "/people", 200)],
    "accounts.people_add": [Call("POST", "/people", 303, {})],
    "accounts.people_code": [Call("POST", "/people/nobody/code", 404, {})],
    "accounts.people_active": [Call("POST", "/people/nobody/active", 404, {})],
    "accounts.people_revoke": [Call("POST", "/people/nobody/revoke", 404, {})],
    "accounts.people_issue": [Call("POST", "/people/certificates", 303, {})],
    "accounts.people_pki": [Call("POST", "/people/pki", 303, {})],
    "accounts.account_page": [Call("GET", "/account", 200)],
    # Only an account opened with a one-time code stays on its setup page.
    "accounts.setup": [Call("GET", "/account/setup", 302)],
    "accounts.change_password": [Call("POST", "/account/password", 303, {})],
    # The administrator signs nothing: they have no key to ask for.
    "accounts.request_key": [Call("POST", "/account/key", 303, {}, unlike={"admin": 403})],
    "accounts.change_key_passphrase": [Call("POST", "/account/key/passphrase", 303, {})],
    "backups.backups_page": [Call("GET", "/backups", 200)],
    "backups.log_pdf": [Call("GET", "/backups/log.pdf", 200)],
    "backups.keys_init": [Call("POST", "/backups/keys", 303, {})],
    "backups.create": [Call("POST", "/backups/create", 404, {})],  # no backup keys yet
    "backups.verify": [Call("POST", "/backups/x/verify", 400, {})],  # no level
    "backups.log_copy": [Call("POST", "/backups/log", 303, {})],
    "retention.retention_page": [Call("GET", "/retention", 200)],
    "retention.hold_add": [Call("POST", "/retention/holds", 303, {})],
    "retention.hold_lift": [Call("POST", "/retention/holds/999/lift", 303, {})],
    "retention.act_create": [Call("POST", "/retention/acts", 303, {})],
    "retention.act_review": [Call("POST", "/retention/acts/999/review", 303, {})],
    "retention.act_approve": [Call("POST", "/retention/acts/999/approve", 404, {})],
    "retention.act_execute": [Call("POST", "/retention/acts/999/execute", 404, {})],
    "retention.act_pdf": [Call("GET", "/retention/acts/999.pdf", 404)],
    # The API: JSON bodies, the same services.
    "api.me": [Call("GET", "/api/v1/me", 200)],
    "api.queue": [Call("GET", "/api/v1/queue", 200)],
    "api.document": [Call("GET", at("/api/v1/documents/{t}", t), 200, reads=t)
                     for t in ("doc", "doc_b", "other")],
    "api.document_report": [Call("GET", at("/api/v1/documents/{t}/report", t), 200, reads=t)
                            for t in ("doc", "doc_b")],
    "api.search_ledgers": [Call("GET", "/api/v1/search?year=2025-2026", 200,
                                shows="doc_b")],
    "api.sign": [Call("POST", at("/api/v1/documents/{t}/sign", t), 400, {}, reads=t)
                 for t in ("doc", "doc_b")],
    "api.return_": [Call("POST", at("/api/v1/documents/{t}/return", t), 400, {}, reads=t)
                    for t in ("doc", "doc_b")],
    "api.register": [Call("POST", "/api/v1/documents/{doc}/register", 400, {}, reads="doc")],
    "api.register_rows": [Call("GET", "/api/v1/register", 200)],
    "api.folder_form": [Call("POST", "/api/v1/register/folders", 400, {})],
    "api.folder_file": [Call("GET", "/api/v1/register/folders/T-001/2025-2026/1", 404)],
    "api.audit_verify": [Call("GET", "/api/v1/audit/verify", 200)],
    "api.retention_plan": [Call("GET", "/api/v1/retention/plan", 200)],
    "api.retention_holds": [Call("GET", "/api/v1/retention/holds", 200)],
    "api.retention_hold_add": [Call("POST", "/api/v1/retention/holds", 400, {})],
    "api.retention_hold_lift": [Call("POST", "/api/v1/retention/holds/999/lift", 400, {})],
    "api.retention_acts": [Call("GET", "/api/v1/retention/acts", 200)],
    "api.retention_act_create": [Call("POST", "/api/v1/retention/acts", 400, {})],
    "api.retention_act_review": [Call("POST", "/api/v1/retention/acts/999/review", 400, {})],
    "api.retention_act_approve": [Call("POST", "/api/v1/retention/acts/999/approve", 400,
                                       {})],
    "api.retention_act_execute": [Call("POST", "/api/v1/retention/acts/999/execute", 404,
                                       {})],
    "api.retention_act_pdf": [Call("GET", "/api/v1/retention/acts/999/pdf", 404)],
}


def second_class(archive, tmp_path) -> int:
    """Class 7Б of the same school and year, taught and led by people with no account
    here; returns its journal copy's id."""
    doc = tiny()
    # Other children (record numbers «ЛД-Б…»), another teacher and class leader.
    doc["classes"] = json.loads(json.dumps(doc["classes"], ensure_ascii=False)
                                .replace('"ЛД-', '"ЛД-Б')
                                .replace("Смирнова Ольга Николаевна", "Новикова Мария Олеговна")
                                .replace("Белова Ирина Сергеевна", "Новикова Мария Олеговна"))
    cls = doc["classes"][0]
    cls["name"], cls["class_leader"] = "7Б", "Соколова Дарья Андреевна"
    for i, student in enumerate(cls["students"]):
        student["full_name"] = f"Учеников{i} Борис Борисович"
    import_file(archive, write_json(doc, tmp_path / "7b.json"), actor=ACTOR)
    [snap] = create_snapshots(archive, period="2025-2026/Q1", class_name="7Б",
                              school_code="T-001", actor=ACTOR)
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=ACTOR, workers=1)
    return next(d.id for d in outcome.documents if d.kind == "journal")


def may_read(who: str, target: str) -> bool:
    """The fixture's truth: whole-school readers read the school; a teacher or class leader
    their class; nobody here another school's or a missing document."""
    if target in ("other", "missing"):
        return False
    return who in WHOLE or who in CLASS_OF[target]


def expected(app, archive, who: str | None, call: Call, action: str) -> int:
    if who is None:
        return 401 if call.path.startswith("/api/") else 302
    if not access.allows(principal(archive, who), action):
        return 403
    if call.reads is not None and not may_read(who, call.reads):
        return 404
    return call.unlike.get(who, call.status)


def test_every_route_for_every_person_follows_the_permission_table(web, tmp_path):
    app, archive, doc, other = web
    ids = {"doc": doc, "doc_b": second_class(archive, tmp_path), "other": other,
           "missing": 999999}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - PUBLIC
    assert endpoints == set(CALLS), (
        f"routes without a call here: {sorted(endpoints - set(CALLS))}; "
        f"calls of no route: {sorted(set(CALLS) - endpoints)}")
    undeclared = [e for e in endpoints if not hasattr(app.view_functions[e], "permission")]
    assert undeclared == [], f"views that declare no action of the table: {undeclared}"

    clients = {who: login(app, who) for who in PEOPLE}
    clients[None] = app.test_client()
    before = archive_state(archive)
    failures, checked = [], 0
    for endpoint, calls in CALLS.items():
        action = app.view_functions[endpoint].permission
        for call in calls:
            path = call.path.format(**ids)
            for who, client in clients.items():
                want = expected(app, archive, who, call, action)
                if call.method == "GET":
                    answer = client.get(path)
                elif path.startswith("/api/"):
                    answer = client.post(path, json=call.data)
                else:
                    answer = client.post(path, data={**(call.data or {}),
                                                     "csrf_token": csrf(client, "/login")})
                checked += 1
                if answer.status_code != want:
                    failures.append(f"{call.method} {path} as {who} ({action}): "
                                    f"{answer.status_code}, expected {want}")
                elif call.shows and want == 200:
                    shown = ids[call.shows]
                    listed = bool(re.search(rf'/documents/{shown}"|"document_id": ?{shown}\b',
                                            answer.get_data(as_text=True)))
                    if listed != may_read(who, call.shows):
                        failures.append(f"{call.method} {path} as {who}: lists document "
                                        f"{shown}: {listed}")
    assert failures == [], "\n".join(failures)
    assert checked > 900
    # No refused action wrote anything (reads, verifications, logins and wrong key
    # passphrases are recorded, by design).
    logged = {"audit_entry", "audit_head", "login_attempt", "document_verification",
              "key_attempt"}
    after = archive_state(archive)
    assert {k: v for k, v in after.items() if k not in logged} == {
        k: v for k, v in before.items() if k not in logged}


def test_every_action_of_the_table_is_some_route_s(web):
    """The table holds no action that no route performs (a stale right nobody checks)."""
    app = web[0]
    used = {getattr(app.view_functions[rule.endpoint], "permission", None)
            for rule in app.url_map.iter_rules()}
    assert set(access.PERMISSIONS) - used == set()


@pytest.mark.parametrize("who", ["smirnova", "petrova"])
def test_a_teacher_s_dashboard_lists_only_their_classes(web, tmp_path, who):
    app, archive, doc, _other = web
    doc_b = second_class(archive, tmp_path)
    from archive_service.signatures.views import dashboard

    board = dashboard(archive, principal(archive, who))
    assert doc in [ln.id for ln in board.recent] and doc_b not in [ln.id for ln in board.recent]
    director = dashboard(archive, principal(archive, "director"))
    assert {doc, doc_b} <= {ln.id for ln in director.recent}
