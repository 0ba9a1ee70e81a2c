"""``archive pki init|crl|tsa-reissue``, ``archive user add|revoke|reissue``, ``archive sign``,
``archive chain``, ``archive verify``, ``archive timestamps renew``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive_service.errors import ConfigError
from cli.context import (
    actor,
    echo_json,
    open_archive,
    read_file,
    secret_from_file,
    tsa_passphrase,
)
from cli.errors import EXIT_PROBLEMS_FOUND, handle_errors

if TYPE_CHECKING:
    from cryptography import x509

    from archive_service.signatures.renewal import RenewalReport, Renewed
    from signing.verify import ChainResult


#: The CLI's own copies of two service constants (signing.pki.REVOCATION_REASONS's keys and
#: signatures.renewal.DEFAULT_WINDOW in years), so that ``--help`` imports no service;
#: tests/cli/test_lazy_cli.py keeps them equal.
REVOCATION_REASONS = ("key_compromise", "affiliation_changed", "superseded",
                      "cessation_of_operation", "unspecified")
DEFAULT_WINDOW_YEARS = 2.0


@click.group(help="Инфраструктура ключей школы.")
def pki() -> None:
    """PKI commands."""


@pki.command("init", help="Создать корневой сертификат школы, службу штампов времени и печать.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--ca-passphrase-file", type=click.Path(path_type=Path), required=True)
@click.option("--seal-passphrase-file", type=click.Path(path_type=Path), required=True)
@click.option("--root-out", type=click.Path(path_type=Path),
              help="Записать корневой сертификат (PEM) для проверяющих.")
@handle_errors
def pki_init(school_code, ca_passphrase_file, seal_passphrase_file, root_out) -> None:
    """Create the school PKI."""
    from archive_service.signatures.service import init_pki
    from signing.pki import pem

    root = init_pki(open_archive(), school_code=school_code,
                    ca_passphrase=secret_from_file(ca_passphrase_file, "пароль корневого ключа"),
                    seal_passphrase=secret_from_file(seal_passphrase_file, "пароль ключа печати"),
                    tsa_passphrase=tsa_passphrase(), actor=actor())
    if root_out:
        root_out.write_bytes(pem(root))
    click.echo(f"Корневой сертификат школы: серийный номер {format(root.serial_number, 'X')}, "
               f"действителен по {root.not_valid_after_utc:%d.%m.%Y}")


@click.group(help="Пользователи, подписывающие документы.")
def user() -> None:
    """User commands."""


@user.command("add", help="Добавить пользователя и выпустить ему сертификат подписи.")
@click.option("--login", required=True)
@click.option("--name", required=True, help="ФИО, как в журнале.")
@click.option("--position", required=True, help="Должность.")
@click.option("--role", "roles", multiple=True, required=True,
              help="teacher, class_leader:7А, deputy, director, secretary (можно несколько).")
@click.option("--passphrase-file", type=click.Path(path_type=Path), required=True)
@click.option("--ca-passphrase-file", type=click.Path(path_type=Path), required=True)
@click.option("--school", "school_code", help="Код школы.")
@handle_errors
def user_add(login, name, position, roles, passphrase_file, ca_passphrase_file,
             school_code) -> None:
    """Add a signing user."""
    from archive_service.signatures.service import add_user

    parsed = [(r.split(":", 1)[0], r.split(":", 1)[1] if ":" in r else "") for r in roles]
    cert = add_user(open_archive(), school_code=school_code, login=login, full_name=name,
                    position=position, roles=parsed,
                    passphrase=secret_from_file(passphrase_file, "пароль ключа"),
                    ca_passphrase=secret_from_file(ca_passphrase_file, "пароль корневого ключа"),
                    actor=actor())
    click.echo(f"{name}: сертификат {format(cert.serial_number, 'X')} до "
               f"{cert.not_valid_after_utc:%d.%m.%Y}")


@user.command("revoke", help="Отозвать сертификат пользователя: подписывать им больше нельзя "
              "(подписи, поставленные до отзыва, остаются действительными).")
@click.option("--login", required=True)
@click.option("--reason", required=True, type=click.Choice(REVOCATION_REASONS),
              help="key_compromise — ключ скомпрометирован; affiliation_changed — сменил "
                   "должность или уволился; superseded — заменён; cessation_of_operation — "
                   "больше не нужен; unspecified — без причины.")
@click.option("--ca-passphrase-file", type=click.Path(path_type=Path), required=True)
@handle_errors
def user_revoke(login: str, reason: str, ca_passphrase_file: Path) -> None:
    """Revoke a user's certificate."""
    from archive_service.signatures.revocation import revoke_certificate

    done = revoke_certificate(
        open_archive(), login=login, reason=reason,
        ca_passphrase=secret_from_file(ca_passphrase_file, "пароль корневого ключа"),
        actor=actor())
    click.echo(f"{done.owner}: сертификат {done.serial} отозван {done.revoked_at:%d.%m.%Y %H:%M} "
               f"UTC ({done.reason_text}). Новый сертификат: archive user reissue --login {login}")


