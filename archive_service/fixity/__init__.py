"""Scheduled fixity checks: every stored object re-hashed against its record within a cycle."""
