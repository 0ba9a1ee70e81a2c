"""The Flask application factory: extensions, blueprints, error handlers.

The web interface for each role (and accounts, sessions, CSRF) is the subject of the web
issue; until then the service exposes only its health. No personal data is served.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text

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


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` may carry ``ARCHIVE`` (an Archive) for tests."""
    app = Flask(__name__, template_folder="../templates")
    app.config.update(config or {})
    archive: Archive = app.config.get("ARCHIVE") or Archive(Settings.from_env())
    app.extensions["archive"] = archive

    @app.errorhandler(e.ArchiveError)
    def _domain_error(error: e.ArchiveError):
        return jsonify({"error": type(error).__name__, "message": error.message}), \
            status_for(error)

    @app.get("/health")
    def health():
        """Liveness and readiness: the database answers and storage is reachable."""
        with archive.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        archive.storage.exists("health-probe")
        return jsonify({"status": "ok", "database": archive.engine.dialect.name,
                        "storage": archive.storage.url.split("?")[0]})

    return app