@user.command("reissue", help="Выпустить пользователю новый сертификат и ключ (прежний, если он "
              "ещё действует, отзывается как заменённый).")
@click.option("--login", required=True)
@click.option("--passphrase-file", type=click.Path(path_type=Path), required=True,
              help="Пароль нового ключа.")
@click.option("--ca-passphrase-file", type=click.Path(path_type=Path), required=True)
@handle_errors
def user_reissue(login: str, passphrase_file: Path, ca_passphrase_file: Path) -> None:
    """Issue a new certificate."""
    from archive_service.signatures.revocation import reissue_certificate

    cert, superseded = reissue_certificate(
        open_archive(), login=login,
        passphrase=secret_from_file(passphrase_file, "пароль ключа"),
        ca_passphrase=secret_from_file(ca_passphrase_file, "пароль корневого ключа"),
        actor=actor())
    click.echo(f"{login}: новый сертификат {format(cert.serial_number, 'X')} до "
               f"{cert.not_valid_after_utc:%d.%m.%Y}"
               + (f"; прежний {superseded} отозван как заменённый" if superseded else ""))


@pki.command("crl", help="Список отозванных сертификатов школы; --out — записать его (DER) для "
             "проверки выгруженных файлов: archive verify ФАЙЛ --root … --crl ….")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--out", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def pki_crl(school_code: str | None, out: Path | None, as_json: bool) -> None:
    """Show or write the school's revocation list."""
    from cryptography.hazmat.primitives import serialization

    from archive_service.signatures.revocation import revocation_list

    crl, revoked = revocation_list(open_archive(), school_code)
    if out:
        out.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    if as_json:
        echo_json([r.__dict__ for r in revoked])
        return
    if not revoked:
        click.echo("Отозванных сертификатов нет.")
    for r in revoked:
        click.echo(f"{r.serial}: {r.owner} ({r.login}), отозван {r.revoked_at:%d.%m.%Y %H:%M} — "
                   f"{r.reason_text}; отозвал(а) {r.revoked_by}")


@pki.command("tsa-reissue", help="Выпустить новый сертификат службы штампов времени школы "
             "(прежний заменяется, его штампы остаются действительными). Нужен, когда "
             "archive timestamps renew сообщает, что новый штамп ничего не продлит.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--ca-passphrase-file", type=click.Path(path_type=Path), required=True)
@click.option("--years", type=click.IntRange(min=1, max=25), default=10, show_default=True,
              help="Срок действия нового сертификата (не дольше корневого).")
@handle_errors
def pki_tsa_reissue(school_code: str | None, ca_passphrase_file: Path, years: int) -> None:
    """Issue a new certificate for the school TSA."""
    from archive_service.signatures.renewal import reissue_tsa

    cert = reissue_tsa(open_archive(), school_code=school_code,
                       ca_passphrase=secret_from_file(ca_passphrase_file,
                                                      "пароль корневого ключа"),
                       tsa_passphrase=tsa_passphrase(), actor=actor(), days=365 * years)
    click.echo(f"Служба штампов времени: новый сертификат {format(cert.serial_number, 'X')} "
               f"до {cert.not_valid_after_utc:%d.%m.%Y}")


@click.group(help="Штампы времени архивных копий.")
def timestamps() -> None:
    """Timestamp commands."""


