"""Pure signing library: school PKI, PAdES signatures with timestamps, verification.

No Flask, no SQLAlchemy, nothing from ``archive_service`` (tests/test_architecture.py
checks it). Errors are this library's own (``signing.errors``); the service maps them to
domain errors in one place. The package itself imports nothing: the modules that use pyHanko
import ``signing.speedups`` first, which puts this library's faster readers into pyHanko and
asn1crypto.
"""
