"""The verification history and the reuse of a recent verification by the document page."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from archive_service.errors import IntegrityError
from archive_service.signatures.models import DocumentVerification
from archive_service.signatures.service import latest_verification, verify_document
from tests.signatures.test_chain import ACTOR, _setup, _sign
from tests.snapshots.test_snapshots import _flip_byte

DAY = dt.timedelta(hours=24)


def _history(archive, doc):
    with archive.sessions() as s:
        return s.scalars(sa.select(DocumentVerification).filter_by(document_id=doc)
                         .order_by(DocumentVerification.id)).all()


def _views(archive, doc):
    from archive_service.audit.models import AuditEntry

    with archive.sessions() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).filter_by(
            action="document.view", object_id=str(doc)))


def test_a_recent_verification_of_the_same_bytes_is_reused_and_a_new_signature_is_not(
        archive, tmp_path):
    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    first = latest_verification(archive, doc, reader=ACTOR, max_age=DAY)
    assert not first.reused and first.result.ok and len(first.result.signatures) == 1
    assert _views(archive, doc) == 0  # verified now: audited as a read of the file
    again = latest_verification(archive, doc, reader=ACTOR, max_age=DAY)
    assert _views(archive, doc) == 1  # reused: the view is audited
    assert again.reused and again.result == first.result and again.sha256 == first.sha256
    assert again.verified_at == first.verified_at
    later = latest_verification(archive, doc, reader=ACTOR, max_age=DAY,
                                now=first.verified_at + DAY + dt.timedelta(seconds=1))
    assert not later.reused  # too old: verified again
    _sign(archive, doc, "belova")
    signed = latest_verification(archive, doc, reader=ACTOR, max_age=DAY)
    assert not signed.reused and len(signed.result.signatures) == 2
    assert signed.sha256 != first.sha256
    history = _history(archive, doc)
    assert [(h.sha256 == first.sha256, h.ok) for h in history] == [(True, True)] * 2 + [
        (False, True)]
    verify_document(archive, doc)  # every verification is kept
    assert len(_history(archive, doc)) == 4


def test_reuse_still_checks_the_stored_bytes_and_the_history_is_immutable(archive, tmp_path):
    doc = _setup(archive, tmp_path)
    _sign(archive, doc, "smirnova")
    latest_verification(archive, doc, reader=ACTOR, max_age=DAY)
    with archive.sessions() as s:
        from archive_service.signatures.models import SignatureRecord

        key = s.scalars(sa.select(SignatureRecord.storage_key).filter_by(document_id=doc)).one()
    _flip_byte(archive, key)
    with pytest.raises(IntegrityError, match="изменён в хранилище"):
        latest_verification(archive, doc, reader=ACTOR, max_age=DAY)
    assert _views(archive, doc) == 0  # the refused view left no audit entry
    for statement in ("UPDATE document_verification SET ok = false",
                      "DELETE FROM document_verification"):
        with pytest.raises(sa.exc.DatabaseError, match="immutable"):
            with archive.engine.begin() as conn:
                conn.execute(sa.text(statement))


def test_open_documents_leave_out_sealed_and_returned_ones(archive, tmp_path):
    from archive_service.signatures.service import open_documents, return_document

    journal = _setup(archive, tmp_path)
    summary = journal + 1
    with archive.sessions() as s:
        assert open_documents(s, 1) == [journal, summary]
    for login in ("belova", "smirnova", "petrova", "zam", "register", "director", "secretary"):
        _sign(archive, journal, login)
    return_document(archive, document_id=summary, login="petrova", reason="Нет отметки")
    with archive.sessions() as s:
        assert open_documents(s, 1) == []


@pytest.mark.parametrize("raw", ["сутки", "-1"])
def test_a_bad_verification_age_setting_is_a_clear_error(raw):
    from archive_service.config import Settings
    from archive_service.errors import ConfigError

    assert Settings.from_env({"ARCHIVE_VERIFY_MAX_AGE_HOURS": "0.5"}).verify_max_age_hours == 0.5
    with pytest.raises(ConfigError, match=f"ARCHIVE_VERIFY_MAX_AGE_HOURS .* не «{raw}»"):
        Settings.from_env({"ARCHIVE_VERIFY_MAX_AGE_HOURS": raw})
