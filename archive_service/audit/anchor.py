"""Anchors of the audit trail outside the database (issue 30, item 5).

The audit chains are SHA-256 hash chains in the database: whoever can write to the database
can recompute a whole chain after changing an entry, and ``audit.service.verify`` alone
would not notice. So the heads of the chains are anchored outside it:

* **Checkpoint.** For each school with a PKI, a small canonical JSON text naming the head
  (number and hash of the last entry) of the school's chain and of the archive's own chain
  0, the school root's SHA-256, and when it was made; with an RFC 3161 timestamp token over
  it from the school's TSA (``ARCHIVE_TSA_URL`` if one is configured), whose key the
  database holds only locked under the server secret ``ARCHIVE_TSA_PASSPHRASE``.
* **Kept outside the database**: in the archive's storage under
  ``audit-checkpoints/<school id>/<time>.json``, write-once and locked (S3 Object Lock /
  the local lock file) for 100 years, and so in every backup, which carries every stored
  object. Made daily by the workers at 01:50, before the 02:00 backup, and by
  ``archive audit checkpoint``; each one is recorded in the audit trail (``audit.checkpoint``).
* **Verified** (``verify_anchors``: ``archive audit verify``, every fixity run, the level-3
  check of a backup): the newest checkpoint of each school must carry a valid timestamp of
  the school's TSA over exactly its text, the root it names must be the school's root in
  the database and the one named by the school's first checkpoint, and each chain's entry
  at the anchored number must still have the anchored hash (an entry changed or removed at
  or before it changes that hash, however the chain was recomputed). Every checkpoint the
  audit trail records must still be in storage.

What it cannot see: entries rewritten after the newest checkpoint (at most a day's) and a
database whose root certificate and every checkpoint were replaced together (the storage
lock and the backups' copies stand in the way).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from sqlalchemy import select

from archive_service.actors import Actor
from archive_service.audit.models import AuditEntry, AuditHead
from archive_service.audit.service import AuditProblem
from archive_service.db import Archive
from archive_service.errors import ArchiveError, ConfigError, NotFoundError

log = logging.getLogger(__name__)

PREFIX = "audit-checkpoints/"
FORMAT = "archive-audit-checkpoint-1"
ARCHIVE_CHAIN = 0  # backups, fixity, key changes: anchored with every school's checkpoint
LOCK_YEARS = 100
STAMP_SLACK = dt.timedelta(minutes=10)  # the TSA's time against the checkpoint's own


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint written to storage."""

    school: str
    key: str
    heads: dict[int, tuple[int, str]]


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def make_checkpoints(archive: Archive, *, tsa_passphrase: str, actor: Actor,
                     school_code: str | None = None, now: dt.datetime | None = None
                     ) -> list[Checkpoint]:
    """Anchor the chains of every school with a PKI (or of one school) now."""
    from archive_service.journals.models import School
    from archive_service.signatures.models import SchoolPki
    from archive_service.signatures.service import timestamper, tsa_credential
    from signing import stamps
    from signing.errors import SigningError

    if not tsa_passphrase:
        raise ConfigError("Не задан ARCHIVE_TSA_PASSPHRASE: контрольные точки журнала аудита "
                          "заверяются штампом времени школы.")
    now = now or dt.datetime.now(dt.UTC)
    with archive.sessions() as s:
        query = select(School, SchoolPki).join(SchoolPki, SchoolPki.school_id == School.id)
        if school_code is not None:
            query = query.where(School.code == school_code)
        schools = [(school.id, school.code, pki.root_cert, pki.tsa_cert, pki.tsa_key)
                   for school, pki in s.execute(query.order_by(School.code))]
        heads = {h.chain: (h.last_seq, h.last_hash) for h in s.scalars(select(AuditHead))}
    if not schools:
        raise NotFoundError("Нет школы с ключами подписи (archive pki init): контрольную точку "
                            "журнала аудита нечем заверить." if school_code is None else
                            f"У школы {school_code} нет ключей подписи (archive pki init).")
    made = []
    for school_id, code, root_pem, tsa_pem, tsa_key in schools:
        root = x509.load_pem_x509_certificate(root_pem)
        try:
            tsa = tsa_credential(tsa_pem, tsa_key, tsa_passphrase)
        except SigningError as exc:
            raise ConfigError(f"Школа {code}: {exc.message}") from None
        chains = {c: heads[c] for c in (school_id, ARCHIVE_CHAIN) if c in heads}
        body = {"format": FORMAT, "school": code, "school_id": school_id,
                "made_at": now.isoformat(), "root_sha256": _root_digest(root),
                "heads": {str(c): {"seq": seq, "hash": h} for c, (seq, h) in chains.items()}}
        text = _canonical(body)
        token = stamps.timestamp(text, timestamper(tsa, root, archive.settings.tsa_url))
        key = f"{PREFIX}{school_id:06d}/{now:%Y%m%dT%H%M%S%fZ}.json"
        archive.storage.write(key, json.dumps(
            {"checkpoint": body, "timestamp": token.hex()}, ensure_ascii=False).encode())
        try:
            archive.storage.extend_retention(key, now.replace(year=now.year + LOCK_YEARS))
        except ArchiveError as exc:  # a storage without locks: the checkpoint stays anyway
            log.warning("checkpoint %s not locked: %s", key, exc.message)
        with archive.unit_of_work() as uow:
            uow.audit(actor, "audit.checkpoint", "audit_checkpoint", key, chain=school_id,
                      details={"heads": body["heads"]})
        made.append(Checkpoint(code, key, chains))
    return made


