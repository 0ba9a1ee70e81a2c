"""``archive retention rules|plan|lock|act …|hold …``: retention and destruction under acts."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.context import actor, echo_json, open_archive, secret_from_file
from cli.errors import handle_errors
from retention import ACTION_TEXT, Status

if TYPE_CHECKING:
    from archive_service.disposition import service

DATE = click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"])


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.date.today()


@click.group(help="Сроки хранения (5 и 75 лет, п. 4.2), акты об уничтожении, удержания.",
             short_help="Сроки хранения (5 и 75 лет), акты об уничтожении, удержания.")
def retention() -> None:
    """Retention commands."""


@retention.command("rules", help="Классы хранения: срок, с какого момента считается, что "
                                 "делать по истечении, основание.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def rules_cmd(as_json: bool) -> None:
    """Print the retention classes."""
    from archive_service.config import Settings
    from archive_service.disposition.rules import rules

    classes = rules(Settings.from_env())
    if as_json:
        echo_json([{**dataclasses.asdict(c), "trigger": c.trigger.value,
                    "action": c.action.value} for c in classes.values()])
        return
    for c in classes.values():
        term = f"{c.years} лет" if c.years else "постоянно"
        click.echo(f"{c.code:8} {c.title}: {term}, {ACTION_TEXT[c.action]}"
                   + ("; только при подписанной и проверенной сводной ведомости"
                      if c.needs_summary else ""))
        click.echo(f"         основание: {c.basis}")
    click.echo("Срок считается с 1 января года, следующего за годом закрытия дела "
               "(окончания учебного года).")


@retention.command("plan", help="Что подлежит уничтожению или экспертизе на дату.")
@click.option("--as-of", type=DATE, help="Дата (ГГГГ-ММ-ДД), по умолчанию сегодня.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--all", "show_all", is_flag=True, help="Показать и то, что хранится дальше.")
@click.option("--json", "as_json", is_flag=True, help="Построчно JSON (по объекту в строке).")
@handle_errors
def plan_cmd(as_of, school_code, show_all, as_json) -> None:
    """Print the retention plan."""
    from archive_service.disposition import service
    from archive_service.disposition.plan import STATUS_TEXT

    day = _day(as_of)
    counts: collections.Counter[str] = collections.Counter()
    for row in service.retention_plan(open_archive(), as_of=day, school_code=school_code):
        counts[row.status] += 1
        if as_json:
            click.echo(json.dumps(row.as_dict(), ensure_ascii=False, default=str))
            continue
        if not show_all and row.status in (Status.NOT_YET_DUE, Status.DESTROYED,
                                           Status.PERMANENT):
            continue
        act = f" [в акте № {row.in_act}]" if row.in_act else ""
        click.echo(f"{row.register_number or '—':>12}  {row.title}: "
                   f"{STATUS_TEXT[Status(row.status)]} — {row.reason}{act}")
    if not as_json:
        summary = ", ".join(f"{STATUS_TEXT[Status(k)]}: {v}" for k, v in sorted(counts.items()))
        click.echo(f"План на {day:%d.%m.%Y}. {summary or 'документов нет'}")


@retention.command("lock", help="Заблокировать все архивные объекты в хранилище до конца "
                                "их срока хранения (S3 Object Lock; на диске — запрет в "
                                "приложении). Повторный запуск ничего не сокращает.")
@handle_errors
def lock_cmd() -> None:
    """Apply storage locks."""
    from archive_service.disposition.locks import lock_objects

    count = lock_objects(open_archive())
    click.echo(f"Заблокировано объектов: {count}")


@retention.group(help="Акты о выделении к уничтожению документов, не подлежащих хранению.")
def act() -> None:
    """Act commands."""


def _print_act(info: service.ActInfo) -> None:
    from archive_service.disposition import service

    click.echo(f"Акт № {info.number} ({info.school}) на {info.as_of:%d.%m.%Y}: "
               f"{service.STATUS_NAMES[info.status]}; дел {info.items}, листов {info.sheets}")
    if info.review:
        click.echo(f"  {info.review}")


@act.command("create", help="Составить проект акта из плана на дату.")
@click.option("--as-of", type=DATE, help="Дата плана, по умолчанию сегодня.")
@click.option("--school", "school_code")
@click.option("--out", type=click.Path(path_type=Path), help="Сохранить проект акта (PDF).")
@handle_errors
def act_create(as_of, school_code, out) -> None:
    """Draft an act."""
    from archive_service.disposition import service

    archive = open_archive()
    info = service.create_act(archive, actor=actor(), as_of=_day(as_of),
                              school_code=school_code)
    _print_act(info)
    if out:
        out.write_bytes(service.act_file(archive, number=info.number,
                                         school_code=school_code)[1])
        click.echo(f"Проект акта: {out}")


@act.command("review", help="Записать решение экспертной комиссии (ЭК) по проекту акта.")
@click.argument("number", type=int)
@click.option("--agree/--reject", required=True, help="Согласовать или отклонить.")
@click.option("--protocol", required=True, help="Номер протокола заседания ЭК.")
@click.option("--members", required=True, help="Члены комиссии (ФИО через запятую).")
@click.option("--note", help="Примечание.")
@click.option("--school", "school_code")
@handle_errors
def act_review(number, agree, protocol, members, note, school_code) -> None:
    """Record the commission's decision."""
    from archive_service.disposition import service

    _print_act(service.review_act(open_archive(), actor=actor(), number=number, agree=agree,
                                  protocol=protocol, members=members, note=note,
                                  school_code=school_code))


