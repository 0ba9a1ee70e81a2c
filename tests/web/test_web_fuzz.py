"""Property-based fuzz of the web routes, not only the API (issue 27): any path value,
query and form field, as the people with the most pages, never answers 5xx (PostgreSQL, the
stricter database)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import csrf, login

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "²", "٣", "9" * 30, "2025-2026/Q1", "2025-2026", "7А",
                     "<b>x</b>", "' OR 1=1 --", "%00", "../../etc/passwd", "\\\\evil",
                     "=1+1", "🙂", "\u202e"]))
QUERY_NAMES = ["period", "year", "q", "page", "per_page", "class", "subject", "size", "next",
               "as_of", "go", "kind"]
FORM_NAMES = ["passphrase", "reason", "location", "year", "period", "login", "full_name",
              "position", "role", "class", "spelling", "code", "anyway", "level", "kind",
              "current", "password", "repeat", "ca_passphrase", "active", "decision"]


def _routes(app) -> list[tuple[str, set[str]]]:
    out = []
    for rule in app.url_map.iter_rules():
        path = str(rule.rule)
        if path.startswith(("/static", "/api/")) or path in ("/logout",):
            continue
        out.append((path, set(rule.methods or ()) & {"GET", "POST"}))
    return out


def _fill(path: str, value: str, number: int) -> str:
    path = re.sub(r"<id:\w+>", str(number), path)
    return re.sub(r"<(?:\w+:)?\w+>", quote(value, safe="") or "x", path)


@pytest.mark.postgres
def test_no_web_route_answers_a_server_error(web_pg):
    app, _archive, _doc, _other = web_pg
    routes = _routes(app)
    people = {who: login(app, who) for who in ("secretary", "admin", "zam", "director")}
    tokens = {who: csrf(c, "/account") for who, c in people.items()}
    failures: list[str] = []

    @settings(max_examples=400, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(routes), st.sampled_from(sorted(people)), TEXT,
           st.integers(-3, 2**40), st.dictionaries(st.sampled_from(QUERY_NAMES), TEXT,
                                                   max_size=3),
           st.dictionaries(st.sampled_from(FORM_NAMES), TEXT, max_size=5))
    def probe(route, who, value, number, query, form):
        path, methods = route
        url = _fill(path, value, number)
        if query:
            url += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        client = people[who]
        for method in sorted(methods):
            if method == "GET":
                answer = client.get(url)
            else:
                answer = client.post(url, data={**form, "csrf_token": tokens[who]})
            if answer.status_code >= 500:
                failures.append(f"{method} {url} as {who} {form}: {answer.status_code}")

    probe()
    assert failures == [], "\n".join(failures[:20])
