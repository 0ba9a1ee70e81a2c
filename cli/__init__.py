"""The ``archive`` command line (click), one module per command group."""
