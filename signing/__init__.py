"""Pure signing library: school PKI, PAdES signatures, stamps, verification.

Built in the signing issue. It must import nothing from Flask, SQLAlchemy or
``archive_service`` (tests/test_architecture.py checks this).
"""
