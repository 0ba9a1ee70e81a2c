"""Encrypted backups (issue 6): so far the cryptography of the format (crypto.py)."""
