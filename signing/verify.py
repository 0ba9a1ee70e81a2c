"""Verifying every signature of a document and the chain as a whole (pyHanko, offline).

Outcomes are frozen dataclasses; exceptions only for a file that cannot be read at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import io
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from signing import speedups  # noqa: F401  (installs the faster readers into pyHanko)
from signing.diff import RevisionPairPolicy
from signing.pades import validation_context
from signing.reader import SignedFileReader


@dataclass(frozen=True)
class SignatureResult:
    """One signature: who, when, and whether it still holds."""

    field: str
    signer: str
    certificate_serial: str
    signing_time: dt.datetime | None
    timestamp_time: dt.datetime | None
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the certificate chains to a given root
    revision: int  # the revision this signature covers (0 = the first)
    modified_after: bool  # changes after it beyond form filling and signing, or beyond its lock
    summary: str
    #: When the school revoked the signer's certificate (None: not revoked, or no list
    #: given). A revocation after the signature's timestamp leaves it valid (the timestamp
    #: proves it was made before); one at or before it breaks it (``holds``).
    revoked_at: dt.datetime | None = None

    @property
    def revoked_before_signing(self) -> bool:
        """The certificate was revoked before this signature was proven to exist."""
        if self.revoked_at is None:
            return False
        made = self.timestamp_time or self.signing_time
        return made is None or self.revoked_at <= made

    @property
    def holds(self) -> bool:
        """Intact, valid, trusted, not revoked before it, and no disallowed change after."""
        return (self.intact and self.valid and self.trusted and not self.modified_after
                and not self.revoked_before_signing)


@dataclass(frozen=True)
class ChainResult:
    """All signatures of a document in signing order (document timestamps included, by
    their field names), and the verdict on the whole."""

    signatures: tuple[SignatureResult, ...]
    document_timestamps: int
    #: The file could not be read as a signed PDF at all, or holds bytes after its end
    #: (``_unsigned_tail``).
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Every signature intact, valid and trusted, none followed by a disallowed change."""
        return self.error is None and bool(self.signatures) and all(
            s.holds for s in self.signatures)

    def broken(self) -> list[SignatureResult]:
        """The signatures that do not hold."""
        return [s for s in self.signatures if not s.holds]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as ISO 8601); ``from_dict`` reads it back."""
        return {"signatures": [{k: v.isoformat() if isinstance(v, dt.datetime) else v
                                for k, v in asdict(sig).items()} for sig in self.signatures],
                "document_timestamps": self.document_timestamps, "error": self.error,
                "ok": self.ok}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChainResult:
        """The result from its ``as_dict`` form."""
        times = ("signing_time", "timestamp_time", "revoked_at")
        return cls(tuple(SignatureResult(**{k: dt.datetime.fromisoformat(v) if k in times and v
                                            else v for k, v in sig.items()})
                         for sig in data["signatures"]),
                   data["document_timestamps"], data["error"])


def verify_pdf(pdf: bytes, *, roots: list[x509.Certificate],
               crls: list[x509.CertificateRevocationList] | None = None) -> ChainResult:
    """Check every signature against the school roots, with change analysis.

    ``crls``: the schools' current revocation lists (``archive pki crl``). pyHanko judges a
    signature at the time its timestamp proves and does not use a list issued after that
    time, so a revocation is applied here: each signature's ``revoked_at`` comes from the
    issuer's list, and one revoked before its timestamp does not hold.
    """
    with collector_paused():
        result = _verify(pdf, roots)
    return _with_revocations(result, crls or [])


def _with_revocations(result: ChainResult, crls: list[x509.CertificateRevocationList]
                      ) -> ChainResult:
    """Each signature's revocation by serial number (the school roots issue random 159-bit
    serials, so one number names one certificate across the lists given)."""
    if not crls or result.error:
        return result
    revoked = {entry.serial_number: entry.revocation_date_utc
               for crl in crls for entry in crl}
    out = []
    for sig in result.signatures:
        at = revoked.get(int(sig.certificate_serial, 16)) if sig.certificate_serial else None
        if at is not None:
            sig = replace(sig, revoked_at=at)
            when = f"{at:%d.%m.%Y %H:%M} UTC"
            sig = replace(sig, summary=(
                f"сертификат отозван {when}, до подписи: подпись недействительна"
                if sig.revoked_before_signing else
                f"{sig.summary}; сертификат отозван {when}, после подписи (по штампу времени "
                "подпись сделана до отзыва и остаётся действительной)"))
        out.append(sig)
    return ChainResult(tuple(out), result.document_timestamps, result.error)


_pause_lock = threading.Lock()
_pause = {"running": 0, "paused": False}


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector paused while files are verified.

    A verification makes a great many objects that live until it ends (the file's parsed
    objects, each revision's view of them, the certificates): the collector counts them as
    they survive and runs a full collection about every other verification, walking all of
    them. When a verification ends it lets go of them (``SignedFileReader.release``,
    ``RevisionPairPolicy.release``) and reference counting frees them: nothing is left for
    the collector (``tests/signing/test_signing.py`` checks that ``gc.collect()`` after a
    verification finds nothing). The collector runs again as soon as no verification is
    running in the process; if it was off already, it stays off.
    """
    with _pause_lock:
        if _pause["running"] == 0 and gc.isenabled():
            gc.disable()
            _pause["paused"] = True
        _pause["running"] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause["running"] -= 1
            if _pause["running"] == 0 and _pause["paused"]:
                _pause["paused"] = False
                gc.enable()


