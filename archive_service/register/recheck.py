"""The register re-checked against the audit trail (issue 30, item 6).

The register is immutable in the database (triggers), but whoever can drop a trigger can
delete or change a line, or add one, and leave the rest looking whole. This check does not
trust the table: per school and academic year the inventory numbers must run 1, 2, 3 …
without a gap up to the last number the counter gave, every line must have its audit entry
(``register.add`` for a copy, ``register.folder`` for a general folder, written in the same
unit of work as the line) with the same document, certified hash and place, every audit
entry must still have its line, and no document or certified copy (its hash) may stand under
two numbers. The audit trail itself is proven by its hash chains and their anchors
(``audit.service.verify``); ``archive audit verify`` and every fixity run call both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from archive_service.audit.models import AuditEntry
from archive_service.db import Archive
from archive_service.journals.models import School
from archive_service.register.models import RegisterCounter, RegisterEntry

ACTIONS = ("register.add", "register.folder")


@dataclass(frozen=True)
class RegisterProblem:
    """A place where the register and its audit trail disagree, named for a person."""

    school_id: int
    school: str  # its code
    year: str
    number: int
    message: str


def _day(at: dt.datetime) -> str:
    return f"{at:%d.%m.%Y}"


def verify_register(archive: Archive, *, school_id: int | None = None
                    ) -> list[RegisterProblem]:
    """Every disagreement between the register, its counters and the audit trail (of every
    school, or of one: its page)."""
    lines_q = select(RegisterEntry.school_id, RegisterEntry.year, RegisterEntry.number,
                     RegisterEntry.document_id, RegisterEntry.kind, RegisterEntry.handover_hash,
                     RegisterEntry.location, RegisterEntry.title)
    counters_q = select(RegisterCounter)
    audit_q = select(AuditEntry.chain, AuditEntry.action, AuditEntry.object_id,
                     AuditEntry.details, AuditEntry.at).where(AuditEntry.action.in_(ACTIONS))
    if school_id is not None:
        lines_q = lines_q.where(RegisterEntry.school_id == school_id)
        counters_q = counters_q.where(RegisterCounter.school_id == school_id)
        audit_q = audit_q.where(AuditEntry.chain == school_id)
    with archive.sessions() as s:
        rows = [r._asdict() for r in s.execute(lines_q)]
        counters = {(c.school_id, c.year): c.last_number for c in s.scalars(counters_q)}
        audited = [(e.chain, e.action, e.object_id, e.details, e.at)
                   for e in s.execute(audit_q)]
        codes = dict(s.execute(select(School.id, School.code)).all())
    problems: list[RegisterProblem] = []
    lines: dict[tuple[int, str], dict[int, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for r in rows:
        lines[(r["school_id"], r["year"])][r["number"]].append(r)
    records: dict[tuple[int, str], dict[int, list[tuple[str, dict, dt.datetime]]]] = \
        defaultdict(lambda: defaultdict(list))
    for chain, action, object_id, details, at in audited:
        year, _, number = object_id.partition("/")
        if not (number.isascii() and number.isdigit()):
            continue
        records[(chain, year)][int(number)].append((action, json.loads(details), at))

    for key in sorted(set(lines) | set(records) | set(counters)):
        school, year = key
        here, told = lines.get(key, {}), records.get(key, {})
        last = max([counters.get(key, 0), *here, *told])

        def problem(number: int, text: str, _s=school, _y=year) -> None:
            problems.append(RegisterProblem(_s, codes.get(_s, str(_s)), _y, number,
                                            f"реестр {_y}, № {number}: {text}"))

        for number in range(1, last + 1):
            found, entries = here.get(number, []), told.get(number, [])
            if len(found) > 1:
                problem(number, f"номер стоит у {len(found)} записей (номер выдаётся один раз)")
            if len(entries) > 1:
                problem(number, "регистрация записана в журнале аудита дважды")
            if not found and entries:
                action, details, at = entries[0]
                what = (f"документ № {details.get('document')}" if action == "register.add"
                        else "общая папка")
                problem(number, f"запись удалена из реестра ({what}, зарегистрирована "
                                f"{_day(at)} по журналу аудита)")
            elif not found:
                problem(number, "номера нет ни в реестре, ни в журнале аудита, хотя выдан и "
                                "больший: запись удалена")
            elif not entries:
                problem(number, f"«{found[0]['title']}» есть в реестре, но её регистрации нет в "
                                "журнале аудита: запись добавлена в обход архива")
            else:
                changed = _changed(found[0], *entries[0][:2])
                if changed:
                    problem(number, f"запись изменена после регистрации ({', '.join(changed)} "
                                    "не совпадает с журналом аудита)")
        if counters.get(key, 0) < last:
            problem(last, f"счётчик номеров стоит на {counters.get(key, 0)}, а в реестре и "
                          f"журнале аудита есть № {last}: счётчик изменён")

    copies: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["kind"] != "folder":
            copies[("document", r["document_id"])].append(r)
            copies[("hash", r["handover_hash"])].append(r)
    for (what, _value), same in copies.items():
        if len(same) > 1:
            same = sorted(same, key=lambda r: (r["year"], r["number"]))
            first = same[0]
            numbers = ", ".join(f"№ {r['number']} ({r['year']})" for r in same)
            thing = "документ" if what == "document" else "одна и та же заверенная копия"
            problems.append(RegisterProblem(
                first["school_id"], codes.get(first["school_id"], ""), first["year"],
                first["number"],
                f"{thing} «{first['title']}» зарегистрирован(а) несколько раз: {numbers}"))
    return problems


def _changed(row: dict[str, Any], action: str, details: dict[str, Any]) -> list[str]:
    """The fields of a line that differ from what its audit entry recorded."""
    out = []
    if action == "register.add":
        if details.get("document") != row["document_id"]:
            out.append("документ")
        if details.get("handover_hash") != row["handover_hash"]:
            out.append("хеш заверенной копии")
    elif details.get("sha256") != row["handover_hash"]:
        out.append("хеш папки")
    if details.get("location") != row["location"]:
        out.append("место хранения")
    if (action == "register.folder") != (row["kind"] == "folder"):
        out.append("вид записи")
    return out
