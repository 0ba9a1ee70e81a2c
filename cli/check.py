"""``archive check``: the completeness check before a period is frozen."""

from __future__ import annotations

import sys

import click

from cli.context import echo_json, open_archive
from cli.errors import EXIT_PROBLEMS_FOUND, handle_errors


@click.command(help="Проверить полноту журнала за период (отметки, темы, домашние задания, "
               "итоговые отметки, пропуски). Предупреждает, но не запрещает срез.")
@click.option("--period", required=True, help="Учебный год и период, например 2025-2026/Q1.")
@click.option("--class", "class_name", help="Класс, например 7А (по умолчанию все).")
@click.option("--school", "school_code", help="Код школы (если школ несколько).")
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@click.option("--strict", is_flag=True, help="Завершиться с кодом 10, если есть замечания.")
@handle_errors
def check(period: str, class_name: str | None, school_code: str | None, as_json: bool,
          strict: bool) -> None:
    """Run the completeness check and print the findings."""
    from archive_service.checks.service import KINDS, check_class, summarise
    from archive_service.journals.lookup import PeriodRef, classes_for, find_period, find_school

    archive = open_archive()
    with archive.sessions() as s:
        school = find_school(s, school_code)
        year, per = find_period(s, school, PeriodRef.parse(period))
        findings = []
        for sc in classes_for(s, year, per, class_name):
            findings.extend(check_class(s, sc, per))
    counts = summarise(findings)
    if as_json:
        echo_json({"period": period, "school": school.code, "summary": counts,
                   "findings": [f.as_dict() for f in findings]})
    else:
        for f in findings:
            who = f" — {f.student}" if f.student else ""
            click.echo(f"{f.class_name}, {f.subject}{who}: {f.message}")
        click.echo(f"\nИтого замечаний: {len(findings)}")
        for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            click.echo(f"  {KINDS[kind]}: {n}")
    if strict and findings:
        sys.exit(EXIT_PROBLEMS_FOUND)
