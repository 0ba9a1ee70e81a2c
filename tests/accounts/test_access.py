"""What a person may read of a school (``access.read_scope``): the class, not the school,
for teachers and class leaders; both databases. The routes: tests/web/test_access_matrix.py."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from archive_service.accounts import access
from archive_service.accounts.service import create_account, grant_inspection, principal
from archive_service.actors import Actor
from archive_service.journals.models import AcademicYear, SchoolClass
from archive_service.journals.service import import_file
from archive_service.journals.values import name_key
from tests.support.journal import tiny, write_json

ACTOR = Actor("test")
PASSWORD = "password-1234"


def _next_year():
    """The tiny journal a year later: 7А is other children, led and taught by others."""
    text = json.dumps(tiny(), ensure_ascii=False).replace("2026", "2027").replace(
        "2025", "2026").replace('"ЛД-', '"ЛД-Н').replace(
        "Петрова Анна Ивановна", "Соколова Дарья Андреевна").replace(
        "Смирнова Ольга Николаевна", "Новикова Мария Олеговна")
    return json.loads(text)


def _school(archive, tmp_path):
    import_file(archive, write_json(tiny(), tmp_path / "a.json"), actor=ACTOR)
    import_file(archive, write_json(_next_year(), tmp_path / "b.json"), actor=ACTOR)
    for login, name, roles in (
            ("smirnova", "Смирнова Ольга Николаевна", [("teacher", "")]),
            ("petrova", "Петрова Анна Ивановна", [("class_leader", "7А")]),
            ("sokolova", "Соколова Дарья Андреевна", [("class_leader", "7А")]),
            ("nobody", "Никто Никто Никтович", [("teacher", "")]),
            ("zam", "Кузьмина Елена Петровна", [("deputy", "")])):
        create_account(archive, school_code="T-001", login=login, full_name=name,
                       password=PASSWORD, roles=roles, actor=ACTOR)
    with archive.sessions() as s:
        classes = {label: cid for cid, label in s.execute(
            select(SchoolClass.id, AcademicYear.label)
            .join(AcademicYear, AcademicYear.id == SchoolClass.academic_year_id))}
        school_id = s.scalars(select(SchoolClass.school_id)).first()
    return school_id, classes


def _scope(archive, login, school_id, year=None):
    with archive.sessions() as s:
        return access.read_scope(s, principal(archive, login), school_id, year)


def test_a_teacher_reads_the_classes_they_teach_and_a_class_leader_theirs(archive, tmp_path):
    school_id, classes = _school(archive, tmp_path)
    last, this = classes["2025-2026"], classes["2026-2027"]
    assert _scope(archive, "smirnova", school_id).class_ids == {last}
    # The journal names Петрова leader of last year's 7А; her role's 7А is this year's.
    assert _scope(archive, "petrova", school_id).class_ids == {last, this}
    # This year's class leader of 7А does not read last year's 7А (other children).
    assert _scope(archive, "sokolova", school_id).class_ids == {this}
    assert _scope(archive, "nobody", school_id).class_ids == frozenset()
    assert not _scope(archive, "nobody", school_id).whole
    assert _scope(archive, "zam", school_id).whole
    assert _scope(archive, "zam", school_id + 1000) == access.NOTHING  # not their school


def test_an_inspector_reads_the_school_only_while_a_grant_covers_it(archive, tmp_path):
    school_id, _classes = _school(archive, tmp_path)
    create_account(archive, school_code=None, login="insp", full_name="Проверяющий",
                   password=PASSWORD, roles=[("inspector", "")], actor=ACTOR)
    today = dt.date.today()
    grant_inspection(archive, login="insp", school_code="T-001", year="2025-2026",
                     starts=today, ends=today + dt.timedelta(days=3), basis="Приказ № 7",
                     actor=ACTOR)
    assert _scope(archive, "insp", school_id, "2025-2026").whole
    assert _scope(archive, "insp", school_id, "2026-2027") == access.NOTHING


def test_a_copy_with_a_field_for_the_teacher_stays_readable_to_them():
    """A teacher replaced in the middle of the year keeps the copies they sign."""
    scope = access.Scope(False, frozenset({1}), name_key("Смирнова Ольга Николаевна"))
    steps = [{"step": "teachers", "signer": "Смирнова  Ольга Николаевна"}, {"step": "deputy"}]
    assert scope.covers(1) and scope.covers(2, steps)
    assert not scope.covers(2, [{"step": "teachers", "signer": "Белова Ирина Сергеевна"}])
    assert access.EVERYTHING.covers(2) and not access.NOTHING.covers(1, steps)
