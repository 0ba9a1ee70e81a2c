"""The lazy ``archive`` command tree (issue 29): help imports no service, the table beside the
loader stays true, and no command prints warning text. Speed itself is measured by
bench/bench_cli.py, never asserted here."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from cli.main import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "pyhanko", "pikepdf", "reportlab", "flask", "boto3", "archive_service.db",
         "signing.pki", "openpyxl")


def _command(name: str) -> click.Command:
    module, attribute, _short = COMMANDS[name]
    return getattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_matches_each_command(name):
    command = _command(name)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert COMMANDS[name][2] == command.get_short_help_str(limit=10**6)


def test_every_top_level_command_of_the_cli_modules_is_in_the_table():
    """A command written in a cli module but left out of the table would be unreachable."""
    found: dict[int, tuple[str, str]] = {}
    children: set[int] = set()
    for path in sorted((ROOT / "cli").glob("*.py")):
        module = importlib.import_module(f"cli.{path.stem}")
        for attribute, value in vars(module).items():
            if isinstance(value, click.Command) and value.callback is not None \
                    and value.callback.__module__ == module.__name__:
                found[id(value)] = (module.__name__, attribute)
                if isinstance(value, click.Group):
                    children |= {id(c) for c in value.commands.values()}
    top = {where for key, where in found.items() if key not in children and where[1] != "main"}
    assert top == {(module, attribute) for module, attribute, _ in COMMANDS.values()}


def test_the_cli_copies_of_service_constants_are_the_services_own():
    from archive_service.backups.service import DEFAULT_RETAIN_DAYS
    from archive_service.signatures.renewal import DEFAULT_WINDOW
    from cli import backup, signatures
    from signing.pki import REVOCATION_REASONS

    assert backup.DEFAULT_RETAIN_DAYS == DEFAULT_RETAIN_DAYS
    assert signatures.REVOCATION_REASONS == tuple(REVOCATION_REASONS)
    assert signatures.DEFAULT_WINDOW_YEARS == DEFAULT_WINDOW.days / 365


def _loaded_by(*args: str, heavy: tuple[str, ...] = HEAVY, env: dict[str, str] | None = None
               ) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after ``archive ARGS``."""
    code = ("import sys\nfrom cli.main import main\n"
            "try:\n    main(sys.argv[1:], prog_name='archive')\nexcept SystemExit:\n    pass\n"
            f"import json\nprint(json.dumps([m for m in sys.modules if m.startswith({heavy!r})]))")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                            text=True, cwd=ROOT, check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_help_loads_no_service():
    groups = [n for n in sorted(COMMANDS) if isinstance(_command(n), click.Group)]
    assert _loaded_by("--help") == []
    assert _loaded_by("--version") == []
    for name in [*groups, "sign", "verify", "close-period"]:
        assert _loaded_by(name, "--help") == [], name


#: What a listing has no use for: signing, PDF, drawing, spreadsheets, the web, S3, the task
#: queue, backup compression, the journal readers.
NOT_FOR_LISTS = ("pyhanko", "pikepdf", "reportlab", "openpyxl", "flask", "boto3",
                 "procrastinate", "zstandard", "archive_service.journals.loader",
                 "archive_service.backups.create", "archive_service.closing.queue")


def test_listing_commands_load_only_what_they_list(tmp_path):
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path), "ARCHIVE_ACTOR": "Тест"}
    for key in ("ARCHIVE_DATABASE_URL", "ARCHIVE_STORAGE_URL"):
        env.pop(key, None)
    subprocess.run([sys.executable, "-m", "cli.main", "init"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    for args in (["snapshot", "list"], ["close-status", "--list"], ["fixity", "status"],
                 ["backup", "list"], ["jobs"], ["register", "list"],
                 ["audit", "list", "--limit", "5"], ["retention", "rules"]):
        loaded = _loaded_by(*args, heavy=NOT_FOR_LISTS, env=env)
        assert loaded == [], (args, loaded)


def test_help_lists_every_command_and_a_group_its_subcommands():
    from click.testing import CliRunner

    out = CliRunner().invoke(main, ["--help"], prog_name="archive").output
    assert all(f"  {name} " in out for name in COMMANDS)
    assert "Команды:" in out and "Использование: archive" in out
    backup = CliRunner().invoke(main, ["backup", "--help"], prog_name="archive").output
    assert "restore" in backup and "Использование: archive backup" in backup
    wrong = CliRunner().invoke(main, ["nosuch"], prog_name="archive")
    assert wrong.exit_code == 2 and "Нет такой команды 'nosuch'" in wrong.output


def test_a_command_that_loads_pyhanko_prints_no_warning(tmp_path):
    """pyHanko's import of DSA warns in cryptography; no command shows that to a person."""
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path), "PYTHONWARNINGS": "default"}
    for key in ("ARCHIVE_DATABASE_URL", "ARCHIVE_STORAGE_URL"):
        env.pop(key, None)
    args = ["verify", "--root", str(tmp_path / "корень.pem"), str(tmp_path / "нет.pdf")]
    assert "pyhanko" in {m.split(".")[0] for m in _loaded_by(*args)}
    result = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True,
                            text=True, cwd=ROOT, env=env)
    assert result.returncode == 9
    assert result.stderr.strip() == ("Ошибка: Не удалось прочитать корневой сертификат из файла "
                                     f"{tmp_path / 'корень.pem'}: такого файла нет.")


def test_verify_names_what_is_wrong_with_its_target(tmp_path):
    from click.testing import CliRunner

    def run(*args):
        return CliRunner().invoke(main, ["verify", *args], prog_name="archive",
                                  env={"ARCHIVE_HOME": str(tmp_path)})

    for target in (str(tmp_path / "копия.pdf"), "²", "9" * 30):
        result = run(target)
        assert result.exit_code == 9
        assert f"«{target}» — не номер документа архива" in result.output
    empty = tmp_path / "код.txt"
    empty.write_text("", "utf-8")
    result = CliRunner().invoke(main, ["backup", "copy", "X", "--medium", "Диск", "--handed-by",
                                       "А", "--received-by", "Б", "--as", "secretary",
                                       "--passphrase-file", str(empty)], prog_name="archive",
                                env={"ARCHIVE_HOME": str(tmp_path)})
    assert result.exit_code == 9 and "файл пуст или не в кодировке UTF-8" in result.output
    missing = CliRunner().invoke(main, ["backup", "copy", "X", "--medium", "Диск",
                                        "--handed-by", "А", "--received-by", "Б", "--as", "s",
                                        "--passphrase-file", str(tmp_path / "нет.txt")],
                                 prog_name="archive", env={"ARCHIVE_HOME": str(tmp_path)})
    assert missing.exit_code == 9 and "нет.txt: такого файла нет" in missing.output
    (tmp_path / "корень.pem").write_text("не сертификат", "utf-8")
    result = run("--root", str(tmp_path / "корень.pem"), str(tmp_path / "копия.pdf"))
    assert result.exit_code == 9 and "это не сертификат в формате PEM" in result.output
