"""The retention page and API: who may see and act, holds, and an act from draft to the
director's signature through the browser and through JSON."""

from __future__ import annotations

import dataclasses

import pytest

from archive_service.accounts.service import create_account
from archive_service.app import create_app
from tests.disposition.test_disposition import _year_archive
from tests.signatures.test_chain import ACTOR, TSA, USERS, pw
from tests.support.browser import browser  # noqa: F401, F811 (the fixture)
from tests.web.conftest import PASSWORD, csrf, login


@pytest.fixture
def app(sqlite_archive, tmp_path):
    archive = sqlite_archive
    _year_archive(archive, tmp_path)
    for login_, name, _position, roles in USERS:
        create_account(archive, school_code="T-001", login=login_, full_name=name,
                       password=PASSWORD, roles=roles, actor=ACTOR)
    create_account(archive, school_code=None, login="inspector", full_name="Проверяющий",
                   password=PASSWORD, roles=[("inspector", "")], actor=ACTOR)
    archive.settings = dataclasses.replace(archive.settings, tsa_passphrase=TSA,
                                           secure_cookies=False)
    return create_app({"ARCHIVE": archive, "SECRET_KEY": "test", "TESTING": True})


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf(client, "/retention")})


def test_the_page_is_for_the_records_staff_only(app):
    assert login(app, "secretary").get("/retention").status_code == 200
    assert login(app, "director").get("/retention?as_of=2032-01-01").status_code == 200
    assert login(app, "smirnova").get("/retention").status_code == 403
    assert login(app, "inspector").get("/retention").status_code == 403
    assert login(app, "secretary").get("/retention?as_of=вчера").status_code == 400
    assert login(app, "smirnova").get("/api/v1/retention/plan").status_code == 403


def test_an_act_from_the_plan_to_the_directors_signature_in_the_browser(app):
    secretary = login(app, "secretary")
    page = secretary.get("/retention?as_of=2032-01-01").get_data(as_text=True)
    assert "Копия классного журнала 7А класса, I четверть 2025-2026" in page
    assert "срок истёк: 2" in page
    _post(secretary, "/retention/holds", {"reason": "проверка прокуратуры", "class_name": "7А",
                                          "as_of": "2032-01-01"})
    page = secretary.get("/retention?as_of=2032-01-01").get_data(as_text=True)
    assert "на удержании: 4" in page and "проверка прокуратуры" in page
    _post(secretary, "/retention/acts", {"as_of": "2032-01-01"})
    assert "нет документов с истёкшим сроком" in secretary.get("/retention").get_data(
        as_text=True)
    _post(secretary, "/retention/holds/1/lift", {"reason": "проверка окончена"})
    _post(secretary, "/retention/acts", {"as_of": "2032-01-01"})
    page = secretary.get("/retention?as_of=2032-01-01").get_data(as_text=True)
    assert "Составлен проект акта № 1: дел 2." in page and "Акт № 1" in page
    _post(secretary, "/retention/acts/1/review", {"decision": "agree", "protocol": "3",
                                                  "members": "Орлова, Кузьмина"})
    director = login(app, "director")
    assert "Утвердить акт подписью" in director.get("/retention").get_data(as_text=True)
    _post(director, "/retention/acts/1/approve", {"passphrase": "не тот"})
    assert "Неверный пароль ключа" in director.get("/retention").get_data(as_text=True)
    _post(director, "/retention/acts/1/approve", {"passphrase": pw("director")})
    page = director.get("/retention").get_data(as_text=True)
    assert "Акт № 1 утверждён подписью директора." in page
    assert "утвердил(а) Орлова Вера Павловна" in page
    _post(director, "/retention/acts/1/execute", {})
    assert "уничтожать можно с 01.01.2032" in director.get("/retention").get_data(as_text=True)
    pdf = director.get("/retention/acts/1.pdf")
    assert pdf.status_code == 200 and b"/ByteRange" in pdf.data


def test_the_same_through_the_api(app):
    secretary = login(app, "secretary")
    plan = secretary.get("/api/v1/retention/plan?as_of=2032-01-01").json
    assert plan["counts"] == {"due": 2, "not_yet_due": 2}
    assert secretary.get("/api/v1/retention/plan?as_of=x").status_code == 400
    nul = secretary.post("/api/v1/retention/holds", json={"reason": "спор\x00"})
    assert nul.status_code == 400 and "недопустимый символ (NUL)" in nul.json["message"]
    assert secretary.get("/api/v1/search?student=ab\x00c").status_code == 400
    hold = secretary.post("/api/v1/retention/holds", json={"reason": "спор", "year": "2025-2026"})
    assert hold.status_code == 201 and hold.json["year"] == "2025-2026"
    assert secretary.post("/api/v1/retention/acts", json={"as_of": "2032-01-01"}).status_code \
        == 409
    assert secretary.post(f"/api/v1/retention/holds/{hold.json['id']}/lift",
                          json={"reason": "разрешён"}).json["lifted_by"]
    act = secretary.post("/api/v1/retention/acts", json={"as_of": "2032-01-01"})
    assert act.status_code == 201 and act.json["items"] == 2
    assert secretary.post("/api/v1/retention/acts/1/review", json={
        "decision": "maybe", "protocol": "1", "members": "x"}).status_code == 400
    assert secretary.post("/api/v1/retention/acts/1/review", json={
        "decision": "agree", "protocol": "1", "members": "x"}).json["status"] == "reviewed"
    assert secretary.post("/api/v1/retention/acts/1/approve",
                          json={"passphrase": pw("seal")}).status_code == 403
    director = login(app, "director")
    assert director.post("/api/v1/retention/acts/1/approve",
                         json={"passphrase": pw("director")}).json["status"] == "approved"
    refused = director.post("/api/v1/retention/acts/1/execute", json={})
    assert refused.status_code == 409 and "уничтожать можно с" in refused.json["message"]
    assert [a["status"] for a in director.get("/api/v1/retention/acts").json["acts"]] == [
        "approved"]


def test_the_director_approves_an_act_in_a_real_browser(app, browser, tmp_path):  # noqa: F811
    import os
    import threading
    from pathlib import Path

    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    shots = Path(os.environ.get("ARCHIVE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        def session(who: str):
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="ru-RU")
            page.goto(f"{base}/login")
            page.fill("input[name=login]", who)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            return page

        secretary = session("secretary")
        secretary.click("text=Сроки хранения")
        secretary.fill("input[name=as_of]", "2032-01-01")
        secretary.click("text=Показать")
        secretary.click("text=Составить проект акта на 01.01.2032")
        assert "Составлен проект акта № 1" in secretary.content()
        secretary.fill("input[name=protocol]", "3")
        secretary.fill("input[name=members]", "Орлова В. П., Кузьмина Е. П., Иванова Н. Л.")
        secretary.click("text=Записать")
        director = session("director")
        director.goto(f"{base}/retention?as_of=2032-01-01")
        director.fill("input[name=passphrase]", pw("director"))
        director.click("text=Утвердить акт подписью")
        assert "утверждён подписью директора" in director.content()
        director.screenshot(path=str(shots / "retention.png"), full_page=True)
    finally:
        httpd.shutdown()
