"""``archive demo-data`` and ``archive demo``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cli.context import actor, echo_json, open_archive
from cli.errors import handle_errors
from retention import ACTION_TEXT, Status

CLASS_NAMES = {"journal": "копии журналов", "summary": "сводные ведомости",
               "folder": "общие папки"}

def _classes(given: str | None) -> list[str] | None:
    """``--classes 1А, 7а`` as the generator's names (upper-case letter, no spaces)."""
    if not given:
        return None
    return [c.strip().upper() for c in given.split(",") if c.strip()] or None


@click.command("demo-data", help="Записать демонстрационную школу (JSON и книги Excel).")
@click.option("--seed", default=1, show_default=True, help="Зерно генератора (одно зерно — "
              "одни и те же данные).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Папка вывода.")
@click.option("--no-xlsx", is_flag=True, help="Только JSON.")
@click.option("--classes", "class_list", metavar="КЛАССЫ",
              help="Только эти классы демо-школы, через запятую (например 1А,7А,10А).")
@handle_errors
def demo_data(seed: int, out: Path, no_xlsx: bool, class_list: str | None) -> None:
    """Write the demo school."""
    from archive_service.demo.service import write_demo_data

    json_files, xlsx_files = write_demo_data(out, seed, xlsx=not no_xlsx,
                                             classes=_classes(class_list))
    click.echo(f"Записано: {len(json_files)} файлов JSON в {out / 'json'}, "
               f"{len(xlsx_files)} книг Excel в {out / 'xlsx'}")


@click.command(help="Главный сценарий на встроенных настройках: демо-школа, загрузка, "
               "проверка, срезы, PDF/A, подписи.")
@click.option("--seed", default=1, show_default=True)
@click.option("--period", "period_code", default="Y", show_default=True,
              help="Период среза: Q1-Q4, H1-H2 или Y (учебный год).")
@click.option("--no-xlsx", is_flag=True, help="Не создавать и не загружать книги Excel.")
@click.option("--no-sign", is_flag=True, help="Не подписывать документы.")
@click.option("--classes", "class_list", metavar="КЛАССЫ",
              help="Только эти классы демо-школы, через запятую (например 1А,7А,10А).")
