"""``archive close-period``, ``archive close-status``, ``archive worker``, ``archive jobs``."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from cli.context import actor, echo_json, open_archive
from cli.errors import EXIT_PROBLEMS_FOUND, handle_errors

if TYPE_CHECKING:
    from archive_service.closing import service

RUN_STATUS = {"running": "идёт", "done": "завершено", "attention": "ЖДЁТ РЕШЕНИЯ ЧЕЛОВЕКА"}
CLASS_STATUS = {"pending": "в очереди", "running": "в работе", "done": "готово",
                "attention": "ждёт человека", "failed": "сбой, будет повтор"}
SCHOOL_STATUS = {"pending": "в очереди", "dispatched": "классы поставлены в работу",
                 "attention": "ждёт человека"}
JOB_STATUS = {"todo": "в очереди", "doing": "выполняется", "succeeded": "выполнено",
              "failed": "отказ (повторы исчерпаны)", "cancelled": "отменено",
              "aborted": "прервано"}


def _counts(names: dict[str, str], counts: dict[str, int]) -> str:
    return ", ".join(f"{names.get(k, k)} — {n}" for k, n in sorted(counts.items())) or "нет"


def _print_report(report: service.RunReport) -> None:
    click.echo(f"Закрытие периода № {report.id}: {report.period}, "
               + ("все школы" if report.scope == "*" else f"школа {report.scope}")
               + f" — {RUN_STATUS.get(report.status, report.status)}")
    click.echo(f"  Школы: {_counts(SCHOOL_STATUS, report.schools)}; загружено файлов "
               f"{report.imported}")
    click.echo(f"  Классы: {report.total_classes} ({_counts(CLASS_STATUS, report.classes)}); "
               f"срезов {report.snapshots}, документов PDF/A {report.documents} (цепочки подписей "
               "открыты: archive chain НОМЕР)")
    if report.remarks:
        click.echo(f"  Замечания проверки полноты в {len(report.remarks)} классах (срезы "
                   "сделаны; посмотреть: archive check --period … --class …)")
    if report.backup_id:
        click.echo(f"  Резервная копия: {report.backup_id}")
    if report.message:
        click.secho(f"  {report.message}", fg="red")
    if report.attention:
        click.secho(f"  Требует решения человека: {len(report.attention)}", fg="red")
        for code, cls, message in report.attention[:50]:
            where = f"школа {code}" + (f", класс {cls}" if cls else "")
            click.echo(f"   - {where}: {message}")
        click.echo("  Исправьте причину и запустите ту же команду снова: будут повторены только "
                   "эти строки.")


@click.command("close-period", help="Закрыть период: загрузка из источника школы, проверка "
               "полноты, срезы, копии журналов и сводные ведомости PDF/A, открытие цепочек "
               "подписей, резервная копия. Повторный запуск продолжает с места остановки. "
               "Код выхода 10 — что-то ждёт решения человека.")
@click.option("--period", required=True, help="Учебный год и период, например 2025-2026/Q1.")
@click.option("--school", "school_code", help="Код одной школы.")
@click.option("--all-schools", is_flag=True, help="Все школы региона.")
@click.option("--inline", is_flag=True, help="Всё в этом процессе, без очереди (на встроенной "
              "SQLite — всегда так).")
@click.option("--no-wait", is_flag=True, help="Поставить задания в очередь и выйти (ход: "
              "archive close-status).")
@click.option("--json", "as_json", is_flag=True, help="Итог в JSON.")
@handle_errors
def close_period(period: str, school_code: str | None, all_schools: bool, inline: bool,
                 no_wait: bool, as_json: bool) -> None:
    """Run (or resume) the period close."""
    from archive_service.closing import service

    if bool(school_code) == all_schools:
        raise click.UsageError("Укажите одну школу (--school КОД) или все (--all-schools).")
    archive = open_archive()
    who = actor()
    queued = not inline and archive.engine.dialect.name == "postgresql"
    started = service.start_close(archive, period=period, school_code=school_code, actor=who)
    click.echo(("Начато" if started.created else "Продолжено") + f" закрытие периода № "
               f"{started.run_id}: {period}, школ {len(started.schools)}"
               + (" (задания — в очередь для archive worker)" if queued else " (в этом процессе)"),
               err=True)
    if queued:
        from archive_service.closing import queue

        queue.ensure_schema(archive)
        app = queue.make_app(archive.settings)
        with app.open():
            n = service.dispatch_pending(archive, started.run_id, queue.Queued(app))
        click.echo(f"Поставлено заданий: {n}", err=True)
        if not no_wait:
            _wait(archive, started.run_id)
    else:
        service.dispatch_pending(archive, started.run_id, service.Inline(
            archive, who, progress=lambda line: click.echo(f"  {line}", err=True)))
    report = service.run_report(archive, started.run_id)
    _show(report, as_json, unfinished=not no_wait and report.status == "running")


def _show(report: service.RunReport, as_json: bool, unfinished: bool = False) -> None:
    """The report, and exit 10 when something waits for a person (or the close stopped
    unfinished: failed jobs)."""
    if as_json:
        echo_json(report.as_dict())
    else:
        _print_report(report)
    if report.status == "attention" or report.attention or unfinished:
        sys.exit(EXIT_PROBLEMS_FOUND)


def _wait(archive, run_id: int, poll: float = 2.0) -> None:  # noqa: ANN001 - an Archive
    """Progress until the run ends; meanwhile puts dead workers' jobs back in the queue."""
    from archive_service.closing import queue, service
    from archive_service.closing.jobs import close_jobs_active

    shown, idle, next_recovery = None, 0, 0.0
    while True:
        report = service.run_report(archive, run_id)
        line = (f"  классов {report.total_classes}: {_counts(CLASS_STATUS, report.classes)}; "
                f"школ: {_counts(SCHOOL_STATUS, report.schools)}")
        if line != shown:
            click.echo(line, err=True)
            shown = line
        if report.status != "running":
            return
        if time.monotonic() >= next_recovery:  # a dead worker shows after its heartbeats
            next_recovery = time.monotonic() + archive.settings.worker_heartbeat_seconds
            for job in queue.recover_stalled(archive.settings):
                click.echo(f"  задание № {job} остановившегося обработчика возвращено в "
                           "очередь", err=True)
        if not close_jobs_active(archive):
            idle += 1
            if idle >= 3:  # nothing left to do, yet the run is open: failed jobs
                click.secho("  В очереди не осталось заданий этого закрытия, а оно не завершено: "
                            "задания с отказом — archive jobs (повтор: archive jobs retry "
                            "НОМЕР).", fg="red", err=True)
                return
        else:
            idle = 0
        time.sleep(poll)


