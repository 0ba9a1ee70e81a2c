"""A small journal in the canonical import format, for tests to copy and break."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from archive_service.demo.writers import write_xlsx

_TINY: dict[str, Any] = {
    "format": "school-journal/1",
    "school": {"code": "T-001", "name": "МБОУ «Тестовая школа»", "source_system": "Тест"},
    "academic_year": {
        "label": "2025-2026", "start": "2025-09-01", "end": "2026-05-26",
        "periods": [
            {"code": "Q1", "name": "1 четверть", "start": "2025-09-01", "end": "2025-10-24"},
            {"code": "Q2", "name": "2 четверть", "start": "2025-11-05", "end": "2025-12-26"},
            {"code": "Y", "name": "Учебный год", "start": "2025-09-01", "end": "2026-05-26"},
        ],
    },
    "covers": ["Q1"],
    "staff": [{"full_name": "Орлова Вера Павловна", "position": "Директор",
               "roles": ["director"]}],
    "classes": [{
        "name": "7А", "grade": 7, "period_scheme": "quarters",
        "class_leader": "Петрова Анна Ивановна",
        "students": [
            {"record_number": "ЛД-1", "full_name": "Иванов Иван Иванович",
             "birth_date": "2012-03-04", "joined": None, "left": None},
            {"record_number": "ЛД-2", "full_name": "Сидорова Мария Петровна",
             "birth_date": "2012-07-10", "joined": None, "left": None},
            {"record_number": "ЛД-3", "full_name": "Кузнецов Пётр Олегович",
             "birth_date": "2012-01-20", "joined": None, "left": "2025-10-01"},
        ],
        "courses": [
            {"subject": "Алгебра", "subgroup": None, "teachers": ["Смирнова Ольга Николаевна"],
             "lessons": [
                 {"date": "2025-09-02", "number": 1, "topic": "Выражения", "homework": "№ 1, 2",
                  "marks": [
                      {"student": "ЛД-1", "raw": "5", "kind_of_work": "Ответ на уроке",
                       "weight": "1"},
                      {"student": "ЛД-2", "raw": "4", "kind_of_work": "Ответ на уроке",
                       "weight": "1"},
                      {"student": "ЛД-2", "raw": "5", "kind_of_work": "Ответ на уроке",
                       "weight": "1"}],
                  "attendance": [{"student": "ЛД-3", "code": "н"}]},
                 {"date": "2025-09-04", "number": 1, "topic": "Уравнения", "homework": "№ 5",
                  "marks": [{"student": "ЛД-3", "raw": "3", "kind_of_work": "Контрольная работа",
                             "weight": "2"}],
                  "attendance": [{"student": "ЛД-1", "code": "Б"}]},
                 {"date": "2025-10-20", "number": 1, "topic": None, "homework": None,
                  "marks": [], "attendance": [{"student": "ЛД-2", "code": "о"}]},
             ],
             "period_marks": [
                 {"student": "ЛД-1", "period": "Q1", "kind": "period", "raw": "5"},
                 {"student": "ЛД-2", "period": "Q1", "kind": "period", "raw": "4"}]},
            {"subject": "Иностранный язык (английский язык)", "subgroup": "1 группа",
             "teachers": ["Белова Ирина Сергеевна"], "students": ["ЛД-1", "ЛД-2"],
             "lessons": [
                 {"date": "2025-09-03", "number": 1, "topic": "My school", "homework": "Ex. 3",
                  "marks": [{"student": "ЛД-1", "raw": "зач", "kind_of_work": "Ответ на уроке",
                             "weight": "1"}],
                  "attendance": []}],
             "period_marks": [
                 {"student": "ЛД-1", "period": "Q1", "kind": "period", "raw": "зач"},
                 {"student": "ЛД-2", "period": "Q1", "kind": "period", "raw": "н/а"}]},
        ],
    }],
}


def tiny() -> dict[str, Any]:
    """A fresh copy of the small journal (one class, one quarter)."""
    return copy.deepcopy(_TINY)


def grade_one() -> dict[str, Any]:
    """The small journal as a grade 1 class: attendance only, no marks, no homework."""
    doc = tiny()
    cls = doc["classes"][0]
    cls.update(name="1А", grade=1)
    for course in cls["courses"]:
        course["period_marks"] = []
        for lesson in course["lessons"]:
            lesson["marks"] = []
            lesson["homework"] = None
    return doc


def write_json(doc: dict[str, Any], path: Path) -> Path:
    """Write a document as a JSON import file."""
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
    return path


def write_workbooks(doc: dict[str, Any], folder: Path) -> list[Path]:
    """Write a document as the e-journal spreadsheet export (one workbook per period)."""
    return write_xlsx([doc], folder)
