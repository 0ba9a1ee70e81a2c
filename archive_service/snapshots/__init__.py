"""Immutable period snapshots (неизменяемые срезы журнала за период)."""
