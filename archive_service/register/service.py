"""Registering certified copies, listing the register, exporting it as a paper register.

Seed 000, 5.2: the secretary «архивирует (нумерует, прошивает, заносит в реестр) бумажные
копии электронных журналов» and «ведёт ... реестр бумажных копий ЭЖ»; 4.5: the deputies hand
the certified copies over «в общий реестр», then the secretary «представляет классные
журналы на подпись директору, заверяет их школьной печатью». So a document is registered
once every step before the director's is done, and the director's signature and the seal
wait for the registration (``signatures.service`` checks ``is_registered``).

Numbers are unique and gapless per school and academic year: the counter row is locked
(SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer) and moved in the same unit of
work as the entry, so a failed registration gives its number back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from archive_service.accounts import access
from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import (
    ArchiveError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    check_text,
)
from archive_service.journals.models import AcademicYear, Period, School, SchoolClass
from archive_service.orm import insert_missing
from archive_service.register.models import RegisterCounter, RegisterEntry
from archive_service.rendering.models import RenderedDocument
from archive_service.snapshots.models import PeriodSnapshot

KIND_NAMES = {"journal": "Копия классного журнала", "summary": "Сводная ведомость отметок",
              "folder": "Общая папка за период"}
#: Steps that come after registration (seed 000, 4.5: the secretary presents the registered
#: copies to the director, then applies the seal).
AFTER_REGISTRATION = ("director", "seal")


@dataclass(frozen=True)
class RegisterRow:
    """A register line as a paper register has it, plus the document's state."""

    number: int
    year: str
    school: str
    school_name: str
    received_at: str
    kind: str
    title: str
    class_name: str | None
    period: str
    sheets: int
    handed_over_by: str
    received_by: str
    location: str
    document_id: int | None
    document_number: str | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form. Every field is a plain value, so a shallow copy (``asdict``
        deep-copies each value, for every line of every API page)."""
        return {name: getattr(self, name) for name in _ROW_FIELDS}


_ROW_FIELDS = tuple(f.name for f in fields(RegisterRow))


@dataclass(frozen=True)
class SchoolRef:
    """What a register line needs of its school (a ``School`` row serves as well)."""

    id: int
    code: str
    name: str


def is_registered(session: Session, document_id: int) -> bool:
    """Whether the document has its register entry."""
    return session.scalar(select(RegisterEntry.id).filter_by(document_id=document_id)) \
        is not None


def register_document(archive: Archive, *, document_id: int, login: str, location: str,
                      actor: Actor, now: dt.datetime | None = None) -> RegisterRow:
    """Accept a certified copy from the deputy and give it the next inventory number."""
    from archive_service.signatures.state import read_document, read_state, read_user, user_roles

    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        doc = read_document(s, document_id, lock=True)
        user = read_user(s, login)
        if user.school_id != doc.school_id:
            raise NotFoundError(f"Документ № {document_id} не найден.")
        if ("secretary", "") not in user_roles(s, user):
            raise PermissionDeniedError(
                f"{user.full_name} не может регистрировать документы: регистрирует секретарь "
                "своей школы (роль secretary).")
        if not location.strip():
            raise ConflictError("Укажите место хранения копии (например: «Сейф, папка "
                                "2025-2026, 1 четверть»).")
        existing = s.scalars(select(RegisterEntry).filter_by(document_id=doc.id)).one_or_none()
        if existing is not None:
            raise ConflictError(f"Документ {doc.number} уже зарегистрирован под № "
                                f"{existing.number} ({existing.year}).")
        state = read_state(s, doc)
        if state.returned:
            raise ConflictError(f"Документ {doc.number} возвращён на исправление "
                                f"({state.returned}); регистрируется новая версия.")
        waiting = [f for f in state.fields
                   if f.step not in AFTER_REGISTRATION and f.signed_by is None]
        if waiting:
            names = ", ".join(dict.fromkeys(f.expected_signer or f.step for f in waiting))
            raise ConflictError(
                f"Документ {doc.number} ещё не передан на регистрацию: не подписали {names}.")
        handed = [f for f in state.fields if f.step not in AFTER_REGISTRATION]
        handed_over_by = handed[-1].signed_by if handed else "—"
        snap = s.get(PeriodSnapshot, doc.snapshot_id)
        sc = s.get(SchoolClass, snap.school_class_id)
        period = s.get(Period, snap.period_id)
        year = s.get(AcademicYear, period.academic_year_id).label
        from archive_service.signatures.state import current_pieces

        _keys, handover_hash = current_pieces(s, doc)
        twin = s.scalars(select(RegisterEntry).where(
            RegisterEntry.handover_hash == handover_hash,
            RegisterEntry.kind != "folder")).first()
        if twin is not None:  # the same certified copy under another document row
            raise ConflictError(f"Эта заверенная копия уже зарегистрирована под № "
                                f"{twin.number} ({twin.year}): копия регистрируется один раз.")
        number = _next_number(s, doc.school_id, year)
        entry = RegisterEntry(
            school_id=doc.school_id, year=year, number=number, document_id=doc.id,
            kind=doc.kind, title=f"{KIND_NAMES[doc.kind]} {sc.name}, {period.name} {year}",
            class_name=sc.name, period_code=period.code, sheets=doc.sheets,
            handed_over_by=handed_over_by, handover_hash=handover_hash,
            received_by=user.full_name, received_at=now, location=location.strip())
        entry.make_searchable(doc.number)
        s.add(entry)
        s.flush()
        uow.audit(actor, "register.add", "register_entry", f"{year}/{number}",
                  chain=doc.school_id,
                  details={"document": doc.id, "number": number, "year": year,
                           "handed_over_by": handed_over_by, "handover_hash": handover_hash,
                           "location": entry.location})
        return _row(s, entry)


def _next_number(s: Session, school_id: int, year: str) -> int:
    """The next number, holding the counter row's lock until the unit of work ends.

    The row is created with INSERT … ON CONFLICT DO NOTHING first, so that two first
    registrations of a year cannot both create it (found by the concurrency test).
    """
    insert_missing(s, RegisterCounter, school_id=school_id, year=year, last_number=0)
    counter = s.scalars(select(RegisterCounter).filter_by(school_id=school_id, year=year)
                        .with_for_update()).one()
    counter.last_number += 1
    s.flush()
    return counter.last_number


def _row(s: Session, e: RegisterEntry) -> RegisterRow:
    entry = {c.name: getattr(e, c.name) for c in RegisterEntry.__table__.c}
    return _rows(s, [{**entry, "document_number": None}])[0]


def _statuses(s: Session, ids: list[int]) -> dict[int, str]:
    """The mark of each registered document, in three queries whatever their number."""
    from archive_service.disposition.models import DisposalAct, Tombstone
    from archive_service.signatures.models import DocumentReturn, SignatureRecord, SigningUser
    from archive_service.signatures.state import returned_text, school_zone

    steps, signed, returned, destroyed = {}, {}, {}, {}
    for at in range(0, len(ids), 500):  # SQLite allows a limited number of parameters
        chunk = ids[at:at + 500]
        steps.update(s.execute(select(RenderedDocument.id, RenderedDocument.steps)
                               .where(RenderedDocument.id.in_(chunk))).all())
        for doc_id, field in s.execute(select(SignatureRecord.document_id, SignatureRecord.field)
                                       .where(SignatureRecord.document_id.in_(chunk))):
            signed.setdefault(doc_id, set()).add(field)
        returned.update((r.document_id, returned_text(r.full_name, r.returned_at, r.reason,
                                                      school_zone(s, r.school_id)))
                        for r in s.execute(
            select(DocumentReturn.document_id, DocumentReturn.returned_at,
                   DocumentReturn.reason, SigningUser.full_name, SigningUser.school_id)
            .join(SigningUser, SigningUser.id == DocumentReturn.user_id)
            .where(DocumentReturn.document_id.in_(chunk))))
        destroyed.update(s.execute(select(Tombstone.document_id, DisposalAct.number)
                                   .join(DisposalAct, DisposalAct.id == Tombstone.act_id)
                                   .where(Tombstone.document_id.in_(chunk))).all())
    out = {}
    for doc_id, doc_steps in steps.items():
        done = signed.get(doc_id, set())
        if doc_id in destroyed:
            out[doc_id] = f"уничтожен по акту № {destroyed[doc_id]}"
        elif doc_id in returned:
            out[doc_id] = f"возвращён: {returned[doc_id]}"
        elif all(st["name"] in done for st in doc_steps):
            out[doc_id] = "заверен печатью"
        elif all(st["name"] in done for st in doc_steps if st["step"] == "director"):
            out[doc_id] = "подписан директором"
        else:
            out[doc_id] = "зарегистрирован"
    return out


def _rows(s: Session, found: list, schools: dict[int, School | SchoolRef] | None = None
          ) -> list[RegisterRow]:
    """Register lines from register_entry rows (mappings with ``document_number``);
    ``schools``: the schools already at hand, by id."""
    schools = dict(schools or {})
    missing = {e["school_id"] for e in found} - set(schools)
    if missing:
        schools.update((sc.id, sc) for sc in s.scalars(select(School).where(
            School.id.in_(missing))))
    if any(e["document_number"] is None and e["document_id"] for e in found):
        numbers = dict(s.execute(select(RenderedDocument.id, RenderedDocument.number).where(
            RenderedDocument.id.in_([e["document_id"] for e in found if e["document_id"]])))
            .all())
        found = [{**e, "document_number": numbers.get(e["document_id"])} for e in found]
    status = _statuses(s, [e["document_id"] for e in found if e["document_id"]])
    rows = []
    for e in found:
        received = e["received_at"]
        received = received if received.tzinfo else received.replace(tzinfo=dt.UTC)
        school = schools[e["school_id"]]
        rows.append(RegisterRow(
            e["number"], e["year"], school.code, school.name,
            received.isoformat(timespec="seconds"), e["kind"], e["title"], e["class_name"],
            e["period_code"], e["sheets"], e["handed_over_by"], e["received_by"],
            e["location"], e["document_id"], e["document_number"],
            status.get(e["document_id"], "зарегистрирован") if e["document_id"]
            else "сформирована"))
    return rows


def _select_lines(school: School | SchoolRef, year: str | None, query: str | None) -> Select:
    """The school's register lines (and their documents' numbers), for a year and a text.

    The text is searched case-insensitively (Cyrillic included) in every field a paper
    register has plus the document number and the date (``searchable``); a text that is in
    the school's own code or name matches every line.
    """
    check_text(year or "", "Учебный год")
    check_text(query or "", "Поиск")
    stmt = (select(*(c for c in RegisterEntry.__table__.c if c.name != "search_text"),
                   RenderedDocument.number.label("document_number"))
            .outerjoin(RenderedDocument, RenderedDocument.id == RegisterEntry.document_id)
            .where(RegisterEntry.school_id == school.id))
    if year:
        stmt = stmt.where(RegisterEntry.year == year)
    needle = (query or "").casefold()
    if needle and needle not in f"{school.code} {school.name}".casefold():
        stmt = stmt.where(RegisterEntry.search_text.contains(needle, autoescape=True))
    return stmt


_IN_ORDER = (RegisterEntry.year, RegisterEntry.number)


def register_list(archive: Archive, *, school_code: str | None = None,
                  year: str | None = None, query: str | None = None) -> list[RegisterRow]:
    """The register in number order, optionally for one school, year, or matching text
    (``_select_lines``); marks are computed only for the lines found."""
    from archive_service.journals.lookup import find_school

    with archive.sessions() as s:
        school = find_school(s, school_code)
        found = s.execute(_select_lines(school, year, query).order_by(*_IN_ORDER)).mappings()
        rows = _rows(s, list(found), {school.id: school})
    if year and not rows and not query:
        raise NotFoundError(f"В реестре школы {school.code} нет записей за {year} год.")
    return rows


#: Lines per page of the register on screen and in the API (a school has about 300 a year).
PER_PAGE = 50
MAX_PER_PAGE = 500


@dataclass(frozen=True)
class RegisterPage:
    """One page of the register as a person may see it."""

    rows: list[RegisterRow]
    total: int  # lines found on every page
    page: int  # 1-based, at most ``pages``
    per_page: int

    @property
    def pages(self) -> int:
        return _pages(self.total, self.per_page)

    @property
    def first(self) -> int:
        """The position of the page's first line among those found (1-based; 0: none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0


