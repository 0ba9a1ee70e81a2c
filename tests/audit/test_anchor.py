"""The audit trail anchored outside the database (issue 30, item 5): checkpoints stamped by
the school's TSA in storage and in every backup; a recomputed chain is caught; both DBs."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from archive_service.audit.anchor import PREFIX, make_checkpoints, verify_anchors
from archive_service.audit.chain import entry_hash
from archive_service.audit.service import record, verify
from tests.audit.test_audit import _drop_guard
from tests.signatures.test_chain import ACTOR, TSA, _setup


def _recompute_chain(archive, chain: int, seq: int, details: str) -> None:
    """What an intruder with database rights does: change an entry and rehash everything
    after it, and the head, so that the hash chain holds again."""
    _drop_guard(archive)
    with archive.engine.begin() as conn:
        rows = conn.execute(sa.text(
            "SELECT * FROM audit_entry WHERE chain = :c ORDER BY seq"), {"c": chain}
        ).mappings().all()
        prev = None
        for row in rows:
            row = dict(row)
            if row["seq"] == seq:
                row["details"] = details
            if prev is not None:
                row["prev_hash"] = prev
            row["hash"] = entry_hash(
                chain=row["chain"], seq=row["seq"], at=_at(row["at"]), actor=row["actor"],
                role=row["role"], action=row["action"], object_type=row["object_type"],
                object_id=row["object_id"], details=row["details"], prev_hash=row["prev_hash"])
            conn.execute(sa.text("UPDATE audit_entry SET details = :d, prev_hash = :p, "
                                 "hash = :h WHERE id = :id"),
                         {"d": row["details"], "p": row["prev_hash"], "h": row["hash"],
                          "id": row["id"]})
            prev = row["hash"]
        conn.execute(sa.text("UPDATE audit_head SET last_hash = :h WHERE chain = :c"),
                     {"h": prev, "c": chain})


def _at(value):
    import datetime as dt

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_a_recomputed_chain_passes_the_hash_check_but_not_the_checkpoint(archive, tmp_path):
    _setup(archive, tmp_path)
    [point] = make_checkpoints(archive, tsa_passphrase=TSA, actor=ACTOR)
    assert point.key.startswith(PREFIX) and archive.storage.exists(point.key)
    assert verify(archive)[1] == [] and verify_anchors(archive) == []
    record(archive, ACTOR, "test.action", "thing", 1, chain=1)  # after the checkpoint: fine
    assert verify_anchors(archive) == []
    # The journal import (entry 1 of the school's chain) is rewritten and the chain rehashed.
    _recompute_chain(archive, 1, 1, json.dumps({"file": "другой.json"}))
    assert verify(archive)[1] == []  # the hash chain alone holds: the rewrite is invisible
    [problem] = verify_anchors(archive)
    assert problem.chain == 1 and "журнал переписан после этой точки" in problem.message
    assert "штамп времени школы" in problem.message


def test_a_forged_or_missing_checkpoint_is_named(archive, tmp_path):
    _setup(archive, tmp_path)
    [point] = make_checkpoints(archive, tsa_passphrase=TSA, actor=ACTOR)
    data = json.loads(archive.storage.get(point.key))
    # A checkpoint whose heads were edited to match a rewritten chain: the stamp refuses it.
    data["checkpoint"]["heads"]["1"]["hash"] = "0" * 64
    forged = f"{PREFIX}{1:06d}/99991231T000000000000Z.json"
    archive.storage.write(forged, json.dumps(data).encode())
    [problem] = verify_anchors(archive)
    assert "текст изменён после штампа" in problem.message and forged in problem.message
    archive.storage.delete(forged)
    assert verify_anchors(archive) == []
    # The checkpoint file removed (a storage without locks): the audit trail still names it.
    path = archive.storage._path(point.key)  # noqa: SLF001 - a local intruder's rm
    path.unlink()
    problems = [p.message for p in verify_anchors(archive)]
    assert any(f"контрольной точки {point.key}" in m and "она удалена" in m for m in problems)


def test_checkpoints_refuse_without_the_tsa_passphrase_and_go_into_backups(sqlite_archive,
                                                                             tmp_path):
    from archive_service.backups import service as backups
    from archive_service.backups.service import Opener
    from archive_service.errors import ConfigError

    archive = sqlite_archive
    _setup(archive, tmp_path)
    with pytest.raises(ConfigError, match="ARCHIVE_TSA_PASSPHRASE"):
        make_checkpoints(archive, tsa_passphrase="", actor=ACTOR)
    [point] = make_checkpoints(archive, tsa_passphrase=TSA, actor=ACTOR)
    backups.init_keys(archive, director_code="код-директора-2026", actor=ACTOR, scrypt_n=2**12)
    made = backups.create_backup(archive, target_url=str(tmp_path / "disk"), actor=ACTOR)
    # Level 3 restores the checkpoint with the rest and checks the chains against it.
    report = backups.verify_backup(archive, target_url=made.target, backup_id=made.id,
                                   level=3, actor=ACTOR,
                                   opener=Opener(director_code="код-директора-2026"))
    assert report.ok, report.problems
    opened = backups.open_backup(made.target, made.id, Opener(director_code="код-директора-2026"))
    assert point.key in {e["key"] for e in opened.index["files"]}


def test_cli_checkpoint_then_verify_exits_10_naming_the_rewritten_entry(sqlite_archive,
                                                                        tmp_path):
    from tests.cli.test_cli import run

    archive, home = sqlite_archive, tmp_path  # where ``archive`` with ARCHIVE_HOME finds it
    _setup(archive, tmp_path)
    made = run(home, "audit", "checkpoint", check=True).stdout
    assert "Школа T-001: audit-checkpoints/000001/" in made and "Контрольных точек: 1." in made
    assert "Журнал аудита цел." in run(home, "audit", "verify", check=True).stdout
    _recompute_chain(archive, 1, 1, json.dumps({"file": "другой.json"}))
    broken = run(home, "audit", "verify")
    assert broken.returncode == 10
    assert "Школа T-001: контрольная точка audit-checkpoints/000001/" in broken.stderr
    assert "фиксирует запись № 11 с хешем" in broken.stderr  # the head, rehashed


def test_a_wrong_tsa_passphrase_or_a_replaced_school_root_is_named(archive, tmp_path):
    from cryptography.hazmat.primitives import serialization

    from archive_service.errors import ConfigError
    from archive_service.signatures.models import SchoolPki
    from signing import pki

    _setup(archive, tmp_path)
    with pytest.raises(ConfigError, match="Школа T-001"):
        make_checkpoints(archive, tsa_passphrase="не тот пароль", actor=ACTOR)
    assert not list(archive.storage.keys(PREFIX))  # nothing written
    make_checkpoints(archive, tsa_passphrase=TSA, actor=ACTOR)
    # An intruder puts their own root in the database (to forge stamps with it).
    import datetime as dt

    forged = pki.create_root("Школа", now=dt.datetime.now(dt.UTC)).certificate
    with archive.unit_of_work() as uow:
        row = uow.session.get(SchoolPki, 1)
        row.root_cert = forged.public_bytes(serialization.Encoding.PEM)
    messages = [p.message for p in verify_anchors(archive)]
    assert any("корневой сертификат школы в базе не тот" in m for m in messages), messages
    assert any("не службой времени этой школы" in m for m in messages), messages
