"""The import corpus (tests/journals/corpus, written by make_corpus.py): the same journal as
teachers and e-journals lay it out and save it. Each layout stores exactly what the clean
file stores, each refusal names the cell and stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_service.actors import Actor
from archive_service.errors import ImportRejectedError
from archive_service.journals.models import Attendance, Enrolment, Mark, PeriodMark
from archive_service.journals.service import import_data
from tests.support.state import archive_state

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
ACTOR = Actor("Секретарь Тестовая")


def _import(archive, name: str):
    return import_data(archive, name, (CORPUS / name).read_bytes(), actor=ACTOR)


def _stored(archive) -> dict[str, int]:
    with archive.sessions() as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                for model in (Enrolment, Mark, Attendance, PeriodMark)}


@pytest.fixture
def clean(sqlite_archive):
    """The archive with the clean file imported."""
    assert _import(sqlite_archive, "clean.xlsx").changed
    return sqlite_archive


def test_every_file_of_the_corpus_has_its_expected_result():
    files = {p.name for p in CORPUS.iterdir() if p.suffix not in (".py", ".json")} - {
        "__pycache__"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", [n for n, e in EXPECTED.items() if e.get("same_as")])
def test_a_layout_stores_exactly_what_the_clean_file_stores(clean, name):
    """Imported after the clean file, the variant changes nothing: every student, mark,
    absence and period mark read, none added (the counts are the clean file's too)."""
    before, counts = archive_state(clean), _stored(clean)
    assert counts == {"enrolment": 3, "mark": 5, "attendance": 3, "period_mark": 4}
    result = _import(clean, name)
    assert not result.changed, (name, result.counts)
    assert result.content == {"classes": 1, "students": 3, "lessons": 4, "marks": 5,
                              "absences": 3, "period_marks": 4}
    assert archive_state(clean) == before
    for fragment in EXPECTED[name].get("notes", []):
        assert any(fragment in n for n in result.notes), (fragment, result.notes)


def test_the_e_journal_spellings_read_as_the_same_journal(clean):
    """НБ, ОП and «5-» are the same absences and marks as н, о and 5: same counts, the raw
    spellings kept."""
    counts = _stored(clean)
    result = _import(clean, "e-journal-spellings.xlsx")
    assert result.changed and _stored(clean) == counts
    with clean.sessions() as s:
        raws = set(s.scalars(select(Attendance.raw))) | set(s.scalars(select(Mark.raw)))
        codes = sorted(s.scalars(select(Attendance.code)))
        values = sorted(s.scalars(select(Mark.value)))
    assert {"НБ", "ОП", "5-"} <= raws and codes == ["Б", "Н", "О"]
    assert values == ["3", "4", "5", "5", "зач"]


@pytest.mark.parametrize("name", [n for n, e in EXPECTED.items() if "refused" in e])
def test_a_wrong_file_is_refused_naming_the_cell_and_stores_nothing(clean, name):
    before = archive_state(clean)
    with pytest.raises(ImportRejectedError) as info:
        _import(clean, name)
    for fragment in EXPECTED[name]["refused"]:
        assert fragment in info.value.message, info.value.message
    assert archive_state(clean) == before
