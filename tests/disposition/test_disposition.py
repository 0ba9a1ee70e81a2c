"""Retention in the archive: plan over 80 years, holds, acts from draft to execution,
tombstones, older backups, storage locks (local disk and SeaweedFS Object Lock)."""

from __future__ import annotations

import datetime as dt

import pytest

from archive_service.audit.service import verify as verify_audit
from archive_service.disposition import locks, service
from archive_service.disposition.models import Tombstone
from archive_service.errors import ConflictError, NotFoundError, SignatureRefusedError, StorageReadOnlyError
from archive_service.journals.models import Lesson, Mark
from archive_service.rendering.service import render_snapshots
from archive_service.signatures.service import signed_pdf, verify_document
from archive_service.snapshots.service import create_snapshots
from tests.signatures.test_chain import ACTOR, TSA, _setup, _sign, pw
from tests.support.state import archive_state

JOURNAL_DUE = dt.date(2032, 1, 1)  # the 2025-2026 year closes in 2026: 2026 + 5 < 2032
SUMMARY_DUE = dt.date(2102, 1, 1)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)


def _year_archive(archive, tmp_path, *, sign_summary=True):
    """The Q1 journal copy signed and registered, the year (Y) documents rendered, the year
    summary sheet signed to the seal and verified."""
    q1 = _setup(archive, tmp_path)
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, q1, login)
    [snap] = create_snapshots(archive, period="2025-2026/Y", class_name=None, school_code=None,
                              actor=ACTOR)
    [outcome] = render_snapshots(archive, [snap.snapshot.id], actor=ACTOR, workers=1)
    summary = next(d.id for d in outcome.documents if d.kind == "summary")
    if sign_summary:
        for login in ("smirnova", "belova", "petrova", "zam", "register", "director", "secretary"):
            _sign(archive, summary, login)
        assert verify_document(archive, summary).ok
    return q1, summary


def _plan(archive, day):
    return {(r.source, r.ref): r for r in service.retention_plan(archive, as_of=day)}


def _approved_act(archive, day=JOURNAL_DUE):
    act = service.create_act(archive, actor=ACTOR, as_of=day, now=_at(day))
    service.review_act(archive, actor=ACTOR, number=act.number, agree=True, protocol="3",
                       members="Орлова В. П., Кузьмина Е. П., Иванова Н. Л.", now=_at(day))
    service.approve_act(archive, actor=ACTOR, number=act.number, login="director",
                        passphrase=pw("director"), tsa_passphrase=TSA)  # signed today
    return act


