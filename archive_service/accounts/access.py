"""Who may do what: the service's one permission table, and what a person may read.

``PERMISSIONS`` names every action a page or an API call performs and the roles that may
perform it. The views declare their action (``web.permits``), the header shows the links a
person may follow from the same rules (``web.navigation``), and the access-matrix test
(tests/web/test_access_matrix.py) is generated from this table: a new route without an
action, or an action the table does not grant, fails it.

Reading follows the class (the copies hold students' personal data, 152-ФЗ): the
director, the deputies, the secretary and the administrator read the whole school; an
inspector what a current grant covers (a school, a year or every year); a teacher reads
the copies of the classes where they teach a course and every copy with a field of their
own to sign (a teacher replaced in the middle of a year keeps the copies they signed); a
class leader the classes the journal names them leader of (every year) and the class of
their role in the school's latest academic year (the role carries a class name, not a
year: last year's «7А» is other children). Period folders, the register and the
completeness report are whole-school: a teacher finds their copies on their dashboard and
in the search. Anything outside a person's scope answers as a missing document (404), so
a number tells nobody that it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from archive_service.accounts.service import ROLE_NAMES, Principal
from archive_service.errors import PermissionDeniedError

#: Roles that read (and, where the table says so, act for) the whole school.
WHOLE_SCHOOL = ("director", "deputy", "secretary", "administrator")
#: Roles that read only their classes.
CLASS_ROLES = ("teacher", "class_leader")
STAFF = WHOLE_SCHOOL + CLASS_ROLES
#: Who signs a step of the chain (the secretary affixes the school seal).
SIGNERS = ("teacher", "class_leader", "deputy", "director", "secretary")

SCHOOL, CLASS, OWN = "school", "class", "own"


@dataclass(frozen=True)
class Rule:
    """Who may perform an action: ``roles`` in their school, ``inspectors`` within a current
    grant (inspectors only ever read), and the reach of the action (``scope``): the whole
    school, the reader's classes (``CLASS``: teachers and class leaders see their classes
    only), or the person's own things (``OWN``)."""

    roles: tuple[str, ...]
    scope: str = SCHOOL
    inspectors: bool = False
    title: str = ""  # what the action is, for the refusal


PERMISSIONS: dict[str, Rule] = {
    "dashboard": Rule(STAFF, OWN, True, "свои задачи"),
    "account": Rule(STAFF, OWN, True, "своя учётная запись"),
    "document.read": Rule(STAFF, CLASS, True, "чтение копий журнала"),
    "search": Rule(STAFF, CLASS, True, "поиск копий"),
    "document.sign": Rule(SIGNERS, CLASS, False, "подпись и возврат копий"),
    "document.register": Rule(("secretary",), SCHOOL, False, "регистрация копий"),
    "register.read": Rule(WHOLE_SCHOOL, SCHOOL, True, "реестр копий"),
    "folder.read": Rule(WHOLE_SCHOOL, SCHOOL, True, "общая папка периода"),
    "folder.form": Rule(("secretary",), SCHOOL, False, "формирование общей папки"),
    # The administrator of the e-journal loads the exports, the deputies who check it too
    # (seed 000, 4.1-4.2).
    "journal.import": Rule(("administrator", "deputy"), SCHOOL, False, "загрузка журнала"),
    # The deputies control how the journal is kept, and the director (seed 004, 3.7.2).
    "checks.read": Rule(("deputy", "director"), SCHOOL, False, "полнота журнала"),
    # The deputies take the snapshots and print the final marks by class (seed 000, 4.2);
    # the director watches the whole school's close (seed 000, 4.5; 5.2).
    "close.run": Rule(("deputy",), SCHOOL, False, "срезы и копии"),
    "close.watch": Rule(("director", "deputy"), SCHOOL, False, "ход закрытия периода"),
    "people.manage": Rule(("administrator",), SCHOOL, False, "сотрудники и сертификаты"),
    # The director answers for the backups, the secretary keeps the log and the safe, the
    # administrator makes them (seed 000, 5.2; seed 004, 3.1).
    "backups.read": Rule(("director", "secretary", "administrator"), SCHOOL, False,
                         "резервные копии"),
    "backups.keys": Rule(("director",), SCHOOL, False, "ключи резервных копий"),
    "backups.operate": Rule(("director", "administrator"), SCHOOL, False,
                            "создание и проверка резервных копий"),
    "backups.keep": Rule(("secretary", "administrator"), SCHOOL, False,
                         "журнал пользования носителями"),
    "audit.read": Rule(("director", "administrator"), SCHOOL, False, "журнал аудита"),
    "retention.manage": Rule(WHOLE_SCHOOL, SCHOOL, False, "сроки хранения и акты"),
    "retention.approve": Rule(("director",), SCHOOL, False, "утверждение акта"),
}


