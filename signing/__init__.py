"""Pure signing library: school PKI, PAdES signatures with timestamps, verification.

No Flask, no SQLAlchemy, nothing from ``archive_service`` (tests/test_architecture.py
checks it). Errors are this library's own (``signing.errors``); the service maps them to
domain errors in one place. Importing it puts a block-wise hex-string reader into pyHanko's
parser (``signing.hexstrings``) and a memory of prepared certificate name values into
asn1crypto's name comparison (``signing.x509names``).
"""

from signing import hexstrings, x509names

hexstrings.install()
x509names.install()
