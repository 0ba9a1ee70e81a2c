"""One whole period close in a real browser (Debian's chromium driven by Playwright), role by
role, on a fresh demo home: the demo school's e-journal exports on disk and the first
administrator's account the region's operator made (``archive account add --school-name``),
nothing else. Everything after that happens in the pages, as the people who do it:

administrator: the school's root, the upload, the people and their one-time codes;
every person: the first login with their own password and key passphrase;
administrator: the certificates; director: the backup keys;
deputy: the completeness report, snapshots and copies with progress, reading the copy;
teachers, class leader, deputy: signatures; secretary: registration;
director: signature; secretary: the seal, the period folder, the usage-log handover;
director: the progress picture and the verified backup.

The tests run in file order and share the home (each is one role's part of the same close;
a failure stops the ones after it). Screenshots go to ``ARCHIVE_SCREENSHOTS`` (the committed
ones in docs/screenshots) or to a temporary folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from archive_service.accounts.service import create_account
from archive_service.actors import Actor
from archive_service.app import create_app
from archive_service.config import Settings
from archive_service.db import Archive, upgrade
from archive_service.demo.service import write_demo_data
from tests.signatures.test_chain import ACTOR, TSA
from tests.support.browser import chromium

CLASS = "1А"
PERIOD = "2025-2026/Q1"
ADMIN_PASSWORD = "пароль-администратора-1"
ROOT = "пароль-корневого-ключа-школы"
CODE = "код-директора-школы"

pytestmark = pytest.mark.slow


@dataclasses.dataclass
class People:
    """Who takes part, filled in as the close goes on."""

    names: dict[str, str] = dataclasses.field(default_factory=dict)  # role or name -> name
    logins: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> login
    codes: dict[str, str] = dataclasses.field(default_factory=dict)  # login -> one-time code
    documents: list[int] = dataclasses.field(default_factory=list)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """The demo school's exports and a fresh archive with only its first administrator."""
    root = tmp_path_factory.mktemp("demo-home")
    json_files, _ = write_demo_data(root / "exports", 1, xlsx=False)
    exports = {p.stem: p for p in json_files}
    doc = json.loads(exports[CLASS].read_text("utf-8"))
    settings = Settings(home=root, database_url=f"sqlite:///{root / 'archive.sqlite3'}",
                        storage_url=f"file://{root / 'objects'}", tsa_passphrase=TSA,
                        secure_cookies=False)
    archive = Archive(settings)
    upgrade(archive.engine)
    create_account(archive, school_code=doc["school"]["code"], school_name=doc["school"]["name"],
                   login="admin", full_name="Администратор Архива", password=ADMIN_PASSWORD,
                   roles=[("administrator", "")], actor=Actor("оператор региона"))
    people = People()
    staff = {s["full_name"]: s["roles"] for s in doc["staff"]}
    people.names["director"] = next(n for n, r in staff.items() if "director" in r)
    people.names["deputy"] = next(n for n, r in staff.items() if "deputy" in r)
    people.names["secretary"] = next(n for n, r in staff.items() if "secretary" in r)
    cls = doc["classes"][0]
    people.names["class_leader"] = cls["class_leader"]
    teachers = sorted({t for c in cls["courses"] for t in c.get("teachers", [])})
    people.names.update({f"teacher:{t}": t for t in teachers})
    yield archive, exports, people
    archive.dispose()


