"""Who performs an operation. Services take an explicit actor and never read a request."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A named person (or the system) acting in a role.

    Until accounts exist (the web issue), the CLI acts as the operating-system user or
    ``ARCHIVE_ACTOR`` in the administrator role; the name is recorded on every change.
    """

    name: str
    role: str = "administrator"

    @classmethod
    def from_env(cls) -> Actor:
        """The actor of a CLI invocation."""
        return cls(os.environ.get("ARCHIVE_ACTOR") or getpass.getuser() or "unknown")

