"""Retention classes, one rule each, and the Russian rule for counting a term.

Seed 004, 4.2: «в конце учебного года ЭКЖ распечатываются на бумажных вариантах, хранятся в
образовательной организации в течение 5 лет, затем сохраняются страницы с отметками
четвертными, полугодовыми, годовыми, архивируются и хранятся в течение 75 лет.»

A term counts from 1 January of the year after the file was closed (records-management
practice): a file closed in 2025 with a 5-year term may enter a destruction act dated
1 January 2031 or later (``closed_year + years < act_year``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum


class Trigger(StrEnum):
    """What closes a file and starts its term."""

    ACADEMIC_YEAR_END = "academic_year_end"  # the journal of a year closes with the year
    CLOSED = "closed"  # the item's own closing date (an act, a backup)


class Action(StrEnum):
    """What happens when the term ends."""

    DESTROY = "destroy"  # under an approved act (акт о выделении к уничтожению)
    REVIEW = "review"  # the expert commission decides again (экспертиза ценности)
    TRANSFER = "transfer"  # hand over to the municipal archive
    KEEP = "keep"  # permanent


ACTION_TEXT = {Action.DESTROY: "уничтожить по акту", Action.REVIEW: "экспертиза ценности",
               Action.TRANSFER: "передать в муниципальный архив",
               Action.KEEP: "хранить постоянно"}

REF_004 = "Положение о ведении ЭКЖ, п. 4.2"
BASIS_004 = ("Положение о ведении электронного классного журнала, п. 4.2: «хранятся в "
             "образовательной организации в течение 5 лет, затем сохраняются страницы с "
             "отметками четвертными, полугодовыми, годовыми, архивируются и хранятся в "
             "течение 75 лет»")


@dataclass(frozen=True)
class RetentionClass:
    """One class of archived items and its single rule.

    ``years`` None: kept permanently. ``needs_summary``: an item of this class may be
    destroyed only when the class's year summary sheet exists, is fully signed and verifies
    (the 75-year pages must survive the 5-year copy).
    """

    code: str
    title: str
    years: int | None
    trigger: Trigger
    action: Action
    basis: str  # the legal basis, quoted
    reference: str  # the same, short (regulation and article), for tables
    needs_summary: bool = False


DEFAULT_CLASSES: tuple[RetentionClass, ...] = (
    RetentionClass("journal", "Копия классного журнала (полная)", 5, Trigger.ACADEMIC_YEAR_END,
                   Action.DESTROY, BASIS_004, REF_004, needs_summary=True),
    RetentionClass("folder", "Общая папка за период (содержит полные копии журналов)", 5,
                   Trigger.ACADEMIC_YEAR_END, Action.DESTROY, BASIS_004, REF_004,
                   needs_summary=True),
    RetentionClass("summary", "Сводная ведомость учёта успеваемости", 75,
                   Trigger.ACADEMIC_YEAR_END, Action.REVIEW, BASIS_004, REF_004),
    RetentionClass("act", "Акт о выделении к уничтожению документов", None, Trigger.CLOSED,
                   Action.KEEP, "Акты о выделении к уничтожению хранятся постоянно "
                   "(практика делопроизводства; DOMAIN.md, «Retention»)",
                   "практика делопроизводства"),
)


def classes(*, journal_years: int | None = None, summary_years: int | None = None,
            basis: str | None = None, reference: str | None = None
            ) -> dict[str, RetentionClass]:
    """The retention classes by code, with this deployment's terms (5 and 75 by default;
    other schools' regulations give e.g. 25 years for the summary sheets)."""
    out = {}
    for c in DEFAULT_CLASSES:
        if c.code in ("journal", "folder") and journal_years is not None:
            c = replace(c, years=journal_years)
        if c.code == "summary" and summary_years is not None:
            c = replace(c, years=summary_years)
        if basis and c.basis == BASIS_004:
            c = replace(c, basis=basis, reference=reference or basis)
        out[c.code] = c
    return out


def closed_year(rule: RetentionClass, *, academic_year_end: dt.date | None,
                closed_on: dt.date | None) -> int:
    """The calendar year in which the file closed, by the rule's trigger."""
    when = academic_year_end if rule.trigger is Trigger.ACADEMIC_YEAR_END else closed_on
    if when is None:
        raise ValueError(f"{rule.code}: no closing date for trigger {rule.trigger}")
    return when.year


def first_allowed(rule: RetentionClass, year_closed: int) -> dt.date | None:
    """The first date an act may list the item: 1 January of ``closed + years + 1``."""
    if rule.years is None:
        return None
    return dt.date(year_closed + rule.years + 1, 1, 1)
