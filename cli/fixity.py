"""``archive fixity run|status``: scheduled integrity checks of every stored object."""

from __future__ import annotations

import sys

import click

from cli.context import actor, echo_json, open_archive
from cli.errors import EXIT_PROBLEMS_FOUND, handle_errors

STATUS = {"ok": "нарушений нет", "failed": "НАЙДЕНЫ НАРУШЕНИЯ", "crashed": "СБОЙ ПРОВЕРКИ",
          "running": "идёт (или прервана)", "interrupted": "ПРЕРВАНА"}


@click.group(help="Проверка целостности хранимых объектов (по расписанию: ежедневно).")
def fixity() -> None:
    """Fixity commands."""


@fixity.command("run", help="Перепроверить хеши части объектов (давно не проверенных) и "
                            "цепочки журнала аудита. Код выхода 10 — нарушения.")
@click.option("--share", type=float, help="Доля объектов в процентах (по умолчанию 100 / "
                                          "ARCHIVE_FIXITY_CYCLE_DAYS: всё за 14 дней).")
@handle_errors
def run(share: float | None) -> None:
    """Run a fixity check."""
    from archive_service.fixity import service

    with click.progressbar(length=1, label="Проверка", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        report = service.run_fixity(open_archive(), actor=actor(), share=share,
                                    progress=progress)
    for problem in report.problems:
        click.secho(f"  - {problem}", fg="red", err=True)
    click.echo(f"Проверка № {report.run_id}: объектов {report.items} из {report.total}, "
               f"{report.bytes / 2**20:.1f} МиБ; {STATUS[report.status]}.")
    if not report.ok:
        sys.exit(EXIT_PROBLEMS_FOUND)


@fixity.command("status", help="Сводка для администратора: последняя проверка, охват цикла, "
                               "нарушения. Код выхода 10 — есть о чём сообщить.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def status(as_json: bool) -> None:
    """Show the fixity summary."""
    from archive_service.fixity import service

    st = service.status(open_archive())
    last = st.last
    if as_json:
        echo_json({"ok": st.ok, "total": st.total, "within_cycle": st.within_cycle,
                   "never_checked": st.never_checked, "cycle_days": st.cycle_days,
                   "failing": st.failing, "last_run": last and {
                       "id": last.id, "status": last.status, "started_at": last.started_at,
                       "finished_at": last.finished_at, "items": last.items,
                       "problems": last.problems, "error": last.error}})
    else:
        if last is None:
            click.echo("Проверок ещё не было (archive fixity run).")
        else:
            click.echo(f"Последняя проверка № {last.id} {last.started_at:%d.%m.%Y %H:%M}: "
                       f"{STATUS.get(last.status, last.status)}; объектов {last.items}"
                       + (f"; {last.error}" if last.error else ""))
            for problem in last.problems or []:
                click.echo(f"  - {problem}")
        click.echo(f"Объектов {st.total}: проверено за {st.cycle_days} дн. {st.within_cycle}, "
                   f"ни разу {st.never_checked}; сейчас с нарушениями {len(st.failing)}")
        for label in st.failing[:20]:
            click.echo(f"  - {label}")
    if not st.ok:
        sys.exit(EXIT_PROBLEMS_FOUND)
