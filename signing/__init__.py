"""Pure signing library: school PKI, PAdES signatures with timestamps, verification.

No Flask, no SQLAlchemy, nothing from ``archive_service`` (tests/test_architecture.py
checks it). Errors are this library's own (``signing.errors``); the service maps them to
domain errors in one place. Importing it puts a block-wise hex-string reader into pyHanko's
parser (``signing.hexstrings``), block-wise readers of white space, names and numbers
(``signing.tokens``) and a memory of certificate name comparisons into asn1crypto
(``signing.x509names``).
"""

from signing import hexstrings, tokens, x509names

hexstrings.install()
tokens.install()
x509names.install()
