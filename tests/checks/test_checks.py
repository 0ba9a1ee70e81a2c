"""The completeness check finds what a deputy director looks for."""

from __future__ import annotations

import sqlalchemy as sa

from archive_service.actors import Actor
from archive_service.checks.service import check_class, summarise
from archive_service.journals.models import Period, SchoolClass
from archive_service.journals.service import import_file
from tests.support.journal import grade_one, tiny, write_json


def _findings(archive, doc, tmp_path):
    import_file(archive, write_json(doc, tmp_path / "j.json"), actor=Actor("t"))
    with archive.sessions() as s:
        sc = s.scalars(sa.select(SchoolClass)).one()
        period = s.scalars(sa.select(Period).filter_by(code="Q1")).one()
        return check_class(s, sc, period)


def test_check_reports_each_kind(archive, tmp_path):
    doc = tiny()
    lessons = doc["classes"][0]["courses"][0]["lessons"]
    lessons[2]["marks"] = [{"student": "ЛД-2", "raw": "4", "date": "2025-10-30"}]
    del doc["classes"][0]["courses"][0]["period_marks"][1]  # Сидорова: no Q1 mark
    found = {(f.kind, f.subject, f.student) for f in _findings(archive, doc, tmp_path)}
    algebra, english = "Алгебра", "Иностранный язык (английский язык) (1 группа)"
    assert ("no_topic", algebra, None) in found
    assert ("no_homework", algebra, None) in found
    assert ("absence_without_reason", algebra, "Кузнецов Пётр Олегович") in found
    assert ("one_mark", algebra, "Иванов Иван Иванович") in found
    assert ("no_marks", english, "Сидорова Мария Петровна") in found
    assert ("missing_period_mark", algebra, "Сидорова Мария Петровна") in found
    assert ("mark_after_period", algebra, "Сидорова Мария Петровна") in found
    # Кузнецов left on 01.10, before the quarter ended: no period mark is expected of him.
    assert ("missing_period_mark", algebra, "Кузнецов Пётр Олегович") not in found


def test_grade_one_is_not_asked_for_marks_or_homework(archive, tmp_path):
    counts = summarise(_findings(archive, grade_one(), tmp_path))
    assert "no_marks" not in counts and "no_homework" not in counts
    assert "missing_period_mark" not in counts
    assert counts["no_topic"] == 1
