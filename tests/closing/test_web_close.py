"""Snapshot and render from the page with progress, the correction of a returned copy, and
the director's picture of the school's close (test client, SQLite; the work runs in the
web process's background thread as with ARCHIVE_WEB_DISPATCH=inline)."""

from __future__ import annotations

import re
import time

import pytest

from archive_service.closing import background, service
from archive_service.journals.service import import_file
from archive_service.signatures.service import return_document
from tests.support.journal import tiny, write_json
from tests.web.conftest import ACTOR, flashes, login, post, school_with_signers


def wait_for(archive, run_id: int, timeout: float = 60.0) -> service.RunReport:
    """The run once its background thread has finished."""
    deadline = time.monotonic() + timeout
    while background.working(run_id):
        assert time.monotonic() < deadline, "the close run did not finish"
        time.sleep(0.05)
    return service.run_report(archive, run_id)


@pytest.fixture
def school(sqlite_archive, tmp_path):
    return school_with_signers(sqlite_archive, tmp_path), sqlite_archive, tmp_path


def _start(client, data) -> int:
    answer = post(client, "/close", {"period": "2025-2026/Q1", **data},
                  page="/close?period=2025-2026/Q1")
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return int(re.search(r"/close/runs/(\d+)$", answer.headers["Location"]).group(1))


def test_the_deputy_snapshots_and_renders_from_the_page_with_progress(school):
    app, archive, _tmp = school
    deputy = login(app, "zam")
    page = deputy.get("/close?period=2025-2026/Q1").get_data(as_text=True)
    assert "Срезы и копии: 1 четверть 2025-2026" in page and "срез не сделан" in page
    run_id = _start(deputy, {"class": "7А"})
    report = wait_for(archive, run_id)
    assert report.classes == {"done": 1} and report.documents == 2
    # No backup keys yet: the run says who must act rather than failing silently.
    assert report.status == "attention" and "ключи резервного копирования" in report.message
    progress = deputy.get(f"/close/runs/{run_id}").get_data(as_text=True)
    assert "готово" in progress and 'http-equiv="refresh"' not in progress
    assert "ключи резервного копирования ещё не созданы" in progress
    page = deputy.get("/close?period=2025-2026/Q1").get_data(as_text=True)
    assert "версия 1" in page and "ждёт: учителя-предметники" in page
    # A second start changes nothing: the same snapshot, the same documents.
    again = wait_for(archive, _start(deputy, {"all": "1"}))
    assert again.documents == 2 and again.snapshots == 1
    teacher = login(app, "smirnova")
    assert teacher.get("/close").status_code == 403
    assert post(teacher, "/close", {"all": "1"}).status_code == 403
    assert teacher.get(f"/close/runs/{run_id}").status_code == 403


def test_a_returned_copy_is_corrected_from_the_page(school):
    app, archive, tmp = school
    deputy = login(app, "zam")
    wait_for(archive, _start(deputy, {"class": "7А"}))
    overview_docs = [d for d in service.class_rows(archive, 1)[0].documents]
    journal = min(overview_docs)
    return_document(archive, document_id=journal, login="smirnova",
                    reason="Нет отметки Сидоровой", actor=ACTOR)
    page = deputy.get("/close?period=2025-2026/Q1").get_data(as_text=True)
    assert "возвращён: Нет отметки Сидоровой; вернул(а) Смирнова Ольга Николаевна" in page
    assert "Исправление возвращённых копий (1)" in page
    post(deputy, "/close/correct", {"period": "2025-2026/Q1", "class": "7А",
                                    "reason": "Исправлены отметки"}, page="/close")
    assert "Журнал 7А не изменился с версии 1" in flashes(deputy, "/close")
    corrected = tiny()
    corrected["classes"][0]["courses"][0]["period_marks"].append(
        {"student": "ЛД-3", "period": "Q1", "kind": "period", "raw": "4"})
    import_file(archive, write_json(corrected, tmp / "fixed.json"), actor=ACTOR)
    post(deputy, "/close/correct", {"period": "2025-2026/Q1", "class": "7А",
                                    "reason": "Исправлены отметки"}, page="/close")
    assert "7А: новая версия среза 2; сформированы" in flashes(deputy, "/close")
    page = deputy.get("/close?period=2025-2026/Q1").get_data(as_text=True)
    assert "версия 2" in page and "причина: Исправлены отметки" in page
    assert "Исправление возвращённых копий (0)" in page


def test_the_director_sees_the_whole_school_at_a_glance(school):
    app, archive, _tmp = school
    deputy = login(app, "zam")
    wait_for(archive, _start(deputy, {"class": "7А"}))
    director = login(app, "director")
    page = director.get("/progress?period=2025-2026/Q1").get_data(as_text=True)
    assert "Ход закрытия периода: 1 четверть 2025-2026" in page
    assert "на подписи: <strong>1</strong>" in page
    # The journal copy and the summary sheet both wait for the subject teachers first.
    assert "учителей: <strong>2</strong>" in page
    assert "классного руководителя: <strong>0</strong>" in page
    assert "Смирнова Ольга Николаевна" in page  # whom the journal waits for
    assert login(app, "smirnova").get("/progress").status_code == 403
