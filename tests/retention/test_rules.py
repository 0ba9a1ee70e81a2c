"""The pure retention library: the Russian counting rule and the decisions, over 80 years."""

from __future__ import annotations

import datetime as dt

import pytest

from retention import Action, Item, Status, SummaryState, classes, closed_year, decide, first_allowed

RULES = classes()
YEAR_END = dt.date(2025, 5, 31)  # the 2024-2025 academic year closes in 2025


def days(start: dt.date, end: dt.date):
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)


def test_a_file_closed_in_2025_with_5_years_may_enter_an_act_dated_2031():
    rule = RULES["journal"]
    year = closed_year(rule, academic_year_end=YEAR_END, closed_on=None)
    assert year == 2025
    assert first_allowed(rule, year) == dt.date(2031, 1, 1)
    assert first_allowed(RULES["summary"], year) == dt.date(2101, 1, 1)
    assert first_allowed(RULES["act"], year) is None


def test_journal_copy_due_exactly_on_the_first_allowed_day_across_80_years():
    rule = RULES["journal"]
    item = Item(year_closed=2025, summary=SummaryState.OK)
    statuses = {}
    for day in days(dt.date(2025, 6, 1), dt.date(2105, 12, 31)):
        statuses[day] = decide(item, rule, day).status
    assert statuses[dt.date(2030, 12, 31)] is Status.NOT_YET_DUE
    assert statuses[dt.date(2031, 1, 1)] is Status.DUE
    first_due = min(d for d, s in statuses.items() if s is Status.DUE)
    assert first_due == dt.date(2031, 1, 1)
    assert all(s is Status.DUE for d, s in statuses.items() if d >= first_due)
    assert decide(item, rule, dt.date(2030, 12, 31)).reason == (
        "срок хранения не истёк: не ранее 01.01.2031")


def test_summary_sheet_only_after_75_years_and_then_for_review():
    rule = RULES["summary"]
    item = Item(year_closed=2025)
    first_due = next(d for d in days(dt.date(2025, 6, 1), dt.date(2105, 12, 31))
                     if decide(item, rule, d).status is Status.DUE)
    assert first_due == dt.date(2101, 1, 1)
    assert decide(item, rule, first_due).action is Action.REVIEW


def test_held_items_are_never_due():
    item = Item(year_closed=2025, holds=("проверка Рособрнадзора",), summary=SummaryState.OK)
    for year in range(2025, 2106):
        decision = decide(item, RULES["journal"], dt.date(year, 6, 1))
        assert decision.status is Status.HELD
        assert "проверка Рособрнадзора" in decision.reason


@pytest.mark.parametrize("state", [None, SummaryState.MISSING, SummaryState.UNSIGNED,
                                   SummaryState.UNVERIFIED, SummaryState.FAILED])
def test_a_journal_copy_waits_for_its_summary_sheet(state):
    decision = decide(Item(year_closed=2025, summary=state), RULES["journal"],
                      dt.date(2040, 1, 1))
    assert decision.status is Status.SUMMARY_MISSING
    assert "сводн" in decision.reason


def test_the_act_is_permanent_and_destroyed_items_stay_destroyed():
    assert decide(Item(year_closed=2031), RULES["act"], dt.date(2200, 1, 1)).status \
        is Status.PERMANENT
    assert decide(Item(year_closed=2025, destroyed=True), RULES["journal"],
                  dt.date(2040, 1, 1)).status is Status.DESTROYED


def test_terms_are_configurable():
    rules = classes(journal_years=3, summary_years=25)
    assert first_allowed(rules["journal"], 2025) == dt.date(2029, 1, 1)
    assert first_allowed(rules["folder"], 2025) == dt.date(2029, 1, 1)
    assert first_allowed(rules["summary"], 2025) == dt.date(2051, 1, 1)