def test_plan_over_80_years_then_an_act_from_draft_to_execution(archive, tmp_path):
    q1, summary = _year_archive(archive, tmp_path)
    statuses = {}
    for year in range(2026, 2107):
        for day in (dt.date(year, 1, 1) - dt.timedelta(days=1), dt.date(year, 1, 1)):
            plan = _plan(archive, day)
            statuses[day] = (plan[("document", q1)].status, plan[("document", summary)].status)
    assert statuses[JOURNAL_DUE - dt.timedelta(days=1)][0] == "not_yet_due"
    assert min(d for d, s in statuses.items() if s[0] == "due") == JOURNAL_DUE
    assert min(d for d, s in statuses.items() if s[1] == "due") == SUMMARY_DUE
    assert _plan(archive, SUMMARY_DUE)[("document", summary)].action == "review"

    # Nothing is destroyed without an approved act.
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="нет документов с истёкшим сроком"):
        service.create_act(archive, actor=ACTOR, as_of=JOURNAL_DUE - dt.timedelta(days=1))
    act = service.create_act(archive, actor=ACTOR, as_of=JOURNAL_DUE, now=_at(JOURNAL_DUE))
    listed = {r.ref for r in service.retention_plan(archive, as_of=JOURNAL_DUE)
              if r.in_act == act.number}
    assert q1 in listed and summary not in listed
    with pytest.raises(ConflictError, match="только акт, утверждённый"):
        service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    with pytest.raises(ConflictError, match="согласованный экспертной комиссией"):
        service.approve_act(archive, actor=ACTOR, number=act.number, login="director",
                            passphrase=pw("director"), tsa_passphrase=TSA)
    service.review_act(archive, actor=ACTOR, number=act.number, agree=True, protocol="3",
                       members="Орлова В. П., Кузьмина Е. П.", now=_at(JOURNAL_DUE))
    state = archive_state(archive)
    with pytest.raises(SignatureRefusedError):
        service.approve_act(archive, actor=ACTOR, number=act.number, login="director",
                            passphrase="wrong", tsa_passphrase=TSA)
    with pytest.raises(Exception, match="не директор"):
        service.approve_act(archive, actor=ACTOR, number=act.number, login="zam",
                            passphrase=pw("zam"), tsa_passphrase=TSA)
    after = archive_state(archive)  # the wrong passphrase is counted (lockout), nothing else
    assert len(after.pop("key_attempt")) == len(state.pop("key_attempt")) + 1
    assert after == state
    service.approve_act(archive, actor=ACTOR, number=act.number, login="director",
                        passphrase=pw("director"), tsa_passphrase=TSA)
    keys = [k for r in _items(archive, act.number) for k in r]
    assert keys and all(archive.storage.exists(k) for k in keys)
    assert archive_state(archive) != before

    done = service.execute_act(archive, actor=ACTOR, number=act.number,
                               now=_at(JOURNAL_DUE + dt.timedelta(days=1)))
    assert done.items == act.items and done.objects_deleted == len(set(keys))
    assert not any(archive.storage.exists(k) for k in keys)
    with pytest.raises(NotFoundError, match=f"уничтожен .* по акту № {act.number}"):
        signed_pdf(archive, q1)
    assert _plan(archive, JOURNAL_DUE)[("document", q1)].status == "destroyed"
    # The summary sheet stays and verifies; the act stays, signed by the director.
    assert verify_document(archive, summary).ok
    info, pdf = service.act_file(archive, number=act.number)
    assert info.status == "executed" and pdf.startswith(b"%PDF")
    from cryptography import x509

    from archive_service.signatures.service import _pki
    from signing.verify import verify_pdf

    with archive.sessions() as s:
        root = x509.load_pem_x509_certificate(_pki(s, 1).root_cert)
        assert s.query(Tombstone).count() == act.items
        assert s.query(Lesson).count() == 0 and s.query(Mark).count() == 0
    result = verify_pdf(pdf, roots=[root])
    assert result.ok and result.signatures[0].signer == "Орлова Вера Павловна"
    checked, problems = verify_audit(archive)
    assert not problems
    from archive_service.snapshots.service import verify_snapshots

    outcomes = verify_snapshots(archive)
    assert all(o.ok for o in outcomes)
    assert any("уничтожен по акту" in (o.problem or "") for o in outcomes)
    with pytest.raises(ConflictError, match="уже исполнен"):
        service.execute_act(archive, actor=ACTOR, number=act.number)


def _items(archive, number):
    from archive_service.disposition.models import DisposalAct, DisposalItem

    with archive.sessions() as s:
        act = s.query(DisposalAct).filter_by(number=number).one()
        return [i.object_keys for i in s.query(DisposalItem).filter_by(act_id=act.id)]


def test_holds_block_plan_act_and_execution_and_are_audited(sqlite_archive, tmp_path):
    archive = sqlite_archive
    q1, _summary = _year_archive(archive, tmp_path)
    hold = service.place_hold(archive, actor=ACTOR, reason="проверка Рособрнадзора",
                              year="2025-2026", class_name="7А")
    for year in range(2026, 2107, 5):
        assert _plan(archive, dt.date(year, 6, 1))[("document", q1)].status == "held"
    with pytest.raises(ConflictError, match="нет документов"):
        service.create_act(archive, actor=ACTOR, as_of=JOURNAL_DUE)
    service.lift_hold(archive, actor=ACTOR, hold_id=hold.id, reason="проверка завершена")
    act = _approved_act(archive)
    late = service.place_hold(archive, actor=ACTOR, reason="спор о годовой отметке",
                              document_id=q1)
    before = archive_state(archive)
    with pytest.raises(ConflictError, match="на удержании .*спор о годовой отметке"):
        service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    assert archive_state(archive) == before
    service.lift_hold(archive, actor=ACTOR, hold_id=late.id, reason="спор разрешён")
    with pytest.raises(ConflictError, match="уже снято"):
        service.lift_hold(archive, actor=ACTOR, hold_id=late.id, reason="ещё раз")
    service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    from archive_service.audit.service import entries

    actions = [e.action for e in entries(archive, limit=1000)]
    assert actions.count("retention.hold.place") == 2
    assert actions.count("retention.hold.lift") == 2


