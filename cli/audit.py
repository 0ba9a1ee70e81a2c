"""``archive audit verify``, ``archive audit checkpoint`` and ``archive audit list``."""

from __future__ import annotations

import json
import sys

import click

from cli.context import actor, echo_json, open_archive, tsa_passphrase
from cli.errors import EXIT_PROBLEMS_FOUND, handle_errors


@click.group(help="Журнал аудита: кто, когда и что сделал или просмотрел.")
def audit() -> None:
    """Audit commands."""


def _labels(archive) -> dict[int, str]:
    from sqlalchemy import select

    from archive_service.journals.models import School

    with archive.sessions() as s:
        return {0: "без школы"} | {sid: code for sid, code in s.execute(
            select(School.id, School.code))}


@audit.command("verify", help="Проверить цепочку хешей журнала аудита и сверить с ним реестр "
                               "(номера без пропусков, каждая запись зарегистрирована один "
                               "раз); код 10 при нарушении.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def audit_verify(as_json: bool) -> None:
    """Verify every audit chain, then the register against it."""
    from archive_service.audit.anchor import verify_anchors
    from archive_service.audit.service import verify
    from archive_service.register.recheck import verify_register

    archive = open_archive()
    checked, problems = verify(archive)
    problems += verify_anchors(archive)
    register = verify_register(archive)
    labels = _labels(archive)
    if as_json:
        echo_json({"checked": checked, "ok": not problems and not register,
                   "problems": [{"school": labels.get(p.chain, str(p.chain)), "seq": p.seq,
                                 "message": p.message} for p in problems],
                   "register": [{"school": labels.get(p.school_id, str(p.school_id)),
                                 "year": p.year, "number": p.number, "message": p.message}
                                for p in register]})
    else:
        for p in problems:
            click.secho(f"Школа {labels.get(p.chain, p.chain)}: {p.message}", fg="red", err=True)
        for r in register:
            click.secho(f"Школа {labels.get(r.school_id, r.school_id)}: {r.message}", fg="red",
                        err=True)
        click.echo(f"Проверено записей: {checked}. " + (
            "Журнал аудита цел." if not problems else f"Нарушений: {len(problems)}.")
            + (" Реестр сходится с журналом аудита." if not register
               else f" Нарушений в реестре: {len(register)}."))
    if problems or register:
        sys.exit(EXIT_PROBLEMS_FOUND)


@audit.command("checkpoint", help="Заверить головы цепочек журнала аудита штампом времени "
                                   "школы и сохранить контрольную точку в хранилище (вне базы "
                                   "данных); рабочие процессы делают это ежедневно в 01:50.")
@click.option("--school", "school_code", help="Код школы (по умолчанию — все школы с ключами).")
@handle_errors
def audit_checkpoint(school_code: str | None) -> None:
    """Anchor the audit chains now."""
    from archive_service.audit.anchor import make_checkpoints
    made = make_checkpoints(open_archive(), tsa_passphrase=tsa_passphrase(), actor=actor(),
                            school_code=school_code)
    for point in made:
        heads = ", ".join(f"цепочка {c}: запись № {seq}" for c, (seq, _h) in
                          sorted(point.heads.items()))
        click.echo(f"Школа {point.school}: {point.key} ({heads or 'записей нет'})")
    click.echo(f"Контрольных точек: {len(made)}.")


@audit.command("list", help="Последние записи журнала аудита.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def audit_list(limit: int, as_json: bool) -> None:
    """Show the newest entries."""
    from archive_service.audit.service import entries

    archive = open_archive()
    labels = _labels(archive)
    rows = entries(archive, limit=limit)
    if as_json:
        echo_json([{"school": labels.get(e.chain), "seq": e.seq, "at": e.at.isoformat(),
                    "actor": e.actor, "role": e.role, "action": e.action,
                    "object": f"{e.object_type}:{e.object_id}",
                    "details": json.loads(e.details), "hash": e.hash} for e in rows])
        return
    for e in rows:
        click.echo(f"{e.at:%d.%m.%Y %H:%M:%S} {labels.get(e.chain)} № {e.seq}: {e.actor} "
                   f"({e.role}) {e.action} {e.object_type} {e.object_id}")
