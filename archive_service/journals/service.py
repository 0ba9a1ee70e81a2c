"""Importing journal files: all-or-nothing per file, idempotent.

A file is parsed and validated completely before anything is written; then one unit of
work upserts the reference data (school, year, periods, staff, subjects, students, class,
courses) and, per class, replaces the part of the journal the file covers (its periods'
lessons and period marks) only if it differs from what is stored. Importing the same file
twice therefore changes nothing, and a rejected file leaves neither rows nor objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from archive_service.actors import Actor
from archive_service.db import Archive, UnitOfWork, bulk_insert
from archive_service.errors import ImportRejectedError, Problem
from archive_service.journals import codes
from archive_service.journals.document import (
    ClassJournal,
    JournalDocument,
    courses_content,
    scope_of,
)
from archive_service.journals.json_import import parse_json
from archive_service.journals.loader import lesson_ids_in_scope, load_courses
from archive_service.journals.models import (
    AcademicYear,
    Attendance,
    Course,
    CourseStudent,
    CourseTeacher,
    Enrolment,
    ImportBatch,
    Lesson,
    Mark,
    Period,
    PeriodMark,
    School,
    SchoolClass,
    Staff,
    StaffRole,
    Student,
    Subject,
)
from archive_service.journals.sheet_import import parse_sheets
from archive_service.journals.sheets import MAX_FILE, kind_of, read_sheets
from archive_service.journals.validate import (
    class_covers,
    normalise_lookalikes,
    validate_document,
)
from archive_service.journals.values import name_key, period_kind
from archive_service.storage.base import sha256_hex


@dataclass
class ImportResult:
    """What one import did: ``counts`` what changed in the archive, ``content`` what the
    file holds (students, lessons, marks, absences, period marks; whether or not stored now:
    an unchanged file holds what the archive already has)."""

    file_name: str
    school_code: str
    classes: list[str]
    changed: bool
    counts: dict[str, int] = field(default_factory=dict)
    content: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was read leniently (see doc.notes)


def read_document(path: Path, *,
                  codes_for: Callable[[str], tuple[tuple[str, str], ...]] | None = None
                  ) -> tuple[JournalDocument, bytes]:
    """Read and validate an import file; raises ImportRejectedError with every problem."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise ImportRejectedError(name, [Problem(name, _too_big(size))])
        data = path.read_bytes()
    except OSError as exc:
        raise ImportRejectedError(name, [Problem(name, f"файл не открывается: {exc.strerror}")]) from None
    return parse_document(name, data, codes_for=codes_for)


def parse_document(name: str, data: bytes, *,
                   codes_for: Callable[[str], tuple[tuple[str, str], ...]] | None = None
                   ) -> tuple[JournalDocument, bytes]:
    """Parse and validate the bytes of an import file named ``name`` (the kind is told by
    the bytes, the name only where they do not: journals.sheets.kind_of); raises
    ImportRejectedError with every problem. ``codes_for``: a school's own attendance
    spellings by school code (journals.codes)."""
    if len(data) > MAX_FILE:
        raise ImportRejectedError(name, [Problem(name, _too_big(len(data)))])
    kind = kind_of(name, data)
    if kind == "json":
        doc = parse_json(data, name, codes_for=codes_for)
    else:
        file_format, sheets = read_sheets(name, data, kind)
        doc = parse_sheets(sheets, name, file_format, codes_for)
    problems = normalise_lookalikes(doc) or validate_document(doc)
    if problems:
        raise ImportRejectedError(name, problems)
    return doc, data


def _too_big(size: int) -> str:
    return (f"файл занимает {size / 2**20:.0f} МиБ, а файл журнала принимается до "
            f"{MAX_FILE // 2**20} МиБ (журнал класса за год — несколько мегабайт): проверьте, "
            "тот ли это файл, или выгрузите классы отдельными файлами")


def content_counts(doc: JournalDocument) -> dict[str, int]:
    """What a journal file holds, counted as a person checks it against the e-journal."""
    counts = {"classes": len(doc.classes), "students": 0, "lessons": 0, "marks": 0,
              "absences": 0, "period_marks": 0}
    for cls in doc.classes:
        counts["students"] += len(cls.students)
        for course in cls.courses:
            counts["lessons"] += len(course.lessons)
            counts["period_marks"] += len(course.period_marks)
            for lesson in course.lessons:
                counts["marks"] += len(lesson.marks)
                counts["absences"] += len(lesson.attendance)
    return counts


