"""The web service: a document from render to sealed and registered through the pages, CSRF,
throttling, and what the audit trail records; both databases (the permission matrix:
test_access_matrix.py)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest
from markupsafe import escape

from archive_service.audit.service import entries, verify
from tests.signatures.test_chain import pw
from tests.web.conftest import ACTOR, PASSWORD, csrf, login


def _post(client, path, data, *, page):
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def _flash(client, path) -> str:
    page = client.get(path).get_data(as_text=True)
    return " ".join(re.findall(r'<div class="flash [a-z]+" role="status">([^<]*)</div>', page))


def _renew_the_archival_timestamp(archive, doc) -> None:
    """A new TSA certificate and a renewed timestamp on the sealed copy (as years later)."""
    from archive_service.journals.models import School
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.renewal import reissue_tsa, renew_timestamps
    from tests.signatures.test_chain import TSA

    with archive.sessions() as s:
        code = s.get(School, s.get(RenderedDocument, doc).school_id).code
    reissue_tsa(archive, school_code=code, ca_passphrase="ca-passphrase", tsa_passphrase=TSA,
                days=365 * 15)
    [_renewed] = renew_timestamps(archive, school_code=code,
                                  within=dt.timedelta(days=365 * 11),
                                  tsa_passphrase=TSA).renewed


def test_a_document_goes_from_render_to_sealed_and_registered_in_the_browser(web):
    app, archive, doc, _other = web
    page = f"/documents/{doc}"
    for who in ("smirnova", "belova", "petrova", "zam"):
        client = login(app, who)
        assert f'href="/documents/{doc}"' in client.get("/").get_data(as_text=True)
        answer = _post(client, f"{page}/sign", {"passphrase": pw(who)}, page=page)
        assert answer.status_code == 303
        assert "Подписано полей: 1." in _flash(client, page)
    secretary = login(app, "secretary")
    board = secretary.get("/").get_data(as_text=True)
    assert "Принять от заместителя директора и зарегистрировать (1)" in board
    _post(secretary, f"{page}/register", {"location": "Сейф № 1"}, page=page)
    assert "Зарегистрирован под № 1 (2025-2026)." in _flash(secretary, page)
    director = login(app, "director")
    _post(director, f"{page}/sign", {"passphrase": "wrong passphrase"}, page=page)
    assert "Неверный пароль ключа" in _flash(director, page)
    _post(director, f"{page}/sign", {"passphrase": pw("director")}, page=page)
    _post(secretary, f"{page}/sign", {"passphrase": pw("seal")}, page=page)
    html = secretary.get(page).get_data(as_text=True)
    assert "заверен печатью" in html and "Все подписи верны." in html
    assert "Зарегистрирован под № 1 (2025-2026)" in html
    _renew_the_archival_timestamp(archive, doc)
    html = secretary.get(page).get_data(as_text=True)
    assert "Все подписи верны." in html and html.count("штамп времени") >= 2, html
    # The chain's times as a person reads them, in the school's time zone like the stamps.
    assert len(re.findall(r"<td>\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \(UTC\+03:00\)</td>",
                          html)) == 6
    register = secretary.get("/register?year=2025-2026").get_data(as_text=True)
    assert "заверен печатью" in register
    pdf = secretary.get(f"{page}/download")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    number = archive_document_number(archive, doc)
    assert quote(f"{number}.pdf") in pdf.headers["Content-Disposition"]
    _post(secretary, "/register/folder", {"year": "2025-2026", "period": "Q3",
                                          "location": "Сейф № 1"}, page="/register")
    assert "нет периода Q3 в 2025-2026" in _flash(secretary, "/register")
    _post(secretary, "/register/folder", {"year": "2025-2026", "period": "Q1",
                                          "location": "Сейф № 1, полка 2"}, page="/register")
    assert "нет заверенных печатью копий у классов: 7А — сводная ведомость" in _flash(
        secretary, "/register")
    _post(secretary, "/register/folder", {"year": "2025-2026", "period": "Q1",
                                          "location": "Сейф № 1, полка 2",
                                          "anyway": "ведомость подписывается отдельно"},
          page="/register")
    assert "Общая папка сформирована неполной: № 2 (2025-2026)" in _flash(secretary,
                                                                         "/register")
    folder = login(app, "director").get("/register/folder/T-001/2025-2026/2.pdf")
    assert folder.status_code == 200 and folder.data.startswith(b"%PDF")
    png = secretary.get(f"{page}/pages/1.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    actions = [e.action for e in entries(archive, limit=200)]
    assert actions.count("document.sign") == 6 and "register.add" in actions
    assert "register.folder" in actions and "register.folder.read" in actions
    assert "document.read" in actions and "document.preview" in actions
    assert "document.view" in actions  # a page shown with a reused verification
    assert verify(archive)[1] == []


def test_a_returned_document_shows_who_returned_it_when_and_why(web):
    from archive_service.signatures.state import chain_state

    app, archive, doc, _other = web
    page = f"/documents/{doc}"
    teacher = login(app, "smirnova")
    _post(teacher, f"{page}/return", {"reason": "Ошибка в отметках 5 «Б»"}, page=page)
    assert "Документ возвращён на исправление." in _flash(teacher, page)
    state = chain_state(archive, doc)  # the service's own reading of the return
    assert state.returned.startswith("Ошибка в отметках 5 «Б»; вернул(а) Смирнова Ольга "
                                     "Николаевна, ")
    assert state.returned.endswith(" (UTC+03:00)") and state.next_step is None
    director = login(app, "director")
    html = director.get(page).get_data(as_text=True)
    assert f"Возвращён на исправление: {escape(state.returned)}" in html
    assert f"<strong>Возвращён: {escape(state.returned)}</strong>" in html
    assert "заверен печатью" not in html and "цепочка завершена" not in html
    assert 'name="passphrase"' not in html  # nobody signs a returned version
    # Every list says so, and those who correct it see it on their dashboard.
    for who in ("director", "zam", "petrova", "smirnova", "admin"):
        board = login(app, who).get("/").get_data(as_text=True)
        assert "Возвращены на исправление (1)" in board, who
        assert f"возвращён: {escape(state.returned)}" in board, who
    board = login(app, "secretary").get("/").get_data(as_text=True)
    assert "Возвращены на исправление" not in board  # not the secretary's to correct
    assert f"возвращён: {escape(state.returned)}" in board  # but her lists say so
    # The deputy is shown the way to the correction.
    assert "исправление на странице «Срезы и копии»" in login(app, "zam").get(page).get_data(
        as_text=True)


def test_a_copy_is_read_page_by_page(web):
    app, _archive, doc, other = web
    client = login(app, "smirnova")
    reader = client.get(f"/documents/{doc}/read/1").get_data(as_text=True)
    assert f'src="/documents/{doc}/pages/1.png?size=large"' in reader
    assert f'href="/documents/{doc}/read/2" rel="next"' in reader
    last = client.get(f"/documents/{doc}/read/999")
    assert last.status_code == 303 and last.headers["Location"].endswith("/read/8")
    assert client.get(f"/documents/{doc}/read/1?go=3").headers["Location"].endswith("/read/3")
    assert client.get(f"/documents/{doc}/read/2?go=x²").headers["Location"].endswith("/read/2")
    large = client.get(f"/documents/{doc}/pages/2.png?size=large")
    small = client.get(f"/documents/{doc}/pages/2.png")
    assert large.data.startswith(b"\x89PNG") and len(large.data) > len(small.data)
    assert _png_width(large.data) == 1754  # a landscape A4 sheet at 150 dpi: readable
    assert client.get(f"/documents/{doc}/pages/2.png?size=huge").status_code == 404
    assert client.get(f"/documents/{other}/read/1").status_code == 404


def _png_width(data: bytes) -> int:
    return int.from_bytes(data[16:20], "big")


def test_a_form_without_its_csrf_token_is_refused(web):
    app, archive, doc, _other = web
    client = login(app, "smirnova")
    answer = client.post(f"/documents/{doc}/sign", data={"passphrase": pw("smirnova")})
    assert answer.status_code == 400 and "Форма устарела" in answer.get_data(as_text=True)


def test_repeated_failed_logins_lock_the_login(web):
    app, _archive, _doc, _other = web
    client = app.test_client()
    for _ in range(5):
        answer = client.post("/login", data={"login": "director", "password": "guess",
                                             "csrf_token": csrf(client)})
        assert answer.status_code == 401 and "Неверный логин или пароль" in answer.get_data(
            as_text=True)
    locked = client.post("/login", data={"login": "director", "password": PASSWORD,
                                         "csrf_token": csrf(client)})
    assert locked.status_code == 401 and "Слишком много неудачных попыток" in locked.get_data(
        as_text=True)


def test_logout_ends_the_session_and_cookies_are_guarded(web):
    app, _archive, _doc, _other = web
    client = app.test_client()
    answer = client.post("/login", data={"login": "zam", "password": PASSWORD,
                                         "csrf_token": csrf(client)})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path", [
    "/login?next=//evil.example/", "/login?next=https://x.y/", "/login?next=/%09/evil.example",
    "/login?next=/%0A/evil.example", "/login?next=/%0D%0A/evil.example",
    "/login?next=%5C%5Cevil.example", "/login?next=/%5Cevil.example",
    "/login?next=%09//evil.example", "/login?next=javascript:alert(1)",
    "/login?next=/%00/evil.example", "/login?next=http:/evil.example"])
def test_login_never_redirects_off_site(web, path):
    """Control characters and backslashes (what browsers drop or read as «/») never make
    the redirect leave the site, nor a server error (issue 27, item 3)."""
    app, _archive, _doc, _other = web
    client = app.test_client()
    answer = client.post(path, data={"login": "zam", "password": PASSWORD,
                                     "csrf_token": csrf(client)})
    assert answer.status_code == 400 if "%00" in path else answer.headers["Location"] == "/"


def test_login_goes_on_to_the_page_asked_for(web):
    app, _archive, _doc, _other = web
    client = app.test_client()
    answer = client.post("/login?next=/register%3Fyear%3D2025-2026", data={
        "login": "zam", "password": PASSWORD, "csrf_token": csrf(client)})
    assert answer.headers["Location"] == "/register?year=2025-2026"


def archive_document_number(archive, doc):
    from archive_service.rendering.models import RenderedDocument

    with archive.sessions() as s:
        return s.get(RenderedDocument, doc).number


def _lines(archive, school_code: str, count: int) -> None:
    """``count`` register lines of a past year straight in the table (folders, no document)."""
    from archive_service.journals.lookup import find_school
    from archive_service.register.models import RegisterEntry

    with archive.unit_of_work() as uow:
        school = find_school(uow.session, school_code)
        for n in range(1, count + 1):
            entry = RegisterEntry(
                school_id=school.id, year="2020-2021", number=n, kind="folder",
                title=f"Общая папка № {n}", period_code="Q1", sheets=1, handed_over_by="x",
                handover_hash="0" * 64, received_by="y",
                received_at=dt.datetime(2020, 11, 1, tzinfo=dt.UTC),
                location="Сейф № 7" if n % 2 else "Шкаф № 2")
            entry.make_searchable(None)
            uow.session.add(entry)


def test_the_register_comes_in_pages(web):
    """120 lines of a year: 50 on a page, the last page holds the rest, a page past the end
    is the last, the search counts what it found (nothing: 0, on any page); the API says the
    same; bad numbers are a 400 with a message. The inspector's grant (2025-2026) shows none
    of 2020-2021."""
    app, archive, _doc, _other = web
    _lines(archive, "T-001", 120)
    secretary = login(app, "secretary")
    first = secretary.get("/register?year=2020-2021").get_data(as_text=True)
    assert "Записей: 120, показаны 1–50" in first and "страница 1 из 3" in first
    assert "следующая →" in first and "предыдущая" not in first
    last = secretary.get("/register?year=2020-2021&page=9").get_data(as_text=True)
    assert "Записей: 120, показаны 101–120" in last and "страница 3 из 3" in last
    assert "Общая папка № 120" in last and "Общая папка № 100<" not in last
    for nothing in ("", "&page=3"):  # a search that finds nothing, on any page
        empty = secretary.get(f"/register?year=2020-2021&q=нет такого{nothing}")
        assert "Записей: 0" in empty.get_data(as_text=True) and "страница" not in (
            empty.get_data(as_text=True))
    for typed in ("0", "x", "-2"):
        page = secretary.get(f"/register?year=2020-2021&page={typed}")
        assert page.status_code == 200 and "страница 1 из 3" in page.get_data(as_text=True)
    api = app.test_client()
    api.post("/api/v1/login", json={"login": "secretary", "password": PASSWORD})
    found = api.get("/api/v1/register?year=2020-2021&q=сейф № 7&page=2&per_page=25").json
    assert (found["total"], found["page"], found["pages"], len(found["rows"])) == (60, 2, 3, 25)
    assert [r["number"] for r in found["rows"]][:2] == [51, 53]
    for bad in ("page=0", "page=x", "per_page=501", "per_page=-1"):
        answer = api.get(f"/api/v1/register?{bad}")
        assert answer.status_code == 400 and ("Страница" in answer.json["message"]
                                              or "Параметр" in answer.json["message"]), bad
    # A NUL in the search (PostgreSQL cannot compare text holding one): a 400 naming the
    # field, on the page and in the API, not a server error (found by the API fuzz run).
    nul = api.get("/api/v1/register?q=%00X")
    assert nul.status_code == 400 and "Поиск" in nul.json["message"], nul.data
    page = secretary.get("/register?year=2020-2021%00")
    assert page.status_code == 400 and "Учебный год" in page.get_data(as_text=True)
    inspector = login(app, "inspector")
    assert "Записей: 0" in inspector.get("/register?year=2020-2021").get_data(as_text=True)


def test_register_links_are_what_url_for_builds(sqlite_archive):
    """The register page builds its lines' links from one url_for per kind of link: the same
    addresses, whatever the school's code holds (Cyrillic, a space, the marker's digits)."""
    from flask import url_for

    from archive_service.app import create_app
    from archive_service.register.blueprint import _links
    from archive_service.register.service import RegisterRow

    app = create_app({"ARCHIVE": sqlite_archive, "TESTING": True})

    def row(number, school, year, document_id=None):
        return RegisterRow(number, year, school, "Школа", "2026-01-12T10:00:00+00:00",
                           "folder", "Общая папка", None, "Q1", 3, "", "", "", document_id,
                           None, "")

    rows = [row(1, "T-001", "2025-2026", 7), row(2, "T-001", "2025-2026"),
            row(3, "Школа 5/987654321", "2024-2025"), row(4, "T-001", "2025-2026", 12),
            row(5, "T-001", "2025-2026")]
    with app.test_request_context("/register"):
        expected = [url_for("signatures.document", document_id=r.document_id) if r.document_id
                    else url_for("register.folder_download", school=r.school, year=r.year,
                                 number=r.number) for r in rows]
        assert _links(rows) == expected
    assert expected[2].endswith("/2024-2025/3.pdf") and "%" in expected[2]


def test_moments_are_shown_in_utc_whatever_zone_they_were_stored_in():
    from archive_service.app import moment_text

    assert moment_text("2026-12-03T09:03:32") == "03.12.2026 12:03:32 (UTC+03:00)"
    assert moment_text("2026-12-03T12:03:32+03:00", "Asia/Yekaterinburg") == \
        "03.12.2026 14:03:32 (UTC+05:00)"
    assert moment_text(None) == ""


def test_a_signer_signs_the_whole_queue_with_one_opening_of_the_key(web):
    app, _archive, doc, _other = web
    teacher = login(app, "smirnova")
    _post(teacher, "/sign-queue", {"passphrase": "wrong passphrase"}, page="/")
    assert "Неверный пароль ключа" in _flash(teacher, "/")
    _post(teacher, "/sign-queue", {"passphrase": pw("smirnova")}, page="/")
    # The journal copy and the summary sheet, where she confirms her final marks.
    assert "Подписано документов: 2, полей: 2." in _flash(teacher, "/")
    _post(teacher, "/sign-queue", {"passphrase": pw("smirnova")}, page="/")
    assert "Документов, ожидающих вашей подписи, нет." in _flash(teacher, "/")


def test_pages_use_no_inline_script_the_content_security_policy_would_block():
    """The CSP allows scripts from the site only ('self'): an inline handler (onclick=,
    onchange=) or a <script> block in a template would silently do nothing."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "templates"
    offending = [str(p.relative_to(templates)) for p in templates.rglob("*.html")
                 if re.search(r"\son[a-z]+\s*=|<script", p.read_text("utf-8"))]
    assert offending == []


