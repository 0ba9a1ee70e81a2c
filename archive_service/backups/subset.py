"""Selective restore: a school, one of its academic years, or one document out of a backup.

Works on the portable dump (``dump.py``: tables parents first, one JSON array per row), in
two passes over it:

1. ``roots``: find the ids the selection starts from (the school by code; the year by
   label; for a document: its snapshot, class, period and year).
2. ``select_lines``: keep a row of a root table only if its id is a root; keep any other row
   only if every foreign key into a table that was filtered points at a kept row. So a
   year brings its periods, classes, courses, lessons, marks, snapshots, documents,
   signatures; a document brings its parents and its own signatures and verifications, not
   its neighbours. Tables with rules of their own: the audit trail keeps the school's whole
   chain (a hash chain cannot be cut); login attempts are not restored; register entries
   follow the year (a document: only its own entry, no period folders); raw import files are
   not restored with a single document (they hold the whole school); the records of period
closes are the service's operational memory and are not restored with a selection.

The objects restored are exactly those the kept rows name (``storage_key``, ``draft_key``,
``signed_key`` columns). The kept lines are canonical dump lines, so the restore proves
row for row, through the same per-table digests as a whole restore, that the selection came
back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from archive_service.errors import NotFoundError

KEY_COLUMNS = ("storage_key", "draft_key", "signed_key")


@dataclass(frozen=True)
class Selection:
    """What to restore: a school (by code), optionally one of its years, or a document."""

    school: str | None = None
    year: str | None = None
    document: int | None = None

    def describe(self) -> str:
        if self.document is not None:
            return f"документ № {self.document}"
        return f"школа {self.school}" + (f", учебный год {self.year}" if self.year else "")


@dataclass
class Roots:
    """The starting ids per table, and the school whose audit chain goes along."""

    school_id: int
    ids: dict[str, set[int]] = field(default_factory=dict)
    year_label: str | None = None


def _rows(lines: Iterable[bytes]) -> Iterator[tuple[str, list[str], list | None]]:
    """(table, columns, row) for each row; row None for a table's header line."""
    table, columns = "", []
    it = iter(lines)
    next(it)  # the dump header
    for line in it:
        value = orjson.loads(line)
        if isinstance(value, dict):
            table, columns = value["table"], value["columns"]
            yield table, columns, None
        else:
            yield table, columns, value


def roots(lines: Iterable[bytes], selection: Selection) -> Roots:
    """Pass 1: the ids the selection starts from (a clear error when it names nothing)."""
    schools: dict[str, int] = {}
    years: dict[tuple[int, str], int] = {}
    year_labels: dict[int, str] = {}
    periods: dict[int, int] = {}
    snapshots: dict[int, tuple[int, int]] = {}
    document: tuple[int, int] | None = None
    for table, columns, row in _rows(lines):
        if row is None:
            continue
        r = dict(zip(columns, row, strict=True))
        if table == "school":
            schools[r["code"]] = r["id"]
        elif table == "academic_year":
            years[(r["school_id"], r["label"])] = r["id"]
            year_labels[r["id"]] = r["label"]
        elif table == "period":
            periods[r["id"]] = r["academic_year_id"]
        elif table == "period_snapshot":
            snapshots[r["id"]] = (r["school_class_id"], r["period_id"])
        elif table == "rendered_document" and r["id"] == selection.document:
            document = (r["school_id"], r["snapshot_id"])
    if selection.document is not None:
        if document is None:
            raise NotFoundError(f"В резервной копии нет документа № {selection.document}.")
        school_id, snapshot = document
        class_id, period_id = snapshots[snapshot]
        year_id = periods[period_id]
        return Roots(school_id, {"school": {school_id}, "academic_year": {year_id},
                                 "period": {period_id}, "school_class": {class_id},
                                 "period_snapshot": {snapshot},
                                 "rendered_document": {selection.document}},
                     year_labels[year_id])
    if selection.school is None:
        if len(schools) != 1:
            raise NotFoundError(f"Укажите школу (--school): в резервной копии их {len(schools)}.")
        selection_school = next(iter(schools))
    else:
        selection_school = selection.school
    if selection_school not in schools:
        raise NotFoundError(f"В резервной копии нет школы «{selection_school}».")
    school_id = schools[selection_school]
    ids = {"school": {school_id}}
    if selection.year is not None:
        if (school_id, selection.year) not in years:
            raise NotFoundError(f"В резервной копии нет учебного года {selection.year} школы "
                                f"{selection_school}.")
        ids["academic_year"] = {years[(school_id, selection.year)]}
    return Roots(school_id, ids, selection.year)


def select_lines(lines: Iterable[bytes], found: Roots, selection: Selection,
                 foreign_keys: dict[str, dict[str, str]], keys: set[str]) -> Iterator[bytes]:
    """Pass 2: the header, every table header, and the kept rows; fills ``keys`` with the
    storage keys the kept rows name. ``foreign_keys``: table -> column -> parent table."""
    kept: dict[str, set[int]] = {}
    it = iter(lines)
    yield next(it)
    table, columns, test = "", [], None
    for line in it:
        value = orjson.loads(line)
        if isinstance(value, dict):
            table, columns = value["table"], value["columns"]
            test = _rule(table, columns, found, selection, foreign_keys.get(table, {}), kept)
            if "id" in columns:
                kept[table] = set()
            yield line
            continue
        if test is None or not test(value):
            continue
        if "id" in columns:
            kept[table].add(value[columns.index("id")])
        for name in KEY_COLUMNS:
            if name in columns and value[columns.index(name)]:
                keys.add(value[columns.index(name)])
        yield line


def _rule(table: str, columns: list[str], found: Roots, selection: Selection,
          fks: dict[str, str], kept: dict[str, set[int]]):  # noqa: ANN202 - a predicate or None
    """The keep-test of one table's rows (None: no row of it is restored)."""
    at = {c: i for i, c in enumerate(columns)}
    if table in ("login_attempt", "close_run", "close_school", "close_class"):
        return None  # operational memory of the service, not a school's archive
    if table in ("audit_entry", "audit_head"):
        return lambda row: row[at["chain"]] == found.school_id
    if table == "import_batch" and selection.document is not None:
        return None
    if table == "register_counter":
        if selection.document is not None:
            return None
        return lambda row: row[at["school_id"]] == found.school_id and (
            found.year_label is None or row[at["year"]] == found.year_label)
    checks = []
    if table in found.ids:
        wanted, pk = found.ids[table], at["id"]
        checks.append(lambda row: row[pk] in wanted)
    for column, parent in fks.items():
        if parent in kept:
            ids, i = kept[parent], at[column]
            checks.append(lambda row, ids=ids, i=i: row[i] is None or row[i] in ids)
    if table == "register_entry":
        if selection.document is not None:
            doc = at["document_id"]
            checks.append(lambda row: row[doc] == selection.document)
        elif found.year_label is not None:
            year = at["year"]
            checks.append(lambda row: row[year] == found.year_label)
    if table == "retention_hold" and found.year_label is not None:
        year = at["year"]
        checks.append(lambda row: row[year] in (None, found.year_label))
    return lambda row: all(check(row) for check in checks)


def foreign_keys() -> dict[str, dict[str, str]]:
    """table -> column -> referenced table, from the models."""
    from archive_service.backups.dump import tables

    out: dict[str, dict[str, str]] = {}
    for table in tables():
        for fk in table.foreign_keys:
            out.setdefault(table.name, {})[fk.parent.name] = fk.column.table.name
    return out