def _pages(total: int, per_page: int) -> int:
    """How many pages ``total`` lines fill (at least one, empty)."""
    return max(1, -(-total // per_page))


def register_page_for(archive: Archive, who, *, year: str | None = None,
                      query: str | None = None, page: int = 1, per_page: int = PER_PAGE
                      ) -> RegisterPage:
    """A page of the register as this person may see it (``register_list_for``); a page
    past the last is the last. Staff pages are cut by the database (a count and one page of
    lines); an inspector's lines span their grants and are cut here."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ArchiveError(f"Страница — с 1, строк на странице — от 1 до {MAX_PER_PAGE}.")
    access.require(who, "register.read")  # whole-school readers and inspectors
    year = checked_year(check_text(year, "Учебный год") if year else year)
    if who.is_inspector:
        rows = register_list_for(archive, who, year=year, query=query)
        page = min(page, _pages(len(rows), per_page))
        return RegisterPage(rows[(page - 1) * per_page:page * per_page], len(rows), page,
                            per_page)
    if who.school_id is None:
        raise PermissionDeniedError("У учётной записи нет школы.")
    # The principal carries its school's code and name: no statement for the school row.
    school = SchoolRef(who.school_id, who.school_code, who.school_name)
    with archive.reads() as s:  # a search on every request: no transaction on PostgreSQL
        lines = _select_lines(school, year, query)

        def cut(page: int) -> list:
            # Each line carries the count of all lines found (a window over the same
            # search), so a page and the total come in one statement.
            return list(s.execute(lines.add_columns(func.count().over().label("found"))
                                  .order_by(*_IN_ORDER).limit(per_page)
                                  .offset((page - 1) * per_page)).mappings())

        found = cut(page)
        if found:
            total = found[0]["found"]
        elif page == 1:  # nothing found
            total = 0
        else:  # a page past the last (or nothing found): count, then show the last page
            total = s.scalar(select(func.count()).select_from(lines.subquery())) or 0
            page = min(page, _pages(total, per_page))
            found = cut(page) if total else []
        return RegisterPage(_rows(s, found, {school.id: school}), total, page, per_page)


def checked_year(year: str | None) -> str | None:
    """An academic year as given in a query («2025-2026»), or a refusal saying how to write
    it (it reaches file names, sheet titles and headers: nothing else may)."""
    import re

    if year is None or year == "":
        return None
    m = re.fullmatch(r"([0-9]{4})-([0-9]{4})", year)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ArchiveError(f"Учебный год «{year[:20]}» указан неверно: ожидается, например, "
                           "2025-2026.")
    return year


def known_year(archive: Archive, who, year: str) -> None:
    """Refuse a year of which this person's register has nothing (another school's years
    and years outside an inspector's grant do not exist for them)."""
    with archive.sessions() as s:
        schools = {g.school_id for g in who.grants if who.may_read_school(g.school_id, year)} \
            if who.is_inspector else {who.school_id}
        found = s.scalar(select(func.count()).select_from(AcademicYear).where(
            AcademicYear.school_id.in_(schools), AcademicYear.label == year))
    if not found:
        raise NotFoundError(f"Учебного {year} года в реестре нет.")


def register_list_for(archive: Archive, who, *, year: str | None = None,
                      query: str | None = None) -> list[RegisterRow]:
    """The register as this person may see it: staff their school, an inspector the
    schools and years of a current grant (the reading is audited for inspectors)."""
    from archive_service.audit.service import record

    access.require(who, "register.read")  # whole-school readers and inspectors
    year = checked_year(year)

    if who.is_inspector:
        rows = []
        with archive.sessions() as s:
            codes = {g.school_id: s.get(School, g.school_id).code for g in who.grants}
        for school_id, code in codes.items():
            if who.may_read_school(school_id, year):
                try:
                    found = register_list(archive, school_code=code, year=year, query=query)
                except NotFoundError:
                    found = []
                rows += [r for r in found if who.may_read_school(school_id, r.year)]
        record(archive, who.actor, "register.search", "register", year or "все",
               chain=0, details={"query": query, "found": len(rows)})
        return rows
    if who.school_id is None:
        raise PermissionDeniedError("У учётной записи нет школы.")
    with archive.sessions() as s:
        code = s.get(School, who.school_id).code
    try:
        return register_list(archive, school_code=code, year=year, query=query)
    except NotFoundError:
        return []


def form_period_folder(archive: Archive, *, school_code: str | None, year: str, period_code: str,
                       login: str, location: str, actor: Actor,
                       now: dt.datetime | None = None, anyway: str | None = None
                       ) -> RegisterRow:
    """Form the general folder of a period (seed 000, 4.5) and give it its register number.

    The folder holds every registered copy of the school's period that is sealed (a copy
    returned for correction is left out: its new version is registered on its own). It is
    formed once per school, year and period, and only when every class the period applies
    to has its sealed copies and none is returned, so the folder is the period's complete
    set; otherwise the refusal names each class and what it lacks. ``anyway``: the
    secretary's reason to form it without them all the same (recorded in the audit trail
    and printed on the folder's contents page; the register line says «неполная»).
    ``school_code`` None: the secretary's own school. Its register entry keeps the folder's
    SHA-256 in ``handover_hash`` and its file in
    ``storage_key``; ``sheets`` counts the contents pages plus the copies' sheets.
    """
    from archive_service.journals.lookup import find_school
    from archive_service.register.folder import FolderItem, build
    from archive_service.signatures.state import assemble, current_pieces, read_state, read_user, user_roles
    from archive_service.storage.base import sha256_hex

    now = now or dt.datetime.now(dt.UTC)
    with archive.unit_of_work() as uow:
        s = uow.session
        user = read_user(s, login)
        school = find_school(s, school_code) if school_code else s.get(School, user.school_id)
        if user.school_id != school.id or ("secretary", "") not in user_roles(s, user):
            raise PermissionDeniedError(
                f"{user.full_name} не может формировать общую папку школы {school.code}: её "
                "формирует секретарь этой школы (роль secretary).")
        if not location.strip():
            raise ConflictError("Укажите место хранения папки (например: «Сейф, полка 2»).")
        period = s.scalars(select(Period).join(AcademicYear).where(
            AcademicYear.school_id == school.id, AcademicYear.label == year,
            Period.code == period_code)).one_or_none()
        if period is None:
            raise NotFoundError(f"У школы {school.code} нет периода {period_code} в {year} "
                                "учебном году.")
        # The counter row is locked first: two secretaries forming the same folder at once
        # are serialised here, and the second one finds the first one's folder below.
        number = _next_number(s, school.id, year)
        existing = s.scalars(select(RegisterEntry).filter_by(
            school_id=school.id, year=year, period_code=period_code, kind="folder")).first()
        if existing is not None:
            raise ConflictError(f"Общая папка за {period.name} {year} уже сформирована: "
                                f"№ {existing.number} по реестру.")
        from archive_service.signatures.progress import period_overview

        lacking = [f"{name} — {why}" for name, why in period_overview(
            archive, school_id=school.id, period=f"{year}/{period_code}").not_ready()]
        reason = " ".join((anyway or "").split())
        if anyway is not None and not reason:
            raise ConflictError("Укажите причину, по которой папка формируется неполной.")
        if lacking and not reason:
            raise ConflictError(
                f"Общую папку за {period.name} {year} формировать рано: нет заверенных печатью "
                f"копий у классов: {'; '.join(lacking)}. Дождитесь их или сформируйте папку "
                "неполной, указав причину.")
        entries = s.scalars(select(RegisterEntry).where(
            RegisterEntry.school_id == school.id, RegisterEntry.year == year,
            RegisterEntry.period_code == period_code, RegisterEntry.document_id.is_not(None))
            .order_by(RegisterEntry.number)).all()
        items, waiting = [], []
        for e in entries:
            doc = s.get(RenderedDocument, e.document_id)
            state = read_state(s, doc)
            if state.returned:
                continue
            if any(f.signed_by is None for f in state.fields):
                if not reason:
                    waiting.append(f"№ {e.number} ({doc.number})")
                continue
            keys, digest = current_pieces(s, doc)
            items.append(FolderItem(e.number, e.title, e.sheets, f"{doc.number}.pdf",
                                    assemble(archive, keys, digest, doc.number)))
        if waiting:
            raise ConflictError(f"Общую папку за {period.name} {year} формировать рано: "
                                f"не заверены печатью {', '.join(waiting)}.")
        if not items:
            raise ConflictError(f"За {period.name} {year} в реестре нет заверенных копий: "
                                "папку формировать не из чего.")
        pdf, pages = build(items, school=school.name, period=period.name, year=year,
                           formed_by=user.full_name, formed_at=now,
                           incomplete=lacking if reason else None, reason=reason)
        entry = RegisterEntry(
            school_id=school.id, year=year, number=number, document_id=None, kind="folder",
            title=f"{KIND_NAMES['folder']}: {period.name} {year}"
                  + (" (неполная)" if lacking and reason else ""), class_name=None,
            period_code=period_code, sheets=pages + sum(i.sheets for i in items),
            handed_over_by=user.full_name, handover_hash=sha256_hex(pdf),
            received_by=user.full_name, received_at=now, location=location.strip(),
            storage_key=uow.put_blob(pdf))
        entry.make_searchable(None)
        s.add(entry)
        s.flush()
        uow.audit(actor, "register.folder", "register_entry", f"{year}/{number}",
                  chain=school.id,
                  details={"period": period_code, "sha256": entry.handover_hash,
                           "items": [i.register_number for i in items],
                           "location": entry.location,
                           **({"incomplete": lacking, "reason": reason}
                              if lacking and reason else {})})
        from archive_service.disposition.locks import lock_new_objects

        entry_id = entry.id
        uow.committed.append(lambda: lock_new_objects(archive, folder_ids=[entry_id]))
        return _row(s, entry)


def folder_pdf(archive: Archive, *, school_code: str | None, year: str, number: int,
               reader: Actor, who=None) -> tuple[str, bytes]:
    """A period folder's file, hash-checked; the read is audited. ``who``: the Principal
    asking through the web (refused unless they may read that school and year); None for the
    command line, which the operator runs."""
    from archive_service.audit.service import record
    from archive_service.journals.lookup import find_school
    from archive_service.storage.base import sha256_hex

    missing = NotFoundError(f"В реестре нет общей папки № {number} за {year}.")
    with archive.sessions() as s:
        try:
            school = find_school(s, school_code)
        except NotFoundError:
            if who is not None:  # an unknown school answers as a foreign one does
                raise missing from None
            raise
        if not access.read_scope(s, who, school.id, year).whole:  # whole-school readers only
            raise missing
        entry = s.scalars(select(RegisterEntry).filter_by(
            school_id=school.id, year=year, number=number, kind="folder")).one_or_none()
        if entry is None:
            raise missing
        from archive_service.disposition.models import Tombstone
        from archive_service.disposition.tombstones import destroyed_message

        stone = s.scalars(select(Tombstone).filter_by(register_entry_id=entry.id)).first()
        if stone is not None:
            raise NotFoundError(destroyed_message(s, stone))
        key, digest, school_id = entry.storage_key, entry.handover_hash, school.id
    data = archive.storage.get(key)
    if sha256_hex(data) != digest:
        raise IntegrityError(f"Общая папка № {number} ({year}) изменена в хранилище: её хеш "
                             "не совпадает с записанным в реестре.")
    record(archive, reader, "register.folder.read", "register_entry", f"{year}/{number}",
           chain=school_id, details={"sha256": digest})
    return f"folder-{school.code}-{year}-{number}.pdf", data
