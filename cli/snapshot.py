"""``archive snapshot create|list|show|verify``: immutable period snapshots."""

from __future__ import annotations

import sys

import click

from archive_service.errors import SnapshotBatchError
from cli.context import actor, echo_json, open_archive
from cli.errors import EXIT_PROBLEMS_FOUND, handle_errors


@click.group(help="Неизменяемые срезы журнала за период.")
def snapshot() -> None:
    """Snapshot commands."""


@snapshot.command(help="Зафиксировать журнал класса (или всех классов) за период.")
@click.option("--period", required=True, help="Учебный год и период, например 2025-2026/Q1.")
@click.option("--class", "class_name", help="Класс, например 7А.")
@click.option("--all", "all_classes", is_flag=True, help="Все классы, к которым относится период.")
@click.option("--school", "school_code", help="Код школы (если школ несколько).")
@click.option("--reason", help="Причина новой версии среза (если журнал исправлен).")
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@handle_errors
def create(period: str, class_name: str | None, all_classes: bool, school_code: str | None,
           reason: str | None, as_json: bool) -> None:
    """Create snapshots."""
    from archive_service.snapshots.service import create_snapshots

    if bool(class_name) == all_classes:
        raise click.UsageError("Укажите либо --class КЛАСС, либо --all.")
    try:
        outcomes = create_snapshots(open_archive(), period=period, class_name=class_name,
                                    school_code=school_code, actor=actor(), reason=reason)
    except SnapshotBatchError as batch:
        _print(batch.done, as_json)
        raise
    _print(outcomes, as_json)


def _print(outcomes, as_json: bool) -> None:
    if as_json:
        echo_json([{**o.snapshot.as_dict(), "created": o.created} for o in outcomes])
        return
    for o in outcomes:
        s = o.snapshot
        state = "создан" if o.created else "уже есть, журнал не менялся"
        click.echo(f"{s.class_name} «{s.period_name}» {s.academic_year}: срез № {s.id}, "
                   f"версия {s.version}, sha256 {s.sha256} — {state}")


@snapshot.command("list", help="Список срезов.")
@click.option("--period", help="Учебный год и период, например 2025-2026/Q1.")
@click.option("--class", "class_name", help="Класс.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@handle_errors
def list_(period: str | None, class_name: str | None, school_code: str | None,
          as_json: bool) -> None:
    """List snapshots."""
    from archive_service.snapshots.service import list_snapshots

    infos = list_snapshots(open_archive(), school_code=school_code, period=period,
                           class_name=class_name)
    if as_json:
        echo_json([i.as_dict() for i in infos])
        return
    for i in infos:
        reason = f", причина: {i.reason}" if i.reason else ""
        click.echo(f"№ {i.id}: {i.school} {i.academic_year} {i.period} {i.class_name} "
                   f"v{i.version} {i.sha256[:16]}… {i.created_at} {i.created_by}{reason}")
    click.echo(f"Всего срезов: {len(infos)}")


@snapshot.command(help="Показать срез: запись и содержимое (после проверки хеша).")
@click.argument("snapshot_id", type=int)
@click.option("--content/--no-content", default=False, help="Вывести всё содержимое (JSON).")
@handle_errors
def show(snapshot_id: int, content: bool) -> None:
    """Show a snapshot."""
    from archive_service.snapshots.service import show_snapshot

    info, data = show_snapshot(open_archive(), snapshot_id, reader=actor())
    payload = info.as_dict()
    payload["students"] = len(data["students"])
    payload["courses"] = [c["subject"] + (f" ({c['subgroup']})" if c["subgroup"] else "")
                          for c in data["courses"]]
    payload["lessons"] = sum(len(c["lessons"]) for c in data["courses"])
    if content:
        payload["content"] = data
    echo_json(payload)


@snapshot.command(help="Пересчитать хеши сохранённых срезов и назвать изменённые.")
@click.argument("snapshot_id", type=int, required=False)
@click.option("--all", "all_snapshots", is_flag=True, help="Все срезы.")
@click.option("--period", help="Только срезы периода.")
@click.option("--class", "class_name", help="Только срезы класса.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@handle_errors
def verify(snapshot_id: int | None, all_snapshots: bool, period: str | None,
           class_name: str | None, school_code: str | None, as_json: bool) -> None:
    """Verify snapshots; exit 10 naming every snapshot whose bytes changed."""
    from archive_service.snapshots.service import verify_snapshots

    if snapshot_id is None and not (all_snapshots or period or class_name or school_code):
        raise click.UsageError("Укажите номер среза или --all.")
    outcomes = verify_snapshots(open_archive(), snapshot_id=snapshot_id, school_code=school_code,
                                period=period, class_name=class_name)
    bad = [o for o in outcomes if not o.ok]
    if as_json:
        echo_json({"checked": len(outcomes), "failed": [
            {**o.snapshot.as_dict(), "problem": o.problem} for o in bad]})
    else:
        for o in bad:
            click.secho(f"НАРУШЕНА ЦЕЛОСТНОСТЬ: {o.problem}", fg="red", err=True)
        click.echo(f"Проверено срезов: {len(outcomes)}, с нарушениями: {len(bad)}")
    if bad:
        sys.exit(EXIT_PROBLEMS_FOUND)
