"""Closing a period for one school or a whole region: runs, per-class tasks, the queue."""