@click.option("--json", "as_json", is_flag=True, help="Итог в JSON.")
@handle_errors
def demo(seed: int, period_code: str, no_xlsx: bool, no_sign: bool, class_list: str | None,
         as_json: bool) -> None:
    """Run the main job end to end."""
    from archive_service.checks.service import KINDS
    from archive_service.demo.service import DEMO_DIRECTOR_CODE, run_demo
    from archive_service.demo.signers import DEMO_PASSPHRASE, DEMO_PASSWORD, DEMO_TSA_PASSPHRASE
    from archive_service.disposition.plan import STATUS_TEXT, rules

    archive = open_archive()
    out = archive.settings.home / "demo"
    summary = run_demo(archive, out=out, seed=seed, period_code=period_code, actor=actor(),
                       with_xlsx=not no_xlsx, sign=not no_sign, classes=_classes(class_list),
                       tsa_passphrase=os.environ.get("ARCHIVE_TSA_PASSPHRASE")
                       or DEMO_TSA_PASSPHRASE,
                       progress=lambda m: click.echo(m, err=True))
    created = sum(o.created for o in summary.snapshots)
    signed = summary.signing
    if as_json:
        echo_json({"json_files": summary.json_files, "xlsx_files": summary.xlsx_files,
                   "changed_by_xlsx": summary.changed_by_xlsx, "findings": summary.findings,
                   "snapshots": [{**o.snapshot.as_dict(), "created": o.created}
                                 for o in summary.snapshots],
                   "verified": summary.verified, "timings": summary.timings,
                   "signed": signed and {"users": signed.users,
                                         "registered": signed.registered,
                                         "documents": len(signed.documents),
                                         "signatures": signed.signatures},
                   "documents": [d.as_dict() for r in summary.rendered for d in r.documents],
                   "retention": {day.isoformat(): {f"{c}:{st}": n for (c, st), n in
                                                   counts.items()}
                                 for day, counts in summary.retention.items()},
                   "backup": summary.backup and {"id": summary.backup.id,
                                                 "files": summary.backup.files,
                                                 "bytes": summary.backup.bytes_total,
                                                 "verified": summary.backup_verified}})
    else:
        click.echo("")
        click.echo(f"Демо-школа: {out}")
        click.echo(f"Загружено: {summary.json_files} файлов JSON, {summary.xlsx_files} книг Excel"
                   + (f"; книги Excel изменили журнал: {', '.join(summary.changed_by_xlsx)}"
                      if summary.changed_by_xlsx else
                      "; книги Excel той же школы ничего не изменили"))
        click.echo("Проверка полноты: " + (", ".join(
            f"{KINDS[k]} — {n}" for k, n in sorted(summary.findings.items())) or "замечаний нет"))
        click.echo(f"Срезы: {len(summary.snapshots)} классов, создано {created}, "
                   f"уже были {len(summary.snapshots) - created}; хеши проверены: "
                   f"{summary.verified}")
        docs = [d for r in summary.rendered for d in r.documents]
        click.echo(f"Документы PDF/A: {len(docs)}, листов всего {sum(d.pages for d in docs)} "
                   f"(archive document list; выгрузка: archive document export НОМЕР --out "
                   f"файл.pdf)")
        for o in summary.snapshots[:3]:
            s = o.snapshot
            click.echo(f"  {s.class_name} «{s.period_name}»: № {s.id}, v{s.version}, "
                       f"sha256 {s.sha256}")
        if len(summary.snapshots) > 3:
            click.echo(f"  … и ещё {len(summary.snapshots) - 3} (archive snapshot list)")
        if signed:
            click.echo(f"Подписи: {signed.users} демо-пользователей (пароль ключа «"
                       f"{DEMO_PASSPHRASE}»), подписано документов {len(signed.documents)}, "
                       f"подписей {signed.signatures} (archive chain НОМЕР; archive verify "
                       "НОМЕР)")
            click.echo(f"Реестр: зарегистрировано {signed.registered} копий (archive register "
                       "list; archive register export --year 2025-2026 --out реестр.xlsx)")
            click.echo(f"Журнал аудита: контрольных точек {summary.checkpoints}, заверенных "
                       "штампом времени школы и сохранённых вне базы данных (archive audit "
                       "verify)")
            click.echo(f"Веб-интерфейс: archive serve, затем http://127.0.0.1:8000/ — вход "
                       f"admin, inspector или логин любого демо-пользователя (archive audit "
                       f"list), пароль «{DEMO_PASSWORD}»")
        if summary.backup:
            b = summary.backup
            click.echo(f"Резервная копия {b.id}: файлов {b.files}, "
                       f"{b.bytes_total / 2**20:.1f} МиБ, записано {b.bytes_written / 2**20:.1f}"
                       f" МиБ в {b.target}; проверка уровня 2: "
                       + ("нарушений нет" if summary.backup_verified else "НАРУШЕНИЯ")
                       + f" (код директора «{DEMO_DIRECTOR_CODE}», лист ключа восстановления "
                       "backup-escrow-key.txt; archive backup verify КОПИЯ --level 3 "
                       f"--escrow-key {archive.settings.home / 'backup-escrow-key.txt'})")
        classes = rules(archive.settings)
        for day, counts in summary.retention.items():
            click.echo(f"План хранения на {day:%d.%m.%Y} (archive retention plan --as-of "
                       f"{day:%Y-%m-%d}): " + "; ".join(
                           f"{CLASS_NAMES.get(c, c)} — {STATUS_TEXT[Status(st)]}"
                           + (f" ({ACTION_TEXT[classes[c].action]})" if st == "due" else "")
                           + f": {n}" for (c, st), n in sorted(counts.items())))
        click.echo("Время, с: " + ", ".join(f"{k} {v}" for k, v in summary.timings.items()))
    if summary.changed_by_xlsx or summary.verified != len(summary.snapshots) or (
            summary.backup and not summary.backup_verified):
        sys.exit(1)
