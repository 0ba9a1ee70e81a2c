"""The demo school: deterministic, realistic, and the same in JSON and in spreadsheets.

The end-to-end tests run the demo on a few of its classes (a first grade without marks,
classes on quarters, a senior class on half-years): the same job as ``make demo``, whose
whole school (25 classes) the generator test above checks and ``make demo`` and the benches
(bench/bench_import_snapshot.py, bench/bench_render.py) run in full; signing 42 documents
through the chain here would take a minute of every test run and test nothing more.
"""

from __future__ import annotations

import json
import shutil

import pytest

from archive_service.actors import Actor
from archive_service.demo.generator import generate_school
from archive_service.demo.service import run_demo, write_demo_data
from archive_service.errors import ImportRejectedError, NotFoundError
from archive_service.journals.service import import_files
from archive_service.signatures.service import verify_document
from archive_service.signatures.state import chain_state
from archive_service.snapshots.service import create_snapshots
from tests.conftest import make_archive

ACTOR = Actor("demo test")


def test_an_unknown_demo_class_is_named_and_nothing_is_written(tmp_path):
    with pytest.raises(NotFoundError, match="нет класса «12Б»; есть: 1А, 1Б"):
        write_demo_data(tmp_path / "out", 1, classes=["7А", "12Б"])
    assert not (tmp_path / "out").exists()


def test_generator_is_deterministic_for_a_seed():
    a = generate_school(3, classes=["1А", "7А"])
    b = generate_school(3, classes=["1А", "7А"])
    assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)
    assert json.dumps(generate_school(4, classes=["1А", "7А"])) != json.dumps(a)


def test_generated_school_is_realistic():
    docs = generate_school(1)
    classes = [d["classes"][0] for d in docs]
    assert len(classes) == 25
    students = sum(len(c["students"]) for c in classes)
    assert 550 <= students <= 700
    grade1 = [c for c in classes if c["grade"] == 1]
    assert grade1 and all(not lesson["marks"] and not lesson["homework"]
                          for c in grade1 for course in c["courses"]
                          for lesson in course["lessons"])
    seventh = next(c for c in classes if c["name"] == "7А")
    subjects = {course["subject"] for course in seventh["courses"]}
    assert {"Алгебра", "Геометрия", "Физика", "Русский язык"} <= subjects
    assert "Химия" not in subjects  # chemistry starts in grade 8
    subgroups = {course["subgroup"] for course in seventh["courses"]}
    assert {"1 группа", "2 группа"} <= subgroups
    senior = next(c for c in classes if c["name"] == "10А")
    assert senior["period_scheme"] == "half_years"
    names = [s["full_name"] for c in classes for s in c["students"]]
    assert all(len(n.split()) == 3 for n in names) and len(set(names)) == len(names)


#: Classes of every kind: first grades (no marks), each stage, subgroups, half-years (10-11).
SAME_IN_BOTH = ["1А", "4Б", "7А", "9В", "10А", "11Б"]
#: The end-to-end run's classes: three on quarters, one on half-years (not in a quarter).
END_TO_END = ["1А", "5Б", "7А", "10А"]


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return write_demo_data(out, 1, classes=SAME_IN_BOTH)


@pytest.mark.slow
def test_json_and_spreadsheets_of_the_demo_school_give_identical_snapshots(
        demo_files, tmp_path, sqlite_template):
    json_files, xlsx_files = demo_files
    hashes = {}
    for fmt, files in (("json", json_files), ("xlsx", xlsx_files)):
        home = tmp_path / fmt
        home.mkdir()
        shutil.copy(sqlite_template, home / "archive.sqlite3")
        archive = make_archive(home, f"sqlite:///{home / 'archive.sqlite3'}")
        for outcome in import_files(archive, files, actor=ACTOR):
            assert not isinstance(outcome, ImportRejectedError), outcome.message
        for period in ("Q1", "Q2", "Q3", "Q4", "H1", "H2", "Y"):
            for o in create_snapshots(archive, period=f"2025-2026/{period}", class_name=None,
                                      school_code=None, actor=ACTOR):
                hashes.setdefault(fmt, {})[(o.snapshot.class_name, period)] = o.snapshot.sha256
        archive.dispose()
    # 4 classes on quarters (Q1-Q4 and Y), 2 on half-years (H1, H2 and Y)
    assert len(hashes["json"]) == 4 * 5 + 2 * 3
    assert hashes["json"] == hashes["xlsx"]


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path, sqlite_template):
    shutil.copy(sqlite_template, tmp_path / "archive.sqlite3")
    archive = make_archive(tmp_path, f"sqlite:///{tmp_path / 'archive.sqlite3'}")
    summary = run_demo(archive, out=tmp_path / "demo", seed=2, period_code="Q1", actor=ACTOR,
                       with_xlsx=False, classes=END_TO_END)
    assert summary.json_files == len(END_TO_END)
    classes_on_quarters = 3
    assert len(summary.snapshots) == classes_on_quarters
    assert all(o.created for o in summary.snapshots)
    assert summary.verified == classes_on_quarters
    assert summary.findings  # a realistic journal is never perfect
    docs = [d for r in summary.rendered for d in r.documents]
    assert len(docs) == 2 * classes_on_quarters
    assert {d.kind for d in docs} == {"journal", "summary"}
    # Every document went through the whole chain with the demo users' keys.
    assert summary.signing.documents == {d.id for d in docs}
    assert summary.signing.registered == len(docs)
    for d in docs:
        assert chain_state(archive, d.id).next_step is None
    assert verify_document(archive, docs[0].id).ok
    # The whole archive went into an encrypted backup that verified.
    assert summary.backup.files == len(list(archive.storage.keys())) and summary.backup_verified
    assert "Ключ:" in (tmp_path / "backup-escrow-key.txt").read_text("utf-8")
    # The retention plan on the first day of each rule (the year closes in 2026). A quarter's
    # copies wait for the year summary sheet, which this run (Q1) did not make.
    import datetime as dt

    copies_due, summaries_due = dt.date(2032, 1, 1), dt.date(2102, 1, 1)
    assert summary.retention[copies_due] == {("journal", "summary_missing"): classes_on_quarters,
                                             ("summary", "not_yet_due"): classes_on_quarters}
    assert summary.retention[summaries_due][("summary", "due")] == classes_on_quarters
    # The demo school's year as an archival package that the Library of Congress validator
    # accepts.
    import subprocess
    import sys
    from pathlib import Path

    from archive_service.actors import Actor
    from archive_service.inspection.package import export_package

    bag = tmp_path / "bag"
    done = export_package(archive, school_code=None, year="2025-2026", out=bag,
                          reader=Actor("Проверяющий"))
    assert done.documents == len(docs)
    validator = str(Path(sys.executable).with_name("bagit.py"))
    assert subprocess.run([sys.executable, validator, "--validate", str(bag)],
                          capture_output=True).returncode == 0
    archive.dispose()
