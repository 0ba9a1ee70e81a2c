"""The period close in the web: the deputy takes the snapshots and renders the copies of
chosen classes or all (day 2 of seed 000, section 4) with progress, and corrects a returned
copy; the director and the deputies see where every class stands.

Thin: ``closing.service`` runs the steps (the same resumable close run as ``archive
close-period``), ``closing.overview`` says where each class stands, the snapshot and render
services make a corrected version.
"""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from archive_service.checks.service import KINDS
from archive_service.closing import background, service
from archive_service.errors import ArchiveError, NotFoundError
from archive_service.rendering.service import render_snapshots
from archive_service.signatures.progress import STAGES, period_overview
from archive_service.snapshots.service import create_snapshots
from archive_service.web import (
    archive,
    attempt,
    chosen_period,
    current,
    field,
    no_store,
    permits,
)

bp = Blueprint("closing", __name__)
RUN_STATUS = {"running": "идёт", "done": "завершено", "attention": "ждёт решения человека"}
CLASS_STATUS = {"pending": "в очереди", "running": "в работе", "done": "готово",
                "attention": "ждёт решения человека", "failed": "сбой"}


@bp.get("/close")
@permits("close.run")
def close_page():
    """The classes of a period, what each has, and the forms to snapshot, render, correct."""
    school_id, period, periods = chosen_period()
    overview = period_overview(archive(), school_id=school_id, period=period)
    runs = service.school_runs(archive(), school_code=current().school_code, period=period,
                               limit=5)
    return no_store(make_response(render_template(
        "closing/close.html", overview=overview, periods=periods, runs=runs, stages=STAGES,
        run_status=RUN_STATUS)))


@bp.post("/close")
@permits("close.run")
def close_start():
    """Snapshot and render the chosen classes (or all) as a close run; go to its progress."""
    school_id, period, _periods = chosen_period()
    who = current()
    chosen = None if request.form.get("all") else [c[:20] for c in request.form.getlist("class")]
    if chosen is not None and not chosen:
        raise ArchiveError("Отметьте классы или нажмите «Все классы периода».")
    started = service.start_close(archive(), period=period, school_code=who.school_code,
                                  actor=who.actor, classes=chosen)
    background.dispatch(archive(), started.run_id, who.actor)
    return redirect(url_for("closing.run_page", run_id=started.run_id), 303)


def _run(run_id: int) -> service.RunReport:
    report = service.run_report(archive(), run_id)
    if report.scope != current().school_code:  # another school's run does not exist here
        raise NotFoundError(f"Закрытие периода № {run_id} не найдено.")
    return report


@bp.get("/close/runs/<id:run_id>")
@permits("close.watch")
def run_page(run_id: int):
    """A run's progress (the page refreshes itself while the run goes on)."""
    report = _run(run_id)
    rows = service.class_rows(archive(), run_id)
    busy = any(r.status in ("pending", "running") for r in rows) or \
        background.working(run_id) or (report.status == "running" and not rows)
    stalled = report.status == "running" and not busy
    return no_store(make_response(render_template(
        "closing/run.html", report=report, rows=rows, busy=busy, stalled=stalled,
        run_status=RUN_STATUS, class_status=CLASS_STATUS, kinds=KINDS)))


@bp.post("/close/runs/<id:run_id>/resume")
@permits("close.run")
def run_resume(run_id: int):
    """Start the same close again: what waited for a person or failed is done anew."""
    report = _run(run_id)
    who = current()
    started = service.start_close(archive(), period=report.period, school_code=who.school_code,
                                  actor=who.actor, classes=report.classes_asked)
    background.dispatch(archive(), started.run_id, who.actor)
    return redirect(url_for("closing.run_page", run_id=started.run_id), 303)


@bp.post("/close/correct")
@permits("close.run")
def correct():
    """A corrected journal frozen as a new snapshot version with its reason, rendered at
    once: the new copies take the returned ones' place in the chain."""
    _school_id, period, _periods = chosen_period()
    who = current()
    class_name = field("class", limit=20)

    def act() -> str:
        reason = " ".join(field("reason", limit=500).split())
        if not reason:
            raise ArchiveError("Укажите причину новой версии: что исправлено в журнале.")
        [made] = create_snapshots(archive(), period=period, class_name=class_name,
                                  school_code=who.school_code, actor=who.actor, reason=reason)
        if not made.created:
            raise ArchiveError(
                f"Журнал {class_name} не изменился с версии {made.snapshot.version} среза: "
                "сначала исправьте журнал в ЭЖ и загрузите новую выгрузку (страница «Загрузка "
                "журнала»), затем сделайте новую версию.")
        [rendered] = render_snapshots(archive(), [made.snapshot.id], actor=who.actor,
                                      workers=1)
        return (f"{class_name}: новая версия среза {made.snapshot.version}; сформированы "
                + ", ".join(f"№ {d.id} ({d.pages} л.)" for d in rendered.documents)
                + ". Подписание начинается заново.")

    attempt(act)
    return redirect(url_for("closing.close_page", period=period), 303)


@bp.get("/progress")
@permits("close.watch")
def progress_page():
    """One picture of the whole school's close: per class, which step waits for whom and
    since when, overdue ones marked."""
    school_id, period, periods = chosen_period()
    overview = period_overview(archive(), school_id=school_id, period=period)
    return no_store(make_response(render_template(
        "closing/progress.html", overview=overview, periods=periods, stages=STAGES)))