@click.command("close-status", help="Ход и итог закрытия периода (по умолчанию — последнего).")
@click.argument("run_id", type=int, required=False)
@click.option("--list", "as_list", is_flag=True, help="Последние закрытия.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def close_status(run_id: int | None, as_list: bool, as_json: bool) -> None:
    """Show a run."""
    from archive_service.closing import service

    archive = open_archive()
    if as_list:
        runs = service.list_runs(archive)
        if as_json:
            echo_json([r.as_dict() for r in runs])
        for r in runs if not as_json else []:
            click.echo(f"№ {r.id} {r.created_at:%d.%m.%Y %H:%M} {r.period} "
                       + ("все школы" if r.scope == "*" else r.scope)
                       + f": {RUN_STATUS.get(r.status, r.status)}, классов {r.total_classes}, "
                         f"готово {r.classes.get('done', 0)}")
        return
    if run_id is None:
        runs = service.list_runs(archive, limit=1)
        if not runs:
            click.echo("Закрытий периода ещё не было (archive close-period).")
            return
        run_id = runs[0].id
    _show(service.run_report(archive, run_id), as_json)


@click.command(help="Запустить обработчик заданий очереди (PostgreSQL): закрытие периодов, "
               "ежедневные резервная копия и проверка целостности. Останавливается по Ctrl+C "
               "или SIGTERM, доделав текущее задание.")
@click.option("--name", help="Имя обработчика в журналах (по умолчанию хост:pid).")
@click.option("--concurrency", default=1, show_default=True,
              help="Заданий одновременно (работа в основном на процессоре: лучше больше "
                   "процессов, чем потоков).")
@handle_errors
def worker(name: str | None, concurrency: int) -> None:
    """Run one queue worker."""
    import logging

    from archive_service.closing import queue, service

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    archive = open_archive()
    service.ensure_config_url(archive.settings.database_url)
    click.echo(f"Обработчик {name or service.worker_name()} ждёт задания "
               f"({archive.engine.url.render_as_string(hide_password=True)})", err=True)
    queue.run_worker(archive.settings, name=name, concurrency=concurrency)


@click.group("jobs", invoke_without_command=True, help="Задания очереди; по умолчанию — список "
             "отказов (задания, исчерпавшие повторы).")
@click.option("--status", type=click.Choice(["failed", "todo", "doing", "succeeded", "all"]),
              default="failed", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handle_errors
def jobs(ctx: click.Context, status: str, as_json: bool) -> None:
    """List jobs (the dead-letter list by default)."""
    if ctx.invoked_subcommand:
        return
    from archive_service.closing.jobs import list_jobs

    found = list_jobs(open_archive(), status=None if status == "all" else status)
    if as_json:
        echo_json([j.as_dict() for j in found])
        return
    if not found:
        click.echo("Заданий нет." if status != "failed" else "Отказов нет.")
    for j in found:
        click.echo(f"№ {j.id} {j.task} {j.args}: {JOB_STATUS.get(j.status, j.status)}, попыток "
                   f"{j.attempts}" + (f", {j.at:%d.%m.%Y %H:%M:%S}" if j.at else "")
                   + (f" — {j.message}" if j.message else ""))
    if found and status == "failed":
        click.echo("Повторить: archive jobs retry НОМЕР")
        sys.exit(EXIT_PROBLEMS_FOUND)


@jobs.command("retry", help="Вернуть задание из списка отказов в очередь.")
@click.argument("job_id", type=int)
@handle_errors
def jobs_retry(job_id: int) -> None:
    """Retry a failed job."""
    from archive_service.closing import queue

    queue.retry_failed(open_archive(), job_id)
    click.echo(f"Задание № {job_id} снова в очереди.")
