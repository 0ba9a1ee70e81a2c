"""Login and logout; the first login and one's own account; the administrator's people page.

Thin: every check is in ``accounts.service`` and ``accounts.people`` (roles, the school,
passwords, passphrases); the views parse the form, call them, and show the outcome.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from archive_service.accounts import people
from archive_service.accounts.service import ROLE_NAMES, authenticate, end_sessions
from archive_service.errors import PermissionDeniedError
from archive_service.web import (
    archive,
    attempt,
    current,
    field,
    no_store,
    permits,
    refused,
    safe_next,
    start_session,
)
from signing.pki import REVOCATION_REASONS

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
            start_session(who, setup=who.must_setup)
            if who.must_setup:
                return redirect(url_for("accounts.setup"))
            return redirect(safe_next(request.args.get("next"),
                                      url_for("signatures.dashboard")))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    """End the session on the server too: every session of the account (a copied cookie
    included) is dead after it."""
    login = session.get("login")
    if login and g.get("principal") is not None:
        end_sessions(archive(), login)
    session.clear()
    return redirect(url_for("accounts.login"))


# --- one's own account -----------------------------------------------------------------------

@bp.route("/account/setup", methods=["GET", "POST"])
@permits("account")
def setup():
    """The first login: the owner sets their own password and key passphrase(s)."""
    who = current()
    if not who.must_setup:
        return redirect(url_for("accounts.account_page"))
    error = None
    if request.method == "POST":
        done, error = refused(lambda: people.complete_setup(
            archive(), who, password=field("password"), repeat=field("repeat"),
            key_passphrase=field("key_passphrase"), key_repeat=field("key_repeat"),
            seal_passphrase=field("seal_passphrase"), seal_repeat=field("seal_repeat")))
        if error is None:
            session.pop("setup", None)
            for line in done:
                flash(line, "ok")
            return redirect(url_for("signatures.dashboard"), 303)
    mine = people.own_account(archive(), who)
    return no_store(make_response(render_template("accounts/setup.html", mine=mine,
                                                  error=error), 422 if error else 200))


@bp.get("/account")
@permits("account")
def account_page():
    """The person's own account: password, signing key, certificate (and the seal)."""
    who = current()
    mine = people.own_account(archive(), who) if who.school_id is not None else None
    return no_store(make_response(render_template("accounts/account.html", mine=mine)))


@bp.post("/account/password")
@permits("account")
def change_password():
    """The owner changes their password."""
    who = current()

    def change() -> str:
        session["v"] = people.change_password(
            archive(), who, current=request.form.get("current", ""),
            password=field("password"), repeat=field("repeat"))
        return "Пароль изменён; другие сеансы этой учётной записи завершены."

    attempt(change)
    return redirect(url_for("accounts.account_page"), 303)


def _key_kind() -> str:
    """Which of the owner's keys a form names: their own (person) or the school's seal."""
    return "seal" if request.form.get("kind") == "seal" else "person"


@bp.post("/account/key")
@permits("account")
def request_key():
    """A new key under a new passphrase (the old certificate is replaced when issued)."""
    who = current()
    attempt(lambda: people.request_key(
        archive(), who, kind=_key_kind(),
        password=request.form.get("password", ""), passphrase=field("passphrase"),
        repeat=field("repeat")) or "Новый ключ создан; сертификат к нему выпустит "
                                   "администратор (страница «Сотрудники»).",
        refuse=(PermissionDeniedError,))
    return redirect(url_for("accounts.account_page"), 303)


@bp.post("/account/key/passphrase")
@permits("account")
def change_key_passphrase():
    """The owner encrypts the same key under a new passphrase."""
    who = current()
    attempt(lambda: people.change_key_passphrase(
        archive(), who, kind=_key_kind(),
        current=request.form.get("current", ""), passphrase=field("passphrase"),
        repeat=field("repeat")) or "Пароль ключа изменён.", refuse=(PermissionDeniedError,))
    return redirect(url_for("accounts.account_page"), 303)


# --- the administrator's people page ---------------------------------------------------------

@bp.get("/people")
@permits("people.manage")
def people_page():
    """The school's people with search, the staff of the journal without an account, the
    certificates waiting to be issued and the school's keys."""
    who = current()
    query = request.args.get("q", "")[:100]
    found = people.people(archive(), who, query=query)
    return no_store(make_response(render_template(
        "accounts/people.html", people=found, query=query,
        staff=people.staff_without_account(archive(), who),
        keys=people.school_keys(archive(), who),
        classes=people.class_names(archive(), who.school_id),
        roles=[(r, ROLE_NAMES[r]) for r in people.SCHOOL_ROLES if r != "class_leader"],
        reasons=REVOCATION_REASONS, login_for=people.login_for)))


