"""Rules every imported journal must satisfy, whatever its format.

A file that breaks any of them is rejected whole; the problems name where they are.
"""

from __future__ import annotations

from collections import Counter

from archive_service.errors import Problem
from archive_service.journals.document import JournalDocument, scope_of
from archive_service.journals.values import (
    PERIOD_SCHEMES,
    cyrillic,
    lookalike_note,
    name_key,
    period_kind,
)

_SCHEME_KINDS = {v: k for k, v in PERIOD_SCHEMES.items()}


def normalise_lookalikes(doc: JournalDocument) -> list[Problem]:
    """Names, subjects and groups written with Latin letters that look Cyrillic are read as
    Cyrillic (one person, one class, one subject, however typed), each change noted for the
    report; a Cyrillic word holding a Latin letter with no look-alike is a problem naming
    it. Changes the document in place."""
    problems: list[Problem] = []
    noted: dict[str, None] = dict.fromkeys(doc.notes)

    def fix(text: str | None, what: str, where: str) -> str | None:
        if not text:
            return text
        try:
            new = cyrillic(text, what)
        except ValueError as exc:
            problems.append(Problem(doc.file_name, str(exc), where or None))
            return text
        note = lookalike_note(text, new)
        if note:
            noted.setdefault(f"{where}: {note}" if where else note)
        return new

    for st in doc.staff:
        st.full_name = fix(st.full_name, "ФИО сотрудника", "") or st.full_name
    for cls in doc.classes:
        cls.class_leader = fix(cls.class_leader, "классный руководитель", cls.where)
        for s in cls.students:
            s.full_name = fix(s.full_name, "ФИО ученика", s.where) or s.full_name
        for c in cls.courses:
            c.subject = fix(c.subject, "предмет", c.where) or c.subject
            c.subgroup = fix(c.subgroup, "группа", c.where) or c.subgroup
            c.teachers = [fix(t, "учитель", c.where) or t for t in c.teachers]
            for lesson in c.lessons:
                lesson.teacher = fix(lesson.teacher, "учитель урока", lesson.where)
    doc.notes[:] = list(noted)
    return problems


#: The longest text each field may hold: the database's column widths (journals/models.py),
#: and for a lesson's topic and homework, which the database does not bound, what a page
#: of the paper journal could hold many times over.
TEXT_LIMITS = {"school_code": 64, "school_name": 500, "source_system": 200, "person": 300,
               "position": 300, "class": 20, "record_number": 64, "subject": 300,
               "subgroup": 100, "mark": 32, "kind_of_work": 200, "weight": 16,
               "attendance": 16, "lesson_text": 10_000}
_TEXT_NAMES = {"school_code": "код школы", "school_name": "название школы",
               "source_system": "название системы-источника", "person": "ФИО",
               "position": "должность", "class": "название класса",
               "record_number": "номер личного дела", "subject": "предмет",
               "subgroup": "группа", "mark": "отметка", "kind_of_work": "вид работы",
               "weight": "вес отметки", "attendance": "отметка посещаемости",
               "lesson_text": "тема или домашнее задание"}


def text_lengths(doc: JournalDocument) -> list[Problem]:
    """Every text longer than its field holds (TEXT_LIMITS), named with its place."""
    problems: list[Problem] = []

    def check(value: str | None, kind: str, where: str = "") -> None:
        if value is not None and len(value) > TEXT_LIMITS[kind]:
            shown = value[:40].replace("\n", " ")
            problems.append(Problem(doc.file_name, (
                f"{_TEXT_NAMES[kind]} длиннее {TEXT_LIMITS[kind]} символов ({len(value)}): "
                f"«{shown}…»"), where or None))

    check(doc.school_code, "school_code")
    check(doc.school_name, "school_name")
    check(doc.source_system, "source_system")
    for person in doc.staff:
        check(person.full_name, "person")
        check(person.position, "position")
    for cls in doc.classes:
        check(cls.name, "class", cls.where)
        check(cls.class_leader, "person", cls.where)
        for student in cls.students:
            check(student.record_number, "record_number", student.where)
            check(student.full_name, "person", student.where)
        for course in cls.courses:
            check(course.subject, "subject", course.where)
            check(course.subgroup, "subgroup", course.where)
            for teacher in course.teachers:
                check(teacher, "person", course.where)
            for lesson in course.lessons:
                check(lesson.topic, "lesson_text", lesson.where)
                check(lesson.homework, "lesson_text", lesson.where)
                check(lesson.teacher, "person", lesson.where)
                for m in lesson.marks:
                    check(m.raw, "mark", m.where)
                    check(m.kind_of_work, "kind_of_work", m.where)
                    check(m.weight, "weight", m.where)
                for a in lesson.attendance:
                    check(a.raw, "attendance", a.where)
            for pm in course.period_marks:
                check(pm.raw, "mark", pm.where)
        if len(problems) > 200:
            break
    return problems


