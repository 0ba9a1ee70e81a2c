"""Pure retention library: rules, date arithmetic, disposition decisions (no I/O).

Built in the retention issue. It must import nothing from Flask, SQLAlchemy or
``archive_service`` (tests/test_architecture.py checks this).
"""
