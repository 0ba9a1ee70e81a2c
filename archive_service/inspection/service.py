"""Search for archived ledgers within what a person may see.

An inspector sees only the schools and years a current grant covers; staff see their
school, teachers and class leaders their classes only (``accounts.access.read_scope``); the
command line (the operator) sees all.
Search by school, year, period, class, kind, register number, and by student: every ledger
of every class the student was enrolled in, across years, students who left included. Each
result carries its register entry, the state of its signature chain and its retention
state. Every search is in the audit trail (who, the criteria, how many found).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from archive_service.accounts import access
from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import ArchiveError


@dataclass(frozen=True)
class Criteria:
    """What to look for (every field optional; at least one is needed)."""

    school: str | None = None
    year: str | None = None
    period: str | None = None
    class_name: str | None = None
    kind: str | None = None
    register_number: int | None = None
    student: str | None = None  # part of the full name, or the record number

    def empty(self) -> bool:
        return not any(v not in (None, "") for v in asdict(self).values())


@dataclass(frozen=True)
class Found:
    """One ledger found."""

    document_id: int
    number: str
    kind: str
    school: str
    year: str
    period: str
    class_name: str
    register: str | None
    chain: str
    retention: str
    students: tuple[str, ...]  # the students searched for who appear in it

    def as_dict(self) -> dict:
        return asdict(self)


LIMIT = 500


def search(archive: Archive, criteria: Criteria, *, reader: Actor, who=None  # noqa: ANN001
           ) -> list[Found]:
    """The ledgers matching the criteria that this person may see (at most ``LIMIT``)."""
    from archive_service.audit.service import record
    from archive_service.disposition.models import DisposalAct, Tombstone
    from archive_service.disposition.plan import active_holds, rules
    from archive_service.journals.models import (
        AcademicYear,
        Enrolment,
        Period,
        School,
        SchoolClass,
        Student,
    )
    from archive_service.register.models import RegisterEntry
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import DocumentReturn, SignatureRecord
    from archive_service.snapshots.models import PeriodSnapshot
    from retention import first_allowed

    if criteria.empty():
        raise ArchiveError("Укажите, что искать: школу, год, класс, номер по реестру или "
                           "ученика.")
    if criteria.student is not None and len(criteria.student.strip()) < 3:
        raise ArchiveError("Для поиска ученика нужно не меньше 3 букв фамилии или номер "
                           "личного дела.")
    for text in (criteria.school, criteria.year, criteria.period, criteria.class_name,
                 criteria.kind, criteria.student):
        if text is not None and len(text) > 200:
            raise ArchiveError("Слишком длинное условие поиска.")
    query = (select(RenderedDocument, PeriodSnapshot, School, AcademicYear, Period, SchoolClass)
             .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
             .join(School, School.id == RenderedDocument.school_id)
             .join(Period, Period.id == PeriodSnapshot.period_id)
             .join(AcademicYear, AcademicYear.id == Period.academic_year_id)
             .join(SchoolClass, SchoolClass.id == PeriodSnapshot.school_class_id)
             .order_by(AcademicYear.label, SchoolClass.name, Period.code, RenderedDocument.id))
    if criteria.school:
        query = query.where(School.code == criteria.school)
    if criteria.year:
        query = query.where(AcademicYear.label == criteria.year)
    if criteria.period:
        query = query.where(Period.code == criteria.period)
    if criteria.class_name:
        query = query.where(SchoolClass.name == criteria.class_name)
    if criteria.kind:
        query = query.where(RenderedDocument.kind == criteria.kind)
    if criteria.register_number is not None:
        if not 0 < criteria.register_number < 2**31:
            return []
        query = query.join(RegisterEntry, RegisterEntry.document_id == RenderedDocument.id) \
            .where(RegisterEntry.number == criteria.register_number)
    with archive.sessions() as s:
        names: dict[int, set[str]] = {}
        if criteria.student:
            needle = criteria.student.strip()
            if s.bind.dialect.name == "postgresql":  # lower() knows Cyrillic there
                students = s.execute(select(Student.id, Student.full_name).where(
                    func.lower(Student.full_name).contains(needle.lower())
                    | (Student.record_number == needle))).all()
            else:  # SQLite's lower() is ASCII only: compare in Python
                wanted = needle.casefold()
                students = [(i, name) for i, name, rec in s.execute(
                    select(Student.id, Student.full_name, Student.record_number))
                    if wanted in name.casefold() or rec == needle]
            for class_id, name in s.execute(
                    select(Enrolment.school_class_id, Student.full_name)
                    .join(Student, Student.id == Enrolment.student_id)
                    .where(Enrolment.student_id.in_([i for i, _n in students] or [-1]))):
                names.setdefault(class_id, set()).add(name)
            query = query.where(SchoolClass.id.in_(list(names) or [-1]))
        rows = []
        scopes: dict[tuple[int, str], access.Scope] = {}
        for doc, snap, school, year, period, cls in s.execute(query):
            key = (school.id, year.label)
            if key not in scopes:
                scopes[key] = access.read_scope(s, who, school.id, year.label)
            if not scopes[key].covers(cls.id, doc.steps):
                continue
            rows.append((doc, snap, school, year, period, cls))
            if len(rows) >= LIMIT:
                break
        ids = [r[0].id for r in rows]
        signed: dict[int, set[str]] = {}
        for doc_id, field in s.execute(select(SignatureRecord.document_id, SignatureRecord.field)
                                       .where(SignatureRecord.document_id.in_(ids or [-1]))):
            signed.setdefault(doc_id, set()).add(field)
        returned = set(s.scalars(select(DocumentReturn.document_id)
                                 .where(DocumentReturn.document_id.in_(ids or [-1]))))
        numbers = dict(s.execute(select(RegisterEntry.document_id, RegisterEntry.number)
                                 .where(RegisterEntry.document_id.in_(ids or [-1]))).all())
        destroyed = dict(s.execute(select(Tombstone.document_id, DisposalAct.number)
                                   .join(DisposalAct, DisposalAct.id == Tombstone.act_id)
                                   .where(Tombstone.document_id.in_(ids or [-1]))).all())
        holds = active_holds(s, {r[2].id for r in rows})
        classes = rules(archive.settings)
        found = []
        for doc, _snap, school, year, period, cls in rows:
            fields = {st["name"] for st in doc.steps}
            done = signed.get(doc.id, set()) & fields
            chain = ("возвращён на исправление" if doc.id in returned else
                     "подписи собраны полностью" if fields and done == fields else
                     f"подписано {len(done)} из {len(fields)}")
            due = first_allowed(classes[doc.kind], year.end_date.year)
            held = [h for h in holds.get(school.id, ())
                    if h.covers(year.label, cls.name, doc.id)]
            state = (f"уничтожен по акту № {destroyed[doc.id]}" if doc.id in destroyed else
                     f"на удержании (удержание {held[0].reason})" if held else
                     f"хранится; уничтожение не ранее {due:%d.%m.%Y}" if due else
                     "хранится постоянно")
            number = numbers.get(doc.id)
            found.append(Found(doc.id, doc.number, doc.kind, school.code, year.label,
                               period.code, cls.name,
                               None if number is None else f"{year.label}/{number}", chain,
                               state, tuple(sorted(names.get(cls.id, ())))))
    chains = sorted({r[2].id for r in rows}) or [0]
    for chain in chains:  # one entry in each school's chain whose ledgers were found
        record(archive, reader, "inspection.search", "search", dt.date.today().isoformat(),
               chain=chain, details={k: v for k, v in asdict(criteria).items()
                                     if v not in (None, "")} | {"found": len(found)})
    return found
