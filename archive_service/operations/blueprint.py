"""``/health`` and ``/metrics``: for load balancers and Prometheus, not for people.

Neither page carries personal data (counts and times only). ``/metrics`` asks for
``Authorization: Bearer <ARCHIVE_METRICS_TOKEN>`` when that variable is set; without it, expose
the port to the monitoring network only (docs/deploy.md).
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from archive_service.errors import PermissionDeniedError

bp = Blueprint("operations", __name__)


@bp.get("/health")
def health():
    """Readiness: the database answers, storage is reachable; the queue when there is one.
    503 with the failing part named when something is down."""
    archive = current_app.extensions["archive"]
    # the kinds only: where the database and the storage are is nobody's business here
    body = {"status": "ok", "database": archive.engine.dialect.name,
            "storage": archive.storage.url.split(":", 1)[0]}
    try:
        with archive.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        body.update(status="error", problem=f"база данных недоступна: {type(exc).__name__}")
        return jsonify(body), 503
    try:
        archive.storage.ping()
    except Exception as exc:  # noqa: BLE001
        body.update(status="error", problem=f"хранилище недоступно: {type(exc).__name__}")
        return jsonify(body), 503
    from archive_service.closing.jobs import has_queue

    if has_queue(archive):
        with archive.engine.connect() as conn:
            body["queue"] = dict(conn.execute(text(
                "SELECT status::text, count(*) FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing', 'failed') GROUP BY 1")).all())
    return jsonify(body)


@bp.get("/metrics")
def metrics():
    """The Prometheus text format (``metrics.py`` lists the figures)."""
    from archive_service.operations.metrics import exposition

    token = os.environ.get("ARCHIVE_METRICS_TOKEN")
    given = request.headers.get("Authorization", "").encode("latin-1", "replace")
    if token and not hmac.compare_digest(given, f"Bearer {token}".encode()):
        raise PermissionDeniedError("Метрики доступны только с токеном ARCHIVE_METRICS_TOKEN.")
    return Response(exposition(current_app.extensions["archive"]),
                    mimetype="text/plain; version=0.0.4; charset=utf-8")
