"""``archive demo``: the main job end to end on the embedded defaults.

Generates the demo school, imports it (JSON, then the spreadsheets of the same school, which
must change nothing), runs the completeness check, snapshots a period for every class and
renders each snapshot's journal copy and summary sheet as PDF/A, then signs every document
through the whole chain with the demo users' keys (``demo/signers.py``), registers the
copies, and makes an encrypted backup of the whole archive to ``ARCHIVE_HOME/backups``
(backup keys made on the first run under the demo director's code ``DEMO_DIRECTOR_CODE``,
the escrow sheet written to ``ARCHIVE_HOME/backup-escrow-key.txt``) and verifies it at
level 2.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archive_service.actors import Actor
from archive_service.backups.service import BackupSummary
from archive_service.checks.service import check_class, summarise
from archive_service.db import Archive, upgrade
from archive_service.demo.generator import CLASSES, YEAR, generate_school
from archive_service.demo.signers import DEMO_TSA_PASSPHRASE, DemoSigning, sign_demo_school
from archive_service.demo.writers import write_json, write_xlsx
from archive_service.errors import ImportRejectedError, NotFoundError
from archive_service.journals.lookup import PeriodRef, classes_for, find_period, find_school
from archive_service.journals.service import import_files
from archive_service.rendering.service import RenderOutcome, render_snapshots
from archive_service.snapshots.service import SnapshotOutcome, create_snapshots, verify_snapshots


@dataclass
class DemoSummary:
    """What the demo did, with timings in seconds."""

    out: Path
    json_files: int = 0
    xlsx_files: int = 0
    changed_by_xlsx: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)
    snapshots: list[SnapshotOutcome] = field(default_factory=list)
    verified: int = 0
    rendered: list[RenderOutcome] = field(default_factory=list)
    signing: DemoSigning | None = None
    backup: BackupSummary | None = None
    backup_verified: bool = False
    checkpoints: int = 0  # audit checkpoints stamped by the TSA (issue 30)
    #: The retention plan on the first day each rule allows something: {date: {(class,
    #: status): count}}.
    retention: dict[dt.date, dict[tuple[str, str], int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def write_demo_data(out: Path, seed: int, *, xlsx: bool = True, classes: list[str] | None = None
                    ) -> tuple[list[Path], list[Path]]:
    """Write the demo school as JSON and (optionally) spreadsheets under ``out``; ``classes``:
    only these of its classes (the staff and the school stay whole)."""
    unknown = [c for c in classes or [] if c not in CLASSES]
    if unknown:
        raise NotFoundError(f"В демонстрационной школе нет класса «{unknown[0]}»; есть: "
                            f"{', '.join(CLASSES)}.")
    docs = generate_school(seed, classes=classes)
    return write_json(docs, out), (write_xlsx(docs, out) if xlsx else [])


def run_demo(archive: Archive, *, out: Path, seed: int, period_code: str, actor: Actor,
             with_xlsx: bool = True, sign: bool = True, classes: list[str] | None = None,
             tsa_passphrase: str = DEMO_TSA_PASSPHRASE, backup: bool = True,
             progress: Callable[[str], None] = lambda _msg: None) -> DemoSummary:
    """Run the main job end to end and return what it did; ``classes``: the demo school with
    only these classes (the same job on less: ``archive demo --classes 1А,7А``)."""
    summary = DemoSummary(out)
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        summary.timings[name] = round(now - t, 2)
        t = now

    upgrade(archive.engine)
    progress("Создаю демонстрационную школу…")
    json_files, xlsx_files = write_demo_data(out, seed, xlsx=with_xlsx,
                                            classes=classes)
    summary.json_files, summary.xlsx_files = len(json_files), len(xlsx_files)
    lap("generate")
    progress(f"Загружаю {len(json_files)} файлов JSON…")
    for outcome in import_files(archive, json_files, actor=actor):
        if isinstance(outcome, ImportRejectedError):
            raise outcome
    lap("import_json")
    if xlsx_files:
        progress(f"Загружаю {len(xlsx_files)} книг Excel той же школы (ничего не должно измениться)…")
        for outcome in import_files(archive, xlsx_files, actor=actor):
            if isinstance(outcome, ImportRejectedError):
                raise outcome
            if outcome.changed:
                summary.changed_by_xlsx.append(outcome.file_name)
        lap("import_xlsx")
    period = f"{YEAR}/{period_code}"
    progress(f"Проверяю полноту журнала за {period}…")
    with archive.sessions() as s:
        school = find_school(s, None)
        year, per = find_period(s, school, PeriodRef.parse(period))
        findings = [f for sc in classes_for(s, year, per, None) for f in check_class(s, sc, per)]
    summary.findings = summarise(findings)
    lap("check")
    progress(f"Фиксирую срезы журналов за {period}…")
    # A re-run with a changed generator makes a new version rather than stopping the demo.
    summary.snapshots = create_snapshots(archive, period=period, class_name=None,
                                         school_code=None, actor=actor,
                                         reason="Повторный запуск демонстрации")
    lap("snapshot")
    outcomes = verify_snapshots(archive, period=period)
    summary.verified = sum(o.ok for o in outcomes)
    lap("verify")
    progress("Формирую PDF/A: копии журналов и сводные ведомости…")
    summary.rendered = render_snapshots(archive, [o.snapshot.id for o in summary.snapshots],
                                        actor=actor)
    lap("render")
    if sign:
        progress("Подписываю документы по цепочке (ключи демо-пользователей)…")
        summary.signing = sign_demo_school(archive, tsa_passphrase=tsa_passphrase, actor=actor,
                                           progress=progress)
        lap("sign")
        from archive_service.audit.anchor import make_checkpoints

        summary.checkpoints = len(make_checkpoints(archive, tsa_passphrase=tsa_passphrase,
                                                   actor=actor))
    if backup:
        progress("Делаю зашифрованную резервную копию архива…")
        summary.backup, summary.backup_verified = _demo_backup(archive, actor)
        lap("backup")
    if sign:
        progress("Проверяю подписи сводных ведомостей за год и строю план хранения…")
        summary.retention = _demo_retention(archive, actor)
        lap("retention")
    return summary


def _demo_retention(archive: Archive, actor: Actor) -> dict[dt.date, dict[tuple[str, str], int]]:
    """Verify the sealed year summary sheets (a journal copy may only be destroyed once its
    summary verifies), then plan retention on the first day of each rule: the journal copies
    become due after 5 years, the summary sheets after 75."""
    import collections

    from sqlalchemy import select

    import retention
    from archive_service.disposition.plan import rules
    from archive_service.disposition.service import retention_plan
    from archive_service.journals.models import Period
    from archive_service.rendering.models import RenderedDocument
    from archive_service.signatures.models import SignatureRecord
    from archive_service.signatures.service import verify_document
    from archive_service.snapshots.models import PeriodSnapshot

    with archive.sessions() as s:
        sealed = list(s.scalars(
            select(RenderedDocument.id)
            .join(PeriodSnapshot, PeriodSnapshot.id == RenderedDocument.snapshot_id)
            .join(Period, Period.id == PeriodSnapshot.period_id)
            .join(SignatureRecord, SignatureRecord.document_id == RenderedDocument.id)
            .where(RenderedDocument.kind == "summary", Period.code == "Y",
                   SignatureRecord.step == "seal")))
    for doc_id in sealed:
        verify_document(archive, doc_id, reader=actor)
    closed = int(YEAR[-4:])
    classes = rules(archive.settings)
    out = {}
    for code in ("journal", "summary"):
        day = retention.first_allowed(classes[code], closed)
        counts = collections.Counter((r.retention_class, r.status)
                                     for r in retention_plan(archive, as_of=day))
        out[day] = dict(counts)
    return out


DEMO_DIRECTOR_CODE = "демо-код-директора"


def _demo_backup(archive: Archive, actor: Actor) -> tuple[BackupSummary, bool]:
    from archive_service.backups import service as backups
    from archive_service.errors import NotFoundError

    home = archive.settings.home
    try:
        backups.active_keyring(archive)
    except NotFoundError:
        sheet = backups.init_keys(archive, director_code=DEMO_DIRECTOR_CODE, actor=actor,
                                  school="Демонстрационная школа")
        (home / "backup-escrow-key.txt").write_text(sheet, "utf-8")
    made = backups.create_backup(archive, target_url=str(home / "backups"), actor=actor)
    report = backups.verify_backup(archive, target_url=made.target, backup_id=made.id, level=2,
                                   actor=actor)
    return made, report.ok
