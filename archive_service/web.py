"""Web plumbing shared by the blueprints: the archive, the logged-in principal, login_required.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure unless configured for
plain-HTTP development) holding only the login; the principal is reloaded from the database
on every request, so a disabled account or an expired inspection takes effect at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, redirect, request, session, url_for

from archive_service.accounts.service import Principal, principal
from archive_service.db import Archive


def archive() -> Archive:
    """The archive of this application."""
    return current_app.extensions["archive"]


def load_principal() -> None:
    """Before each request: who is logged in (or None)."""
    login = session.get("login")
    g.principal = principal(archive(), login) if login else None
    if login and g.principal is None:
        session.clear()


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the login page (API clients get 401)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("principal") is None:
            if request.path.startswith("/api/"):
                return {"error": "Unauthorized", "message": "Требуется вход."}, 401
            return redirect(url_for("accounts.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


def current() -> Principal:
    """The logged-in principal (inside a login_required view)."""
    return g.principal