#: Values people and scripts send that a route must answer with a message, never a 5xx.
ODD = ["", "x", "²", "٣", "\x00", "9" * 30, "-1", "7а", "../../etc/passwd", "<script>",
       "2025-2026/Q9", "/", "%", "   ", "ÿ" * 500]


def test_odd_input_on_the_period_close_pages_is_never_a_server_error(web_pg):
    """Every page and form of the period close, with odd query, path and form values, as the
    people who reach them (PostgreSQL: the stricter database); nothing answers 5xx."""
    app, _archive, doc, _other = web_pg
    failures = []
    for who in ("zam", "director", "secretary", "admin"):
        client = login(app, who)
        token = csrf(client, "/account")
        for w in ODD:
            for path in (f"/checks?period={quote(w)}", f"/checks/export.csv?period={quote(w)}",
                         f"/checks/course?period=2025-2026/Q1&class={quote(w)}"
                         f"&subject={quote(w)}", f"/close?period={quote(w)}",
                         f"/progress?period={quote(w)}", f"/people?q={quote(w)}",
                         f"/documents/{doc}/read/1?go={quote(w)}",
                         f"/documents/{doc}/pages/1.png?size={quote(w)}",
                         f"/close/runs/{quote(w, safe='')}", f"/checks/export.{quote(w, safe='')}"):
                status = client.get(path).status_code
                if status >= 500:
                    failures.append(f"{who} GET {path!r}: {status}")
            forms = [("/close", {"period": w, "class": w}),
                     ("/close", {"period": "2025-2026/Q1", "class": w}),
                     ("/close/correct", {"period": "2025-2026/Q1", "class": w, "reason": w}),
                     ("/people", {"login": w, "full_name": w, "position": w, "role": w,
                                  "class_leader": w}),
                     (f"/people/{quote(w, safe='')}/active", {"active": w}),
                     ("/people/pki", {"ca_passphrase": w, "repeat": w}),
                     ("/account/password", {"current": w, "password": w, "repeat": w}),
                     ("/account/key", {"kind": w, "password": w, "passphrase": w, "repeat": w}),
                     ("/account/key/passphrase", {"kind": w, "current": w, "passphrase": w,
                                                  "repeat": w}),
                     ("/backups/keys", {"code": w, "repeat": w}),
                     (f"/backups/{quote(w, safe='')}/verify", {"level": w}),
                     ("/backups/log", {"backup": w, "medium": w, "handed_by": w,
                                       "received_by": w, "passphrase": w}),
                     ("/register/folder", {"year": w, "period": w, "location": w,
                                           "anyway": w}),
                     ("/sign-queue", {"passphrase": w})]
            for path, data in forms:
                status = client.post(path, data={**data, "csrf_token": token}).status_code
                if status >= 500:
                    failures.append(f"{who} POST {path!r} {w!r:.20}: {status}")
    assert failures == []


