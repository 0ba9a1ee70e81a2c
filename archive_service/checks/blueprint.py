"""The completeness report for the deputies and the director: a page, a drill-down to the
students and lessons of a course, and CSV/XLSX downloads (seed 000 3.5, 004 3.7.2)."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from archive_service.checks import report as reports
from archive_service.errors import NotFoundError
from archive_service.rendering import tables
from archive_service.web import (
    archive,
    attachment,
    chosen_period,
    no_store,
    permits,
)

bp = Blueprint("checks", __name__)


@bp.get("/checks")
@permits("checks.read")
def report_page():
    """The report of a period: classes with charts, courses and teachers worst first."""
    school_id, period, periods = chosen_period()
    found = reports.completeness_report(archive(), school_id=school_id, period=period)
    return no_store(make_response(render_template(
        "checks/report.html", report=found, periods=periods, measures=reports.MEASURES)))


@bp.get("/checks/course")
@permits("checks.read")
def course_page():
    """One course: which students and lessons make its figures."""
    school_id, period, _periods = chosen_period()
    class_name = request.args.get("class", "")[:20]
    found = reports.completeness_report(archive(), school_id=school_id, period=period,
                                        class_name=class_name or None)
    line = found.course(class_name, request.args.get("subject", "")[:300])
    return no_store(make_response(render_template(
        "checks/course.html", report=found, line=line, measures=reports.MEASURES)))


@bp.get("/checks/export.<fmt>")
@permits("checks.read")
def export(fmt: str):
    """The report's course lines as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise NotFoundError("Отчёт выгружается в CSV или XLSX.")
    school_id, period, _periods = chosen_period()
    found = reports.completeness_report(archive(), school_id=school_id, period=period)
    rows = reports.export_rows(found)
    name = f"полнота-{found.year}-{found.period_code}.{fmt}"
    if fmt == "csv":
        return no_store(attachment(tables.to_csv(headers=reports.HEADERS, rows=rows),
                                   "text/csv; charset=utf-8", name))
    data = tables.to_xlsx(
        sheet=f"Полнота {found.period_code}", headers=reports.HEADERS, rows=rows,
        title=f"Полнота журнала: {found.school}, {found.period_name} {found.year}",
        widths=(7, 36, 30, 9, 8, 10, 10, 10, 10, 10))
    return no_store(attachment(
        data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name))


