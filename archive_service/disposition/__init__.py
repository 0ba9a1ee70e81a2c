"""Retention and disposition: the plan, holds, destruction acts, tombstones, storage locks.

The rules themselves live in the pure ``retention`` library; this module applies them to the
archive's records.
"""
