"""Inspectors: search within a grant, verification reports, archival packages (BagIt)."""
