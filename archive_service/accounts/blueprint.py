"""Login and logout pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from archive_service.accounts.service import authenticate
from archive_service.errors import PermissionDeniedError
from archive_service.web import archive

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; failures are throttled by the service."""
    error = None
    if request.method == "POST":
        try:
            who = authenticate(archive(), request.form.get("login", "").strip(),
                               request.form.get("password", ""),
                               remote=request.remote_addr or "")
        except PermissionDeniedError as exc:
            error = exc.message
        else:
            session.clear()
            session["login"] = who.login
            session.permanent = True
            target = request.args.get("next") or ""
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("signatures.dashboard")
            return redirect(target)
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    """End the session."""
    session.clear()
    return redirect(url_for("accounts.login"))