def validate_document(doc: JournalDocument) -> list[Problem]:
    """Every rule broken by the document, as problems (empty when the file is acceptable)."""
    problems: list[Problem] = text_lengths(doc)
    if problems:
        return problems

    def bad(message: str, at: str | None = None) -> None:
        problems.append(Problem(doc.file_name, message, at or None))

    if doc.year_start > doc.year_end:
        bad(f"учебный год {doc.year_label}: начало позже окончания")
    codes = Counter(p.code for p in doc.periods)
    for code, n in codes.items():
        if n > 1:
            bad(f"период {code} описан {n} раза")
    for p in doc.periods:
        if p.start > p.end:
            bad(f"период «{p.name}»: начало {p.start:%d.%m.%Y} позже окончания {p.end:%d.%m.%Y}")
        if p.start < doc.year_start or p.end > doc.year_end:
            bad(f"период «{p.name}» выходит за границы учебного года {doc.year_label}")
    known = {p.code for p in doc.periods}
    for code in doc.covers:
        if code not in known:
            bad(f"файл заявляет период {code}, но его дат нет в описании учебного года")
    if doc.covers_year_marks and "Y" not in known:
        bad("в файле есть годовые отметки, но нет дат учебного года (период Y)")
    if problems:
        return problems

    names = Counter(name_key(c.name) for c in doc.classes)
    for cls in doc.classes:
        if names[name_key(cls.name)] > 1:
            bad(f"класс {cls.name} встречается в файле дважды", cls.where)
        covers = class_covers(doc, cls)
        if not covers:
            listed = ", ".join(doc.period(c).name for c in doc.covers)
            bad(f"класс {cls.name} учится по схеме «{SCHEME_NAMES[cls.period_scheme]}», "
                f"а файл относится к периодам: {listed}", cls.where)
            continue
        scope = scope_of(covers, doc.periods, year_marks=doc.covers_year_marks)
        _validate_class(doc, cls, covers, scope, bad)
    return problems


SCHEME_NAMES = {"quarters": "четверти", "half_years": "полугодия", "trimesters": "триместры"}


def class_covers(doc: JournalDocument, cls) -> list[str]:
    """The periods of the file that apply to this class (its scheme's periods and Y)."""
    kind = _SCHEME_KINDS[cls.period_scheme]
    return [c for c in doc.covers if c == "Y" or period_kind(c) == kind]


