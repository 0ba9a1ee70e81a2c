"""Generating the demo school, deterministic for a seed.

The output is a list of documents in the canonical import format (school-journal/1), one
per class, covering the whole academic year; ``writers`` turns them into JSON files and into
spreadsheet exports (one workbook per class and period) that carry the same content.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from faker import Faker

from archive_service.demo.curriculum import (
    EXAMS,
    FAMILY_SIZE,
    FAMILY_TITLE,
    GENERIC_TOPICS,
    KINDS_OF_WORK,
    NO_HOMEWORK,
    PASS_FAIL,
    PLAN,
    SPLIT,
    TOPICS,
)
from archive_service.journals.values import period_name

SCHOOL = {"code": "5902000001", "name": "МБОУ «Средняя общеобразовательная школа № 1» (демо)",
          "source_system": "Демонстрационная ЭЖ"}
YEAR = "2025-2026"
YEAR_START, YEAR_END = dt.date(2025, 9, 1), dt.date(2026, 5, 26)
PERIODS = {
    "Q1": (dt.date(2025, 9, 1), dt.date(2025, 10, 24)),
    "Q2": (dt.date(2025, 11, 5), dt.date(2025, 12, 26)),
    "Q3": (dt.date(2026, 1, 12), dt.date(2026, 3, 20)),
    "Q4": (dt.date(2026, 3, 30), dt.date(2026, 5, 26)),
    "H1": (dt.date(2025, 9, 1), dt.date(2025, 12, 26)),
    "H2": (dt.date(2026, 1, 12), dt.date(2026, 5, 26)),
    "Y": (YEAR_START, YEAR_END),
}
HOLIDAYS = {dt.date(2025, 11, 4), dt.date(2026, 2, 23), dt.date(2026, 3, 9),
            dt.date(2026, 5, 1), dt.date(2026, 5, 11)}
#: About 25 classes: two or three per grade.
CLASSES = ["1А", "1Б", "2А", "2Б", "3А", "3Б", "4А", "4Б", "5А", "5Б", "5В", "6А", "6Б",
           "7А", "7Б", "7В", "8А", "8Б", "9А", "9Б", "9В", "10А", "10Б", "11А", "11Б"]


def scheme_periods(grade: int) -> list[str]:
    """Quarters for grades 1-9, half-years for 10-11 (seed 000, section 4)."""
    return ["H1", "H2"] if grade >= 10 else ["Q1", "Q2", "Q3", "Q4"]


def school_days(codes: list[str]) -> list[dt.date]:
    """Monday-Friday school days inside the given periods, without public holidays."""
    days = []
    for code in codes:
        start, end = PERIODS[code]
        d = start
        while d <= end:
            if d.weekday() < 5 and d not in HOLIDAYS:
                days.append(d)
            d += dt.timedelta(days=1)
    return days


def _round(x: float) -> int:
    return int(Decimal(str(x)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class _People:
    def __init__(self, seed: int) -> None:
        self.fake = Faker("ru_RU")
        self.fake.seed_instance(seed)
        self.used: set[str] = set()

    def name(self, female: bool) -> str:
        f = self.fake
        while True:
            if female:
                n = f"{f.last_name_female()} {f.first_name_female()} {f.middle_name_female()}"
            else:
                n = f"{f.last_name_male()} {f.first_name_male()} {f.middle_name_male()}"
            if n not in self.used:
                self.used.add(n)
                return n


def generate_school(seed: int = 1, *, classes: list[str] | None = None) -> list[dict[str, Any]]:
    """The demo school as import documents (one per class), deterministic for the seed."""
    rng = random.Random(seed)
    people = _People(seed)
    names = classes or CLASSES

    staff: list[dict[str, Any]] = [
        {"full_name": people.name(True), "position": "Директор", "roles": ["director"]},
        {"full_name": people.name(True), "position": "Заместитель директора по УВР",
         "roles": ["deputy"]},
        {"full_name": people.name(False), "position": "Заместитель директора по УВР",
         "roles": ["deputy"]},
        {"full_name": people.name(True), "position": "Секретарь-делопроизводитель",
         "roles": ["secretary"]},
    ]
    family: dict[str, list[str]] = {}
    for fam, n in FAMILY_SIZE.items():
        family[fam] = [people.name(rng.random() < 0.8) for _ in range(n)]
        for t in family[fam]:
            roles = ["teacher"] + (["administrator"] if fam == "inf" else [])
            staff.append({"full_name": t, "position": FAMILY_TITLE[fam], "roles": roles})
    primary = {c: people.name(True) for c in names if int(c[:-1]) <= 4}
    for t in primary.values():
        staff.append({"full_name": t, "position": FAMILY_TITLE["primary"], "roles": ["teacher"]})

    periods = [{"code": c, "name": period_name(c), "start": s.isoformat(), "end": e.isoformat()}
               for c, (s, e) in PERIODS.items()]
    record = iter(range(1, 100000))
    leaders_used: set[str] = set()
    docs = []
    for index, cname in enumerate(names):
        grade = int(cname[:-1])
        docs.append(_class_document(rng, people, cname, grade, index, family, primary, staff,
                                    periods, record, leaders_used))
    return docs


def _teacher(family: dict[str, list[str]], primary: dict[str, str], fam: str, cname: str,
             index: int, shift: int = 0) -> str:
    if fam == "primary" or (cname in primary and fam in ("art", "tech")):
        return primary[cname]
    pool = family[fam]
    return pool[(index + shift) % len(pool)]


def _class_document(rng, people, cname, grade, index, family, primary, staff, periods, record,
                    leaders_used) -> dict[str, Any]:
    codes = scheme_periods(grade)
    # Students, with a few arriving or leaving during the year (прибыл/выбыл).
    students = []
    for _ in range(rng.randint(22, 27)):
        female = rng.random() < 0.5
        born = dt.date(2025 - 6 - grade, 9, 1) + dt.timedelta(days=rng.randint(0, 364))
        joined = left = None
        r = rng.random()
        if r < 0.03:
            joined = YEAR_START + dt.timedelta(days=rng.randint(30, 200))
            while joined.weekday() >= 5:
                joined += dt.timedelta(days=1)
        elif r < 0.06:
            left = YEAR_START + dt.timedelta(days=rng.randint(30, 230))
        students.append({"record_number": f"ЛД-{next(record):05d}",
                         "full_name": people.name(female),
                         "birth_date": born.isoformat(),
                         "joined": joined.isoformat() if joined else None,
                         "left": left.isoformat() if left else None,
                         "_ability": rng.uniform(2.9, 4.9)})
    students.sort(key=lambda s: s["full_name"])
    subjects = [(s, fam, hours[grade]) for s, (fam, hours) in PLAN.items() if grade in hours]
    if grade <= 4:
        leader = primary[cname]
    else:
        candidates = [t for fam in ("rus", "math", "hist", "bio", "geo", "phys", "eng", "chem",
                                    "pe", "tech") for t in family[fam] if t not in leaders_used]
        leader = candidates[index % len(candidates)]
    leaders_used.add(leader)

    days = school_days(codes)
    by_week: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    for d in days:
        by_week[d.isocalendar()[:2]].append(d)
    # Weekly timetable: each subject's hours on distinct weekdays, rotated to balance days.
    timetable: dict[str, list[int]] = {}
    offset = 0
    for subject, _fam, hours in subjects:
        timetable[subject] = sorted({(offset + i * 5 // max(hours, 1)) % 5 for i in range(hours)})
        offset += 2

    # Attendance per student and day: illness spells (Б), valid reasons (У).
    absent: dict[tuple[str, dt.date], str] = {}
    for s in students:
        i = 0
        while i < len(days):
            r = rng.random()
            if r < 0.008:
                for d in days[i:i + rng.randint(3, 7)]:
                    absent[(s["record_number"], d)] = "Б"
                i += 5
            elif r < 0.012:
                absent[(s["record_number"], days[i])] = "У"
            i += 1

    def enrolled(s: dict, d: dt.date) -> bool:
        j, lv = s["joined"], s["left"]
        return (j is None or d >= dt.date.fromisoformat(j)) and (
            lv is None or d <= dt.date.fromisoformat(lv))

    courses = []
    for ci, (subject, fam, _hours) in enumerate(subjects):
        groups = [("", None)]
        if subject in SPLIT:
            half = (len(students) + 1) // 2
            groups = [("1 группа", students[:half]), ("2 группа", students[half:])]
        for gi, (subgroup, members) in enumerate(groups):
            teacher = _teacher(family, primary, fam, cname, index, gi)
            roster = members if members is not None else students
            courses.append(_course(rng, subject, subgroup, teacher, roster, grade, codes, days,
                                   timetable[subject], absent, enrolled,
                                   members is not None, ci))
    for s in students:
        del s["_ability"]
    return {
        "format": "school-journal/1",
        "school": dict(SCHOOL),
        "academic_year": {"label": YEAR, "start": YEAR_START.isoformat(),
                          "end": YEAR_END.isoformat(), "periods": periods},
        "covers": codes + ["Y"],
        "staff": staff,
        "classes": [{"name": cname, "grade": grade,
                     "period_scheme": "half_years" if grade >= 10 else "quarters",
                     "class_leader": leader, "students": students, "courses": courses}],
    }


def _course(rng, subject, subgroup, teacher, roster, grade, codes, days, weekdays, absent,
            enrolled, split, ci) -> dict[str, Any]:
    topics = TOPICS.get(subject, GENERIC_TOPICS)
    lesson_days = [d for d in days if d.weekday() in weekdays]
    lessons = []
    graded = grade >= 2
    pass_fail = subject in PASS_FAIL
    marks_of: dict[tuple[str, str], list[int]] = defaultdict(list)  # (student, period) -> marks
    period_of = {}
    for code in codes:
        s, e = PERIODS[code]
        for d in lesson_days:
            if s <= d <= e:
                period_of[d] = code
    n = len(lesson_days)
    for li, day in enumerate(lesson_days):
        topic_base = topics[li * len(topics) // max(n, 1)]
        topic = f"{topic_base}. Урок {li + 1}" if rng.random() > 0.004 else None
        if not graded:
            homework = None
        elif subject in NO_HOMEWORK:
            homework = "не задано"
        elif rng.random() < 0.006:
            homework = None
        else:
            homework = rng.choice([
                f"§ {li // 3 + 1}, вопросы {rng.randint(1, 4)}-{rng.randint(5, 8)}",
                f"№ {rng.randint(10, 900)}, {rng.randint(10, 900)}",
                f"упр. {rng.randint(1, 400)}",
                f"с. {rng.randint(5, 200)}-{rng.randint(201, 250)}, читать",
                "повторить правила, подготовиться к проверочной",
            ])
        r = rng.random()
        kind, weight = KINDS_OF_WORK[2] if r < 0.05 else KINDS_OF_WORK[1] if r < 0.15 else \
            KINDS_OF_WORK[3] if r < 0.25 else KINDS_OF_WORK[0]
        share = {"Контрольная работа": 1.0, "Самостоятельная работа": 0.5,
                 "Домашняя работа": 0.25}.get(kind, 0.15)
        marks, attendance = [], []
        for s in roster:
            rec = s["record_number"]
            if not enrolled(s, day):
                continue
            code = absent.get((rec, day))
            if code is None:
                x = rng.random()
                code = "Н" if x < 0.003 else "О" if x < 0.007 else None
            if code:
                raw = code.lower() if rng.random() < 0.7 else code
                attendance.append({"student": rec, "code": raw})
                if code != "О":
                    continue
            if not graded or rng.random() >= share:
                continue
            if pass_fail:
                values = ["зач"] if rng.random() < 0.5 else []
            else:
                count = 2 if rng.random() < 0.03 else 1
                values = [min(5, max(2, _round(rng.gauss(s["_ability"], 0.75))))
                          for _ in range(count)]
                marks_of[(rec, period_of[day])].extend(values)
            for v in values:
                marks.append({"student": rec, "raw": str(v), "kind_of_work": kind,
                              "weight": weight})
        lessons.append({"date": day.isoformat(), "number": 1, "topic": topic,
                        "homework": homework, "marks": marks, "attendance": attendance})
    period_marks = _period_marks(rng, subject, roster, grade, codes, marks_of, pass_fail, graded)
    course: dict[str, Any] = {"subject": subject, "subgroup": subgroup or None,
                              "teachers": [teacher], "lessons": lessons,
                              "period_marks": period_marks}
    if split:
        course["students"] = [s["record_number"] for s in roster]
    return course


def _period_marks(rng, subject, roster, grade, codes, marks_of, pass_fail, graded) -> list[dict]:
    if not graded:
        return []
    out = []
    for s in roster:
        rec = s["record_number"]
        left = dt.date.fromisoformat(s["left"]) if s["left"] else None
        numeric = []
        for code in codes:
            start, end = PERIODS[code]
            if left is not None and left <= end:
                continue  # left before the period's end: no period mark
            joined = dt.date.fromisoformat(s["joined"]) if s["joined"] else None
            if joined is not None and joined > end:
                continue  # not yet in the class in this period
            if joined is not None and joined > start + dt.timedelta(days=20):
                raw = "н/а" if rng.random() < 0.5 else None  # arrived late in the period
                if raw:
                    out.append({"student": rec, "period": code, "kind": "period", "raw": raw})
                continue
            if pass_fail:
                out.append({"student": rec, "period": code, "kind": "period", "raw": "зач"})
                continue
            ms = marks_of.get((rec, code), [])
            if len(ms) < 2 and rng.random() < 0.5:
                out.append({"student": rec, "period": code, "kind": "period", "raw": "н/а"})
                continue
            if not ms:
                continue  # forgotten: the completeness check reports it
            value = _round(sum(ms) / len(ms))
            numeric.append(value)
            out.append({"student": rec, "period": code, "kind": "period", "raw": str(value)})
        if left is not None:
            continue
        if pass_fail:
            out.append({"student": rec, "period": "Y", "kind": "year", "raw": "зач"})
            continue
        if not numeric:
            continue
        year = _round(sum(numeric) / len(numeric))
        out.append({"student": rec, "period": "Y", "kind": "year", "raw": str(year)})
        if grade in (9, 11):
            final = year
            if subject in EXAMS:
                exam = min(5, max(2, _round(rng.gauss(year, 0.7))))
                out.append({"student": rec, "period": "Y", "kind": "exam", "raw": str(exam)})
                final = _round((year + exam) / 2)
            out.append({"student": rec, "period": "Y", "kind": "final", "raw": str(final)})
    return out
