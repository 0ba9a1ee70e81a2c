"""The Flask application factory: extensions, blueprints, error handlers.

Every form carries a CSRF token (Flask-WTF's CSRFProtect checks every POST); sessions are
signed cookies, HttpOnly, SameSite=Lax and Secure (unless ARCHIVE_INSECURE_COOKIES=1 for
plain-HTTP development on loopback), expiring after 8 hours.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from archive_service import errors as e
from archive_service.config import Settings
from archive_service.db import Archive

#: Domain errors to HTTP statuses: the one place the web decides this.
HTTP_STATUSES: list[tuple[type[e.ArchiveError], int]] = [
    (e.ImportRejectedError, 422),
    (e.NotFoundError, 404),
    (e.PermissionDeniedError, 403),
    (e.SignatureRefusedError, 422),
    (e.SnapshotBlockedError, 409),
    (e.SnapshotBatchError, 409),
    (e.SigningBatchError, 409),
    (e.RenewalBatchError, 409),
    (e.SnapshotChangedError, 409),
    (e.ConflictError, 409),
    (e.IntegrityError, 500),
    (e.StorageError, 503),
    (e.ConfigError, 500),
    (e.ArchiveError, 400),
]


def status_for(error: e.ArchiveError) -> int:
    """The HTTP status of a domain error."""
    return next(code for cls, code in HTTP_STATUSES if isinstance(error, cls))


def moment_text(value: str | dt.datetime | None, zone: str = "Europe/Moscow") -> str:
    """A moment (ISO text or a datetime) as pages show it, in the school's time zone with
    its offset, like the signature stamps: 03.12.2026 14:03:32 (UTC+05:00) (a moment stored
    without a zone is UTC)."""
    from zoneinfo import ZoneInfo

    if not value:
        return ""
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    here = (at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at).astimezone(ZoneInfo(zone))
    offset = here.strftime("%z")
    return f"{here:%d.%m.%Y %H:%M:%S} (UTC{offset[:3]}:{offset[3:]})"


def _moment(value: str | dt.datetime | None) -> str:
    """The ``moment`` filter: in the logged-in person's school's time zone."""
    from flask import g

    from archive_service.journals.models import DEFAULT_TIME_ZONE

    who = g.get("principal")
    return moment_text(value, who.time_zone if who is not None else DEFAULT_TIME_ZONE)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` may carry ``ARCHIVE`` (an Archive) for tests."""
    app = Flask(__name__, template_folder="../templates")
    app.config.update(config or {})
    archive: Archive = app.config.get("ARCHIVE") or Archive(Settings.from_env())
    app.extensions["archive"] = archive
    settings = archive.settings
    app.config.update(
        SECRET_KEY=app.config.get("SECRET_KEY") or settings.secret_key or _secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
        # Only a changed session is sent back: otherwise a page image finishing after a form
        # post would put back the cookie from before it, and its message would be lost.
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    csrf = CSRFProtect(app)
    from archive_service.web import IdConverter

    app.url_map.converters["id"] = IdConverter  # every id in a route: see IdConverter

    from archive_service.accounts.blueprint import bp as accounts_bp
    from archive_service.api import bp as api_bp
    from archive_service.audit.blueprint import bp as audit_bp
    from archive_service.backups.blueprint import bp as backups_bp
    from archive_service.checks.blueprint import bp as checks_bp
    from archive_service.closing.blueprint import bp as closing_bp
    from archive_service.disposition.blueprint import bp as retention_bp
    from archive_service.inspection.blueprint import bp as inspection_bp
    from archive_service.journals.blueprint import bp as journals_bp
    from archive_service.operations.blueprint import bp as operations_bp
    from archive_service.register.blueprint import bp as register_bp
    from archive_service.signatures.blueprint import bp as signatures_bp
    from archive_service.web import load_principal, navigation, refuse_nul

    for blueprint in (accounts_bp, signatures_bp, journals_bp, checks_bp, closing_bp,
                      register_bp, backups_bp, audit_bp, retention_bp, inspection_bp,
                      operations_bp, api_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # JSON bodies only: see archive_service/api.py
    app.add_template_filter(_moment, "moment")
    app.add_template_global(navigation, "navigation")
    app.before_request(refuse_nul)
    app.before_request(load_principal)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":  # pages and JSON carry students' personal data
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
            "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        return response

    def _error(status: int, message: str):
        if request.path.startswith("/api/") or request.path in ("/health", "/metrics"):
            return jsonify({"error": status, "message": message}), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(e.ArchiveError)
    def _domain_error(error: e.ArchiveError):
        return _error(status_for(error), error.message)

    @app.errorhandler(CSRFError)
    def _csrf(_error_):
        return _error(400, "Форма устарела или отправлена не со страницы архива: обновите "
                           "страницу и повторите.")

    @app.errorhandler(404)
    def _not_found(_error_):
        return _error(404, "Страница не найдена.")

    @app.errorhandler(405)
    def _not_allowed(_error_):
        return _error(405, "Такое действие для этой страницы не предусмотрено.")

    return app


def _secret_key(settings: Settings) -> str:
    """A random key kept in ARCHIVE_HOME (one per deployment unless ARCHIVE_SECRET_KEY)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
