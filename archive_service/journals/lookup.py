"""Finding a school, an academic year, a period and the classes a command applies to.

Shared by the services (snapshots, signatures, register, accounts, closing, inspection) and
the CLI: a lower module of the journals package that imports no service, so that the
services need not import each other to name a school or a period.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.errors import ConflictError, NotFoundError
from archive_service.journals.models import AcademicYear, Period, School, SchoolClass
from archive_service.journals.values import given_class as norm_class_name


@dataclass(frozen=True)
class PeriodRef:
    """A period named as «2025-2026/Q1» (year label / period code)."""

    year: str
    code: str

    @classmethod
    def parse(cls, text: str) -> PeriodRef:
        """Parse «2025-2026/Q1»."""
        from archive_service.journals.values import parse_period

        year, sep, code = text.partition("/")
        if not sep:
            raise NotFoundError(
                f"Период «{text}» указан неверно: ожидается учебный год и период, "
                "например 2025-2026/Q1 (Q1-Q4 четверти, H1-H2 полугодия, T1-T3 триместры, "
                "Y учебный год).")
        try:
            return cls(year.strip(), parse_period(code))
        except ValueError as exc:
            raise NotFoundError(f"Период «{text}»: {exc}.") from None


def find_school(session: Session, code: str | None) -> School:
    """The school by code, or the only school when there is exactly one."""
    if code:
        school = session.scalars(select(School).filter_by(code=code)).one_or_none()
        if school is None:
            raise NotFoundError(f"Школа с кодом «{code}» не найдена: сначала загрузите её журнал.")
        return school
    schools = session.scalars(select(School).limit(2)).all()
    if not schools:
        raise NotFoundError("В архиве нет ни одной школы: сначала загрузите журнал (archive import).")
    if len(schools) > 1:
        raise NotFoundError("В архиве несколько школ: укажите школу (--school КОД).")
    return schools[0]


def find_period(session: Session, school: School, ref: PeriodRef) -> tuple[AcademicYear, Period]:
    """The academic year and period named by a reference."""
    year = session.scalars(select(AcademicYear).filter_by(school_id=school.id, label=ref.year)
                           ).one_or_none()
    if year is None:
        raise NotFoundError(f"Учебный год {ref.year} школы {school.code} не найден.")
    period = session.scalars(select(Period).filter_by(academic_year_id=year.id, code=ref.code)
                             ).one_or_none()
    if period is None:
        raise NotFoundError(f"Период {ref.code} учебного года {ref.year} не найден: его даты "
                            "приходят с импортом журнала.")
    return year, period


def classes_for(session: Session, year: AcademicYear, period: Period,
                class_name: str | None) -> list[SchoolClass]:
    """The classes a command applies to: one by name, or all that use this period."""
    query = select(SchoolClass).filter_by(academic_year_id=year.id)
    if class_name:
        try:
            name = norm_class_name(class_name)
        except ConflictError as exc:
            raise NotFoundError(f"{exc.message} Укажите класс так, как в журнале (например "
                                "7А).") from None
        sc = session.scalars(query.filter_by(name=name)).one_or_none()
        if sc is None:
            raise NotFoundError(f"Класс {name} в {year.label} учебном году не найден.")
        if not applies(sc, period):
            raise ConflictError(f"Класс {sc.name} учится не по периодам вида «{period.name}»: "
                                f"выберите его период ({_scheme_hint(sc)}).")
        return [sc]
    classes = [c for c in session.scalars(query) if applies(c, period)]
    return sorted(classes, key=lambda c: (c.grade, c.name))


def applies(sc: SchoolClass, period: Period) -> bool:
    """Whether a period belongs to the class's scheme (the year applies to every class)."""
    from archive_service.journals.values import PERIOD_SCHEMES

    return period.code == "Y" or PERIOD_SCHEMES[period.kind] == sc.period_scheme


def _scheme_hint(sc: SchoolClass) -> str:
    return {"quarters": "Q1-Q4", "half_years": "H1-H2", "trimesters": "T1-T3"}[sc.period_scheme]