def test_a_journal_copy_waits_for_a_signed_summary(sqlite_archive, tmp_path):
    archive = sqlite_archive
    q1, _summary = _year_archive(archive, tmp_path, sign_summary=False)
    row = _plan(archive, dt.date(2090, 1, 1))[("document", q1)]
    assert row.status == "summary_missing" and "подписана не всеми" in row.reason
    with pytest.raises(ConflictError, match="нет документов"):
        service.create_act(archive, actor=ACTOR, as_of=dt.date(2090, 1, 1))


def test_local_storage_refuses_deleting_locked_objects(sqlite_archive, tmp_path):
    archive = sqlite_archive
    q1, summary = _year_archive(archive, tmp_path)
    from archive_service.disposition.locks import document_keys as _document_keys
    from archive_service.rendering.models import RenderedDocument
    from archive_service.snapshots.models import PeriodSnapshot

    with archive.sessions() as s:
        key = s.get(RenderedDocument, q1).storage_key
        snapshot_key = s.get(PeriodSnapshot, s.get(RenderedDocument, q1).snapshot_id).storage_key
        summary_keys = _document_keys(s, [summary])[summary]
    # Rendering and every signature lock their objects as soon as they commit.
    assert archive.storage.retained_until(key) == _at(JOURNAL_DUE).replace(hour=0)
    assert archive.storage.retained_until(snapshot_key) == _at(JOURNAL_DUE).replace(hour=0)
    assert len(summary_keys) > 1 and all(archive.storage.retained_until(k) == _at(
        SUMMARY_DUE).replace(hour=0) for k in summary_keys)
    assert locks.lock_objects(archive) > 0  # the sweep finds nothing to shorten
    with pytest.raises(StorageReadOnlyError, match="заблокирован до 01.01.2032"):
        archive.storage.delete(key)
    assert archive.storage.exists(key)
    archive.storage.extend_retention(key, _at(dt.date(2030, 1, 1)))  # never shortened
    assert archive.storage.retained_until(key) == _at(JOURNAL_DUE).replace(hour=0)


def test_an_older_backup_does_not_bring_a_destroyed_copy_back(sqlite_archive, tmp_path):
    from archive_service.backups import service as backups
    from archive_service.backups.service import Opener
    from archive_service.disposition.models import DisposalAct
    from tests.conftest import make_archive

    archive = sqlite_archive
    q1, summary = _year_archive(archive, tmp_path)
    backups.init_keys(archive, director_code="код-директора-2026", actor=ACTOR, scrypt_n=2**12)
    disk = str(tmp_path / "disk")
    older = backups.create_backup(archive, target_url=disk, actor=ACTOR)
    act = _approved_act(archive)
    service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    keys = {k for r in _items(archive, act.number) for k in r}
    home = tmp_path / "restored"
    home.mkdir()
    into = make_archive(home, f"sqlite:///{home / 'r.sqlite3'}")
    report = backups.restore_backup(archive, target_url=disk, backup_id=older.id,
                                    opener=Opener(director_code="код-директора-2026"), into=into, actor=ACTOR,
                                    verify_signatures=True)
    assert report.ok, report.problems
    assert not any(into.storage.exists(k) for k in keys)
    with pytest.raises(NotFoundError, match=f"по акту № {act.number}"):
        signed_pdf(into, q1)
    assert verify_document(into, summary).ok
    with into.sessions() as s:
        assert s.query(DisposalAct).one().status == "executed"
        assert s.query(Tombstone).count() == act.items
        assert s.query(Mark).count() == 0
    assert _plan(into, JOURNAL_DUE)[("document", q1)].status == "destroyed"
    # A backup made after the act, on a new disk, verifies fully (level 3) without it.
    later = backups.create_backup(archive, target_url=str(tmp_path / "disk2"), actor=ACTOR)
    deep = backups.verify_backup(archive, target_url=later.target, backup_id=later.id,
                                 level=3, opener=Opener(director_code="код-директора-2026"),
                                 actor=ACTOR)
    assert deep.ok, deep.problems
    # Crypto-shredding (issue 30): the destroyed files do not open from the older backup even
    # for someone holding the disk and the director's code who ignores the disposal record.
    _assert_shredded(archive, disk, older.id, keys)
    # A forged disposal record on the disk is refused, not obeyed.
    forged = tmp_path / "disk" / "disposals" / "1-99.json"
    forged.write_text('{"manifest": {"keys": {"signing_public": "AAAA"}}, "signature": "x"}')
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(Exception, match="не ключом этого архива"):
        backups.restore_backup(archive, target_url=disk, backup_id=older.id,
                               opener=Opener(director_code="код-директора-2026"),
                               into=make_archive(other, f"sqlite:///{other / 'r.sqlite3'}"),
                               actor=ACTOR)