@act.command("approve", help="Утвердить акт электронной подписью директора.")
@click.argument("number", type=int)
@click.option("--as", "login", required=True, help="Логин директора.")
@click.option("--passphrase-file", type=click.Path(path_type=Path), required=True,
              help="Файл с паролем ключа директора.")
@click.option("--school", "school_code")
@handle_errors
def act_approve(number, login, passphrase_file, school_code) -> None:
    """Approve an act."""
    from archive_service.disposition import service

    _print_act(service.approve_act(
        open_archive(), actor=actor(), number=number, login=login,
        passphrase=secret_from_file(passphrase_file, "пароль ключа"), school_code=school_code))


@act.command("execute", help="Исполнить утверждённый акт: уничтожить перечисленное, оставив "
                             "записи об уничтожении.")
@click.argument("number", type=int)
@click.option("--school", "school_code")
@handle_errors
def act_execute(number, school_code) -> None:
    """Execute an approved act."""
    from archive_service.disposition import service

    done = service.execute_act(open_archive(), actor=actor(), number=number,
                               school_code=school_code)
    _print_act(done.act)
    click.echo(f"Уничтожено дел: {done.items}, объектов хранилища: {done.objects_deleted}")
    if done.classes_cleared:
        click.echo("Удалены поурочные записи классов: " + ", ".join(done.classes_cleared))
    _disposal_failures(done.disposal_failures, number)


def _disposal_failures(failures, number: int) -> None:  # noqa: ANN001
    """Name the backup media that did not get the act's record, and what to do; exit 8."""
    if not failures:
        return
    for failure in failures:
        click.secho(f"  - {failure}", fg="red", err=True)
    click.secho(f"Запись об уничтожении не попала на носители резервных копий: {len(failures)}. "
                "Пока её там нет, восстановление старой копии с них вернёт уничтоженное. "
                f"Когда носитель доступен: archive retention act disposals {number}",
                fg="red", err=True)
    sys.exit(8)


@act.command("disposals", help="Дописать запись об уничтожении по исполненному акту на "
                               "носители резервных копий, где её нет.")
@click.argument("number", type=int)
@click.option("--school", "school_code")
@handle_errors
def act_disposals(number, school_code) -> None:
    """Write the missing disposal records."""
    from archive_service.disposition import service

    failed = service.resend_disposal(open_archive(), number=number, school_code=school_code)
    _disposal_failures(failed, number)
    click.echo(f"Запись об уничтожении по акту № {number} есть на всех носителях.")


@act.command("list", help="Акты школы.")
@click.option("--school", "school_code")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def act_list(school_code, as_json) -> None:
    """List acts."""
    from archive_service.disposition import service

    acts = service.list_acts(open_archive(), school_code=school_code)
    if as_json:
        echo_json([dataclasses.asdict(a) for a in acts])
        return
    for a in acts:
        _print_act(a)
    click.echo(f"Актов: {len(acts)}")


@act.command("show", help="Сохранить PDF акта (подписанный, если утверждён).")
@click.argument("number", type=int)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--school", "school_code")
@handle_errors
def act_show(number, out, school_code) -> None:
    """Write the act's PDF."""
    from archive_service.disposition import service

    info, data = service.act_file(open_archive(), number=number, school_code=school_code,
                                  reader=actor())
    out.write_bytes(data)
    click.echo(f"Акт № {info.number} ({service.STATUS_NAMES[info.status]}): {out}")


@retention.group(help="Удержания (проверка, спор): запрещают уничтожение.")
def hold() -> None:
    """Hold commands."""


def _print_hold(h: service.HoldInfo) -> None:
    scope = ", ".join(x for x in (h.school, h.year, h.class_name and f"класс {h.class_name}",
                                  h.document_id and f"документ № {h.document_id}") if x)
    state = (f"снято {h.lifted_at:%d.%m.%Y} ({h.lifted_by}): {h.lift_reason}" if h.lifted_at
             else "действует")
    click.echo(f"№ {h.id} [{scope}] {h.reason} — наложил(а) {h.placed_by} "
               f"{h.placed_at:%d.%m.%Y}; {state}")


@hold.command("add", help="Наложить удержание на школу, год, класс или документ.")
@click.option("--reason", required=True, help="Основание (проверка, спор, запрос суда).")
@click.option("--school", "school_code")
@click.option("--year", help="Учебный год, например 2025-2026.")
@click.option("--class", "class_name", help="Класс, например 5А.")
@click.option("--document", "document_id", type=int, help="Номер документа.")
@handle_errors
def hold_add(reason, school_code, year, class_name, document_id) -> None:
    """Place a hold."""
    from archive_service.disposition import service

    _print_hold(service.place_hold(open_archive(), actor=actor(), reason=reason,
                                   school_code=school_code, year=year, class_name=class_name,
                                   document_id=document_id))


@hold.command("remove", help="Снять удержание.")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="Почему снимается.")
@handle_errors
def hold_remove(hold_id, reason) -> None:
    """Lift a hold."""
    from archive_service.disposition import service

    _print_hold(service.lift_hold(open_archive(), actor=actor(), hold_id=hold_id,
                                  reason=reason))


@hold.command("list", help="Действующие удержания (--all: и снятые).")
@click.option("--all", "include_lifted", is_flag=True)
@handle_errors
def hold_list(include_lifted) -> None:
    """List holds."""
    from archive_service.disposition import service

    holds = service.list_holds(open_archive(), include_lifted=include_lifted)
    for h in holds:
        _print_hold(h)
    click.echo(f"Удержаний: {len(holds)}")
