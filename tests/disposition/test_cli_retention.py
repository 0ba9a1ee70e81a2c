"""``archive retention`` as a secretary and a director use it."""

from __future__ import annotations

import json

from tests.cli.test_cli import run
from tests.conftest import make_archive
from tests.disposition.test_disposition import _year_archive
from tests.signatures.test_chain import pw


def test_rules_plan_act_and_holds_from_the_command_line(tmp_path, sqlite_template):
    import shutil

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(sqlite_template, home / "archive.sqlite3")
    archive = make_archive(home, f"sqlite:///{home / 'archive.sqlite3'}")
    q1, summary = _year_archive(archive, tmp_path)
    archive.dispose()

    rules = run(home, "retention", "rules", check=True).stdout
    assert "journal  Копия классного журнала (полная): 5 лет, уничтожить по акту" in rules
    assert "summary  Сводная ведомость учёта успеваемости: 75 лет, экспертиза ценности" in rules
    assert "п. 4.2" in rules

    early = run(home, "retention", "plan", "--as-of", "2031-12-31", check=True).stdout
    assert "хранится: 4" in early or "хранится" in early
    assert "срок истёк" not in early.split("План")[0]
    due = run(home, "retention", "plan", "--as-of", "2032-01-01", check=True).stdout
    assert "Копия классного журнала 7А класса, I четверть 2025-2026: срок истёк" in due
    lines = [json.loads(x) for x in run(home, "retention", "plan", "--as-of", "2102-01-01",
                                        "--json", check=True).stdout.splitlines()]
    by_ref = {r["ref"]: r for r in lines}
    assert by_ref[q1]["status"] == "due" and by_ref[summary]["action"] == "review"

    held = run(home, "retention", "hold", "add", "--class", "7А", "--reason",
               "проверка Рособрнадзора", check=True).stdout
    assert "№ 1 [T-001, класс 7А] проверка Рособрнадзора" in held
    refused = run(home, "retention", "act", "create", "--as-of", "2032-01-01")
    assert refused.returncode != 0 and "нет документов с истёкшим сроком" in refused.stderr
    run(home, "retention", "hold", "remove", "1", "--reason", "проверка окончена", check=True)
    assert "Удержаний: 0" in run(home, "retention", "hold", "list", check=True).stdout
    assert "снято" in run(home, "retention", "hold", "list", "--all", check=True).stdout

    draft = tmp_path / "act-draft.pdf"
    made = run(home, "retention", "act", "create", "--as-of", "2032-01-01", "--out", str(draft),
               check=True).stdout
    assert "Акт № 1 (T-001) на 01.01.2032: проект" in made
    assert draft.read_bytes().startswith(b"%PDF")
    approve_early = run(home, "retention", "act", "approve", "1", "--as", "director",
                        "--passphrase-file", str(_secret(tmp_path, "director")))
    assert approve_early.returncode != 0 and "согласованный экспертной комиссией" in \
        approve_early.stderr
    run(home, "retention", "act", "review", "1", "--agree", "--protocol", "3", "--members",
        "Орлова В. П., Кузьмина Е. П., Иванова Н. Л.", check=True)
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("не тот пароль\n")
    bad = run(home, "retention", "act", "approve", "1", "--as", "director",
              "--passphrase-file", str(wrong))
    assert bad.returncode != 0 and "Неверный пароль" in bad.stderr
    ok = run(home, "retention", "act", "approve", "1", "--as", "director",
             "--passphrase-file", str(_secret(tmp_path, "director")), check=True).stdout
    assert "утверждён" in ok
    # Today is before the first allowed date: the approved act waits, nothing is destroyed.
    wait = run(home, "retention", "act", "execute", "1")
    assert wait.returncode != 0 and "уничтожать можно с 01.01.2032" in wait.stderr
    signed = tmp_path / "act.pdf"
    run(home, "retention", "act", "show", "1", "--out", str(signed), check=True)
    assert b"/ByteRange" in signed.read_bytes()
    assert "Актов: 1" in run(home, "retention", "act", "list", check=True).stdout


def _secret(tmp_path, login):
    path = tmp_path / f"{login}.txt"
    path.write_text(pw(login) + "\n")
    return path
