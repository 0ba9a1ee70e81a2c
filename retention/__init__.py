"""Pure retention library: rules, date arithmetic, disposition decisions (no I/O).

It imports nothing from Flask, SQLAlchemy or ``archive_service``
(tests/test_architecture.py checks this).
"""

from retention.decide import Decision, Item, Status, SummaryState, decide
from retention.rules import (
                             ACTION_TEXT,
                             DEFAULT_CLASSES,
                             Action,
                             RetentionClass,
                             Trigger,
                             classes,
                             closed_year,
                             first_allowed,
)

__all__ = ["ACTION_TEXT", "DEFAULT_CLASSES", "Action", "Decision", "Item", "RetentionClass",
           "Status", "SummaryState", "Trigger", "classes", "closed_year", "decide",
           "first_allowed"]
