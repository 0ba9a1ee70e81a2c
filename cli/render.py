"""``archive render`` and ``archive document list|export``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.context import actor, echo_json, open_archive
from cli.errors import handle_errors


@click.command(help="Сформировать PDF/A-документы (копию журнала и сводную ведомость) из срезов.")
@click.option("--snapshot", "snapshot_id", type=int, help="Номер среза.")
@click.option("--period", help="Все классы периода, например 2025-2026/Q1 (с --all).")
@click.option("--all", "all_classes", is_flag=True, help="Все классы периода.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--validate", is_flag=True,
              help="Проверить каждый документ валидатором PDF/A-2b (медленнее вдвое).")
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@handle_errors
def render(snapshot_id: int | None, period: str | None, all_classes: bool,
           school_code: str | None, validate: bool, as_json: bool) -> None:
    """Render documents from snapshots."""
    from archive_service.rendering.service import render_snapshots, snapshots_for_period

    if (snapshot_id is None) == (period is None) or (period and not all_classes):
        raise click.UsageError("Укажите --snapshot НОМЕР или --period ПЕРИОД --all.")
    archive = open_archive()
    ids = [snapshot_id] if snapshot_id is not None else snapshots_for_period(
        archive, period=period, school_code=school_code)
    with click.progressbar(length=len(ids), label="Формирование", file=sys.stderr,
                           show_pos=True) as bar:
        outcomes = render_snapshots(archive, ids, actor=actor(), validate=validate,
                                    on_done=lambda _o: bar.update(1))
    if as_json:
        echo_json([{"snapshot": o.snapshot.id, "created": o.created,
                    "documents": [d.as_dict() for d in o.documents]} for o in outcomes])
        return
    for o in outcomes:
        state = "сформированы" if o.created else "уже были"
        docs = "; ".join(f"№ {d.id} {d.number} ({d.pages} л.)" for d in o.documents)
        click.echo(f"{o.snapshot.class_name} «{o.snapshot.period_name}»: {state}: {docs}")


@click.group(help="Архивные документы.")
def document() -> None:
    """Document commands."""


@document.command("list", help="Список документов.")
@click.option("--json", "as_json", is_flag=True, help="Вывод в JSON.")
@handle_errors
def list_(as_json: bool) -> None:
    """List documents."""
    from archive_service.rendering.service import list_documents

    docs = list_documents(open_archive())
    if as_json:
        echo_json([d.as_dict() for d in docs])
        return
    for d in docs:
        click.echo(f"№ {d.id}: {d.number}, {d.pages} л., sha256 {d.sha256[:16]}…, "
                   f"срез № {d.snapshot_id}")
    click.echo(f"Всего документов: {len(docs)}")


@document.command(help="Выгрузить документ в файл со всеми подписями (после проверки хеша).")
@click.argument("document_id", type=int)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Файл PDF.")
@handle_errors
def export(document_id: int, out: Path) -> None:
    """Export a document."""
    from archive_service.rendering.service import document_info
    from archive_service.signatures.service import signed_pdf

    archive = open_archive()
    info = document_info(archive, document_id)
    data = signed_pdf(archive, document_id, reader=actor())  # latest revision, hash-checked
    out.write_bytes(data)
    click.echo(f"Документ {info.number} записан в {out} ({len(data)} байт)")