def _damage(pdf: bytes, exc: Exception) -> str:
    """What is wrong with a file the parser refused, in words a secretary can act on."""
    if not pdf.lstrip()[:5].startswith(b"%PDF-"):
        return "это не PDF (файл не начинается с «%PDF-»)"
    if b"startxref" not in pdf[-4096:] or b"%%EOF" not in pdf[-4096:]:
        return ("файл обрезан: в его конце нет таблицы ссылок (startxref, %%EOF) — он "
                "скопирован или загружен не полностью; возьмите копию заново")
    return f"нарушена внутренняя структура PDF (причина, названная программой чтения: {exc})"


def _verify(pdf: bytes, roots: list[x509.Certificate]) -> ChainResult:
    vc = validation_context(roots)
    diff_policy = RevisionPairPolicy()  # one per document: it caches revision pairs
    try:
        reader = SignedFileReader(io.BytesIO(pdf))
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # a damaged file fails in many ways inside the parser
        return ChainResult((), 0, "файл повреждён и не читается как подписанный PDF: "
                                  + _damage(pdf, exc))
    try:
        return _verify_each(pdf, embedded, vc, diff_policy)
    finally:
        reader.release()
        diff_policy.release()


def _verify_each(pdf: bytes, embedded: list, vc: Any, diff_policy: RevisionPairPolicy
                 ) -> ChainResult:
    _digest_together(pdf, embedded)
    statuses = asyncio.run(_validate_all(embedded, vc, diff_policy))
    results: list[SignatureResult] = []
    for sig, status in zip(embedded, statuses, strict=True):
        is_timestamp = sig.sig_object.get("/Type") == "/DocTimeStamp"
        if isinstance(status, Exception):
            results.append(SignatureResult(
                field=str(sig.field_name), signer="", certificate_serial="", signing_time=None,
                timestamp_time=None, intact=False, valid=False, trusted=False,
                revision=-1, modified_after=True, summary=f"подпись не проверяется: {status}"))
            continue
        level = status.modification_level
        # Beyond form filling, or beyond what the signature itself allows (the seal: nothing).
        modified = (level is not None and level > ModificationLevel.FORM_FILLING
                    or status.docmdp_ok is False)
        cert = status.signing_cert
        results.append(SignatureResult(
            field=str(sig.field_name), signer=str(cert.subject.native.get("common_name", "")),
            certificate_serial=format(cert.serial_number, "X"),
            signing_time=None if is_timestamp else status.signer_reported_dt,
            timestamp_time=status.timestamp if is_timestamp else (
                status.timestamp_validity.timestamp if status.timestamp_validity else None),
            intact=status.intact, valid=status.valid, trusted=status.trusted,
            revision=sig.signed_revision, modified_after=modified,
            summary=_summary(status, modified)))
    doc_timestamps = sum(sig.sig_object.get("/Type") == "/DocTimeStamp" for sig in embedded)
    return ChainResult(tuple(results), doc_timestamps, _unsigned_tail(pdf))


def _unsigned_tail(pdf: bytes) -> str | None:
    """Bytes after the file's end: its last ``startxref`` and the ``%%EOF`` after it, then
    at most line ends. Readers ignore what follows %%EOF and no signature covers it, so a
    change there would pass unseen; a later revision proper is judged by every signature's
    change analysis instead (and the DSS revision after the seal's timestamp is one)."""
    last = pdf.rfind(b"startxref")
    eof = pdf.find(b"%%EOF", last) if last >= 0 else -1
    if eof < 0:
        return None  # no end at all: pyHanko refuses such a file itself
    extra = pdf[eof + 5:]
    if not extra.strip(b"\r\n"):
        return None
    for line_end in (b"\r\n", b"\n", b"\r"):  # the end line's own line end is the file's
        if extra.startswith(line_end):
            extra = extra[len(line_end):]
            break
    return (f"после конца файла (%%EOF) дописано {len(extra)} байт, которых не покрывает ни "
            "одна подпись: это не тот файл, что был подписан (возьмите копию из архива "
            "заново)")