@timestamps.command("renew", help="Продлить штамп времени заверенных копий, у которых он "
                    "истекает в ближайшие годы (по умолчанию 2): новый штамп подтверждает "
                    "подписи и данные об отзыве, пока они ещё действительны. Запускать по "
                    "расписанию; повторный запуск продлённые копии не трогает.")
@click.option("--school", "school_code", help="Код школы.")
@click.option("--all", "all_schools", is_flag=True, help="Все школы архива по очереди.")
@click.option("--within-years", type=click.FloatRange(min=0),
              default=DEFAULT_WINDOW_YEARS, show_default=True,
              help="Продлить, если штамп истекает раньше, чем через столько лет.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def timestamps_renew(school_code: str | None, all_schools: bool, within_years: float,
                     as_json: bool) -> None:
    """Renew the archival timestamps that expire soon."""
    from archive_service.signatures.renewal import renew_region, renew_timestamps

    within = dt.timedelta(days=365 * within_years)
    if all_schools and school_code:
        raise click.UsageError("Укажите --school КОД или --all, не оба.")
    # Each copy and each school's total is printed as it is done, so a run that fails for
    # some copies or schools still shows what it did (the error lists the rest).
    each = (lambda _r: None) if as_json else _echo_renewed
    total = (lambda _r: None) if as_json else _echo_renewal_total
    if all_schools:
        reports = renew_region(open_archive(), within=within, tsa_passphrase=tsa_passphrase(),
                               actor=actor(), progress=each, school_done=total)
    else:
        reports = [renew_timestamps(open_archive(), school_code=school_code, within=within,
                                    tsa_passphrase=tsa_passphrase(), actor=actor(),
                                    progress=each)]
        total(reports[0])
    if as_json:
        echo_json([{"school": report.school, "checked": report.checked,
                    "threshold": report.threshold.isoformat(timespec="seconds"),
                    "renewed": [r.__dict__ for r in report.renewed]} for report in reports])


def _echo_renewed(r: Renewed) -> None:
    click.echo(f"{r.number} (№ {r.document_id}): штамп времени продлён, действовал до "
               f"{r.old_expiry:%d.%m.%Y}, теперь до {r.new_expiry:%d.%m.%Y}")


def _echo_renewal_total(report: RenewalReport) -> None:
    click.echo(f"Школа {report.school}: заверенных копий {report.checked}, продлено "
               f"{len(report.renewed)}; у остальных штамп действует после "
               f"{report.threshold:%d.%m.%Y}.")


@click.command(help="Подписать документы: все поля этого пользователя на текущем шаге. "
                    "Ключ открывается один раз на все перечисленные документы.")
@click.argument("document_ids", type=int, nargs=-1)
@click.option("--all", "all_waiting", is_flag=True,
              help="Подписать все документы, которые ждут этого пользователя.")
@click.option("--as", "login", required=True, help="Логин подписывающего.")
@click.option("--passphrase-file", type=click.Path(path_type=Path), required=True,
              help="Пароль ключа (для печати — пароль ключа печати).")
@handle_errors
def sign(document_ids: tuple[int, ...], all_waiting: bool, login: str,
         passphrase_file: Path) -> None:
    """Sign documents."""
    from archive_service.signatures.service import sign_documents

    if bool(document_ids) == all_waiting:
        raise click.UsageError("Укажите номера документов или --all (но не то и другое).")
    outcomes = sign_documents(
        open_archive(), document_ids=list(document_ids) or None, login=login,
        passphrase=secret_from_file(passphrase_file, "пароль ключа"),
        tsa_passphrase=tsa_passphrase(), actor=actor(),
        progress=lambda o: click.echo(f"{o.number}: подписано полей {len(o.fields)} "
                                      f"({', '.join(o.fields)})"))
    if not outcomes:
        click.echo("Нет документов, ожидающих подписи этого пользователя.")
    else:
        click.echo(f"Подписано документов: {len(outcomes)}")


