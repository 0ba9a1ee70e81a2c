"""The JSON API: the same flow and refusals as the pages, its OpenAPI document, and a fuzz
run (schemathesis) that must find no server error."""

from __future__ import annotations

import re

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from tests.signatures.test_chain import pw
from tests.web.conftest import PASSWORD


def _client(app, who):
    client = app.test_client()
    answer = client.post("/api/v1/login", json={"login": who, "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    return client


def test_the_chain_through_the_api(web):
    app, _archive, doc, other = web
    for who in ("smirnova", "belova", "petrova", "zam"):
        client = _client(app, who)
        assert doc in [d["id"] for d in client.get("/api/v1/queue").json["to_sign"]]
        answer = client.post(f"/api/v1/documents/{doc}/sign", json={"passphrase": pw(who)})
        assert answer.status_code == 200 and answer.json["fields"]
    secretary = _client(app, "secretary")
    assert secretary.post(f"/api/v1/documents/{doc}/register",
                          json={"location": "Сейф № 1"}).json["number"] == 1
    director = _client(app, "director")
    refused = director.post(f"/api/v1/documents/{doc}/sign", json={"passphrase": "wrong"})
    assert refused.status_code == 422 and "Неверный пароль ключа" in refused.json["message"]
    assert director.post(f"/api/v1/documents/{doc}/sign",
                         json={"passphrase": pw("director")}).status_code == 200
    assert secretary.post(f"/api/v1/documents/{doc}/sign",
                          json={"passphrase": pw("seal")}).status_code == 200
    view = secretary.get(f"/api/v1/documents/{doc}").json
    assert view["verified"] and view["chain"]["next_step"] is None
    assert view["register"]["number"] == 1
    early = secretary.post("/api/v1/register/folders",
                           json={"year": "2025-2026", "period": "Q1", "location": "Сейф"})
    assert early.status_code == 409 and "7А — сводная ведомость ждёт" in early.json["message"]
    folder = secretary.post("/api/v1/register/folders",
                            json={"year": "2025-2026", "period": "Q1", "location": "Сейф",
                                  "anyway": "Сводная ведомость подписывается отдельно"})
    assert folder.status_code == 201 and folder.json["kind"] == "folder"
    assert folder.json["title"].endswith("(неполная)")
    again = secretary.post("/api/v1/register/folders",
                           json={"year": "2025-2026", "period": "Q1", "location": "Сейф"})
    assert again.status_code == 409 and "уже сформирована" in again.json["message"]
    pdf = director.get(f"/api/v1/register/folders/T-001/2025-2026/{folder.json['number']}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert _client(app, "smirnova").post("/api/v1/register/folders", json={
        "year": "2025-2026", "period": "Q1", "location": "x"}).status_code == 403
    assert director.get("/api/v1/audit/verify").json["ok"] is True
    assert _client(app, "inspector").get(f"/api/v1/documents/{other}").status_code == 404
    assert app.test_client().get("/api/v1/me").status_code == 401
    # A form post (what a cross-site page could send) is not accepted by the API.
    assert secretary.post(f"/api/v1/documents/{doc}/return",
                          data={"reason": "x"}).status_code == 400


def test_the_openapi_document_describes_every_api_route(web):
    app, *_ = web
    spec = app.test_client().get("/api/v1/openapi.json").json
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(r.rule))
              for r in app.url_map.iter_rules() if str(r.rule).startswith("/api/")}
    assert routes == set(spec["paths"])


@pytest.mark.postgres
def test_fuzzing_the_api_finds_no_server_error(web_pg):
    """Fuzzed over real HTTP on loopback, logged in as the secretary (the role with the most
    actions), on PostgreSQL (stricter types than SQLite)."""
    import threading

    import requests
    from hypothesis import HealthCheck, given, settings
    from werkzeug.serving import make_server

    app = web_pg[0]
    app.config["TESTING"] = False  # an exception must become a 500, as in production
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        http = requests.Session()
        assert http.post(f"{base}/api/v1/login",
                         json={"login": "secretary", "password": PASSWORD}).status_code == 200
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        failures, calls = [], []
        for operation in schema.get_all_operations():
            op = operation.ok()
            if op.path in ("/api/v1/logout", "/api/v1/login"):
                continue  # would end or replace the session the fuzzing uses

            @settings(max_examples=25, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy())
            def run(case):
                response = case.call(base_url=base, session=http)
                calls.append((case.formatted_path, response.status_code))
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except Exception as exc:  # noqa: BLE001 - collect and report every failure
                    failures.append(f"{case.method} {case.formatted_path}: {exc}"[:500])

            run()
    finally:
        httpd.shutdown()
    assert failures == []
    statuses = {status for _path, status in calls}
    assert len(calls) >= 100 and 200 in statuses and 401 not in statuses