@pytest.fixture(scope="module")
def site(home):
    archive, _exports, _people = home
    app = create_app({"ARCHIVE": archive, "SECRET_KEY": "browser-test"})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("ARCHIVE_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def pages(browser, site):
    """One browser context per person (their own cookies), opened on first use."""
    opened: dict[str, object] = {}

    def page_of(login: str):
        if login not in opened:
            context = browser.new_context(viewport={"width": 1360, "height": 900},
                                          locale="ru-RU")
            opened[login] = context.new_page()
        return opened[login]

    page_of.base = site
    yield page_of


def password_of(login: str) -> str:
    return ADMIN_PASSWORD if login == "admin" else f"пароль-{login}-входа"


def key_of(login: str) -> str:
    return f"ключ-{login}-подписи"


def seal_of(login: str) -> str:
    return f"печать-{login}-школы"


def _login(page, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def person(pages, login: str):
    """The person's page, logged in with their own password."""
    page = pages(login)
    page.goto(f"{pages.base}/")
    if "/login" in page.url:
        _login(page, pages.base, login, password_of(login))
        assert "/login" not in page.url, page.inner_text("main")
    return page


def flash(page) -> str:
    page.wait_for_selector(".flash")
    return " ".join(page.locator(".flash").all_inner_texts())


def _login_of(people: People, key: str) -> str:
    return people.logins[people.names[key]]


def _sign_all(page, passphrase: str, expect: str = "Подписано документов") -> None:
    page.fill("form[action$='/sign-queue'] input[name=passphrase]", passphrase)
    page.click("form[action$='/sign-queue'] button")
    assert expect in flash(page)


def _sign_document(page, base: str, document: int, passphrase: str) -> None:
    page.goto(f"{base}/documents/{document}")
    page.fill("form[action$='/sign'] input[name=passphrase]", passphrase)
    page.click("form[action$='/sign'] button")
    assert "Подписано полей" in flash(page)


def test_1_administrator_creates_the_root_uploads_the_journal_and_adds_the_people(
        home, pages, shots, tmp_path):
    archive, exports, people = home
    base = pages.base
    admin = person(pages, "admin")
    assert "Создайте корневой сертификат школы" in admin.inner_text("main")
    admin.goto(f"{base}/people")
    admin.fill("form[action$='/people/pki'] input[name=ca_passphrase]", ROOT)
    admin.fill("form[action$='/people/pki'] input[name=repeat]", ROOT)
    admin.click("form[action$='/people/pki'] button")
    assert "Корневой сертификат школы создан" in flash(admin)
    # The upload: the class's export and a broken file, then the same export again.
    broken = tmp_path / "испорчен.json"
    data = json.loads(exports[CLASS].read_text("utf-8"))
    data["classes"][0]["students"][0]["birth_date"] = "31.02.2015"
    broken.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    admin.goto(f"{base}/imports")
    admin.set_input_files("input[name=files]", [str(exports[CLASS]), str(broken)])
    admin.click("form[action$='/imports'] button")
    admin.wait_for_selector("table.results")
    results = admin.inner_text("table.results")
    assert f"{CLASS}.json\tпринят, сохранено" in results, results
    assert "испорчен.json\tне принят, ничего не сохранено" in results
    assert "31.02.2015" in results  # the problem, where it is
    admin.screenshot(path=str(shots / "upload-results.png"), full_page=True)
    admin.set_input_files("input[name=files]", [str(exports[CLASS])])
    admin.click("form[action$='/imports'] button")
    admin.wait_for_selector("table.results")
    assert "без изменений: уже загружен" in admin.inner_text("table.results")
    # The people of the close, from the journal's staff, each with a one-time code.
    admin.goto(f"{base}/people")
    for key in ("director", "deputy", "secretary", "class_leader",
                *sorted(k for k in people.names if k.startswith("teacher:"))):
        name = people.names[key]
        if name in people.logins:
            continue  # the class leader teaches too
        row = admin.locator("tr", has_text=name).filter(has=admin.locator("button",
                                                                            has_text="Добавить"))
        login = row.locator("input[name=login]").input_value()
        row.locator("button", has_text="Добавить").click()
        admin.wait_for_selector("[data-code]")
        people.logins[name] = login
        people.codes[login] = admin.inner_text("[data-code]")
        if key == "director":
            admin.screenshot(path=str(shots / "people-code-sheet.png"))
        admin.goto(f"{base}/people")
    assert len(people.codes) >= 6
    assert admin.locator("text=ждёт первого входа").count() == len(people.codes)
    admin.screenshot(path=str(shots / "people-before-first-login.png"), full_page=True)


def test_2_every_person_sets_their_own_password_and_key_passphrase(home, pages, shots):
    _archive, _exports, people = home
    base = pages.base
    for name, login in people.logins.items():
        page = pages(login)
        _login(page, base, login, people.codes[login])
        assert page.url.endswith("/account/setup"), page.url
        page.fill("input[name=password]", password_of(login))
        page.fill("input[name=repeat]", password_of(login))
        page.fill("input[name=key_passphrase]", key_of(login))
        page.fill("input[name=key_repeat]", key_of(login))
        if name == people.names["secretary"]:
            page.fill("input[name=seal_passphrase]", seal_of(login))
            page.fill("input[name=seal_repeat]", seal_of(login))
            page.screenshot(path=str(shots / "first-login-secretary.png"), full_page=True)
        page.click("main button[type=submit]")
        assert "Ключ подписи создан" in flash(page)
        assert "Задайте пароль ключа подписи" not in page.inner_text("main")


def test_3_administrator_issues_the_certificates_and_the_director_makes_the_backup_keys(
        home, pages, shots):
    _archive, _exports, people = home
    base = pages.base
    admin = person(pages, "admin")
    assert "Выпустите сертификаты" in admin.inner_text("main")
    admin.goto(f"{base}/people")
    admin.fill("form[action$='/people/certificates'] input[name=ca_passphrase]", ROOT)
    admin.click("form[action$='/people/certificates'] button")
    issued = flash(admin)
    assert "Выпущены сертификаты" in issued and "(печать школы)" in issued
    assert admin.locator("text=ожидает выпуска").count() == 0
    admin.screenshot(path=str(shots / "people.png"), full_page=True)
    director = person(pages, _login_of(people, "director"))
    assert "Создайте ключи резервных копий" in director.inner_text("main")
    director.goto(f"{base}/backups")
    director.fill("input[name=code]", CODE)
    director.fill("input[name=repeat]", CODE)
    director.click("form[action$='/backups/keys'] button")
    director.wait_for_selector("pre.escrow")
    assert "КЛЮЧ ВОССТАНОВЛЕНИЯ РЕЗЕРВНЫХ КОПИЙ" in director.inner_text("pre.escrow")
    director.screenshot(path=str(shots / "backup-escrow-sheet.png"))


def test_4_deputy_checks_completeness_freezes_renders_and_reads_the_copy(home, pages, shots):
    _archive, _exports, people = home
    base = pages.base
    deputy = person(pages, _login_of(people, "deputy"))
    deputy.goto(f"{base}/checks")
    deputy.select_option("select[name=period]", PERIOD)
    deputy.click("main form button[type=submit]")
    deputy.wait_for_url(re.compile(r".*period=2025-2026%2FQ1"))
    assert "Полнота журнала: 1 четверть 2025-2026" in deputy.inner_text("h1")
    assert deputy.locator("svg.chart").count() == 1
    deputy.screenshot(path=str(shots / "completeness.png"), full_page=True)
    deputy.locator("table.report a").first.click()
    deputy.wait_for_selector("h1")
    assert "Уроки без темы" in deputy.inner_text("main")
    deputy.screenshot(path=str(shots / "completeness-course.png"), full_page=True)
    deputy.goto(f"{base}/close?period={PERIOD}")
    assert "срез не сделан" in deputy.inner_text("table.close")
    deputy.click("button[name=all]")
    for _ in range(240):
        text = deputy.inner_text("main")
        if "Завершено" in text or "Ждёт решения человека" in text:
            break
        time.sleep(0.5)
        deputy.reload()
    assert "Завершено" in text, text
    assert "Резервная копия архива:" in text  # day 2: the backup came with the close
    deputy.screenshot(path=str(shots / "close-run.png"), full_page=True)
    people.documents = [int(n) for n in re.findall(r"№ (\d+)", deputy.inner_text("table"))]
    assert len(people.documents) == 2
    deputy.goto(f"{base}/close?period={PERIOD}")
    assert "ждёт: учителя-предметники" in deputy.inner_text("table.close")
    deputy.screenshot(path=str(shots / "close.png"), full_page=True)
    journal = min(people.documents)
    deputy.goto(f"{base}/documents/{journal}/read/1")
    deputy.click("a[rel=next]")
    deputy.wait_for_url(re.compile(r".*/read/2$"))
    deputy.wait_for_function("document.images[0] && document.images[0].complete "
                             "&& document.images[0].naturalWidth > 1000")
    assert "из " in deputy.inner_text("nav.pager")
    deputy.screenshot(path=str(shots / "reader.png"), full_page=True)


def test_5_teachers_and_the_class_leader_sign(home, pages, shots):
    _archive, _exports, people = home
    base = pages.base
    leader_name = people.names["class_leader"]
    teachers = [people.names[k] for k in people.names if k.startswith("teacher:")]
    for i, name in enumerate(t for t in teachers if t != leader_name):
        page = person(pages, people.logins[name])
        # The journal copy and the summary sheet (seed 000, 4.2: the final marks).
        assert "Ждут моей подписи (2)" in page.inner_text("main")
        if i == 0:
            page.screenshot(path=str(shots / "dashboard-teacher.png"), full_page=True)
            page.goto(f"{base}/documents/{min(people.documents)}")
            page.fill("form[action$='/sign'] input[name=passphrase]", "не тот пароль")
            page.click("form[action$='/sign'] button")
            assert "Неверный пароль ключа" in flash(page)  # and nothing was signed
            assert "Ждут моей подписи (2)" in person(pages, people.logins[name]).inner_text(
                "main")
        _sign_document(page, base, min(people.documents), key_of(people.logins[name]))
        _sign_document(page, base, max(people.documents), key_of(people.logins[name]))
    leader = person(pages, people.logins[leader_name])
    # Her own subjects in both documents; then both class leader fields once every teacher
    # has signed.
    assert "Ждут моей подписи (2)" in leader.inner_text("main")
    _sign_all(leader, key_of(people.logins[leader_name]), "Подписано документов: 2")
    leader.goto(f"{base}/")
    assert "Ждут моей подписи (2)" in leader.inner_text("main")
    _sign_all(leader, key_of(people.logins[leader_name]), "Подписано документов: 2")


def test_6_deputy_certifies_and_the_secretary_registers(home, pages, shots):
    _archive, _exports, people = home
    base = pages.base
    deputy_login = _login_of(people, "deputy")
    deputy = person(pages, deputy_login)
    assert "Ждут моей подписи (2)" in deputy.inner_text("main")
    _sign_all(deputy, key_of(deputy_login), "Подписано документов: 2")
    secretary = person(pages, _login_of(people, "secretary"))
    assert "Принять от заместителя директора и зарегистрировать (2)" in \
        secretary.inner_text("main")
    secretary.screenshot(path=str(shots / "dashboard-secretary.png"), full_page=True)
    for document in sorted(people.documents):
        secretary.goto(f"{base}/documents/{document}")
        secretary.click("form[action$='/register'] button")
        assert "Зарегистрирован под №" in flash(secretary)


def test_7_director_signs(home, pages, shots):
    _archive, _exports, people = home
    login = _login_of(people, "director")
    director = person(pages, login)
    assert "Ждут моей подписи (2)" in director.inner_text("main")
    director.screenshot(path=str(shots / "dashboard-director.png"), full_page=True)
    _sign_all(director, key_of(login), "Подписано документов: 2")


def test_8_secretary_seals_forms_the_folder_and_logs_the_backup_handover(home, pages, shots):
    _archive, _exports, people = home
    base = pages.base
    login = _login_of(people, "secretary")
    secretary = person(pages, login)
    _sign_all(secretary, seal_of(login), "Подписано документов: 2")
    secretary.goto(f"{base}/documents/{min(people.documents)}")
    text = secretary.inner_text("main")
    assert "заверен печатью" in text and "Все подписи верны." in text
    secretary.wait_for_function("document.images[0] && document.images[0].complete "
                                "&& document.images[0].naturalWidth > 0")
    secretary.screenshot(path=str(shots / "document-sealed.png"), full_page=True)
    secretary.goto(f"{base}/register?year=2025-2026")
    secretary.fill("form[action$='/register/folder'] input[name=location]", "Сейф № 1, полка 2")
    secretary.select_option("form[action$='/register/folder'] select[name=period]", "Q1")
    secretary.click("form[action$='/register/folder'] button[type=submit]")
    assert "Общая папка сформирована: № 3 (2025-2026)" in flash(secretary)
    secretary.screenshot(path=str(shots / "register.png"), full_page=True)
    secretary.goto(f"{base}/backups")
    secretary.fill("input[name=medium]", "Внешний диск № 2 (сейф канцелярии)")
    secretary.fill("input[name=received_by]", people.names["director"])
    secretary.fill("form[action$='/backups/log'] input[name=passphrase]", key_of(login))
    secretary.click("form[action$='/backups/log'] button")
    assert "внесена в журнал и заверена подписью" in flash(secretary)
    log = secretary.inner_text("table.log")
    assert f"{people.names['secretary']}: подпись верна" in log
    assert f"{people.names['secretary']} ({login}), секретарь" in log
    secretary.screenshot(path=str(shots / "backups-secretary.png"), full_page=True)
    with secretary.expect_download() as download:
        secretary.click("text=Распечатать журнал (PDF/A)")
    assert download.value.suggested_filename.endswith(".pdf")


def test_9_director_sees_the_school_closed_and_a_verified_backup(home, pages, shots):
    archive, _exports, people = home
    base = pages.base
    director = person(pages, _login_of(people, "director"))
    director.goto(f"{base}/progress?period={PERIOD}")
    text = director.inner_text("main")
    assert "заверен печатью: 1" in text and "на подписи: 0" in text
    director.screenshot(path=str(shots / "progress.png"), full_page=True)
    director.goto(f"{base}/backups")
    director.locator("form[action$='/verify'] button").first.click()
    assert "Проверка копии" in flash(director)
    for _ in range(120):
        if "без замечаний" in director.inner_text(".card"):
            break
        time.sleep(0.5)
        director.reload()
    assert "без замечаний" in director.inner_text(".card")
    director.screenshot(path=str(shots / "backups-director.png"), full_page=True)
    director.goto(f"{base}/audit")
    assert "Контрольных точек ещё нет" in director.inner_text("main")
    from archive_service.audit.anchor import make_checkpoints

    make_checkpoints(archive, tsa_passphrase=TSA, actor=ACTOR)  # the workers' 01:50 task
    director.reload()
    text = director.inner_text("main")
    assert "Цепочка хешей цела, сходится с контрольными точками" in text
    assert "Последняя контрольная точка" in text
    director.screenshot(path=str(shots / "audit.png"))
