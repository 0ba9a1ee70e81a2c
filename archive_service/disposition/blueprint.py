"""The retention page: the plan as of a date, holds, and acts from draft to execution.

Thin: every check is in ``disposition.service`` (roles, order of the steps, holds, dates);
the page only passes the person's own school and shows the outcome.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, redirect, render_template, request, url_for

from archive_service.disposition import service
from archive_service.disposition.plan import STATUS_TEXT
from archive_service.errors import ArchiveError, check_text
from archive_service.web import archive, attachment, attempt, current, permits
from retention import Status

bp = Blueprint("retention", __name__)
SHOWN = 300  # plan rows shown on the page; the counts cover all


def parse_day(text: str | None) -> dt.date:
    """A date from a form or query (ГГГГ-ММ-ДД); today when empty."""
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArchiveError(f"Дата «{text[:20]}» не распознана: нужен вид ГГГГ-ММ-ДД.") from None


def _school() -> str:
    who = current()
    return service.school_code_of(archive(), who.school_id)


@bp.get("/retention")
@permits("retention.manage")
def retention_page():
    """The plan (what is due, held or waiting), the holds and the acts of the school."""
    school = _school()
    try:
        day = parse_day(request.args.get("as_of"))
    except ArchiveError as exc:
        return render_template("error.html", message=exc.message), 400
    counts: dict[str, int] = {}
    rows = []
    for row in service.retention_plan(archive(), as_of=day, school_code=school):
        counts[row.status] = counts.get(row.status, 0) + 1
        if row.status not in ("not_yet_due", "destroyed") and len(rows) < SHOWN:
            rows.append(row)
    who = current()
    return render_template(
        "retention.html", day=day, rows=rows, shown=SHOWN,
        counts={STATUS_TEXT[Status(k)]: v for k, v in sorted(counts.items())},
        holds=service.list_holds(archive(), include_lifted=True, school_code=school),
        acts=service.list_acts(archive(), school_code=school),
        names=service.STATUS_NAMES, is_director=who.has("director"))


def form(name: str) -> str:
    """A form field, refused if it holds text the database cannot store."""
    return check_text(request.form.get(name, ""), name)


def _back() -> object:
    return redirect(url_for("retention.retention_page", as_of=request.form.get("as_of")), 303)


@bp.post("/retention/holds")
@permits("retention.manage")
def hold_add():
    """Place a hold on the school, a year, a class or a document."""
    school = _school()

    def act() -> str:
        doc = form("document").strip()
        if doc and not (doc.isascii() and doc.isdigit()):
            raise ArchiveError("Номер документа — целое число.")
        h = service.place_hold(archive(), actor=current().actor, school_code=school,
                               reason=form("reason"),
                               year=form("year").strip() or None,
                               class_name=form("class_name").strip() or None,
                               document_id=int(doc) if doc else None)
        return f"Удержание № {h.id} наложено."

    attempt(act)
    return _back()


@bp.post("/retention/holds/<id:hold_id>/lift")
@permits("retention.manage")
def hold_lift(hold_id: int):
    """Lift a hold with a reason."""
    school = _school()

    def act() -> str:
        service.lift_hold(archive(), actor=current().actor, hold_id=hold_id, school_code=school,
                          reason=form("reason"))
        return f"Удержание № {hold_id} снято."

    attempt(act)
    return _back()


@bp.post("/retention/acts")
@permits("retention.manage")
def act_create():
    """Draft an act from the plan as of a date."""
    school = _school()

    def act() -> str:
        info = service.create_act(archive(), actor=current().actor, school_code=school,
                                  as_of=parse_day(request.form.get("as_of")))
        return f"Составлен проект акта № {info.number}: дел {info.items}."

    attempt(act)
    return _back()


@bp.post("/retention/acts/<id:number>/review")
@permits("retention.manage")
def act_review(number: int):
    """Record the expert commission's decision."""
    school = _school()

    def act() -> str:
        info = service.review_act(archive(), actor=current().actor, number=number,
                                  school_code=school,
                                  agree=request.form.get("decision") == "agree",
                                  protocol=form("protocol"),
                                  members=form("members"))
        return f"Решение комиссии записано: акт № {number} {service.STATUS_NAMES[info.status]}."

    attempt(act)
    return _back()


@bp.post("/retention/acts/<id:number>/approve")
@permits("retention.approve")
def act_approve(number: int):
    """The director approves the act with their signature."""
    school = _school()
    who = current()

    def act() -> str:
        service.approve_act(archive(), actor=who.actor, number=number, school_code=school,
                            login=who.login, passphrase=request.form.get("passphrase", ""))
        return f"Акт № {number} утверждён подписью директора."

    attempt(act)
    return _back()


@bp.post("/retention/acts/<id:number>/execute")
@permits("retention.manage")
def act_execute(number: int):
    """Execute an approved act."""
    school = _school()

    def act() -> str:
        done = service.execute_act(archive(), actor=current().actor, number=number,
                                   school_code=school)
        message = (f"Акт № {number} исполнен: уничтожено дел {done.items}, объектов "
                   f"{done.objects_deleted}.")
        if done.disposal_failures:  # the act is done; the media must still learn of it
            raise ArchiveError(message + " Но запись об уничтожении не попала на носители "
                               "резервных копий: " + "; ".join(done.disposal_failures)
                               + f". Когда они доступны: archive retention act disposals "
                               f"{number}.")
        return message

    attempt(act)
    return _back()


@bp.get("/retention/acts/<id:number>.pdf")
@permits("retention.manage")
def act_pdf(number: int):
    """The act's file (signed once approved)."""
    school = _school()
    info, data = service.act_file(archive(), number=number, school_code=school,
                                  reader=current().actor)
    return attachment(data, "application/pdf", f"Акт № {info.number} ({info.school}).pdf")
