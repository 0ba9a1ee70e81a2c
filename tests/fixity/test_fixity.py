"""Fixity: every stored object re-hashed against its record; a flipped byte, a deleted
object and a failure of the checker itself each fail loudly, naming what failed."""

from __future__ import annotations

import pytest

from archive_service.errors import StorageError
from archive_service.fixity import service as fixity
from archive_service.fixity.models import FixityRun
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import SignatureRecord
from archive_service.snapshots.models import PeriodSnapshot
from tests.cli.test_cli import run
from tests.signatures.test_chain import ACTOR, _setup, _sign


def _signed(archive, tmp_path) -> int:
    doc = _setup(archive, tmp_path)
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, doc, login)
    return doc


def _path(archive, key):
    return archive.storage.root / key


def _flip(archive, key) -> bytes:
    path = _path(archive, key)
    path.chmod(0o644)
    original = path.read_bytes()
    data = bytearray(original)
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    return original


def test_a_full_pass_then_a_flipped_byte_and_a_deleted_object_are_named(archive, tmp_path):
    doc = _signed(archive, tmp_path)
    clean = fixity.run_fixity(archive, actor=ACTOR, share=100)
    assert clean.ok and clean.items == clean.total and clean.bytes > 0
    with archive.sessions() as s:
        snapshot = s.query(PeriodSnapshot).first()
        piece = s.query(SignatureRecord).filter_by(document_id=doc).order_by(
            SignatureRecord.sequence.desc()).first().storage_key
    original = _flip(archive, snapshot.storage_key)
    flipped = fixity.run_fixity(archive, actor=ACTOR, share=100)
    assert not flipped.ok
    assert [p for p in flipped.problems if p.startswith(f"срез № {snapshot.id}:")] == [
        f"срез № {snapshot.id}: содержимое изменено — SHA-256 не совпадает с записанным "
        f"(объекты {snapshot.storage_key})"]
    _path(archive, snapshot.storage_key).write_bytes(original)
    _path(archive, piece).unlink()
    deleted = fixity.run_fixity(archive, actor=ACTOR, share=100)
    assert any(p.startswith(f"документ № {doc} (") and f"объект {piece} отсутствует" in p
               for p in deleted.problems)
    status = fixity.status(archive)
    assert not status.ok and status.failing == [next(
        p for p in deleted.problems if "отсутствует" in p).split(":")[0]]
    with archive.sessions() as s:
        assert [r.status for r in s.query(FixityRun).order_by(FixityRun.id)] == [
            "ok", "failed", "failed"]


def test_batches_cover_everything_within_the_cycle(sqlite_archive, tmp_path):
    archive = sqlite_archive
    _signed(archive, tmp_path)
    first = fixity.run_fixity(archive, actor=ACTOR, share=50)
    second = fixity.run_fixity(archive, actor=ACTOR, share=50)
    assert first.items + second.items >= first.total
    st = fixity.status(archive)
    assert st.ok and st.within_cycle == st.total and st.never_checked == 0


def test_a_failure_of_the_checker_itself_is_loud(sqlite_archive, tmp_path):
    """The storage becomes unreachable (an S3 endpoint nobody listens on): the run is marked
    crashed, the command exits non-zero naming the object it could not read."""
    from tests.conftest import make_archive

    archive = sqlite_archive
    _signed(archive, tmp_path)
    broken = make_archive(tmp_path, archive.settings.database_url,
                          "s3://archive/objects?endpoint=http://127.0.0.1:9")
    with pytest.raises(fixity.FixityCrashedError, match="Не удалось прочитать sha256/") as exc:
        fixity.run_fixity(broken, actor=ACTOR, share=100)
    assert "сбой самой проверки" in exc.value.message
    assert isinstance(exc.value.__cause__, StorageError)
    with archive.sessions() as s:
        assert s.query(FixityRun).one().status == "crashed"
    assert not fixity.status(archive).ok


def test_the_command_line(tmp_path, sqlite_template):
    import shutil

    from tests.conftest import make_archive

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(sqlite_template, home / "archive.sqlite3")
    archive = make_archive(home, f"sqlite:///{home / 'archive.sqlite3'}")
    _signed(archive, tmp_path)
    with archive.sessions() as s:
        doc = s.query(RenderedDocument).first()
    archive.dispose()
    assert run(home, "fixity", "status").returncode == 10  # never checked yet
    ok = run(home, "fixity", "run", "--share", "100", check=True)
    assert "нарушений нет" in ok.stdout
    assert "нарушений нет" in run(home, "fixity", "status", check=True).stdout
    _flip(archive, doc.storage_key)
    bad = run(home, "fixity", "run", "--share", "100")
    assert bad.returncode == 10 and f"документ № {doc.id} ({doc.number}): содержимое " \
        "изменено" in bad.stderr
    status = run(home, "fixity", "status")
    assert status.returncode == 10 and "НАЙДЕНЫ НАРУШЕНИЯ" in status.stdout


def test_the_dashboard_shows_the_last_run_and_its_failure(sqlite_archive, tmp_path):
    from tests.web.conftest import login, make_web

    app, archive, doc, _other = make_web(sqlite_archive, tmp_path)
    director = login(app, "director")
    assert "Проверок целостности ещё не было" in director.get("/").get_data(as_text=True)
    assert "Проверка целостности" not in login(app, "smirnova").get("/").get_data(as_text=True)
    fixity.run_fixity(archive, actor=ACTOR, share=100)
    assert "нарушений нет" in director.get("/").get_data(as_text=True)
    with archive.sessions() as s:
        snapshot = s.query(PeriodSnapshot).first()
    _flip(archive, snapshot.storage_key)
    fixity.run_fixity(archive, actor=ACTOR, share=100)
    page = director.get("/").get_data(as_text=True)
    assert "НАЙДЕНЫ НАРУШЕНИЯ" in page and f"срез № {snapshot.id}: содержимое изменено" in page
