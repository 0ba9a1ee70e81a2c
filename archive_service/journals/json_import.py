"""Reading the canonical JSON format (school-journal/1), described in docs/import-format.md."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from archive_service.errors import ImportRejectedError, Problem
from archive_service.journals.document import (
    AttendanceRec,
    ClassJournal,
    CourseRec,
    JournalDocument,
    LessonRec,
    MarkRec,
    PeriodDef,
    PeriodMarkRec,
    StaffRec,
    StudentRec,
)
from archive_service.journals.values import (
    PERIOD_SCHEMES,
    class_name_note,
    clean,
    grade_of,
    parse_attendance,
    parse_mark,
    parse_period_mark,
    parse_weight,
    period_kind,
    period_name,
    refusal,
)
from archive_service.journals.values import class_name as norm_class_name

FORMAT = "school-journal/1"


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the canonical import format."""
    return json.loads((Path(__file__).with_name("import-schema.json")).read_text("utf-8"))


@cache
def _fast_validator():
    return fastjsonschema.compile(schema(), formats={"date": _is_date})


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(корень)"


_TYPES = {"string": "текст", "integer": "целое число", "number": "число", "object": "объект",
          "array": "список", "boolean": "да/нет (true/false)", "null": "null"}


def schema_message(error: jsonschema.ValidationError) -> str:
    """A JSON Schema error said in Russian: what is wrong with the value at its path."""
    kind, value, rule = error.validator, error.instance, error.validator_value
    shown = json.dumps(value, ensure_ascii=False)[:60]
    if kind == "required":
        missing = [k for k in rule if isinstance(value, dict) and k not in value]
        return f"нет обязательного поля «{missing[0] if missing else rule[0]}»"
    if kind == "format" and rule == "date":
        return f"{shown} — не дата в виде ГГГГ-ММ-ДД (например 2025-09-01)"
    if kind == "type":
        wanted = " или ".join(_TYPES.get(t, t) for t in (rule if isinstance(rule, list)
                                                          else [rule]))
        return f"значение {shown} должно быть: {wanted}"
    if kind == "enum":
        return f"значение {shown} не из допустимых: " + ", ".join(
            json.dumps(v, ensure_ascii=False) for v in rule)
    if kind == "const":
        return f"значение {shown}, а должно быть {json.dumps(rule, ensure_ascii=False)}"
    if kind == "pattern":
        return f"значение {shown} записано не по образцу ({rule})"
    if kind in ("minLength", "minItems"):
        return f"значение {shown} короче допустимого (не меньше {rule})"
    if kind in ("maxLength", "maxItems"):
        return f"значение {shown} длиннее допустимого (не больше {rule})"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"значение {shown} вне допустимых пределов ({kind} {rule})"
    if kind == "additionalProperties":
        extra = sorted(set(value) - set(error.schema.get("properties", {}))) \
            if isinstance(value, dict) else []
        return "лишнее поле " + ", ".join(f"«{k}»" for k in extra) if extra else \
            "лишние поля"
    return f"не соответствует схеме формата ({kind}): {shown}"


def default_scheme(grade: int) -> str:
    """Quarters for grades 1-9, half-years for 10-11 (seed 000, section 4)."""
    return "half_years" if grade >= 10 else "quarters"


