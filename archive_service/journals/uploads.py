"""Uploaded exports: single files, or a zip of them, turned into (name, bytes) to import.

Pure functions (no database): the web's upload page unpacks here, then imports each file
all-or-nothing through ``journals.service.import_data``. Decisions:

- A zip is unpacked one level: folders inside it are flattened (a file is named
  «архив.zip/7А.json» in messages), hidden and system entries (``__MACOSX``, ``.DS_Store``,
  names starting with a dot) are skipped, a zip inside a zip is refused by name.
- An .xlsx is a zip too: a zip holding ``xl/workbook.xml`` is a workbook, not an archive.
- Names written by Windows without the UTF-8 flag are CP866 (what Russian Windows' own zip
  writes), not CP437 as the zip format says: they are read as CP866 when they decode so.
- Bounds against a zip bomb or a wrong file: at most ``MAX_MEMBERS`` files in a zip,
  ``MAX_FILE`` bytes a file once unpacked and ``MAX_TOTAL`` bytes in all; an entry that
  unpacks to more than its header said is refused. A bound exceeded refuses that upload
  with the reason, nothing of it imported.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from archive_service.errors import ImportRejectedError, Problem
from archive_service.journals.sheets import ACCEPTED, MAX_FILE

MAX_MEMBERS = 500
MAX_TOTAL = 512 * 1024 * 1024
#: The largest upload the page takes at once (files and zips together).
MAX_UPLOAD = 128 * 1024 * 1024
IMPORTABLE = (".json", ".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".html", ".htm")


@dataclass(frozen=True)
class Upload:
    """One file to import: its name as the person knows it, and its bytes."""

    name: str
    data: bytes


def _is_workbook(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            return "xl/workbook.xml" in names or (
                "mimetype" in names and b"spreadsheet" in zf.read("mimetype")[:100])
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def is_zip_archive(name: str, data: bytes) -> bool:
    """Whether an upload is a zip of exports (not a workbook, which is a zip as well)."""
    if name.lower().endswith(".zip"):
        return True
    return data[:4] == b"PK\x03\x04" and not _is_workbook(data) and \
        PurePosixPath(name).suffix.lower() not in (".xlsx", ".xlsm", ".ods")


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # no UTF-8 flag: the bytes were decoded as CP437
        try:
            name = name.encode("cp437").decode("cp866")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _skipped(path: PurePosixPath) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts) or \
        path.name.lower() in ("thumbs.db", "desktop.ini")


def unpack(name: str, data: bytes) -> list[Upload | ImportRejectedError]:
    """The files an upload holds: itself, or the members of a zip (each a file to import or
    the refusal of that member); a zip that cannot be read is one refusal."""
    if not is_zip_archive(name, data):
        return [Upload(name, data)]
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return [ImportRejectedError(name, [Problem(name, "архив zip повреждён или это не zip: "
                                                         "запакуйте файлы заново")])]
    out: list[Upload | ImportRejectedError] = []
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) > MAX_MEMBERS:
            return [ImportRejectedError(name, [Problem(
                name, f"в архиве {len(members)} файлов, принимается не больше {MAX_MEMBERS}: "
                      "разделите его на несколько")])]
        total = 0
        for info in members:
            path = PurePosixPath(_member_name(info).replace("\\", "/"))
            if _skipped(path):
                continue
            label = f"{name}/{path.name}"
            suffix = path.suffix.lower()
            if suffix == ".zip":
                out.append(ImportRejectedError(label, [Problem(
                    label, "архив внутри архива не распаковывается: положите файлы журнала "
                           "прямо в один архив")]))
                continue
            if suffix not in IMPORTABLE:
                out.append(ImportRejectedError(label, [Problem(
                    label, f"файл вида «{suffix or 'без расширения'}» — не выгрузка журнала; "
                           f"{ACCEPTED}")]))
                continue
            if info.file_size > MAX_FILE or total + info.file_size > MAX_TOTAL:
                return [ImportRejectedError(name, [Problem(
                    name, f"файл {path.name} распаковывается в {info.file_size:,} байт; "
                          f"принимается до {MAX_FILE // 2**20} МиБ на файл и "
                          f"{MAX_TOTAL // 2**20} МиБ на архив".replace(",", " "))])]
            try:
                with zf.open(info) as fh:
                    content = fh.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                out.append(ImportRejectedError(label, [Problem(
                    label, f"файл в архиве не читается ({exc}): запакуйте заново без пароля")]))
                continue
            if len(content) > info.file_size:
                return [ImportRejectedError(name, [Problem(
                    name, f"файл {path.name} распаковывается больше, чем указано в архиве: "
                          "архив повреждён")])]
            total += len(content)
            out.append(Upload(label, content))
    if not out:
        out.append(ImportRejectedError(name, [Problem(name, "в архиве нет файлов журнала; "
                                                            f"{ACCEPTED}")]))
    return out
