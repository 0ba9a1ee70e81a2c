"""The register for a year as a paper register has it: XLSX (openpyxl) and PDF/A (reportlab).

Columns follow a secretary's register of documents: inventory number, date received, title
(kind, class, period), sheets, from whom (the deputy who certified and handed it over),
received by, storage location, mark (state of the copy).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from archive_service.register.service import RegisterRow
from archive_service.rendering import tables

HEADERS = ("№ п/п", "Дата поступления", "Наименование документа", "Класс", "Период",
           "Листов", "От кого поступил", "Принял", "Место хранения", "Отметка")


def _values(r: RegisterRow) -> tuple:
    received = dt.datetime.fromisoformat(r.received_at)
    return (r.number, f"{received:%d.%m.%Y}", r.title, r.class_name or "", r.period,
            r.sheets, r.handed_over_by, r.received_by, r.location, r.status)


def to_xlsx(rows: list[RegisterRow], *, school: str, year: str) -> bytes:
    """The register as a workbook with one sheet, ready to print (landscape, fitted)."""
    return tables.to_xlsx(
        sheet=f"Реестр {year}", headers=HEADERS, rows=[_values(r) for r in rows],
        title=f"Реестр бумажных копий электронных журналов — {school}, {year} учебный год",
        widths=(7, 12, 48, 7, 8, 7, 30, 30, 30, 18))


def to_pdf(rows: list[RegisterRow], *, school: str, year: str) -> bytes:
    """The register as a PDF/A-2b table (landscape A4), every page numbered."""
    return tables.to_pdf(
        title=f"Реестр бумажных копий электронных журналов\n{school}, {year} учебный год",
        headers=HEADERS, rows=[_values(r) for r in rows],
        widths_mm=(12, 20, 62, 12, 13, 12, 38, 38, 40, 22), footer=f"Реестр {school}, {year}")


def write(rows: list[RegisterRow], path: Path, *, school: str, year: str) -> None:
    """Write by the file's suffix: .xlsx or .pdf."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        path.write_bytes(to_xlsx(rows, school=school, year=year))
    elif suffix == ".pdf":
        path.write_bytes(to_pdf(rows, school=school, year=year))
    else:
        from archive_service.errors import ConfigError

        raise ConfigError(f"Реестр выгружается в .xlsx или .pdf, а не в «{path.name}».")
