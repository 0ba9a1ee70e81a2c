"""The deputies' completeness report: its percentages, worst first, the drill-down and the
downloads, from the check's own figures; the page for deputies and the director only."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from archive_service.accounts.service import create_account
from archive_service.actors import Actor
from archive_service.checks.report import completeness_report, default_period, export_rows
from archive_service.checks.service import check_class, summarise
from archive_service.journals.models import Period, School, SchoolClass
from archive_service.journals.service import import_file
from tests.support.journal import tiny, write_json
from tests.web.conftest import ACTOR, PASSWORD, fresh_app, login


def _journal():
    doc = tiny()
    algebra = doc["classes"][0]["courses"][0]
    del algebra["period_marks"][1]  # Сидорова: no Q1 mark in algebra
    algebra["subject"] = "=HYPERLINK(\"http://evil.example\",\"Алгебра\")"
    return doc


def test_the_report_counts_what_the_check_finds(archive, tmp_path):
    import_file(archive, write_json(_journal(), tmp_path / "j.json"), actor=Actor("t"))
    with archive.sessions() as s:
        school = s.scalars(sa.select(School)).one()
        findings = check_class(s, s.scalars(sa.select(SchoolClass)).one(),
                               s.scalars(sa.select(Period).filter_by(code="Q1")).one())
    report = completeness_report(archive, school_id=school.id, period="2025-2026/Q1")
    counts = summarise(findings)
    worst, english = report.courses
    # Algebra: 3 students (Кузнецов left on 01.10, so 2 expected to have a period mark), 3
    # lessons, the last one without topic and homework; Иванов has one mark; Сидорова no
    # period mark.
    assert worst.stats.subject.startswith("=HYPERLINK")
    assert (worst.figures.students, worst.figures.expected, worst.figures.lessons) == (3, 2, 3)
    assert worst.figures.percents == {"no_marks": 0.0, "one_mark": 66.7,
                                      "no_period_mark": 50.0, "no_topic": 33.3,
                                      "no_homework": 33.3}
    # English (subgroup of 2): Сидорова has no mark.
    assert english.figures.percent("no_marks") == 50.0 and english.figures.lessons == 1
    total = report.classes[0].figures
    assert total.no_marks + total.one_mark + total.no_period_mark + total.no_topic + \
        total.no_homework == sum(counts[k] for k in ("no_marks", "one_mark",
                                                     "missing_period_mark", "no_topic",
                                                     "no_homework"))
    # The unexcused absence (Н) of Кузнецов is listed apart, not as a gap of the teacher.
    [absent] = report.absences
    assert (absent.class_name, absent.total) == ("7А", 1)
    assert absent.students == (("Кузнецов Пётр Олегович", 1),)
    teachers = {t.teacher: t for t in report.teachers}
    assert teachers["Смирнова Ольга Николаевна"].figures == worst.figures
    assert report.teachers[0].teacher == "Смирнова Ольга Николаевна"  # worst first
    assert export_rows(report)[0][:5] == ("7А", worst.stats.subject,
                                          "Смирнова Ольга Николаевна", 3, 3)
    assert default_period(archive, school.id) == "2025-2026/Q2"  # the last one ended


@pytest.fixture
def web(sqlite_archive, tmp_path):
    app = fresh_app(sqlite_archive)
    import_file(sqlite_archive, write_json(_journal(), tmp_path / "j.json"), actor=ACTOR)
    for login_, role in (("zam", "deputy"), ("teacher", "teacher"), ("director", "director")):
        create_account(sqlite_archive, school_code="T-001", login=login_, full_name=login_,
                       password=PASSWORD, roles=[(role, "")], actor=ACTOR)
    return app


def test_the_page_its_drill_down_and_downloads(web):
    deputy = login(web, "zam")
    page = deputy.get("/checks?period=2025-2026/Q1").get_data(as_text=True)
    assert "Полнота журнала: 1 четверть 2025-2026" in page
    assert '<svg class="chart"' in page and "66.7" in page
    assert page.index("HYPERLINK") < page.index("Иностранный язык")  # worst first
    assert "Кузнецов Пётр Олегович — 1" in page  # absences grouped apart
    course = deputy.get("/checks/course?period=2025-2026/Q1&class=7А&subject=Иностранный язык "
                        "(английский язык) (1 группа)").get_data(as_text=True)
    assert "Ученики без отметок (1)" in course and "Сидорова Мария Петровна" in course
    assert deputy.get("/checks/course?period=2025-2026/Q1&class=7А&subject=Нет").status_code \
        == 404
    assert deputy.get("/checks?period=2099-2100/Q1").status_code == 404
    csv = deputy.get("/checks/export.csv?period=2025-2026/Q1")
    assert csv.status_code == 200 and csv.data.startswith("\ufeff".encode())
    assert "7А;\"'=HYPERLINK" in csv.data.decode("utf-8")  # quoted, and never a formula
    xlsx = deputy.get("/checks/export.xlsx?period=2025-2026/Q1")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet["B4"].value.startswith("=HYPERLINK") and sheet["B4"].data_type == "s"
    assert login(web, "director").get("/checks").status_code == 200
    teacher = login(web, "teacher")
    for path in ("/checks", "/checks/export.csv", "/checks/course?class=7А&subject=x"):
        assert teacher.get(path).status_code == 403, path