@pytest.mark.parametrize("year", ["2025-2026<b>", "2025/2026", "２０２５-２０２６", "2025-2027",
                                  "x" * 300, "2025-2026\r\nX: y"])
def test_the_export_year_is_checked_before_it_reaches_a_file(web, year):
    """Issue 27, item 6: a malformed year is a 400 in Russian, a year the school does not
    have a 404, before anything reaches a file name, a sheet title or a header."""
    from urllib.parse import quote

    app, _archive, _doc, _other = web
    secretary = login(app, "secretary")
    for fmt in ("xlsx", "pdf"):
        answer = secretary.get(f"/register/export.{fmt}?year={quote(year)}")
        assert answer.status_code == 400, (year, answer.status_code)
        assert "Учебный год" in answer.get_data(as_text=True)
        assert "Content-Disposition" not in answer.headers
    assert secretary.get(f"/register?year={quote(year)}").status_code == 400
    unknown = secretary.get("/register/export.xlsx?year=2031-2032")
    assert unknown.status_code == 404 and "Учебного 2031-2032 года в реестре нет" in \
        unknown.get_data(as_text=True)
    assert secretary.get("/register/export.xlsx?year=2025-2026").status_code == 200


def test_an_unknown_school_answers_as_a_foreign_one(web):
    """Issue 27, item 7: whether a school code exists in the region does not show: the
    same status and message for another school's folder and for a school nobody has."""
    app, _archive, _doc, _other = web
    secretary = login(app, "secretary")
    answers = [secretary.get(f"/register/folder/{code}/2025-2026/1.pdf")
               for code in ("T-002", "NO-SUCH-SCHOOL")]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].get_data(as_text=True) == answers[1].get_data(as_text=True)