@click.command("return", help="Вернуть документ на исправление с указанием причины.")
@click.argument("document_id", type=int)
@click.option("--as", "login", required=True, help="Логин возвращающего.")
@click.option("--reason", required=True, help="Что нужно исправить.")
@handle_errors
def return_(document_id: int, login: str, reason: str) -> None:
    """Return a document."""
    from archive_service.signatures.service import return_document

    state = return_document(open_archive(), document_id=document_id, login=login,
                            reason=reason, actor=actor())
    click.echo(f"Документ {state.number} возвращён: {state.returned}. После исправления "
               "журнала: archive import, archive snapshot create --reason, archive render.")


@click.command(help="Цепочка подписей документа: что подписано, чья очередь.")
@click.argument("document_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def chain(document_id: int, as_json: bool) -> None:
    """Show the chain."""
    from archive_service.signatures.state import STEP_TITLES, chain_state

    state = chain_state(open_archive(), document_id)
    if as_json:
        echo_json(state.as_dict())
        return
    click.echo(f"Документ {state.number}")
    for f in state.fields:
        who = f"подписал(а) {f.signed_by} {f.signed_at}" if f.signed_by else "ожидает подписи"
        click.echo(f"  {STEP_TITLES[f.step]}: {f.expected_signer or ''} — {who}")
    if state.returned:
        click.echo(f"Возвращён на исправление: {state.returned}")
        return
    click.echo("Очередь: " + (STEP_TITLES[state.next_step] if state.next_step
                              else "цепочка завершена"))


@click.command(help="Проверить подписи документа архива или выгруженного PDF (с --root).")
@click.argument("target")
@click.option("--root", type=click.Path(path_type=Path),
              help="Корневой сертификат школы (PEM) для проверки файла без архива.")
@click.option("--crl", "crls", type=click.Path(path_type=Path), multiple=True,
              help="Список отозванных сертификатов школы (archive pki crl --out), с --root.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def verify(target: str, root: Path | None, crls: tuple[Path, ...], as_json: bool) -> None:
    """Verify signatures; exit 10 naming every broken one."""
    from cryptography import x509

    from archive_service.signatures.service import verify_document
    from signing.verify import verify_pdf

    if crls and root is None:
        raise click.UsageError("--crl проверяет выгруженный файл вместе с --root; документ "
                               "архива проверяется по текущему списку школы сам.")
    if root is not None:
        try:
            roots = [x509.load_pem_x509_certificate(read_file(root, "корневой сертификат"))]
        except ValueError:
            raise ConfigError(f"{root}: это не сертификат в формате PEM; выгрузите корневой "
                              "сертификат школы командой archive pki init или со страницы "
                              "«Сотрудники».") from None
        result = verify_pdf(read_file(Path(target), "документ PDF"), roots=roots,
                            crls=[_load_crl(p) for p in crls])
    elif target.isascii() and target.isdigit() and len(target) < 19:
        result = verify_document(open_archive(), int(target), reader=actor())
    else:
        raise ConfigError(f"«{target}» — не номер документа архива. Чтобы проверить "
                          "выгруженный файл PDF, укажите корневой сертификат школы: "
                          "--root ФАЙЛ.")
    _report(result, as_json)
    if not result.ok:
        sys.exit(EXIT_PROBLEMS_FOUND)


def _load_crl(path: Path) -> x509.CertificateRevocationList:
    from cryptography import x509

    data = read_file(path, "список отозванных сертификатов")
    try:
        return (x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----")
                else x509.load_der_x509_crl(data))
    except ValueError:
        raise ConfigError(f"{path}: это не список отозванных сертификатов (CRL, DER или "
                          "PEM); выгрузите его командой archive pki crl --out.") from None


def _report(result: ChainResult, as_json: bool) -> None:
    if as_json:
        echo_json({"ok": result.ok, "error": result.error,
                   "signatures": [s.__dict__ for s in result.signatures]})
        return
    if result.error:
        click.secho(f"НЕ ПРОЙДЕНО: {result.error}", fg="red", err=True)
    for s in result.signatures:
        mark = "верна" if s.holds else "НАРУШЕНА"
        click.echo(f"{s.field}: {s.signer}, {s.timestamp_time or s.signing_time}: {mark} "
                   f"({s.summary})")
    click.echo("Все подписи верны." if result.ok else "Есть нарушенные подписи.")
