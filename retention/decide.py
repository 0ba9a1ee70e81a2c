"""Disposition decisions: what is due as of a date, and why (frozen results, no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from retention.rules import ACTION_TEXT, Action, RetentionClass, first_allowed


class SummaryState(StrEnum):
    """The year summary sheet of the item's class, as the records say."""

    OK = "ok"  # exists, fully signed, its current bytes verified
    MISSING = "missing"
    UNSIGNED = "unsigned"
    UNVERIFIED = "unverified"  # signed, but no successful verification of its bytes
    FAILED = "failed"  # the last verification of its bytes failed


class Status(StrEnum):
    """The decision for one item."""

    DUE = "due"  # may be listed in an act for the rule's action
    HELD = "held"
    SUMMARY_MISSING = "summary_missing"  # due by date, blocked by the summary sheet
    NOT_YET_DUE = "not_yet_due"
    PERMANENT = "permanent"
    DESTROYED = "destroyed"


_SUMMARY_REASON = {
    SummaryState.MISSING: "сводной ведомости класса за год нет",
    SummaryState.UNSIGNED: "сводная ведомость класса за год подписана не всеми",
    SummaryState.UNVERIFIED: "сводная ведомость класса за год ещё не проверена "
                             "(archive verify)",
    SummaryState.FAILED: "проверка подписей сводной ведомости класса за год не прошла",
}


@dataclass(frozen=True)
class Item:
    """What the planner knows of one archived item."""

    year_closed: int
    holds: tuple[str, ...] = ()  # the reasons of the holds that cover it
    summary: SummaryState | None = None  # for classes that need the summary sheet
    destroyed: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome for one item as of a date."""

    status: Status
    action: Action
    due_on: dt.date | None
    reason: str


def decide(item: Item, rule: RetentionClass, as_of: dt.date) -> Decision:
    """Decide one item. Order: destroyed, permanent, held, not yet due, summary, due."""
    due = first_allowed(rule, item.year_closed)
    if item.destroyed:
        return Decision(Status.DESTROYED, rule.action, due, "уничтожен по акту")
    if due is None:
        return Decision(Status.PERMANENT, Action.KEEP, None, "хранится постоянно")
    if item.holds:
        return Decision(Status.HELD, rule.action, due,
                        "на удержании: " + "; ".join(item.holds))
    if as_of < due:
        return Decision(Status.NOT_YET_DUE, rule.action, due,
                        f"срок хранения не истёк: не ранее {due:%d.%m.%Y}")
    if rule.needs_summary and item.summary is not SummaryState.OK:
        state = item.summary or SummaryState.MISSING
        return Decision(Status.SUMMARY_MISSING, rule.action, due,
                        _SUMMARY_REASON[state] + ": копию уничтожать нельзя")
    return Decision(Status.DUE, rule.action, due,
                    f"хранился до {due - dt.timedelta(days=1):%d.%m.%Y} включительно; далее: "
                    f"{ACTION_TEXT[rule.action]}")
