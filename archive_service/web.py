"""Web plumbing shared by the blueprints: the archive, the logged-in principal, login_required.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure unless configured for
plain-HTTP development) holding only the login; the principal is reloaded from the database
on every request, so a disabled account or an expired inspection takes effect at once.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, flash, g, redirect, request, send_file, session, url_for

from archive_service.accounts.service import Principal, principal
from archive_service.db import Archive
from archive_service.errors import ArchiveError, NotFoundError, PermissionDeniedError


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


def attempt(action: Callable[[], str], *,
            refuse: tuple[type[ArchiveError], ...] = (PermissionDeniedError, NotFoundError)
            ) -> None:
    """Run a form's action and flash its outcome for the page it redirects to.

    A refusal the person can act on (wrong passphrase, a step not reached, a missing field)
    becomes an error message on the page; a permission refusal or a missing object is not a
    message but the 403/404 page (another school's documents do not exist for this person).
    ``refuse``: the errors that become such pages.
    """
    try:
        message = action()
    except refuse:
        raise
    except ArchiveError as exc:
        flash(exc.message, "error")
    else:
        flash(message, "ok")


def attachment(data: bytes, mimetype: str, name: str) -> Response:
    """A download; Flask encodes a Cyrillic file name for the browser (RFC 6266)."""
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=name)