def import_file(archive: Archive, path: Path, *, actor: Actor,
                school_code: str | None = None) -> ImportResult:
    """Import one file in one unit of work (``school_code``: see ``import_data``)."""
    doc, data = read_document(path, codes_for=codes.lookup(archive))
    return _import(archive, doc, data, actor, school_code)


def import_data(archive: Archive, name: str, data: bytes, *, actor: Actor,
                school_code: str | None = None) -> ImportResult:
    """Import the bytes of an uploaded file in one unit of work. ``school_code``: the
    school the person acts for; a file of another school is refused before anything is
    written (a school's staff never load another school's journal)."""
    doc, data = parse_document(name, data, codes_for=codes.lookup(archive))
    return _import(archive, doc, data, actor, school_code)


def _import(archive: Archive, doc: JournalDocument, data: bytes, actor: Actor,
            school_code: str | None) -> ImportResult:
    if school_code is not None and doc.school_code != school_code:
        raise ImportRejectedError(doc.file_name, [Problem(
            doc.file_name, f"файл относится к школе с кодом {doc.school_code} "
            f"(«{doc.school_name}»), а вы работаете в школе с кодом {school_code}: проверьте, "
            "что выгрузка сделана в электронном журнале вашей школы")])
    with archive.unit_of_work() as uow:
        result = _apply(uow, doc, data, actor)
    result.content = content_counts(doc)
    result.notes = list(doc.notes)
    return result


#: What ``ImportResult.counts`` and ``.content`` count, as people read it.
CHANGE_NAMES = {"school": "школа", "academic_year": "учебный год", "period": "периоды",
                "staff": "сотрудники", "staff_role": "роли сотрудников", "school_class": "классы",
                "student": "ученики",
                "enrolment": "зачисления в классы", "subject": "предметы", "course": "курсы",
                "course_teacher": "учителя курсов", "course_student": "состав подгрупп",
                "journal": "журналы классов (уроки, отметки, посещаемость)"}
CONTENT_NAMES = {"classes": "классов", "students": "учеников", "lessons": "уроков",
                 "marks": "отметок", "absences": "отметок посещаемости",
                 "period_marks": "итоговых отметок"}


def import_uploads(archive: Archive, files: list[tuple[str, bytes]], *, actor: Actor,
                   school_code: str | None) -> list[ImportResult | ImportRejectedError]:
    """Import uploaded files (a zip: each file in it), each all-or-nothing on its own and
    only if it belongs to ``school_code``; returns each file's result or refusal, in order."""
    from archive_service.journals.uploads import unpack

    out: list[ImportResult | ImportRejectedError] = []
    for name, data in files:
        for item in unpack(name, data):
            if isinstance(item, ImportRejectedError):
                out.append(item)
                continue
            try:
                out.append(import_data(archive, item.name, item.data, actor=actor,
                                       school_code=school_code))
            except ImportRejectedError as exc:
                out.append(exc)
    return out


def recent_imports(archive: Archive, school_id: int, *, limit: int = 30) -> list[ImportBatch]:
    """The school's latest imports that changed something (who, when, which file)."""
    with archive.sessions() as s:
        return list(s.scalars(select(ImportBatch).filter_by(school_id=school_id)
                              .order_by(ImportBatch.id.desc()).limit(limit)))


def import_files(
    archive: Archive, paths: list[Path], *, actor: Actor,
) -> Iterator[ImportResult | ImportRejectedError]:
    """Import many files in order, each all-or-nothing in its own unit of work.

    A rejected file is yielded as its error and the others go on; a result is yielded only
    after its unit of work has committed. (Parsing in a pool of two processes was tried and
    measured slower on the demo school, 7.9 s against 6.9 s: sending the parsed journal
    back between processes costs more than the parsing saves.)
    """
    for path in paths:
        try:
            yield import_file(archive, path, actor=actor)
        except ImportRejectedError as exc:
            yield exc


