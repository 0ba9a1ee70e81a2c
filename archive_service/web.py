"""Web plumbing shared by the blueprints: the archive, the logged-in principal, ``permits``.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure unless configured for
plain-HTTP development) holding only the login; the principal is reloaded from the database
on every request, so a disabled account or an expired inspection takes effect at once.
"""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, flash, g, redirect, request, send_file, session, url_for
from werkzeug.routing import BaseConverter, ValidationError

from archive_service.accounts import access
from archive_service.accounts.service import Principal, principal
from archive_service.db import Archive
from archive_service.errors import ArchiveError, NotFoundError, PermissionDeniedError, check_text


def archive() -> Archive:
    """The archive of this application."""
    return current_app.extensions["archive"]


#: The largest id a route takes: the database's integer columns are 32-bit (PostgreSQL
#: INTEGER), so a larger number names nothing and must not reach a query.
MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    """``<id:name>`` in a route: ASCII digits only (no «²» or other scripts' digits), 1 to
    ``MAX_ID``; anything else matches no route (404), never a server error."""

    regex = "[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


#: The header's links: (text, endpoint, the action of ``access.PERMISSIONS`` it leads to);
#: a person sees the links the table allows them (the views check the same action).
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("Мои задачи", "signatures.dashboard", "dashboard"),
    ("Загрузка журнала", "journals.upload_page", "journal.import"),
    ("Полнота журнала", "checks.report_page", "checks.read"),
    ("Срезы и копии", "closing.close_page", "close.run"),
    ("Ход закрытия", "closing.progress_page", "close.watch"),
    ("Сотрудники", "accounts.people_page", "people.manage"),
    ("Реестр", "register.register_page", "register.read"),
    ("Поиск", "inspection.search_page", "search"),
    ("Резервные копии", "backups.backups_page", "backups.read"),
    ("Журнал аудита", "audit.audit_page", "audit.read"),
    ("Сроки хранения", "retention.retention_page", "retention.manage"),
    ("Моя учётная запись", "accounts.account_page", "account"),
)


def navigation() -> list[tuple[str, str]]:
    """The header's links for the logged-in person: (text, address)."""
    who = g.get("principal")
    if who is None:
        return []
    return [(text, url_for(endpoint)) for text, endpoint, action in NAVIGATION
            if access.allows(who, action)]


#: What an account opened with the administrator's one-time code may reach: the page where
#: the owner sets their own password and key passphrase, and logging out.
SETUP_ENDPOINTS = frozenset({"accounts.setup", "accounts.logout", "accounts.login",
                             "api.logout", "static"})


#: How a form or query field is named in a message (the page's own label); any other field
#: by its name.
FIELD_LABELS = {
    "year": "Учебный год", "q": "Поиск", "page": "Страница", "period": "Период",
    "class": "Класс", "subject": "Предмет", "reason": "Причина", "location": "Место хранения",
    "login": "Логин", "kind": "Вид", "as_of": "Дата", "anyway": "Причина",
    "full_name": "ФИО", "position": "Должность", "code": "Код",
}


def safe_next(target: str | None, default: str) -> str:
    """Where to go after logging in: only a path on this site. Control characters and
    backslashes are what browsers drop or read as «/» (``/%09/evil``, ``/\\evil`` become
    ``//evil``), so they are removed first; whatever then names another site (a scheme, a
    host, «//») gives ``default``."""
    from urllib.parse import urlsplit

    text = "".join(ch for ch in (target or "") if ch >= " " and ch != "\x7f")
    text = text.replace("\\", "/")
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or parts.scheme or parts.netloc:
        return default
    return text


def refuse_nul() -> None:
    """Before each request: no query, form or path value holds a NUL character (no database
    stores one, PostgreSQL refuses it with an error nobody could act on): a 400 naming the
    field instead."""
    values = [*request.args.items(multi=True), *(request.view_args or {}).items()]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                         "multipart/form-data"):
        values += request.form.items(multi=True)
    for name, value in values:
        if isinstance(value, str) and "\x00" in value:
            check_text(value, FIELD_LABELS.get(name, name))


#: A session unused this long ends (the next request logs in again).
SESSION_IDLE = 60 * 60


def start_session(who: Principal, *, setup: bool = False) -> None:
    """A new session for who just logged in: its account's session version (logout or a
    new password ends it on the server) and the time it was last used (idle timeout)."""
    session.clear()
    session["login"] = who.login
    session["v"] = who.session_version
    session["seen"] = int(time.time())
    session.permanent = True
    if setup:
        session["setup"] = True  # logged in with the one-time code itself