def _validate_class(doc, cls, covers, scope, bad) -> None:
    by_number: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for s in cls.students:
        if s.record_number in by_number:
            bad(f"ученик с № личного дела {s.record_number} указан дважды "
                f"({by_number[s.record_number]} и {s.full_name})", s.where)
        by_number[s.record_number] = s.full_name
        key = name_key(s.full_name)
        if key in seen_names:
            bad(f"ученик «{s.full_name}» указан в списке класса дважды", s.where)
        seen_names[key] = s.record_number
        if s.joined and s.left and s.left < s.joined:
            bad(f"у ученика «{s.full_name}» дата выбытия раньше даты прибытия", s.where)

    students_by_number = {s.record_number: s for s in cls.students}
    period_defs = {p.code: p for p in doc.periods}

    def who(rec: str) -> str:
        return by_number.get(rec, rec)

    courses = Counter((name_key(c.subject), name_key(c.subgroup)) for c in cls.courses)
    for course in cls.courses:
        title = course.subject + (f" ({course.subgroup})" if course.subgroup else "")
        if courses[(name_key(course.subject), name_key(course.subgroup))] > 1:
            bad(f"предмет «{title}» описан в классе {cls.name} дважды", course.where)
        members = set(by_number)
        if course.students is not None:
            for rec in course.students:
                if rec not in by_number:
                    bad(f"«{title}»: ученик {rec} не из списка класса {cls.name}", course.where)
            members = set(course.students) & members
        lesson_keys: Counter = Counter()
        for lesson in course.lessons:
            lesson_keys[(lesson.date, lesson.number)] += 1
            if lesson_keys[(lesson.date, lesson.number)] == 2:
                bad(f"«{title}»: урок {lesson.date:%d.%m.%Y} № {lesson.number} указан дважды",
                    lesson.where)
            if not scope.has_date(lesson.date):
                periods = ", ".join(doc.period(c).name for c in covers)
                bad(f"«{title}»: дата урока {lesson.date:%d.%m.%Y} вне периода ({periods})",
                    lesson.where)
            if lesson.marks and cls.grade == 1:
                bad(f"«{title}»: в 1 классе отметки не ставятся (Положение о ЭКЖ, п. 1.3), "
                    f"а у урока {lesson.date:%d.%m.%Y} они есть", lesson.marks[0].where)
            for m in lesson.marks:
                if m.student not in members:
                    bad(_unknown(m.student, title, cls.name, course.students is not None),
                        m.where)
                _enrolled(students_by_number.get(m.student), m.date, f"отметка «{m.raw}»",
                          title, m.where, bad)
            present: set[str] = set()
            for a in lesson.attendance:
                if a.student not in members:
                    bad(_unknown(a.student, title, cls.name, course.students is not None),
                        a.where)
                _enrolled(students_by_number.get(a.student), lesson.date,
                          f"отметка посещаемости «{a.raw}»", title, a.where, bad)
                if a.student in present:
                    bad(f"«{title}»: у ученика «{who(a.student)}» два кода посещаемости на "
                        f"уроке {lesson.date:%d.%m.%Y}", a.where)
                present.add(a.student)
        seen: set[tuple[str, str, str]] = set()
        for pm in course.period_marks:
            if pm.student not in members:
                bad(_unknown(pm.student, title, cls.name, course.students is not None), pm.where)
            if cls.grade == 1:
                bad(f"«{title}»: в 1 классе отметки не ставятся (Положение о ЭКЖ, п. 1.3)",
                    pm.where)
            if pm.period not in scope.mark_periods:
                bad(f"«{title}»: отметка за период {pm.period} не относится к периодам файла",
                    pm.where)
            elif pm.kind == "period" and pm.period == "Y":
                bad(f"«{title}»: для учебного года укажите вид отметки (year, exam, final)",
                    pm.where)
            elif pm.kind != "period" and pm.period != "Y":
                bad(f"«{title}»: годовая, экзаменационная и итоговая отметки относятся к "
                    f"учебному году (Y), а не к {pm.period}", pm.where)
            st = students_by_number.get(pm.student)
            period = period_defs.get(pm.period)
            if st and period and ((st.joined and st.joined > period.end)
                                  or (st.left and st.left < period.start)):
                bad(f"«{title}»: у ученика «{st.full_name}» отметка за «{period.name}», "
                    "но в этом периоде он не учился в классе (см. даты прибытия и выбытия)",
                    pm.where)
            key = (pm.student, pm.period, pm.kind)
            if key in seen:
                bad(f"«{title}»: у ученика «{who(pm.student)}» две отметки за {pm.period} "
                    f"({pm.kind})", pm.where)
            seen.add(key)


def _enrolled(student, day, what: str, title: str, where: str, bad) -> None:
    """A mark or an absence only while the student is in the class: from the day they
    joined to the day they left, both included (docs/import-format.md)."""
    if student is None:
        return
    if student.joined and day < student.joined:
        bad(f"«{title}»: ученик «{student.full_name}» прибыл в класс "
            f"{student.joined:%d.%m.%Y}, а {what} стоит за {day:%d.%m.%Y}", where)
    elif student.left and day > student.left:
        bad(f"«{title}»: ученик «{student.full_name}» выбыл из класса "
            f"{student.left:%d.%m.%Y}, а {what} стоит за {day:%d.%m.%Y}", where)


def _unknown(rec: str, title: str, class_name: str, subgroup: bool) -> str:
    where = "в подгруппе" if subgroup else "в списке класса"
    return f"«{title}»: ученика «{rec}» нет {where} {class_name}"
