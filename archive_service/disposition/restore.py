"""Bringing executed acts into a restored archive (see ``service.record_disposal``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, DateTime, select, text

from archive_service.db import Archive
from archive_service.disposition.models import DisposalAct, DisposalItem, Tombstone


def _values(model, row: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001 - a mapped class
    out = {}
    for c in model.__table__.c:
        v = row.get(c.name)
        if v is not None and isinstance(c.type, DateTime):
            v = dt.datetime.fromisoformat(v)
        elif v is not None and isinstance(c.type, Date):
            v = dt.date.fromisoformat(v)
        out[c.name] = v
    return out


def apply_disposals(into: Archive, disposals: list[dict[str, Any]]) -> None:
    """Make a restored (possibly older) archive know every executed act: the act as executed,
    its items, its tombstones, and the daily records it cleared. The destroyed objects were
    already left out of the restored storage."""
    from archive_service.disposition.tombstones import clear_daily_records
    from archive_service.journals.models import School
    from archive_service.register.models import RegisterEntry
    from archive_service.rendering.models import RenderedDocument

    with into.unit_of_work() as uow:
        s = uow.session
        schools = set(s.scalars(select(School.id)))
        documents = set(s.scalars(select(RenderedDocument.id)))
        entries = set(s.scalars(select(RegisterEntry.id)))

        def present(row: dict[str, Any]) -> bool:  # a selective restore brings part only
            return (row.get("document_id") is None or row["document_id"] in documents) and (
                row.get("register_entry_id") is None or row["register_entry_id"] in entries)

        for record in disposals:
            act = _values(DisposalAct, record["act"])
            if act["school_id"] not in schools:
                continue
            existing = s.get(DisposalAct, act["id"])
            if existing is None:
                s.add(DisposalAct(**act))
            elif existing.status != "executed":
                for name, value in act.items():
                    setattr(existing, name, value)
            s.flush()
            have = set(s.scalars(select(DisposalItem.id).filter_by(act_id=act["id"])))
            items = [DisposalItem(**_values(DisposalItem, i)) for i in record["items"]
                     if i["id"] not in have and present(i)]
            s.add_all(items)
            s.flush()
            stones = set(s.scalars(select(Tombstone.id).filter_by(act_id=act["id"])))
            listed = set(s.scalars(select(DisposalItem.id).filter_by(act_id=act["id"])))
            s.add_all(Tombstone(**_values(Tombstone, t)) for t in record["tombstones"]
                      if t["id"] not in stones and t["item_id"] in listed)
            s.flush()
            clear_daily_records(s, s.scalars(select(DisposalItem).filter_by(
                act_id=act["id"])).all())
        if s.bind.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for model in (DisposalAct, DisposalItem, Tombstone):
                name = model.__tablename__
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"))