def _assert_shredded(archive, disk: str, backup_id: str, destroyed: set[str]) -> None:
    """No share of the destroyed files' keys is left in the database or on the disk, and
    opening the backup directly (no live archive, the director's code) cannot read them,
    while every other file still opens."""
    from archive_service.backups.erasure import read_shares
    from archive_service.backups.models import BackupObject, BackupObjectShare
    from archive_service.backups.opening import open_backup
    from archive_service.backups.service import BackupError, Opener, open_target

    opened = open_backup(disk, backup_id, Opener(director_code="код-директора-2026"))
    gone = [e for e in opened.index["files"] if e["key"] in destroyed]
    kept = [e for e in opened.index["files"] if e["key"] not in destroyed]
    assert gone and kept
    for entry in gone:
        with pytest.raises(BackupError, match="доли его ключа нет"):
            opened.file(entry)
    assert all(opened.file(e) for e in kept)
    names = {e["object"] for e in gone}
    assert not names & set(read_shares(open_target(disk)))
    with archive.sessions() as s:
        assert not s.query(BackupObjectShare).filter(BackupObjectShare.name.in_(names)).count()
        assert s.query(BackupObject).filter(BackupObject.name.in_(names)).count() == len(names)


def test_object_lock_on_seaweedfs_refuses_early_deletion(tmp_path, seaweed, sqlite_template):
    import shutil
    import uuid

    from botocore.exceptions import ClientError

    from archive_service.backups.service import open_target
    from archive_service.rendering.models import RenderedDocument
    from tests.conftest import make_archive

    url = f"s3://archive-{uuid.uuid4().hex[:8]}/objects?endpoint={seaweed.endpoint}"
    open_target(url).ensure_bucket(object_lock=True)
    shutil.copy(sqlite_template, tmp_path / "a.sqlite3")
    archive = make_archive(tmp_path, f"sqlite:///{tmp_path / 'a.sqlite3'}", url)
    q1, _summary = _year_archive(archive, tmp_path)  # locked as they are written
    with archive.sessions() as s:
        key = s.get(RenderedDocument, q1).storage_key
    storage = archive.storage
    head = storage.client.head_object(Bucket=storage.bucket, Key=storage._key(key))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"].date() == JOURNAL_DUE
    with pytest.raises(StorageReadOnlyError, match="заблокирован"):
        storage.delete(key)
    with pytest.raises(ClientError):
        storage.client.put_object_retention(
            Bucket=storage.bucket, Key=storage._key(key), VersionId=head["VersionId"],
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": _at(dt.date(2027, 1, 1))})
    assert storage.exists(key)
    # The server keeps its own time: an act executed with the application's clock moved to
    # the due date is still refused by SeaweedFS, and nothing is recorded as destroyed.
    act = _approved_act(archive)
    before = archive_state(archive)
    with pytest.raises(StorageReadOnlyError, match="отказало в удалении"):
        service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    after = archive_state(archive)
    for table in ("document_verification", "audit_entry", "audit_head"):  # the summary check
        before.pop(table), after.pop(table)
    assert after == before and storage.exists(key)


def test_a_destroyed_snapshot_says_so(sqlite_archive, tmp_path):
    from archive_service.rendering.models import RenderedDocument
    from archive_service.snapshots.service import show_snapshot

    archive = sqlite_archive
    q1, _summary = _year_archive(archive, tmp_path)
    act = _approved_act(archive)
    service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    with archive.sessions() as s:
        snapshot = s.get(RenderedDocument, q1).snapshot_id
    with pytest.raises(NotFoundError, match="уничтожен по акту вместе с копией журнала"):
        show_snapshot(archive, snapshot)
    from archive_service.register.service import register_list

    statuses = {r.document_id: r.status for r in register_list(archive)}
    assert statuses[q1] == f"уничтожен по акту № {act.number}"


def test_a_period_folder_follows_the_copies_and_a_year_hold(sqlite_archive, tmp_path):
    from archive_service.register.service import form_period_folder

    archive = sqlite_archive
    _year_archive(archive, tmp_path)
    # Only the journal copy is sealed here: the folder is formed without the summary sheet,
    # with the secretary's reason.
    folder = form_period_folder(archive, school_code=None, year="2025-2026", period_code="Q1",
                                login="secretary", location="Сейф № 1", actor=ACTOR,
                                anyway="ведомость подписывается отдельно")
    with archive.sessions() as s:
        from archive_service.register.models import RegisterEntry

        entry = s.query(RegisterEntry).filter_by(kind="folder").one()
    assert archive.storage.retained_until(entry.storage_key) == _at(JOURNAL_DUE).replace(hour=0)
    row = _plan(archive, JOURNAL_DUE)[("folder", entry.id)]
    assert (row.status, row.register_number) == ("due", f"2025-2026/{folder.number}")
    assert _plan(archive, JOURNAL_DUE - dt.timedelta(days=1))[("folder", entry.id)].status \
        == "not_yet_due"
    hold = service.place_hold(archive, actor=ACTOR, reason="проверка", year="2025-2026",
                              class_name="7А")
    assert _plan(archive, JOURNAL_DUE)[("folder", entry.id)].status == "held"
    service.lift_hold(archive, actor=ACTOR, hold_id=hold.id, reason="окончена")
    act = _approved_act(archive)
    service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    assert not archive.storage.exists(entry.storage_key)
    assert _plan(archive, JOURNAL_DUE)[("folder", entry.id)].status == "destroyed"
    from archive_service.register.service import folder_pdf

    with pytest.raises(NotFoundError, match="Общая папка за период: 1 четверть.* уничтожен"):
        folder_pdf(archive, school_code=None, year="2025-2026", number=folder.number,
                   reader=ACTOR)


def test_a_backup_disk_away_at_execution_gets_the_record_later(sqlite_archive, tmp_path):
    from archive_service.backups import service as backups

    archive = sqlite_archive
    _year_archive(archive, tmp_path)
    backups.init_keys(archive, director_code="код-директора-2026", actor=ACTOR, scrypt_n=2**12)
    disk = tmp_path / "disk"
    made = backups.create_backup(archive, target_url=str(disk), actor=ACTOR)
    act = _approved_act(archive)
    disk.rename(tmp_path / "in-the-safe")
    disk.write_text("not the disk")  # the medium is not there: its path is something else
    done = service.execute_act(archive, actor=ACTOR, number=act.number, now=_at(JOURNAL_DUE))
    assert done.act.status == "executed" and len(done.disposal_failures) == 1
    assert str(disk) in done.disposal_failures[0]
    assert service.resend_disposal(archive, number=act.number) != []  # still away
    disk.unlink()
    (tmp_path / "in-the-safe").rename(disk)
    # Back from the safe, the disk still has the erasure shares of the destroyed files until
    # the record is written: then they are gone from it too.
    keys = {k for r in _items(archive, act.number) for k in r}
    from archive_service.backups.opening import open_backup

    opened = open_backup(str(disk), made.id, backups.Opener(director_code="код-директора-2026"))
    assert all(opened.file(e) for e in opened.index["files"] if e["key"] in keys)
    assert service.resend_disposal(archive, number=act.number) == []
    assert (disk / "disposals" / f"1-{act.number}.json").is_file()
    _assert_shredded(archive, str(disk), made.id, keys)


def test_the_act_prints_stored_values_as_text_never_as_markup(tmp_path):
    """Issue 27, item 4: the commission's members and protocol are typed by a person; the
    act prints them literally (an <img> naming a local file is not opened)."""
    import datetime as dt
    import subprocess

    from archive_service.disposition import act_pdf

    odd = "<b>Орлова</b> & <img src='/etc/passwd'/>"
    text = act_pdf.ActText(7, "МБОУ «Школа» <i>", "Орлова В. П.", dt.date(2031, 9, 1),
                           "Секретарь <u>", dt.datetime(2031, 9, 2, tzinfo=dt.UTC),
                           f"СОГЛАСОВАНО. Члены комиссии: {odd}.", ("п. 2 <br/>",))
    line = act_pdf.ActLine("Журнал 7А <b>", "2025-2026", "T-001/2026/1", 12, "5 лет & более",
                           "SHA-256 …")
    out = tmp_path / "act.pdf"
    out.write_bytes(act_pdf.render(text, [line], with_field=False))
    printed = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                      text=True, check=True).stdout.split())
    for literal in (odd, "МБОУ «Школа» <i>", "Секретарь <u>", "п. 2 <br/>", "Журнал 7А <b>",
                    "5 лет & более"):
        assert literal in printed, literal