def allows(who: Principal | None, action: str) -> bool:
    """Whether the person's roles allow the action at all (the class scope of a read is
    ``read_scope``'s)."""
    rule = PERMISSIONS[action]
    if who is None:
        return False
    if rule.scope == OWN:  # one's own dashboard and account: every logged-in person
        return True
    if who.is_inspector:
        return rule.inspectors and bool(who.grants)
    return who.school_id is not None and who.has(*rule.roles)


def require(who: Principal, action: str) -> None:
    """Refuse (403) unless ``allows``, naming the roles that may."""
    if not allows(who, action):
        rule = PERMISSIONS[action]
        names = ", ".join(ROLE_NAMES[r] for r in rule.roles)
        if rule.inspectors:
            names += ", проверяющий"
        raise PermissionDeniedError(
            f"Раздел «{rule.title}» доступен только ролям: {names}.")


@dataclass(frozen=True)
class Scope:
    """What of one school a person may read: everything (``whole``), or the classes
    ``class_ids`` and the copies with a field for ``signer`` (their full name)."""

    whole: bool
    class_ids: frozenset[int] = frozenset()
    signer: str | None = None  # the name's ``name_key``

    def covers(self, class_id: int, steps: Iterable[dict] = ()) -> bool:
        """Whether a copy of that class, with those fields (``RenderedDocument.steps``),
        is readable."""
        from archive_service.journals.values import name_key

        return self.whole or class_id in self.class_ids or (
            self.signer is not None
            and any(name_key(st.get("signer") or "") == self.signer for st in steps))


NOTHING = Scope(False)
EVERYTHING = Scope(True)


def read_scope(s, who: Principal | None, school_id: int, year: str | None = None) -> Scope:
    """What of the school ``who`` may read (None: the command line's operator, everything);
    ``year``: the academic year asked about (an inspector's grant may cover one year)."""
    from archive_service.journals.models import (
        AcademicYear,
        Course,
        CourseTeacher,
        SchoolClass,
        Staff,
    )
    from archive_service.journals.values import name_key

    if who is None:
        return EVERYTHING
    if not who.may_read_school(school_id, year):
        return NOTHING
    if who.is_inspector or who.has(*WHOLE_SCHOOL):
        return EVERYTHING
    staff = select(Staff.id).where(Staff.school_id == school_id,
                                   Staff.name_key == name_key(who.full_name))
    queries = []
    named = {c for role, c in who.roles if role in CLASS_ROLES and c}
    if who.has("teacher"):
        queries.append(select(Course.school_class_id)
                       .join(CourseTeacher, CourseTeacher.course_id == Course.id)
                       .where(CourseTeacher.staff_id.in_(staff)))
    if who.has("class_leader"):
        queries.append(select(SchoolClass.id).where(SchoolClass.class_leader_id.in_(staff)))
    if named:
        latest = (select(func.max(AcademicYear.label))
                  .where(AcademicYear.school_id == school_id).scalar_subquery())
        queries.append(select(SchoolClass.id)
                       .join(AcademicYear, AcademicYear.id == SchoolClass.academic_year_id)
                       .where(SchoolClass.school_id == school_id, AcademicYear.label == latest,
                              or_(*(SchoolClass.name == n for n in named))))
    ids: set[int] = set()
    for query in queries:
        ids.update(s.scalars(query))
    return Scope(False, frozenset(ids), name_key(who.full_name) if who.has("teacher") else None)