def _root_digest(root: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest()


def _day(at: str | dt.datetime) -> str:
    when = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return f"{when.astimezone(dt.UTC):%d.%m.%Y %H:%M} UTC"


def verify_anchors(archive: Archive, *, restored: bool = False,
                   school_id: int | None = None) -> list[AuditProblem]:
    """Every disagreement between the audit chains and their newest checkpoints.

    ``restored``: a restore's own check (the backup was already proven against its signed
    index): a chain the restore did not bring (a selective restore brings one school's)
    is not looked for. ``school_id``: that school's checkpoints only (its page)."""
    from archive_service.signatures.models import SchoolPki
    from signing import stamps

    problems: list[AuditProblem] = []
    by_school: dict[int, list[str]] = {}
    for key in sorted(archive.storage.keys(PREFIX)):
        folder = key[len(PREFIX):].split("/")[0]
        if folder.isascii() and folder.isdigit() and school_id in (None, int(folder)):
            by_school.setdefault(int(folder), []).append(key)
    with archive.sessions() as s:
        roots = {p.school_id: (p.root_cert, p.crl) for p in s.scalars(select(SchoolPki))}
        recorded = list(s.execute(select(AuditEntry.chain, AuditEntry.object_id, AuditEntry.at)
                                  .where(AuditEntry.action == "audit.checkpoint")))
        stored = {k for keys in by_school.values() for k in keys}
        for chain, key, at in recorded:
            if key not in stored and school_id in (None, chain):
                problems.append(AuditProblem(chain, 0, (
                    f"контрольной точки {key} от {_day(at)}, записанной в журнале аудита, нет в "
                    "хранилище: она удалена")))
        present = set(s.scalars(select(AuditHead.chain))) if restored else None
        for school_id, keys in sorted(by_school.items()):
            if present is not None and school_id not in present:
                continue
            problems += _check_school(s, school_id, keys, roots.get(school_id), archive, stamps,
                                      present)
    return problems


def _load(archive: Archive, key: str) -> tuple[dict[str, Any], bytes]:
    data = json.loads(archive.storage.get(key))
    return data["checkpoint"], bytes.fromhex(data["timestamp"])


def _check_school(s, school_id: int, keys: list[str], pki: tuple[bytes, bytes] | None,  # noqa: ANN001
                  archive: Archive, stamps, present: set[int] | None  # noqa: ANN001
                  ) -> list[AuditProblem]:
    newest = keys[-1]

    def problem(seq: int, text: str, chain: int = school_id) -> AuditProblem:
        return AuditProblem(chain, seq, f"контрольная точка {newest}: {text}")

    try:
        body, token = _load(archive, newest)
        first, _ = _load(archive, keys[0])
    except (ArchiveError, ValueError, KeyError, TypeError):
        return [problem(0, "файл повреждён (это не контрольная точка журнала аудита)")]
    if pki is None:
        return [problem(0, "у школы в базе нет ключей подписи, которыми она заверена: "
                           "таблица ключей изменена")]
    root = x509.load_pem_x509_certificate(pki[0])
    out = []
    digest = _root_digest(root)
    if digest != body.get("root_sha256") or digest != first.get("root_sha256"):
        out.append(problem(0, "корневой сертификат школы в базе не тот, которым заверены её "
                              "контрольные точки: ключи школы в базе подменены"))
    check = stamps.check_timestamp(_canonical(body), token, roots=[root],
                                   crls=[x509.load_der_x509_crl(pki[1])])
    if not check.ok:
        return [*out, problem(0, f"{check.reason}: точке нельзя верить, журнал аудита не "
                                 "подтверждён")]
    made = dt.datetime.fromisoformat(body["made_at"])
    if abs(check.at - made) > STAMP_SLACK:
        out.append(problem(0, f"штамп времени ({_day(check.at)}) не совпадает со временем "
                              f"точки ({_day(made)})"))
    for chain_text, head in body.get("heads", {}).items():
        chain, seq = int(chain_text), int(head["seq"])
        if present is not None and chain not in present:
            continue
        entry = s.execute(select(AuditEntry.hash).where(AuditEntry.chain == chain,
                                                        AuditEntry.seq == seq)).scalar()
        stamp = f"от {_day(check.at)} (штамп времени школы)"
        if entry is None:
            out.append(problem(seq, f"{stamp} фиксирует запись № {seq}, а её в журнале нет: "
                                    "записи удалены", chain))
        elif entry != head["hash"]:
            out.append(problem(seq, f"{stamp} фиксирует запись № {seq} с хешем "
                                    f"{head['hash'][:16]}…, а в журнале у неё хеш "
                                    f"{entry[:16]}…: журнал переписан после этой точки",
                               chain))
    return out