def load_principal():  # noqa: ANN201 - None, or the response that stops the request
    """Before each request: who is logged in (or None). A session ends when its account's
    session version moved on (logout, a new password or one-time code: a copied cookie is
    dead too), when the account is deactivated, and after ``SESSION_IDLE`` unused. An
    account opened with a one-time code reaches only its setup page until the owner has set
    their own password."""
    login = session.get("login")
    g.principal = principal(archive(), login) if login else None
    now = int(time.time())
    if g.principal is not None and (session.get("v") != g.principal.session_version
                                    or now - int(session.get("seen", 0)) > SESSION_IDLE):
        g.principal = None
    if login and g.principal is None:
        session.clear()
    elif g.principal is not None and now - int(session.get("seen", 0)) > 60:
        session["seen"] = now
    if g.principal is not None and g.principal.must_setup and not session.get("setup"):
        # A session opened before the administrator issued a new code (or a copied cookie)
        # does not reach the setup page: only a login with the code itself does.
        session.clear()
        g.principal = None
        if request.path.startswith("/api/"):
            return {"error": "Unauthorized", "message": "Войдите заново с новым кодом."}, 401
        return redirect(url_for("accounts.login"))
    if g.principal is not None and g.principal.must_setup and \
            request.endpoint not in SETUP_ENDPOINTS:
        message = "Сначала задайте свой пароль (и пароль ключа подписи) на странице первого входа."
        if request.path.startswith("/api/"):
            return {"error": "Forbidden", "message": message}, 403
        return redirect(url_for("accounts.setup"))
    return None


def chosen_period() -> tuple[int, str, list]:
    """For a page of the person's school (its view ``permits`` the person): (school id, the
    period asked for in ``period`` or the one most likely meant, the school's periods); a
    period the school does not have is a 404 saying so."""
    from archive_service.checks.report import default_period, school_periods

    who = current()
    periods = school_periods(archive(), who.school_id)
    period = request.values.get("period") or default_period(archive(), who.school_id)
    if period is None:
        raise NotFoundError("В архиве ещё нет журнала школы: сначала загрузите выгрузку "
                            "(страница «Загрузка журнала»).")
    if period not in {p[0] for p in periods}:
        raise NotFoundError(f"У школы нет периода «{period[:40]}».")
    return who.school_id, period, periods


def field(name: str, *, limit: int = 2000) -> str:
    """A form field's text (refused if the database could not store it, or far too long)."""
    value = check_text(request.form.get(name, ""), name)
    if len(value) > limit:
        raise ArchiveError(f"Поле «{name}» длиннее {limit} символов.")
    return value


def no_store(response: Response) -> Response:
    """A response that holds a secret or personal data: never kept by a browser or proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def permits(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view that performs ``action`` of ``access.PERMISSIONS``: anonymous visitors go to
    the login page (API clients get 401), a person the table does not allow it gets 403.
    The view keeps its action in ``permission`` (the access-matrix test reads it)."""
    access.PERMISSIONS[action]  # noqa: B018 - an action the table lacks fails at import

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            who = g.get("principal")
            if who is None:
                if request.path.startswith("/api/"):
                    return {"error": "Unauthorized", "message": "Требуется вход."}, 401
                return redirect(url_for("accounts.login", next=request.path))
            access.require(who, action)
            return view(*args, **kwargs)

        wrapped.permission = action  # type: ignore[attr-defined]
        return wrapped

    return decorate


def current() -> Principal:
    """The logged-in principal (inside a ``permits`` view)."""
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


T = TypeVar("T")


def refused(action: Callable[[], T], *,
            refuse: tuple[type[ArchiveError], ...] = (PermissionDeniedError, NotFoundError)
            ) -> tuple[T | None, str | None]:
    """``(result, None)``, or ``(None, message)`` when the service refused with a reason the
    person can act on (shown on the same page); ``refuse``: errors that stay 403/404 pages,
    as in ``attempt``."""
    try:
        return action(), None
    except refuse:
        raise
    except ArchiveError as exc:
        return None, exc.message


def attachment(data: bytes, mimetype: str, name: str) -> Response:
    """A download; Flask encodes a Cyrillic file name for the browser (RFC 6266)."""
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=name)
