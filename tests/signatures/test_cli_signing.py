"""Signing from the command line, and offline verification of an exported file."""

from __future__ import annotations

from tests.cli.test_cli import run
from tests.signatures.test_chain import USERS, pw
from tests.support.journal import tiny, write_json


def school_from_the_cli(home, users=USERS, extra=()):
    """A rendered tiny journal, the school PKI and the ``users``, all through the CLI;
    returns the passphrase files (by login, "ca", "seal" and ``extra``) and the root's PEM."""
    run(home, "init", check=True)
    run(home, "import", str(write_json(tiny(), home / "a.json")), check=True)
    run(home, "snapshot", "create", "--period", "2025-2026/Q1", "--all", check=True)
    run(home, "render", "--period", "2025-2026/Q1", "--all", check=True)
    secrets = {}
    for name in ["ca", "seal", *extra] + [u[0] for u in users]:
        secrets[name] = home / f"{name}.txt"
        secrets[name].write_text(pw(name) + "\n")
    root = home / "root.pem"
    out = run(home, "pki", "init", "--ca-passphrase-file", str(secrets["ca"]),
              "--seal-passphrase-file", str(secrets["seal"]), "--root-out", str(root),
              check=True).stdout
    assert "Корневой сертификат школы" in out and root.read_bytes().startswith(b"-----BEGIN")
    for login, name, position, roles in users:
        role_args = [a for r, c in roles for a in ("--role", f"{r}:{c}" if c else r)]
        run(home, "user", "add", "--login", login, "--name", name, "--position", position,
            *role_args, "--passphrase-file", str(secrets[login]), "--ca-passphrase-file",
            str(secrets["ca"]), check=True)
    return secrets, root


def test_sign_chain_export_and_verify_offline(tmp_path):
    home = tmp_path
    secrets, root = school_from_the_cli(home)
    summary_back = run(home, "return", "2", "--as", "petrova", "--reason",
                       "Нет годовой отметки у Сидоровой", check=True).stdout
    assert "возвращён" in summary_back and "archive snapshot create --reason" in summary_back
    assert "Возвращён на исправление: Нет годовой отметки у Сидоровой; вернул(а) Петрова Анна " \
        "Ивановна" in run(
        home, "chain", "2", check=True).stdout
    early = run(home, "sign", "1", "--as", "director", "--passphrase-file",
                str(secrets["director"]))
    assert early.returncode == 5 and "Сейчас очередь шага «учителя-предметники»" in early.stderr
    for login in ("smirnova", "belova"):
        assert "подписано полей 1" in run(home, "sign", "1", "--as", login,
                                          "--passphrase-file", str(secrets[login]),
                                          check=True).stdout
    # The rest sign their whole queue; the returned summary sheet (2) is not in it.
    for login in ("petrova", "zam"):
        out = run(home, "sign", "--all", "--as", login, "--passphrase-file",
                  str(secrets[login]), check=True).stdout
        assert "подписано полей 1" in out and "Подписано документов: 1" in out
    # The director waits for the secretary to register the certified copy.
    assert "Нет документов, ожидающих подписи" in run(
        home, "sign", "--all", "--as", "director", "--passphrase-file",
        str(secrets["director"]), check=True).stdout
    unregistered = run(home, "sign", "1", "--as", "director", "--passphrase-file",
                       str(secrets["director"]))
    assert unregistered.returncode == 5 and "ещё не зарегистрирован" in unregistered.stderr
    registered = run(home, "register", "add", "1", "--as", "secretary", "--location",
                     "Сейф № 1, папка «2025-2026, 1 четверть»", check=True).stdout
    assert "№ 1" in registered
    out = run(home, "sign", "--all", "--as", "director", "--passphrase-file",
              str(secrets["director"]), check=True).stdout
    assert "Подписано документов: 1" in out
    assert "Нет документов, ожидающих подписи" in run(
        home, "sign", "--all", "--as", "director", "--passphrase-file",
        str(secrets["director"]), check=True).stdout
    usage = run(home, "sign", "1", "--all", "--as", "director", "--passphrase-file",
                str(secrets["director"]))
    assert usage.returncode == 2 and "Укажите номера документов или --all" in usage.stderr
    run(home, "sign", "1", "--as", "secretary", "--passphrase-file", str(secrets["seal"]),
        check=True)
    chain = run(home, "chain", "1", check=True).stdout
    assert "цепочка завершена" in chain and "подписал(а) Орлова Вера Павловна" in chain
    assert "Все подписи верны." in run(home, "verify", "1", check=True).stdout
    exported = tmp_path / "signed.pdf"
    run(home, "document", "export", "1", "--out", str(exported), check=True)
    offline = run(home, "verify", str(exported), "--root", str(root), check=True)
    assert "Все подписи верны." in offline.stdout
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(exported.read_bytes() + b"% after the end\n")
    tail = run(home, "verify", str(appended), "--root", str(root))
    assert tail.returncode == 10
    assert ("НЕ ПРОЙДЕНО: после конца файла (%%EOF) дописано 16 байт, которых не покрывает "
            "ни одна подпись") in tail.stderr
    data = bytearray(exported.read_bytes())
    at = bytes(data).index(b"snapshot-sha256:") + 20
    data[at] ^= 0x01
    exported.write_bytes(bytes(data))
    broken = run(home, "verify", str(exported), "--root", str(root))
    assert broken.returncode == 10
    assert "teacher_1: Смирнова Ольга Николаевна" in broken.stdout
    assert "НАРУШЕНА (подписанные данные изменены)" in broken.stdout


def test_missing_tsa_secret_is_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from cli.main import main

    (tmp_path / "p.txt").write_text("ca-passphrase\n")
    result = CliRunner().invoke(
        main, ["pki", "init", "--ca-passphrase-file", str(tmp_path / "p.txt"),
               "--seal-passphrase-file", str(tmp_path / "p.txt")],
        env={"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_TSA_PASSPHRASE": "",
             "ARCHIVE_DATABASE_URL": None, "ARCHIVE_STORAGE_URL": None})
    assert result.exit_code == 9
    assert "Не задан ARCHIVE_TSA_PASSPHRASE" in result.stderr
    unreadable = run(tmp_path, "pki", "init", "--ca-passphrase-file", str(tmp_path / "нет.txt"),
                     "--seal-passphrase-file", str(tmp_path / "p.txt"))
    assert unreadable.returncode == 9 and "Не удалось прочитать пароль корневого ключа" \
        in unreadable.stderr
