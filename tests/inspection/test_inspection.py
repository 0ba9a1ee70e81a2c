"""Inspectors: search within the grant (by student across years, students who left too),
verification reports, the BagIt package; every access in the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archive_service.accounts.service import create_account, grant_inspection
from archive_service.audit.service import entries
from archive_service.inspection.service import Criteria, search
from archive_service.journals.service import import_file
from archive_service.rendering.service import render_snapshots
from archive_service.snapshots.service import create_snapshots
from tests.signatures.test_chain import ACTOR
from tests.support.journal import tiny, write_json
from tests.web.conftest import PASSWORD, login, make_web

BAGIT = str(Path(sys.executable).with_name("bagit.py"))


def _previous_year(archive, tmp_path) -> list[int]:
    """The same school a year earlier: class 6А with the same students (ЛД-3 left in
    October)."""
    text = json.dumps(tiny(), ensure_ascii=False)
    text = re.sub(r"\b2026\b|\b2025\b", lambda m: str(int(m.group()) - 1), text)
    doc = json.loads(text.replace('"7А"', '"6А"'))
    doc["classes"][0]["grade"] = 6
    import_file(archive, write_json(doc, tmp_path / "previous.json"), actor=ACTOR)
    [snap] = create_snapshots(archive, period="2024-2025/Q1", class_name=None,
                              school_code="T-001", actor=ACTOR)
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=ACTOR, workers=1)
    return [d.id for d in outcome.documents]


@pytest.fixture
def inspection(archive, tmp_path):
    app, archive, journal, other = make_web(archive, tmp_path)
    earlier = _previous_year(archive, tmp_path)
    today = dt.date.today()
    create_account(archive, school_code=None, login="both-years", full_name="Проверяющий А",
                   password=PASSWORD, roles=[("inspector", "")], actor=ACTOR)
    for year in ("2024-2025", "2025-2026"):
        grant_inspection(archive, login="both-years", school_code="T-001", year=year,
                         starts=today - dt.timedelta(days=1), ends=today + dt.timedelta(days=5),
                         basis="Приказ Рособрнадзора № 7", actor=ACTOR)
    return app, archive, journal, other, earlier


def test_an_inspector_finds_every_ledger_of_a_student_within_the_grant(inspection):
    app, archive, journal, other, earlier = inspection
    a = login(app, "both-years")
    page = a.get("/search?student=кузнецов").get_data(as_text=True)
    found = re.findall(r'href="/documents/(\d+)"', page)
    assert sorted(map(int, found)) == sorted([journal, journal + 1, *earlier])
    assert "Кузнецов Пётр Олегович" in page and "6А" in page and "7А" in page
    api = a.get("/api/v1/search?student=ЛД-3").json["found"]
    assert {(f["year"], f["class_name"]) for f in api} == {("2024-2025", "6А"),
                                                           ("2025-2026", "7А")}
    # The inspector granted only 2025-2026 sees only that year; nobody sees the other school.
    b = login(app, "inspector")
    assert {f["year"] for f in b.get("/api/v1/search?student=ЛД-3").json["found"]} == {
        "2025-2026"}
    assert b.get("/api/v1/search?school=T-002").json["found"] == []
    assert login(app, "expired").get("/api/v1/search?student=ЛД-3").json["found"] == []
    assert b.get(f"/api/v1/documents/{earlier[0]}/report").status_code == 404
    assert b.get(f"/api/v1/documents/{other}/report").status_code == 404
    assert a.get("/api/v1/search").status_code == 400  # nothing to look for
    # Every search and every report is in the audit trail, under the inspector's name.
    report = a.get(f"/documents/{journal}/report.pdf")
    assert report.status_code == 200 and report.data.startswith(b"%PDF")
    audit = [(e.actor, e.action) for e in entries(archive, chain=1, limit=500)]
    assert ("Проверяющий А (both-years)", "inspection.search") in audit
    assert ("Проверяющий А (both-years)", "document.read") in audit


def test_the_report_says_who_signed_what_and_how_to_check(inspection, tmp_path):
    from archive_service.inspection.report import report_data, report_pdf
    from tests.signatures.test_chain import _sign

    _app, archive, journal, _other, _earlier = inspection
    for login_ in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, journal, login_)
    data = report_data(archive, journal, reader=ACTOR)
    assert data["verdict"]["ok"] and len(data["signatures"]) == 7
    assert {s["signer"] for s in data["signatures"]} >= {"Орлова Вера Павловна"}
    assert data["register"]["number"] == 1 and data["certificates"]["root_sha256"]
    assert [e["event"][:20] for e in data["custody"]][:2] == ["срез журнала зафикси",
                                                             "документ сформирован"]
    out = tmp_path / "report.pdf"
    out.write_bytes(report_pdf(data))
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Протокол проверки" in text and "pdfsig" in text and "Орлова Вера Павловна" in text
    with pytest.raises(Exception, match="не найден"):
        report_data(archive, 10**6, reader=ACTOR)
    # Stored values are text, never reportlab markup (issue 27, item 4): an <img> naming a
    # local file is printed, not opened; <b> and & print literally.
    data["register"]["location"] = "Сейф <b>№ 7</b> & шкаф <img src='/etc/passwd'/>"
    data["custody"][0]["by"] = "<font color='red'>Кто-то</font>"
    out.write_bytes(report_pdf(data))
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "Сейф <b>№ 7</b> & шкаф <img src='/etc/passwd'/>" in text, text
    assert "<font color='red'>Кто-то</font>" in text


def test_the_bag_validates_and_a_flipped_byte_does_not(inspection, tmp_path):
    from archive_service.inspection.package import export_package

    _app, archive, journal, _other, _earlier = inspection
    bag = tmp_path / "bag"
    done = export_package(archive, school_code="T-001", year="2025-2026", out=bag, reader=ACTOR)
    assert done.documents == 2
    ok = subprocess.run([sys.executable, BAGIT, "--validate", str(bag)], capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads((bag / "data" / "manifest.json").read_text("utf-8"))
    roles = {f["role"] for f in manifest["files"]}
    assert {"корневой сертификат школы", "протокол проверки (PDF/A)",
            "срез журнала (канонический JSON)", "выписка из реестра (XLSX)"} <= roles
    assert "sha512" in (bag / "manifest-sha512.txt").name
    victim = next((bag / "data" / "documents").glob("*.pdf"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    bad = subprocess.run([sys.executable, BAGIT, "--validate", str(bag)], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and victim.name in bad.stderr
    from archive_service.errors import ConflictError

    with pytest.raises(ConflictError, match="не пуста"):
        export_package(archive, school_code="T-001", year="2025-2026", out=bag, reader=ACTOR)


def test_search_from_the_command_line_as_the_operator(inspection):
    _app, archive, _journal, _other, _earlier = inspection
    from archive_service.disposition.service import place_hold

    place_hold(archive, actor=ACTOR, reason="запрос суда", school_code="T-001",
               year="2024-2025")
    found = search(archive, Criteria(student="Сидорова"), reader=ACTOR)
    held = {f.year: f.retention for f in found if f.school == "T-001"}
    assert "запрос суда" in held["2024-2025"] and held["2025-2026"].startswith("хранится")
    assert {(f.school, f.year) for f in found} == {("T-001", "2024-2025"),
                                                   ("T-001", "2025-2026"),
                                                   ("T-002", "2025-2026")}


def test_a_changed_snapshot_stops_the_package_and_leaves_no_half_bag(inspection, tmp_path):
    from archive_service.errors import IntegrityError
    from archive_service.inspection.package import export_package
    from archive_service.snapshots.models import PeriodSnapshot

    _app, archive, _journal, _other, _earlier = inspection
    with archive.sessions() as s:
        key = s.query(PeriodSnapshot).filter_by(school_id=1).order_by(
            PeriodSnapshot.id.desc()).first().storage_key
    path = archive.storage.root / key
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b" ")
    bag = tmp_path / "bag"
    with pytest.raises(IntegrityError, match="изменён в хранилище: пакет не создан"):
        export_package(archive, school_code="T-001", year="2024-2025", out=bag, reader=ACTOR)
    assert not bag.exists()
    bag.mkdir()
    with pytest.raises(IntegrityError):
        export_package(archive, school_code="T-001", year="2024-2025", out=bag, reader=ACTOR)
    assert bag.is_dir() and not any(bag.iterdir())