class _Upserter:
    """Find-or-create by natural key, counting what actually changed."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.counts: dict[str, int] = {}

    def changed(self, what: str, n: int = 1) -> None:
        if n:
            self.counts[what] = self.counts.get(what, 0) + n

    def one(self, model, keys: dict, values: dict):
        obj = self.s.scalars(select(model).filter_by(**keys)).one_or_none()
        if obj is None:
            obj = model(**keys, **values)
            self.s.add(obj)
            self.s.flush()
            self.changed(model.__tablename__)
            return obj
        dirty = False
        for k, v in values.items():
            if getattr(obj, k) != v:
                setattr(obj, k, v)
                dirty = True
        if dirty:
            self.s.flush()
            self.changed(model.__tablename__)
        return obj


def _apply(uow: UnitOfWork, doc: JournalDocument, data: bytes, actor: Actor) -> ImportResult:
    s = uow.session
    up = _Upserter(s)
    school_values = {"name": doc.school_name}
    if doc.source_system:
        school_values["source_system"] = doc.source_system
    school = up.one(School, {"code": doc.school_code}, school_values)
    year = s.scalars(select(AcademicYear).filter_by(school_id=school.id, label=doc.year_label)
                     ).one_or_none()
    fix_year = False
    if year is None:
        year = up.one(AcademicYear, {"school_id": school.id, "label": doc.year_label},
                      {"start_date": doc.year_start, "end_date": doc.year_end,
                       "dates_given": doc.year_dates_given})
    elif doc.year_dates_given and (year.start_date, year.end_date) != (doc.year_start,
                                                                       doc.year_end):
        if year.dates_given:
            raise ImportRejectedError(doc.file_name, [Problem(
                doc.file_name,
                f"даты учебного года {doc.year_label} в файле ({doc.year_start:%d.%m.%Y}–"
                f"{doc.year_end:%d.%m.%Y}) расходятся с уже принятыми "
                f"({year.start_date:%d.%m.%Y}–{year.end_date:%d.%m.%Y}): проверьте даты в файле "
                "(календарь года фиксируется первой загрузкой, в которой он указан)")])
        # The stored dates were only the default: the first file that gives them fixes them.
        year.start_date, year.end_date, year.dates_given = doc.year_start, doc.year_end, True
        fix_year = True
        up.changed("academic_year")
    elif doc.year_dates_given and not year.dates_given:
        year.dates_given = True
        up.changed("academic_year")
    periods: dict[str, Period] = {}
    for p in doc.periods:
        existing = s.scalars(select(Period).filter_by(academic_year_id=year.id, code=p.code)
                             ).one_or_none()
        if existing and (existing.start_date, existing.end_date) != (p.start, p.end):
            if p.code == "Y" and not doc.year_dates_given:
                periods["Y"] = existing
                continue
            if p.code == "Y" and fix_year:
                existing.start_date, existing.end_date = p.start, p.end
                periods["Y"] = existing
                continue
            raise ImportRejectedError(doc.file_name, [Problem(
                doc.file_name,
                f"даты периода «{p.name}» в файле ({p.start:%d.%m.%Y}–{p.end:%d.%m.%Y}) "
                f"расходятся с уже принятыми ({existing.start_date:%d.%m.%Y}–"
                f"{existing.end_date:%d.%m.%Y})")])
        periods[p.code] = existing or up.one(
            Period, {"academic_year_id": year.id, "code": p.code},
            {"kind": period_kind(p.code), "name": p.name, "start_date": p.start,
             "end_date": p.end})

    # Staff and roles are looked up once per file, not once per mention.
    known_staff = {m.name_key: m for m in s.scalars(select(Staff).filter_by(school_id=school.id))}
    known_roles = set(s.execute(
        select(StaffRole.staff_id, StaffRole.role, StaffRole.school_class_id)
        .join(Staff, Staff.id == StaffRole.staff_id).where(Staff.school_id == school.id)))

    def staff(name: str | None, position: str | None = None) -> int | None:
        if not name:
            return None
        key = name_key(name)
        member = known_staff.get(key)
        if member is None:
            member = known_staff[key] = Staff(school_id=school.id, name_key=key, full_name=name,
                                              position=position)
            s.add(member)
            s.flush()
            up.changed("staff")
        elif member.full_name != name or (position and member.position != position):
            member.full_name = name
            member.position = position or member.position
            up.changed("staff")
        return member.id

    def role(staff_id: int | None, role_name: str, class_id: int | None = None) -> None:
        if staff_id is not None and (staff_id, role_name, class_id) not in known_roles:
            known_roles.add((staff_id, role_name, class_id))
            s.add(StaffRole(staff_id=staff_id, role=role_name, school_class_id=class_id))
            up.changed("staff_role")

    for member in doc.staff:
        sid = staff(member.full_name, member.position)
        for r in member.roles:
            role(sid, r)

    for cls in doc.classes:
        _apply_class(uow, up, doc, school, year, periods, cls, staff, role)

    changed = bool(up.counts)
    if changed:
        key = uow.put_blob(data)
        s.add(ImportBatch(
            school_id=school.id, file_name=doc.file_name, file_format=doc.file_format,
            sha256=sha256_hex(data), storage_key=key, imported_at=dt.datetime.now(dt.UTC),
            imported_by=actor.name, summary=dict(up.counts)))
        # An import that changed nothing leaves no trace at all (idempotent, like the rows).
        uow.audit(actor, "journal.import", "file", doc.file_name, chain=school.id,
                  details={"classes": [c.name for c in doc.classes],
                           "changed": dict(up.counts), "sha256": sha256_hex(data)})
    return ImportResult(doc.file_name, doc.school_code, [c.name for c in doc.classes], changed,
                        dict(up.counts))


def _apply_class(uow, up: _Upserter, doc, school, year, periods, cls: ClassJournal, staff,
                 role) -> None:
    s = uow.session
    leader = staff(cls.class_leader)
    sc = up.one(SchoolClass, {"academic_year_id": year.id, "name": cls.name},
                {"school_id": school.id, "grade": cls.grade, "period_scheme": cls.period_scheme,
                 **({"class_leader_id": leader} if leader else {})})
    role(leader, "class_leader", sc.id)
    # One query per kind of row, not one per row: a class has ~25 students, ~15 courses.
    records = [st.record_number for st in cls.students]
    known = {x.record_number: x for x in s.scalars(select(Student).where(
        Student.school_id == school.id, Student.record_number.in_(records)))}
    enrolled = {e.student_id: e for e in s.scalars(select(Enrolment).filter_by(
        school_class_id=sc.id))}
    new_students = [Student(school_id=school.id, record_number=st.record_number,
                            full_name=st.full_name, birth_date=st.birth_date)
                    for st in cls.students if st.record_number not in known]
    if new_students:  # one flush for all of them (ids are needed below)
        s.add_all(new_students)
        s.flush()
        known.update((x.record_number, x) for x in new_students)
        up.changed("student", len(new_students))
    students: dict[str, int] = {}
    for st in cls.students:
        student = known[st.record_number]
        if student.full_name != st.full_name or (
                st.birth_date and student.birth_date != st.birth_date):
            student.full_name = st.full_name
            student.birth_date = st.birth_date or student.birth_date
            up.changed("student")
        students[st.record_number] = student.id
        enrolment = enrolled.get(student.id)
        if enrolment is None:
            s.add(Enrolment(school_class_id=sc.id, student_id=student.id, joined=st.joined,
                            left=st.left))
            up.changed("enrolment")
        elif (enrolment.joined, enrolment.left) != (st.joined, st.left):
            enrolment.joined, enrolment.left = st.joined, st.left
            up.changed("enrolment")
    subjects = {x.name_key: x for x in s.scalars(select(Subject).filter_by(school_id=school.id))}
    new_subjects = {name_key(c.subject): Subject(school_id=school.id, name_key=name_key(c.subject),
                                                 name=c.subject)
                    for c in cls.courses if name_key(c.subject) not in subjects}
    if new_subjects:
        s.add_all(new_subjects.values())
        s.flush()
        subjects.update(new_subjects)
        up.changed("subject", len(new_subjects))
    existing_courses = {(x.subject_id, x.subgroup): x for x in s.scalars(
        select(Course).filter_by(school_class_id=sc.id))}
    new_courses = {}
    for c in cls.courses:
        key = (subjects[name_key(c.subject)].id, c.subgroup)
        if key not in existing_courses and key not in new_courses:
            new_courses[key] = Course(school_class_id=sc.id, subject_id=key[0],
                                      subgroup=c.subgroup)
    if new_courses:
        s.add_all(new_courses.values())
        s.flush()
        existing_courses.update(new_courses)
        up.changed("course", len(new_courses))
    course_ids: dict[tuple[str, str], int] = {}
    for c in cls.courses:
        course = existing_courses[(subjects[name_key(c.subject)].id, c.subgroup)]
        course_ids[(c.subject, c.subgroup)] = course.id
        wanted = [staff(t) for t in c.teachers]
        current = list(s.scalars(select(CourseTeacher.staff_id).where(
            CourseTeacher.course_id == course.id).order_by(CourseTeacher.position)))
        if current != wanted:
            s.execute(delete(CourseTeacher).where(CourseTeacher.course_id == course.id))
            s.execute(insert(CourseTeacher), [
                {"course_id": course.id, "staff_id": sid, "position": i}
                for i, sid in enumerate(wanted)])
            up.changed("course_teacher")
        for sid in wanted:
            role(sid, "teacher", sc.id)
        if c.students is not None:
            have = set(s.scalars(select(CourseStudent.student_id).where(
                CourseStudent.course_id == course.id)))
            new = [students[r] for r in c.students if students[r] not in have]
            if new:
                s.execute(insert(CourseStudent), [{"course_id": course.id, "student_id": i}
                                                  for i in new])
                up.changed("course_student", len(new))

    covers = class_covers(doc, cls)
    scope = scope_of(covers, doc.periods, year_marks=doc.covers_year_marks)
    period_ids = [periods[c].id for c in scope.mark_periods if c in periods]
    stored_courses = load_courses(s, sc.id, scope.ranges, period_ids)
    incoming_courses = [c for c in cls.courses if c.lessons or c.period_marks]
    if not stored_courses and not incoming_courses:
        return
    if stored_courses and _scope_part(courses_content(stored_courses)) == _scope_part(
            courses_content(incoming_courses)):
        return
    # Replace the covered part of this class's journal.
    old_lessons = lesson_ids_in_scope(s, sc.id, scope.ranges)
    for chunk in _chunks(old_lessons, 5000):
        s.execute(delete(Mark).where(Mark.lesson_id.in_(chunk)))
        s.execute(delete(Attendance).where(Attendance.lesson_id.in_(chunk)))
        s.execute(delete(Lesson).where(Lesson.id.in_(chunk)))
    all_courses = list(s.scalars(select(Course.id).where(Course.school_class_id == sc.id)))
    if period_ids and all_courses:
        s.execute(delete(PeriodMark).where(PeriodMark.course_id.in_(all_courses),
                                           PeriodMark.period_id.in_(period_ids)))
    _insert_content(s, cls, course_ids, students, staff, periods)
    up.changed("journal", 1)


def _scope_part(content: list[dict]) -> list[tuple]:
    return [(c["subject"], c["subgroup"], c["lessons"], c["period_marks"]) for c in content]


def _chunks(items: list, n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _insert_content(s: Session, cls: ClassJournal, course_ids, students, staff, periods) -> None:
    lesson_rows = []
    lesson_recs = []
    for c in cls.courses:
        cid = course_ids[(c.subject, c.subgroup)]
        for le in c.lessons:
            lesson_rows.append({"course_id": cid, "date": le.date, "number": le.number,
                                "topic": le.topic, "homework": le.homework,
                                "teacher_id": staff(le.teacher)})
            lesson_recs.append(le)
    if lesson_rows:
        bulk_insert(s, Lesson.__table__, lesson_rows)
        # Read the new ids back by natural key (faster than RETURNING row by row).
        by_key = {(cid, day if isinstance(day, dt.date) else dt.date.fromisoformat(day), n): lid
                  for lid, cid, day, n in s.execute(
                      select(Lesson.id, Lesson.course_id, Lesson.date, Lesson.number)
                      .where(Lesson.course_id.in_(set(course_ids.values()))))}
        ids = [by_key[(r["course_id"], r["date"], r["number"])] for r in lesson_rows]
        marks, attendance = [], []
        for lid, le in zip(ids, lesson_recs, strict=True):
            position: dict[str, int] = {}
            for m in le.marks:
                position[m.student] = position.get(m.student, 0) + 1
                marks.append({"lesson_id": lid, "student_id": students[m.student],
                              "position": position[m.student], "raw": m.raw, "value": m.value,
                              "scale": m.scale, "kind_of_work": m.kind_of_work,
                              "weight": m.weight, "date": m.date})
            for a in le.attendance:
                attendance.append({"lesson_id": lid, "student_id": students[a.student],
                                   "code": a.code, "raw": a.raw})
        bulk_insert(s, Mark.__table__, marks)
        bulk_insert(s, Attendance.__table__, attendance)
    pm_rows = [
        {"course_id": course_ids[(c.subject, c.subgroup)], "student_id": students[pm.student],
         "period_id": periods[pm.period].id, "kind": pm.kind, "raw": pm.raw, "value": pm.value}
        for c in cls.courses for pm in c.period_marks
    ]
    bulk_insert(s, PeriodMark.__table__, pm_rows)
