"""Completeness checks before a period is frozen (контроль ведения журнала)."""
