"""The audit trail: every action and read appended, hash-chained, tamper-evident; both DBs."""

from __future__ import annotations

import json
import os

import pytest
import sqlalchemy as sa

from archive_service.actors import Actor
from archive_service.audit.service import entries, record, verify
from archive_service.config import Settings
from archive_service.db import Archive
from archive_service.signatures.service import return_document, signed_pdf
from archive_service.snapshots.service import show_snapshot
from tests.cli.test_cli import run
from tests.signatures.test_chain import ACTOR, _setup, _sign
from tests.support.processes import run_together
from tests.support.state import drop_immutability

READER = Actor("Инспектор Проверкин", "inspector")


def _actions(archive) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in reversed(entries(archive, limit=1000))]


def test_actions_and_reads_are_appended_in_order_and_verify(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    signed_pdf(archive, doc, reader=READER)
    show_snapshot(archive, 1, reader=READER)
    return_document(archive, document_id=doc, login="belova", reason="Нет отметки",
                    actor=Actor("Белова Ирина Сергеевна", "teacher"))
    actions = [a for a, _who in _actions(archive)]
    assert actions[:3] == ["journal.import", "snapshot.create", "document.create"]
    assert actions[4:] == ["pki.init"] + ["user.add"] * 6 + [
        "document.sign", "document.read", "snapshot.read", "document.return"]
    newest = entries(archive, limit=4)
    assert [(e.action, e.actor, e.role) for e in newest[1:3]] == [
        ("snapshot.read", "Инспектор Проверкин", "inspector"),
        ("document.read", "Инспектор Проверкин", "inspector")]
    assert json.loads(newest[0].details)["reason"] == "Нет отметки"
    signed = json.loads(newest[3].details)
    assert signed["fields"] == ["teacher_1"] and signed["hash_before"] != signed["hash_after"]
    checked, problems = verify(archive)
    assert checked == len(actions) and problems == []


def test_audit_rows_cannot_be_changed_through_the_database(archive):
    record(archive, ACTOR, "test.action", "thing", 1, chain=0)
    for statement in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(sa.exc.DatabaseError, match="immutable"):
            with archive.engine.begin() as conn:
                conn.execute(sa.text(statement))


def _drop_guard(archive) -> None:
    """What an intruder with database rights would do first."""
    drop_immutability(archive, "audit_entry")


def _five(archive) -> None:
    for i in range(1, 6):
        record(archive, ACTOR, "test.action", "thing", i, chain=0, details={"n": i})


@pytest.mark.parametrize(("tamper", "expected"), [
    (["UPDATE audit_entry SET details = '{\"n\": 30}' WHERE seq = 3"],
     ["запись № 3 (test.action, test, {at}): запись изменена"]),
    (["DELETE FROM audit_entry WHERE seq = 3"],
     ["перед записью № 4 нет записей № 3–3: записи удалены",
      "запись № 4 (test.action, test, {at}): не продолжает предыдущую запись"]),
    (["UPDATE audit_entry SET seq = 100 WHERE seq = 2",
      "UPDATE audit_entry SET seq = 2 WHERE seq = 3",
      "UPDATE audit_entry SET seq = 3 WHERE seq = 100"],
     ["запись № 2 (test.action, test, {at}): не продолжает предыдущую запись"]),
    (["DELETE FROM audit_entry WHERE seq = 5"],
     ["цепочка кончается записью № 4, а последней была № 5"]),
], ids=["changed", "removed", "reordered", "tail-removed"])
def test_verify_names_a_changed_removed_or_reordered_entry(archive, tamper, expected):
    _five(archive)
    assert verify(archive) == (5, [])
    _drop_guard(archive)
    with archive.engine.begin() as conn:
        for statement in tamper:
            conn.execute(sa.text(statement))
    _checked, problems = verify(archive)
    messages = [p.message for p in problems]
    for text in expected:
        prefix = text.split("{at}")[0]
        assert any(m.startswith(prefix) for m in messages), (text, messages)


def test_cli_audit_verify_exits_10_naming_the_entry(tmp_path):
    home = tmp_path
    run(home, "init", check=True)
    from tests.support.journal import tiny, write_json

    run(home, "import", str(write_json(tiny(), tmp_path / "a.json")), check=True)
    run(home, "snapshot", "create", "--period", "2025-2026/Q1", "--all", check=True)
    out = run(home, "audit", "verify", check=True).stdout
    assert "Проверено записей: 2. Журнал аудита цел." in out
    listing = run(home, "audit", "list", check=True).stdout
    assert "snapshot.create snapshot 1" in listing and "journal.import file a.json" in listing
    archive = Archive(Settings.from_env({"ARCHIVE_HOME": str(home)}))
    _drop_guard(archive)
    with archive.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 1"))
    archive.dispose()
    broken = run(home, "audit", "verify")
    assert broken.returncode == 10
    assert "Школа T-001: запись № 1 (journal.import, someone else," in broken.stderr
    assert "запись изменена" in broken.stderr


def _append_in_process(env, n, barrier):
    archive = Archive(Settings.from_env(env))
    barrier.wait()
    for i in range(n):
        record(archive, Actor(f"process {os.getpid()}"), "test.action", "thing", i, chain=7)
    archive.dispose()


@pytest.mark.postgres
def test_concurrent_appends_keep_one_unbroken_chain_on_postgres(tmp_path, pg_url):
    from tests.conftest import make_archive

    archive = make_archive(tmp_path, pg_url)
    run_together(_append_in_process, [(25,)] * 4, tmp_path=tmp_path, pg_url=pg_url)
    checked, problems = verify(archive)
    assert (checked, problems) == (100, [])
    seqs = sorted(e.seq for e in entries(archive, chain=7, limit=1000))
    assert seqs == list(range(1, 101))
    archive.dispose()
