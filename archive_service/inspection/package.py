"""The archival package of a school's year: a BagIt bag (RFC 8493, SHA-512 manifests).

For a municipal archive or an inspector, checkable without this software:

    data/documents/NUMBER.pdf        every signed document of the year (not destroyed ones)
    data/snapshots/snapshot-ID.json  the frozen journal each was rendered from (canonical JSON)
    data/reports/NUMBER.json|.pdf    the verification report of each document, made now
    data/register.json|.xlsx         the register extract for the year
    data/certificates/root.pem       the school's root certificate (trust it to verify)
    data/certificates/tsa.pem        the school's time-stamping authority certificate
    data/certificates/school.crl     the school's current revocation list (DER)
    data/manifest.json               what every file is (role, document, hashes)

Made with the Library of Congress ``bagit`` library; ``bagit.py --validate DIR`` checks it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from archive_service.accounts import access
from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import ConflictError, NotFoundError


@dataclass(frozen=True)
class PackageSummary:
    """What went into a bag."""

    path: Path
    documents: int
    files: int
    bytes: int


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


def export_package(archive: Archive, *, school_code: str | None, year: str, out: Path,
                   reader: Actor, who=None) -> PackageSummary:  # noqa: ANN001
    """Write the bag of a school's academic year into ``out`` (new or empty)."""
    from archive_service.disposition.models import Tombstone
    from archive_service.journals.lookup import find_school
    from archive_service.journals.models import AcademicYear, Period
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import SchoolPki
    from archive_service.snapshots.models import PeriodSnapshot

    if out.exists() and any(out.iterdir()):
        raise ConflictError(f"Папка {out} не пуста: пакет пишется в новую или пустую папку.")
    with archive.sessions() as s:
        school = find_school(s, school_code)
        if not access.read_scope(s, who, school.id, year).whole:  # the whole school's year
            raise NotFoundError(f"Учебный год {year} школы {school.code} не найден.")
        year_row = s.scalars(select(AcademicYear).filter_by(school_id=school.id,
                                                             label=year)).first()
        if year_row is None:
            raise NotFoundError(f"Учебный год {year} школы {school.code} не найден.")
        gone = set(s.scalars(select(Tombstone.document_id)))
        docs = [(d.id, d.number, d.kind, snap.id, snap.storage_key, snap.sha256)
                for d, snap in s.execute(
                    select(RenderedDocument, PeriodSnapshot)
                    .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
                    .join(Period, Period.id == PeriodSnapshot.period_id)
                    .where(Period.academic_year_id == year_row.id)
                    .order_by(RenderedDocument.id)) if d.id not in gone]
        pki_row = s.scalars(select(SchoolPki).filter_by(school_id=school.id)).first()
        code, name = school.code, school.name
    if not docs:
        raise NotFoundError(f"За {year} в школе {code} нет документов для пакета.")
    existed = out.exists()
    try:
        return _write(archive, out, docs, code, name, year, pki_row, reader)
    except BaseException:
        # Nothing half-made is left behind: a partial bag could be taken for a whole one.
        import shutil

        if existed:
            for child in out.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _write(archive: Archive, out: Path, docs: list, code: str, name: str, year: str,
           pki_row, reader: Actor) -> PackageSummary:  # noqa: ANN001
    """Write the payload, then make it a bag (the caller removes it on any failure)."""
    import bagit

    from archive_service.inspection.report import report_data, report_pdf
    from archive_service.journals.lookup import find_school
    from archive_service.register import export
    from archive_service.register.service import register_list
    from archive_service.signatures.service import signed_pdf
    from archive_service.storage.base import sha256_hex

    data = out  # make_bag moves what is here into data/
    for sub in ("documents", "snapshots", "reports", "certificates"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    manifest: list[dict] = []

    def put(rel: str, content: bytes, role: str, **extra) -> None:
        (data / rel).write_bytes(content)
        manifest.append({"path": f"data/{rel}", "role": role, "size": len(content),
                         "sha256": hashlib.sha256(content).hexdigest(), **extra})

    snapshots_done: set[int] = set()
    for doc_id, number, kind, snap_id, snap_key, snap_sha in docs:
        pdf = signed_pdf(archive, doc_id, reader=reader)
        put(f"documents/{_safe(number)}.pdf", pdf, f"подписанный документ ({kind})",
            document_id=doc_id, number=number)
        if snap_id not in snapshots_done:
            content = archive.storage.get(snap_key)
            if sha256_hex(content) != snap_sha:
                from archive_service.errors import IntegrityError

                raise IntegrityError(f"Срез № {snap_id} изменён в хранилище: пакет не создан.")
            put(f"snapshots/snapshot-{snap_id}.json", content, "срез журнала (канонический "
                "JSON)", snapshot_id=snap_id)
            snapshots_done.add(snap_id)
        report = report_data(archive, doc_id, reader=reader)
        put(f"reports/{_safe(number)}.json", json.dumps(report, ensure_ascii=False, indent=1)
            .encode(), "протокол проверки (JSON)", document_id=doc_id)
        put(f"reports/{_safe(number)}.pdf", report_pdf(report), "протокол проверки (PDF/A)",
            document_id=doc_id)
    try:
        rows = register_list(archive, school_code=code, year=year)
    except NotFoundError:  # nothing registered that year: an empty extract
        rows = []
    put("register.json", json.dumps([r.as_dict() for r in rows], ensure_ascii=False,
                                    indent=1).encode(), "выписка из реестра (JSON)")
    put("register.xlsx", export.to_xlsx(rows, school=name, year=year),
        "выписка из реестра (XLSX)")
    if pki_row is not None:
        put("certificates/root.pem", pki_row.root_cert, "корневой сертификат школы")
        put("certificates/tsa.pem", pki_row.tsa_cert, "сертификат службы штампов времени")
        put("certificates/school.crl", pki_row.crl, "список отозванных сертификатов школы "
            "(CRL, DER)")
    put("manifest.json", json.dumps({"school": name, "school_code": code, "year": year,
                                     "made_at": dt.datetime.now(dt.UTC).isoformat(
                                         timespec="seconds"), "made_by": reader.name,
                                     "files": manifest}, ensure_ascii=False, indent=1).encode(),
        "опись пакета")
    bagit.make_bag(str(out), bag_info={
        "Source-Organization": name, "External-Identifier": f"{code}/{year}",
        "External-Description": f"Архив электронных классных журналов: {name}, учебный год "
                                f"{year}; подписанные документы, срезы, протоколы проверки, "
                                "выписка из реестра, сертификаты.",
        "Bagging-Date": dt.date.today().isoformat(), "Contact-Name": reader.name},
        checksums=["sha512"])
    files = [p for p in (out / "data").rglob("*") if p.is_file()]
    from archive_service.audit.service import record

    with archive.sessions() as s:
        school_id = find_school(s, code).id
    record(archive, reader, "inspection.package", "school", code, chain=school_id,
           details={"year": year, "documents": len(docs), "files": len(files)})
    return PackageSummary(out, len(docs), len(files), sum(p.stat().st_size for p in files))
