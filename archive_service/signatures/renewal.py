"""Renewing the archival timestamps of sealed copies; a new certificate for the school TSA.

A sealed copy proves itself for as long as the certificate of the TSA that made its last
document timestamp is valid (10 years for the school's own). Summary mark sheets are kept
75 years, so before that certificate expires a new document timestamp must cover the copy
and all its validation data, made under a certificate valid further; and so on, every few
years (docs/signing.md, "Keeping signatures valid for decades").

Decisions:

- ``renew_timestamps`` looks at every sealed copy of a school (not destroyed) and renews
  those whose last document timestamp expires within ``within`` of now (the CLI's default:
  two years), with the configured TSA (``ARCHIVE_TSA_URL`` or the school's). It is meant to
  run on a schedule (a monthly cron line is enough); a copy renewed is not due again until
  its new timestamp nears its own end, so runs repeat safely.
- A renewal must gain time: the school TSA's certificate must be valid beyond the last
  timestamp of every copy due. If it is not (it is the same certificate, nearing its own
  end), the run refuses before writing anything and says to issue a new TSA certificate
  (``reissue_tsa``: ``archive pki tsa-reissue``, the root's passphrase needed). An external
  TSA's certificate is only known from its answer: a copy whose new timestamp would not
  outlive the old one is not stored, and the run reports it as an error after the others.
- The renewal is one incremental update (``signing.pades.renew_archival_timestamp``), kept
  like every piece of a copy: a ``SignatureRecord`` row (step ``archive_timestamp``, no
  user, the TSA certificate's fingerprint, the hashes before and after) and a stored
  object. Fixity, backups, the register's hashes, retention locks and verification all see
  it as part of the copy. Each copy is renewed in its own unit of work under the
  document's lock, like a signature.
- Which copies are due is read from ``ArchivalTimestampState`` (written at the seal and at
  each renewal), one query per school: parsing every sealed copy every month would cost
  about 8 ms a copy, some 7 hours of one core a month for a region's 3 million copies
  (``bench/bench_renewal.py``). A copy without a row for its current bytes (sealed before
  the table existed), or whose row is a year old, is read from storage again and its row
  written, after the gain check, so a refusal still writes nothing.
- The TSA certificate is replaced, not revoked: timestamps it made stay valid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import and_, func, select

from archive_service.actors import Actor
from archive_service.db import Archive
from archive_service.errors import (
    ArchiveError,
    ConflictError,
    IntegrityError,
    RenewalBatchError,
    SignatureRefusedError,
)
from archive_service.journals.models import School
from archive_service.rendering.models import RenderedDocument
from archive_service.signatures.models import (
    ArchivalTimestampState,
    SchoolPki,
    SignatureRecord,
)
from archive_service.signatures.revocation import _locked_pki
from archive_service.signatures.service import (
    UNNAMED,
    _pki,
    _school,
    is_sealed,
    next_sequence,
    note_archival_timestamp,
    open_root,
    timestamper,
    tsa_credential,
)
from archive_service.signatures.state import ARCHIVAL_TIMESTAMP_STEP, assemble, current_pieces, read_document
from archive_service.storage.base import sha256_hex
from signing import pades, pki
from signing.errors import SigningError

#: Renew what expires within this (the workers' monthly task, the CLI's default).
DEFAULT_WINDOW = dt.timedelta(days=730)
#: A schedule row older than this is checked against the copy's bytes again.
RECHECK_AFTER = dt.timedelta(days=365)


@dataclass(frozen=True)
class Renewed:
    """One copy whose archival timestamp was renewed."""

    document_id: int
    number: str
    old_expiry: dt.datetime
    new_expiry: dt.datetime


@dataclass(frozen=True)
class RenewalReport:
    """What a renewal run did: the copies renewed, of how many sealed ones looked at."""

    school: str
    checked: int
    threshold: dt.datetime  # copies whose last timestamp expires before this were due
    renewed: tuple[Renewed, ...]


def reissue_tsa(archive: Archive, *, school_code: str | None, ca_passphrase: str,
                tsa_passphrase: str, actor: Actor | None = None, now: dt.datetime | None = None,
                days: int = 365 * 10) -> x509.Certificate:
    """A new certificate and key for the school's TSA (the old one is replaced, not revoked:
    its timestamps stay valid). Its key is encrypted under ``ARCHIVE_TSA_PASSPHRASE``.

    It is valid ``days``, but never beyond the school root (a certificate outliving its
    issuer would not validate then): past the root's 30 years a school needs a new root or
    an external TSA (``ARCHIVE_TSA_URL``), which is not automated here."""
    now = now or dt.datetime.now(dt.UTC)
    actor = actor or UNNAMED
    with archive.unit_of_work() as uow:
        school = _school(uow.session, school_code)
        row = _locked_pki(uow.session, school.id)
        root = open_root(row, ca_passphrase)
        old = x509.load_pem_x509_certificate(row.tsa_cert)
        left = (root.certificate.not_valid_after_utc - now).days
        if left < 1:
            raise SignatureRefusedError(
                f"Корневой сертификат школы действует до "
                f"{root.certificate.not_valid_after_utc:%d.%m.%Y}: выпустить им новый "
                "сертификат службы штампов времени нельзя. Нужен новый корневой сертификат "
                "или внешняя служба (ARCHIVE_TSA_URL).")
        try:
            tsa = pki.issue_tsa(root, school=school.name, now=now, days=min(days, left))
            row.tsa_key = pki.encrypt_key(tsa.private_key, tsa_passphrase)
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        row.tsa_cert = pki.pem(tsa.certificate)
        uow.audit(actor, "pki.tsa_reissue", "school", school.code, chain=school.id,
                  details={"certificate": {"old": format(old.serial_number, "X"),
                                           "new": format(tsa.certificate.serial_number, "X")},
                           "valid_to": f"{tsa.certificate.not_valid_after_utc:%Y-%m-%d}"})
        return tsa.certificate


def _sealed_copies(s, school_id: int):  # noqa: ANN202 - result rows
    """The school's sealed copies that still exist (not destroyed under an act), each with
    its current hash (the last piece's) and its schedule row, if any: one query."""
    from archive_service.disposition.models import Tombstone

    last = (select(SignatureRecord.document_id, func.max(SignatureRecord.sequence).label("seq"))
            .group_by(SignatureRecord.document_id).subquery())
    gone = select(Tombstone.document_id).where(Tombstone.document_id.is_not(None))
    return s.execute(
        select(RenderedDocument.id, RenderedDocument.number, SignatureRecord.hash_after,
               ArchivalTimestampState.sha256, ArchivalTimestampState.expires_at,
               ArchivalTimestampState.read_at)
        .join(last, last.c.document_id == RenderedDocument.id)
        .join(SignatureRecord, and_(SignatureRecord.document_id == RenderedDocument.id,
                                    SignatureRecord.sequence == last.c.seq))
        .outerjoin(ArchivalTimestampState,
                   ArchivalTimestampState.document_id == RenderedDocument.id)
        .where(RenderedDocument.school_id == school_id, is_sealed(),
               RenderedDocument.id.not_in(gone))
        .order_by(RenderedDocument.id)).all()


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


@dataclass(frozen=True)
class _Due:
    document_id: int
    number: str
    expires: dt.datetime


def renew_timestamps(archive: Archive, *, school_code: str | None, tsa_passphrase: str,
                     within: dt.timedelta = DEFAULT_WINDOW, actor: Actor | None = None,
                     now: dt.datetime | None = None,
                     progress: Callable[[Renewed], None] = lambda _r: None) -> RenewalReport:
    """Renew the archival timestamp of every sealed copy of the school whose last one
    expires before ``now + within`` (see the module's decisions); ``progress`` is told of
    each copy renewed."""
    now = now or dt.datetime.now(dt.UTC)
    actor = actor or UNNAMED
    threshold = now + within
    url = archive.settings.tsa_url
    with archive.sessions() as s:
        school: School = _school(s, school_code)
        row = _pki(s, school.id)
        root = x509.load_pem_x509_certificate(row.root_cert)
        crl = x509.load_der_x509_crl(row.crl)
        try:
            tsa = tsa_credential(row.tsa_cert, row.tsa_key, tsa_passphrase)
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        copies = _sealed_copies(s, school.id)
        unknown = [(c.id, c.number, current_pieces(s, read_document(s, c.id))[0], c.hash_after)
                   for c in copies if c.sha256 != c.hash_after
                   or now - _utc(c.read_at) > RECHECK_AFTER]
    due = [_Due(c.id, c.number, _utc(c.expires_at)) for c in copies
           if c.sha256 == c.hash_after and now - _utc(c.read_at) <= RECHECK_AFTER
           and _utc(c.expires_at) < threshold]
    failures: list[tuple[str, ArchiveError]] = []
    read: list[tuple[int, str, pades.ArchivalTimestamp | None]] = []
    for doc_id, number, keys, digest in unknown:
        try:  # a copy that no longer hashes as recorded is named, not renewed
            data = assemble(archive, keys, digest, number)
        except IntegrityError as exc:
            failures.append((f"документ № {doc_id} ({number})", exc))
            continue
        last = pades.last_archival_timestamp(data)
        read.append((doc_id, digest, last))
        if last is not None and last.expires < threshold:
            due.append(_Due(doc_id, number, last.expires))
    if due and url is None:
        _check_gain(tsa.certificate, due, now, crl)
    if read:  # the schedule rows of the copies just read
        with archive.unit_of_work() as uow:
            for doc_id, digest, last in read:
                note_archival_timestamp(uow.session, doc_id, digest, last, now)
    stamper = timestamper(tsa, root, url)
    validation = pades.validation_context([root], crls=[crl])
    done: list[Renewed] = []
    for item in due:
        try:
            renewed = _renew_one(archive, item.document_id, stamper, validation, threshold,
                                 now, actor)
        except ArchiveError as exc:
            failures.append((f"документ № {item.document_id} ({item.number})", exc))
            continue
        if renewed is not None:
            done.append(renewed)
            progress(renewed)
    if failures:
        raise RenewalBatchError(done, failures)
    return RenewalReport(school.code, len(copies), threshold, tuple(done))


def renew_region(archive: Archive, *, tsa_passphrase: str,
                 within: dt.timedelta = DEFAULT_WINDOW, actor: Actor | None = None,
                 progress: Callable[[Renewed], None] = lambda _r: None,
                 school_done: Callable[[RenewalReport], None] = lambda _r: None
                 ) -> list[RenewalReport]:
    """``renew_timestamps`` for every school with a PKI, one after another (the workers'
    monthly task, ``archive timestamps renew --all``). A school that fails does not hold
    the others back; the failures are raised together at the end (``school_done`` is told
    of each school that succeeded, ``progress`` of every copy renewed)."""
    with archive.sessions() as s:
        codes = list(s.scalars(select(School.code).join(SchoolPki,
                                                         SchoolPki.school_id == School.id)
                               .order_by(School.code)))
    reports, problems = [], []
    for code in codes:
        try:
            report = renew_timestamps(archive, school_code=code, within=within,
                                      tsa_passphrase=tsa_passphrase, actor=actor,
                                      progress=progress)
        except ArchiveError as exc:
            problems.append(f"школа {code}: {exc.message}")
            continue
        reports.append(report)
        school_done(report)
    if problems:
        raise ArchiveError(f"Продление штампов времени: не удалось у {len(problems)} из "
                           f"{len(codes)} школ (остальные обработаны):\n"
                           + "\n".join(f"  - {p}" for p in problems))
    return reports


def _check_gain(tsa: x509.Certificate, due: list[_Due], now: dt.datetime,
                crl: x509.CertificateRevocationList) -> None:
    """Refuse (nothing written) unless the school TSA's certificate is valid now and beyond
    the last timestamp of every copy due."""
    try:
        pki.check_valid(tsa, now, crl)
    except SigningError as exc:
        raise SignatureRefusedError(
            f"Сертификат службы штампов времени школы недействителен: {exc.message} Выпустите "
            "новый: archive pki tsa-reissue --ca-passphrase-file ФАЙЛ. Ничего не изменено."
        ) from None
    stuck = [d for d in due if tsa.not_valid_after_utc <= d.expires]
    if stuck:
        latest = max(d.expires for d in stuck)
        raise ConflictError(
            f"Штамп времени {len(stuck)} из {len(due)} подлежащих продлению копий (например, "
            f"{stuck[0].number}) действует до {latest:%d.%m.%Y}, а сертификат службы штампов "
            f"времени школы — только до {tsa.not_valid_after_utc:%d.%m.%Y}: новый штамп "
            "ничего не продлит. Выпустите новый сертификат: archive pki tsa-reissue "
            "--ca-passphrase-file ФАЙЛ, затем повторите. Ничего не изменено.")


def _renew_one(archive: Archive, document_id: int, stamper, validation,  # noqa: ANN001
               threshold: dt.datetime, now: dt.datetime, actor: Actor) -> Renewed | None:
    """Renew one copy under its lock; None if it is no longer due (renewed meanwhile)."""
    from archive_service.disposition.locks import lock_new_objects

    with archive.unit_of_work() as uow:
        s = uow.session
        doc = read_document(s, document_id, lock=True)
        keys, digest = current_pieces(s, doc)
        data = assemble(archive, keys, digest, doc.number)
        old = pades.last_archival_timestamp(data)
        note_archival_timestamp(s, doc.id, digest, old, now)
        if old is None or old.expires >= threshold:
            return None  # renewed meanwhile (its schedule row is right again)
        try:
            out = pades.renew_archival_timestamp(data, stamper, validation)
        except SigningError as exc:
            raise SignatureRefusedError(exc.message) from None
        if not out.startswith(data):
            raise IntegrityError(f"Продление штампа времени документа {doc.number} изменило "
                                 "уже подписанную часть файла; ничего не сохранено.")
        after = sha256_hex(out)
        new = pades.last_archival_timestamp(out)
        note_archival_timestamp(s, doc.id, after, new, now)
        if new.expires <= old.expires:
            raise SignatureRefusedError(
                f"Сертификат службы штампов времени действует до {new.expires:%d.%m.%Y}, не "
                f"дольше прежнего штампа ({old.expires:%d.%m.%Y}): штамп не продлён.")
        s.add(SignatureRecord(
            document_id=doc.id, sequence=next_sequence(s, doc.id), step=ARCHIVAL_TIMESTAMP_STEP,
            field=new.field, user_id=None, role="tsa", signed_at=now,
            cert_sha256=hashlib.sha256(pki.pem(new.certificate)).hexdigest(),
            hash_before=digest, hash_after=after, storage_key=uow.put_blob(out[len(data):]),
            note=(f"прежний штамп действовал до {old.expires:%d.%m.%Y}, новый — до "
                  f"{new.expires:%d.%m.%Y}; по команде {actor.name}")))
        uow.committed.append(lambda: lock_new_objects(archive, document_ids=[document_id]))
        uow.audit(actor, "document.timestamp_renew", "document", doc.id, chain=doc.school_id,
                  details={"number": doc.number, "hash_before": digest, "hash_after": after,
                           "expires": {"old": f"{old.expires:%Y-%m-%d}",
                                       "new": f"{new.expires:%Y-%m-%d}"}})
        return Renewed(doc.id, doc.number, old.expires, new.expires)