def _roles_from_form() -> list[tuple[str, str]]:
    roles = [(r, "") for r in request.form.getlist("role") if r != "class_leader"]
    roles += [("class_leader", c.strip()) for c in request.form.getlist("class_leader")
              if c.strip()]
    return roles


def _code_sheet(full_name: str, login: str, code: str):
    """The one-time code, shown once (never stored, never in a cookie)."""
    return no_store(make_response(render_template(
        "accounts/code.html", full_name=full_name, login=login, code=code,
        days=people.SETUP_DAYS, login_url=url_for("accounts.login", _external=True))))


@bp.post("/people")
@permits("people.manage")
def people_add():
    """Add a person; the page shows their one-time code to hand over."""
    who = current()
    login_, name = field("login", limit=100), field("full_name", limit=300)
    code, error = refused(lambda: people.add_person(
        archive(), who, login=login_, full_name=name, position=field("position", limit=300),
        roles=_roles_from_form()))
    if error is not None:
        flash(error, "error")
        return redirect(url_for("accounts.people_page"), 303)
    return _code_sheet(" ".join(name.split()), login_.strip().lower(), code)


@bp.post("/people/<login>/code")
@permits("people.manage")
def people_code(login: str):
    """A new one-time code for a person who forgot their password."""
    who = current()
    code, error = refused(lambda: people.new_code(archive(), who, login=login))
    if error is not None:
        flash(error, "error")
        return redirect(url_for("accounts.people_page"), 303)
    [person] = [p for p in people.people(archive(), who) if p.login == login]
    return _code_sheet(person.full_name, login, code)


@bp.post("/people/<login>/active")
@permits("people.manage")
def people_active(login: str):
    """Deactivate (or activate again) a person's account."""
    who = current()
    active = request.form.get("active") == "1"

    def act() -> str:
        people.set_active(archive(), who, login=login, active=active)
        return (f"Учётная запись «{login}» включена." if active else
                f"Учётная запись «{login}» отключена: вход закрыт. Если у сотрудника есть "
                "действующий сертификат подписи, отзовите его.")

    attempt(act)
    return redirect(url_for("accounts.people_page", q=request.form.get("q", "")), 303)


@bp.post("/people/<login>/revoke")
@permits("people.manage")
def people_revoke(login: str):
    """Revoke a person's signing certificate (the root's passphrase is needed)."""
    who = current()
    reason = request.form.get("reason", "")

    def act() -> str:
        serial = people.revoke(archive(), who, login=login, reason=reason,
                               ca_passphrase=request.form.get("ca_passphrase", ""))
        return (f"Сертификат {serial} ({login}) отозван. Новый ключ сотрудник создаёт сам на "
                "странице «Моя учётная запись»; затем выпустите ему сертификат.")

    attempt(act)
    return redirect(url_for("accounts.people_page"), 303)


@bp.post("/people/certificates")
@permits("people.manage")
def people_issue():
    """Issue the certificates of every pending key request with the root's passphrase."""
    who = current()

    def act() -> str:
        issued = people.issue_certificates(archive(), who,
                                           ca_passphrase=request.form.get("ca_passphrase", ""))
        if not issued:
            return ("Сертификаты не выпущены: запросы отключённых сотрудников и тех, кто больше "
                    "не подписывает, отозваны.")
        return "Выпущены сертификаты: " + "; ".join(
            f"{i.full_name} ({'печать школы' if i.kind == 'seal' else 'подпись'}) № {i.serial}"
            for i in issued) + "."

    attempt(act)
    return redirect(url_for("accounts.people_page"), 303)


@bp.post("/people/pki")
@permits("people.manage")
def people_pki():
    """Create the school's root certificate and time-stamping service."""
    who = current()
    attempt(lambda: "Корневой сертификат школы создан: № " + people.init_school_pki(
        archive(), who, ca_passphrase=request.form.get("ca_passphrase", ""),
        repeat=request.form.get("repeat", "")) + ". Храните пароль корневого ключа в сейфе.")
    return redirect(url_for("accounts.people_page"), 303)
