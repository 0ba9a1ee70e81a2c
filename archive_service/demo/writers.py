"""Writing the demo school as canonical JSON and as e-journal spreadsheet exports."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from archive_service.journals.values import period_name

KIND_COLUMNS = {"year": "Год", "exam": "Экзамен", "final": "Итоговая"}


def write_json(docs: list[dict[str, Any]], out: Path) -> list[Path]:
    """One JSON file per class: ``out/json/<class>.json``."""
    folder = out / "json"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in docs:
        path = folder / f"{doc['classes'][0]['name']}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
        paths.append(path)
    return paths


def write_xlsx(docs: list[dict[str, Any]], out: Path) -> list[Path]:
    """One workbook per class and period: ``out/xlsx/<class>_<period>.xlsx``."""
    folder = out / "xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, doc in enumerate(docs):
        cls = doc["classes"][0]
        codes = [c for c in doc["covers"] if c != "Y"]
        for code in codes:
            path = folder / f"{cls['name']}_{code}.xlsx"
            _workbook(doc, cls, code, last=code == codes[-1], text_dates=index % 2 == 0).save(path)
            paths.append(path)
    return paths


def _d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _fmt(d: dt.date | None) -> str | None:
    return d.strftime("%d.%m.%Y") if d else None


def _sheet_title(subject: str, subgroup: str | None, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", subject)
    suffix = f" ({subgroup})" if subgroup else ""
    title = (base[: 31 - len(suffix)] + suffix).strip()
    n = 2
    while title.casefold() in used:
        title = f"{title[:28]}~{n}"
        n += 1
    used.add(title.casefold())
    return title


def _workbook(doc: dict, cls: dict, code: str, *, last: bool, text_dates: bool) -> Workbook:
    periods = {p["code"]: p for p in doc["academic_year"]["periods"]}
    start, end = _d(periods[code]["start"]), _d(periods[code]["end"])
    wb = Workbook(write_only=True)
    head = wb.create_sheet("Класс")
    year = doc["academic_year"]
    for label, value in [
        ("Школа", doc["school"]["name"]), ("Код школы", doc["school"]["code"]),
        ("Система", doc["school"].get("source_system")), ("Учебный год", year["label"]),
        ("Начало учебного года", _fmt(_d(year["start"]))),
        ("Окончание учебного года", _fmt(_d(year["end"]))),
        ("Период", period_name(code)), ("Начало периода", _fmt(start)),
        ("Окончание периода", _fmt(end)), ("Класс", cls["name"]),
        ("Классный руководитель", cls["class_leader"]),
    ]:
        head.append([label, value])
    head.append([])
    head.append(["№", "ФИО", "Дата рождения", "№ личного дела", "Прибыл", "Выбыл"])

    def overlaps(s: dict) -> bool:
        j, lv = _d(s["joined"]), _d(s["left"])
        return (j is None or j <= end) and (lv is None or lv >= start)

    listed = [s for s in cls["students"] if overlaps(s)]
    for i, s in enumerate(listed, 1):
        head.append([i, s["full_name"], _fmt(_d(s["birth_date"])), s["record_number"],
                     _fmt(_d(s["joined"])), _fmt(_d(s["left"]))])
    names = {s["record_number"]: s["full_name"] for s in listed}
    used: set[str] = set()
    for course in cls["courses"]:
        lessons = [le for le in course["lessons"] if start <= _d(le["date"]) <= end]
        pmarks = [m for m in course["period_marks"]
                  if m["period"] == code or (last and m["period"] == "Y")]
        if not lessons and not pmarks:
            continue
        ws = wb.create_sheet(_sheet_title(course["subject"], course.get("subgroup"), used))
        ws.append(["Предмет", course["subject"]])
        if course.get("subgroup"):
            ws.append(["Группа", course["subgroup"]])
        ws.append(["Учитель", "; ".join(course["teachers"])])
        ws.append([])
        kinds = ["period"] + ([k for k in KIND_COLUMNS if any(
            m["kind"] == k for m in course["period_marks"])] if last else [])
        header: list[Any] = ["№", "ФИО"]
        for le in lessons:
            day = _d(le["date"])
            if text_dates:
                header.append(day.strftime("%d.%m"))
            else:
                cell = WriteOnlyCell(ws, value=day)
                cell.number_format = "DD.MM"
                header.append(cell)
        header += [period_name(code) if k == "period" else KIND_COLUMNS[k] for k in kinds]
        ws.append(header)
        roster = [r for r in (course.get("students") or names) if r in names]
        roster.sort(key=lambda r: names[r])
        cells: dict[tuple[str, int], list[str]] = {}
        for li, le in enumerate(lessons):
            for a in le["attendance"]:
                cells.setdefault((a["student"], li), []).insert(0, a["code"])
            for m in le["marks"]:
                cells.setdefault((m["student"], li), []).append(str(m["raw"]))
        pm = {(m["student"], m["kind"]): m["raw"] for m in pmarks}
        for i, rec in enumerate(roster, 1):
            row: list[Any] = [i, names[rec]]
            row += ["/".join(cells[(rec, li)]) if (rec, li) in cells else None
                    for li in range(len(lessons))]
            row += [pm.get((rec, k)) for k in kinds]
            ws.append(row)
        ws.append([])
        ws.append(["Дата", "Тема урока", "Домашнее задание", "Вид работы", "Вес"])
        for le in lessons:
            kind = le["marks"][0]["kind_of_work"] if le["marks"] else None
            weight = le["marks"][0]["weight"] if le["marks"] else None
            w: Any = None
            if weight is not None:
                w = float(weight) if "." in str(weight) else int(weight)
            ws.append([_d(le["date"]).strftime("%d.%m.%Y"), le["topic"], le["homework"], kind, w])
    return wb


def write_region(root: Path, *, schools: int, classes: list[str], seed: int = 1,
                 first_code: int = 5903000001) -> list[str]:
    """A generated region for period-close tests and benches: ``root/<school code>/<class>.json``
    for ``schools`` schools (each its own seed, code and name), as a school's e-journal would
    drop its exports in ``ARCHIVE_IMPORT_ROOT``. Returns the school codes."""
    from archive_service.demo.generator import generate_school

    codes = []
    for n in range(schools):
        code = str(first_code + n)
        docs = generate_school(seed + n, classes=classes)
        for doc in docs:
            doc["school"] = {**doc["school"], "code": code,
                             "name": f"МБОУ «Средняя общеобразовательная школа № {n + 1}» "
                                     "(демо-регион)"}
        folder = root / code
        folder.mkdir(parents=True, exist_ok=True)
        for doc in docs:
            (folder / f"{doc['classes'][0]['name']}.json").write_text(
                json.dumps(doc, ensure_ascii=False), "utf-8")
        codes.append(code)
    return codes