def parse_json(data: bytes, file_name: str, *,
               codes_for: Callable[[str], tuple[tuple[str, str], ...]] | None = None
               ) -> JournalDocument:
    """Parse and structurally validate a JSON import; raises ImportRejectedError.
    ``codes_for``: a school's own attendance spellings, by school code."""
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRejectedError(file_name, [Problem(
            file_name, f"файл не читается как JSON в кодировке UTF-8: {exc}")]) from None
    try:
        _fast_validator()(raw)  # compiled: fast on the common, valid path
        errors = []
    except fastjsonschema.JsonSchemaException:
        # Slow path, only for a bad file: collect every error with its location.
        validator = jsonschema.Draft202012Validator(
            schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ImportRejectedError(file_name, [
            Problem(file_name, schema_message(e), _path(e.absolute_path))
            for e in errors[:200]
        ])
    problems: list[Problem] = []

    def value(fn, v, at, **kw):
        try:
            return fn(v, **kw)
        except ValueError as exc:
            problems.append(Problem(file_name, refusal(exc, v), at))
            return None

    d = dt.date.fromisoformat
    year = raw["academic_year"]
    periods = [
        PeriodDef(p["code"], clean(p.get("name")) or period_name(p["code"]), d(p["start"]),
                  d(p["end"]))
        for p in year["periods"]
    ]
    classes = []
    notes: list[str] = []
    extra = codes_for(clean(raw["school"]["code"]) or "") if codes_for else ()
    for ci, c in enumerate(raw["classes"]):
        cat = f"classes[{ci}]"
        name = value(norm_class_name, c["name"], f"{cat}.name") or ""
        note = class_name_note(c["name"], name or None)
        if note:
            notes.append(f"{cat}.name: {note}")
        grade = c.get("grade") or value(grade_of, name, f"{cat}.name") or 0
        students = [
            StudentRec(clean(s["record_number"]), clean(s["full_name"]),
                       d(s["birth_date"]) if s.get("birth_date") else None,
                       d(s["joined"]) if s.get("joined") else None,
                       d(s["left"]) if s.get("left") else None, where=f"{cat}.students[{si}]")
            for si, s in enumerate(c["students"])
        ]
        courses = []
        for ki, k in enumerate(c["courses"]):
            kat = f"{cat}.courses[{ki}]"
            teachers = [clean(t) for t in k["teachers"]]
            lessons = []
            per_day: dict[dt.date, int] = {}
            for li, le in enumerate(k.get("lessons", [])):
                lat = f"{kat}.lessons[{li}]"
                day = d(le["date"])
                per_day[day] = per_day.get(day, 0) + 1
                marks = []
                for mi, m in enumerate(le.get("marks", [])):
                    mat = f"{lat}.marks[{mi}]"
                    parsed = value(parse_mark, str(m["raw"]), mat, scale=m.get("scale"))
                    weight = value(parse_weight, m.get("weight"), mat)
                    if parsed and weight:
                        marks.append(MarkRec(
                            clean(m["student"]), parsed[0], parsed[1], parsed[2],
                            d(m["date"]) if m.get("date") else day,
                            clean(m.get("kind_of_work")), weight, where=mat))
                attendance = []
                for ai, a in enumerate(le.get("attendance", [])):
                    parsed = value(parse_attendance, a["code"], f"{lat}.attendance[{ai}]",
                                   extra=extra)
                    if parsed:
                        attendance.append(AttendanceRec(clean(a["student"]), parsed[1],
                                                        parsed[0], where=f"{lat}.attendance[{ai}]"))
                lessons.append(LessonRec(
                    day, le.get("number") or per_day[day], clean(le.get("topic")),
                    clean(le.get("homework")), clean(le.get("teacher")) or teachers[0],
                    marks, attendance, where=lat))
            pmarks = []
            for pi, pm in enumerate(k.get("period_marks", [])):
                pat = f"{kat}.period_marks[{pi}]"
                kind = pm.get("kind", "period")
                period = pm.get("period") or ("Y" if kind != "period" else None)
                if period is None:
                    problems.append(Problem(file_name, "у отметки за период не указан период",
                                            pat))
                    continue
                parsed = value(parse_period_mark, str(pm["raw"]), pat)
                if parsed:
                    pmarks.append(PeriodMarkRec(clean(pm["student"]), period, kind, parsed[0],
                                                parsed[1], where=pat))
            students_of = k.get("students")
            courses.append(CourseRec(
                clean(k["subject"]), clean(k.get("subgroup")) or "", teachers,
                [clean(s) for s in students_of] if students_of is not None else None,
                lessons, pmarks, where=kat))
        scheme = c.get("period_scheme") or _scheme_of(raw["covers"]) or default_scheme(grade)
        classes.append(ClassJournal(name, grade, scheme, clean(c.get("class_leader")),
                                    students, courses, where=cat))
    if problems:
        raise ImportRejectedError(file_name, problems)
    school = raw["school"]
    return JournalDocument(
        file_name=file_name, file_format="json", school_code=clean(school["code"]),
        school_name=clean(school["name"]), source_system=clean(school.get("source_system")),
        year_label=year["label"], year_start=d(year["start"]), year_end=d(year["end"]),
        periods=periods, covers=list(raw["covers"]),
        staff=[StaffRec(clean(s["full_name"]), clean(s.get("position")), list(s.get("roles", [])))
               for s in raw.get("staff", [])],
        classes=classes, notes=notes,
    )


def _scheme_of(covers: list[str]) -> str | None:
    for code in covers:
        if code != "Y":
            return PERIOD_SCHEMES[period_kind(code)]
    return None