def test_pages_show_moments_in_the_school_s_time_zone(web_sqlite):
    app, archive, doc, _other = web_sqlite
    from archive_service.journals.models import School

    with archive.unit_of_work() as uow:
        school = uow.session.query(School).filter_by(code="T-001").one()
        school.settings = {**(school.settings or {}), "time_zone": "Asia/Yekaterinburg"}
    from tests.signatures.test_chain import _sign

    _sign(archive, doc, "smirnova")
    director = login(app, "director")
    for page in ("/audit", f"/documents/{doc}"):
        html = director.get(page).get_data(as_text=True)
        assert "(UTC+05:00)" in html and " UTC<" not in html, page


def test_the_audit_page_shows_the_last_checkpoint_and_a_rewritten_chain(web_sqlite):
    """The director sees what ``archive audit verify`` sees (issue 30: anchors, register)."""
    from archive_service.audit.anchor import make_checkpoints
    from tests.audit.test_anchor import _recompute_chain
    from tests.signatures.test_chain import TSA

    app, archive, _doc, _other = web_sqlite
    director = login(app, "director")
    assert "Контрольных точек ещё нет" in director.get("/audit").get_data(as_text=True)
    make_checkpoints(archive, tsa_passphrase=TSA, actor=ACTOR, school_code="T-001")
    html = director.get("/audit").get_data(as_text=True)
    assert "Последняя контрольная точка" in html and "сходится с контрольными точками" in html
    _recompute_chain(archive, 1, 1, '{"file": "x.json"}')
    html = director.get("/audit").get_data(as_text=True)
    assert "журнал переписан после этой точки" in html
    assert director.get("/api/v1/audit/verify").json["ok"] is False