async def _validate_all(embedded: list, vc: Any, diff_policy: RevisionPairPolicy) -> list:
    """pyHanko's validation of every signature, in one event loop (its synchronous
    wrappers start a loop for each); a signature that cannot be checked gives its error,
    so that it does not hide the others."""
    statuses: list = []
    try:
        for sig in embedded:
            try:
                if sig.sig_object.get("/Type") == "/DocTimeStamp":  # the archival one (B-LTA)
                    statuses.append(await async_validate_pdf_timestamp(
                        sig, validation_context=vc, diff_policy=diff_policy))
                else:
                    statuses.append(await async_validate_pdf_signature(
                        sig, signer_validation_context=vc, ts_validation_context=vc,
                        diff_policy=diff_policy))
            except Exception as exc:  # noqa: BLE001
                statuses.append(exc)
    finally:
        await vc.aclose()  # what pyHanko's wrappers do when they end
    return statuses


def _digest_together(pdf: bytes, embedded: list) -> None:
    """Hash every signature's byte range in one pass over the file.

    pyHanko hashes each signature's range on its own: the file up to the signature's
    /Contents and the rest of its revision, so a copy with 21 signatures is hashed about 20
    times over. The ranges are ``[0, a, b, c]`` with the
    prefixes of later signatures extending those of earlier ones, so one running hash of the
    file is copied at each ``a`` and finished with that signature's own tail. The digest goes
    where pyHanko keeps the one it computes (``external_digests``), the same bytes hashed
    the same way; a signature whose range has another shape is left to pyHanko.
    """
    by_algorithm: dict[str, list[tuple[int, int, int, Any]]] = {}
    for sig in embedded:
        try:
            start, first, second, length = (int(x) for x in sig.byte_range)
            algorithm = sig.external_md_algorithm
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
        if start == 0 and first >= 0 and second >= 0 and length >= 0:
            by_algorithm.setdefault(algorithm, []).append((first, second, length, sig))
    for algorithm, ranges in by_algorithm.items():
        running, position = hashes.Hash(get_pyca_cryptography_hash(algorithm)), 0
        for first, second, length, sig in sorted(ranges, key=lambda r: r[0]):
            running.update(pdf[position:first])
            position = first
            own = running.copy()
            own.update(pdf[second:second + length])
            sig.external_digests[algorithm] = own.finalize()


def _summary(status: PdfSignatureStatus, modified: bool) -> str:
    """Why a signature holds or not, in the words a «НАРУШЕНА» line shows."""
    if not status.intact:
        return "подписанные данные изменены"
    if not status.valid:
        return "подпись недействительна"
    if not status.trusted:
        return "сертификат не ведёт к корневому сертификату школы"
    if modified:
        return ("после подписи в документ внесены изменения, которых эта подпись не "
                "допускает (сверх заполнения полей подписи)")
    return "подпись верна"


def future_validation(pdf: bytes, *, roots: list[x509.Certificate], years: int
                      ) -> dict[str, bool]:
    """Would each signature still validate ``years`` from now, if the archival timestamps
    are renewed in time? (pyHanko's simulated future PAdES-LTA validation.)"""
    import asyncio

    from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation

    spec = _crl_required_spec(roots)
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * years)
    reader = PdfFileReader(io.BytesIO(pdf))
    out = {}
    for sig in reader.embedded_regular_signatures:
        result = asyncio.run(simulate_future_ades_lta_validation(sig, spec, moment))
        out[sig.field_name] = bool(result.api_status and result.api_status.bottom_line)
    return out


def lta_validation(pdf: bytes, *, roots: list[x509.Certificate], at: dt.datetime
                   ) -> dict[str, bool]:
    """Would each signature pass PAdES-LTA validation (ETSI EN 319 102-1, 5.6.3) at ``at``,
    with only what the file holds now? Unlike ``future_validation`` nothing is assumed:
    the chain of document timestamps in the file must prove every signature existed while
    its certificates, and those of the earlier timestamps, were valid. (Used to show that a
    renewed timestamp keeps a copy valid past the previous TSA certificate.)"""
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko_certvalidator.context import ValidationTimingInfo

    spec = _crl_required_spec(roots)
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at,
                                  point_in_time_validation=False)
    reader = PdfFileReader(io.BytesIO(pdf))
    return {str(sig.field_name): asyncio.run(ades_lta_validation(sig, spec, timing))
            .ades_subindic == AdESPassed.OK
            for sig in reader.embedded_regular_signatures}


def _crl_required_spec(roots: list[x509.Certificate]):  # noqa: ANN202
    """pyHanko's validation spec for the long-term checks: trust the school roots, and
    require revocation data (a CRL) for every certificate."""
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager

    from signing.pades import asn1_cert

    rule = RevocationCheckingRule.CRL_REQUIRED
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=[asn1_cert(c) for c in roots]),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(rule, rule)))))
