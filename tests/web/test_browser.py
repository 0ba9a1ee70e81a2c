"""A real browser (Debian's chromium driven by Playwright) takes a document from render to
sealed and registered through the pages, as five different people.

Screenshots of the main pages go to ``ARCHIVE_SCREENSHOTS`` (``docs/screenshots`` holds the
committed ones) or to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.signatures.test_chain import pw
from tests.web.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def server(web_sqlite):
    app, archive, doc, _other = web_sqlite
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", archive, doc
    httpd.shutdown()


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        from tests.conftest import _unavailable

        _unavailable("chromium is not installed (make test installs it); browser tests not run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def test_five_people_take_a_document_to_sealed_and_registered(server, browser, tmp_path):
    base, _archive, doc = server
    shots = Path(os.environ.get("ARCHIVE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    def session(login: str):
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ru-RU")
        page.goto(f"{base}/")
        assert "/login" in page.url
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        return page

    def sign(page, passphrase: str, expect: str = "Подписано полей") -> None:
        page.goto(f"{base}/documents/{doc}")
        page.fill("input[name=passphrase]", passphrase)
        page.click("form[action$='/sign'] button")
        page.wait_for_selector(".flash")
        assert expect in page.inner_text(".flash")

    teacher = session("smirnova")
    assert "Ждут моей подписи (1)" in teacher.inner_text("main")
    teacher.screenshot(path=str(shots / "dashboard-teacher.png"), full_page=True)
    sign(teacher, "not the passphrase", expect="Неверный пароль ключа")
    sign(teacher, pw("smirnova"))
    for login in ("belova", "petrova", "zam"):
        sign(session(login), pw(login))
    secretary = session("secretary")
    assert "Принять от заместителя директора и зарегистрировать (1)" in secretary.inner_text("main")
    secretary.screenshot(path=str(shots / "dashboard-secretary.png"), full_page=True)
    secretary.goto(f"{base}/documents/{doc}")
    secretary.click("form[action$='/register'] button")
    secretary.wait_for_selector(".flash")
    assert "Зарегистрирован под № 1" in secretary.inner_text(".flash")
    director = session("director")
    assert "Ждут моей подписи (1)" in director.inner_text("main")
    director.screenshot(path=str(shots / "dashboard-director.png"), full_page=True)
    sign(director, pw("director"))
    sign(secretary, pw("seal"))
    secretary.goto(f"{base}/documents/{doc}")
    text = secretary.inner_text("main")
    assert "заверен печатью" in text and "Все подписи верны." in text
    secretary.wait_for_function("document.images[0] && document.images[0].complete "
                                "&& document.images[0].naturalWidth > 0")
    secretary.screenshot(path=str(shots / "document-sealed.png"), full_page=True)
    secretary.goto(f"{base}/register?year=2025-2026")
    assert "заверен печатью" in secretary.inner_text("main")
    secretary.fill("form[action$='/register/folder'] input[name=location]", "Сейф № 1, полка 2")
    secretary.click("form[action$='/register/folder'] button[type=submit]")
    secretary.wait_for_selector(".flash")
    assert "нет заверенных печатью копий у классов: 7А" in secretary.inner_text(".flash")
    secretary.fill("form[action$='/register/folder'] input[name=location]", "Сейф № 1, полка 2")
    secretary.click("form[action$='/register/folder'] details summary")
    secretary.fill("form[action$='/register/folder'] input[name=anyway]",
                   "Сводная ведомость подписывается отдельно")
    secretary.click("form[action$='/register/folder'] button[type=submit]")
    secretary.wait_for_selector(".flash")
    assert "Общая папка сформирована неполной: № 2" in secretary.inner_text(".flash")
    assert "сформирована" in secretary.inner_text("table")
    secretary.screenshot(path=str(shots / "register.png"), full_page=True)
    director.goto(f"{base}/audit")
    assert "Цепочка хешей цела." in director.inner_text("main")
    director.screenshot(path=str(shots / "audit.png"))
