"""RFC 3161 timestamps over arbitrary bytes: the audit trail's checkpoints (issue 30).

A checkpoint is a small JSON text naming the heads of the audit hash chains; a timestamp
token from the school's TSA over its SHA-256 proves that these heads existed at that time,
signed by a key the database does not hold in clear (the TSA key is locked under the
server's ``ARCHIVE_TSA_PASSPHRASE``), so whoever rewrites the chains in the database cannot
make a matching checkpoint. pyHanko requests the token (the school's in-process TSA or an
external one) and validates it (``validate_tst_signed_data``: the TSA's signature, its
certificate's path to the school root and its time-stamping usage, the message imprint).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from pyhanko.sign import timestamps
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data

from signing import pades


def _run(coroutine):  # noqa: ANN001, ANN202 - any of pyHanko's coroutines
    """Run pyHanko's coroutine to its end, also from a thread whose event loop is running
    (an asynchronous worker task, a browser-driving test): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def timestamp(data: bytes, stamper: timestamps.TimeStamper) -> bytes:
    """A timestamp token (DER ``ContentInfo``) over the SHA-256 of ``data``."""
    return _run(stamper.async_timestamp(hashlib.sha256(data).digest(), "sha256")).dump()


@dataclass(frozen=True)
class StampCheck:
    """What a timestamp token over some bytes proves."""

    ok: bool
    at: dt.datetime | None
    tsa: str
    reason: str  # in Russian, empty when ok


def check_timestamp(data: bytes, token: bytes, *, roots: list[x509.Certificate],
                    crls: list[x509.CertificateRevocationList] | None = None) -> StampCheck:
    """Whether ``token`` is a valid timestamp over exactly ``data`` by a TSA whose
    certificate chains to one of ``roots``."""
    try:
        info = cms.ContentInfo.load(token)
        signed = info["content"]
        if info["content_type"].native != "signed_data":
            raise ValueError("not signed data")
        stamped_at = signed["encap_content_info"]["content"].parsed["gen_time"].native
    except (ValueError, TypeError, KeyError, AttributeError):
        return StampCheck(False, None, "", "штамп времени повреждён: это не токен RFC 3161")

    def imprint(algorithm: str) -> bytes:
        return hashlib.new(algorithm, data).digest()

    try:
        # Judged at its own time: a checkpoint stays proof after the TSA certificate that
        # stamped it expires.
        status = _run(validate_tst_signed_data(
            signed, pades.validation_context(roots, crls=crls, at=stamped_at), imprint))
    except Exception as exc:  # noqa: BLE001 - pyHanko's many refusals, each a failure here
        return StampCheck(False, None, "", f"штамп времени не проверяется ({type(exc).__name__})")
    cert = status.get("signing_cert")
    tsa = cert.subject.human_friendly if cert is not None else ""
    at = status.get("timestamp")
    if not status.get("intact"):
        return StampCheck(False, at, tsa, "штамп времени выдан не для этого текста: текст "
                                          "изменён после штампа")
    if not status.get("valid"):
        return StampCheck(False, at, tsa, "подпись штампа времени неверна")
    if status.get("trust_problem_indic") is not None or status.get("validation_path") is None:
        return StampCheck(False, at, tsa, "штамп времени выдан не службой времени этой школы")
    return StampCheck(True, at, tsa, "")
