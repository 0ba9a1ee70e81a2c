"""``archive search``, ``archive report``, ``archive export-package``: for inspections."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.context import actor, echo_json, open_archive
from cli.errors import handle_errors

KINDS = {"journal": "копия журнала", "summary": "сводная ведомость"}


@click.command("search", help="Найти архивные журналы: по школе, году, периоду, классу, "
                              "виду, номеру по реестру или ученику (во всех классах и годах).")
@click.option("--school", help="Код школы.")
@click.option("--year", help="Учебный год, например 2025-2026.")
@click.option("--period", help="Q1-Q4, H1-H2, T1-T3 или Y.")
@click.option("--class", "class_name", help="Класс, например 7А.")
@click.option("--kind", type=click.Choice(["journal", "summary"]))
@click.option("--number", "register_number", type=int, help="Номер по реестру.")
@click.option("--student", help="Часть ФИО ученика или номер личного дела.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def search_command(school, year, period, class_name, kind, register_number, student,
                   as_json) -> None:
    """Search the archive."""
    from archive_service.inspection.service import Criteria, search

    found = search(open_archive(), Criteria(school, year, period, class_name, kind,
                                            register_number, student), reader=actor())
    if as_json:
        echo_json([f.as_dict() for f in found])
        return
    for f in found:
        click.echo(f"№ {f.document_id} {f.school} {f.year} {f.period} {f.class_name} "
                   f"{KINDS.get(f.kind, f.kind)} ({f.number}); реестр: {f.register or '—'}; "
                   f"{f.chain}; {f.retention}"
                   + (f"; ученики: {', '.join(f.students)}" if f.students else ""))
    click.echo(f"Найдено: {len(found)}")


@click.command("report", help="Протокол проверки документа (PDF/A; --json — то же в JSON).")
@click.argument("document_id", type=int)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def report_command(document_id: int, out: Path, as_json: bool) -> None:
    """Write a document's verification report."""
    from archive_service.inspection.report import report_data, report_pdf

    data = report_data(open_archive(), document_id, reader=actor())
    out.write_bytes(json.dumps(data, ensure_ascii=False, indent=1).encode() if as_json
                    else report_pdf(data))
    click.echo(f"Протокол проверки документа № {document_id}: {out}; итог: "
               + ("подписи верны." if data["verdict"]["ok"] else "ПОДПИСИ НЕ ПРОХОДЯТ ПРОВЕРКУ."))


@click.command("export-package", help="Архивный пакет BagIt (SHA-512) за учебный год школы: "
                                      "документы, срезы, протоколы, реестр, сертификаты.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--year", required=True, help="Учебный год, например 2025-2026.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Новая или пустая папка.")
@handle_errors
def export_package_command(school_code, year, out) -> None:
    """Write the BagIt package."""
    from archive_service.inspection.package import export_package

    done = export_package(open_archive(), school_code=school_code, year=year, out=out,
                          reader=actor())
    click.echo(f"Пакет {out}: документов {done.documents}, файлов {done.files}, "
               f"{done.bytes / 2**20:.1f} МиБ. Проверка: bagit.py --validate {out}")
