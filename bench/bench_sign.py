"""Benchmark: the signature chain on demo journal copies, beside raw pyHanko on the same file.

Renders the journal copy of one demo class for a period (not timed), then signs every field
in the chain order (teachers, class leader, deputy, director, seal with B-LTA) with
``signing.pades.sign`` and, separately, with bare pyHanko ``PdfSigner.sign_pdf`` (same
keys, timestamper and revocation data: B-T on each, DSS and B-LTA at the seal; no checks;
once without a visible stamp and once with ours); then verifies the signed file. Does this
twice: for a 5-signature chain (the first teacher's field, class leader, deputy, director,
seal; the other teacher fields stay empty) and for every field of the document.
Prints seconds per signature and per document for both, and the verification time (ours, and
the same checks with pyHanko's default change analysis).

    .venv/bin/python bench/bench_sign.py [--class 7А] [--period Q1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import speed_line  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp  # noqa: E402

from archive_service.actors import Actor  # noqa: E402
from archive_service.config import Settings  # noqa: E402
from archive_service.db import Archive, upgrade  # noqa: E402
from archive_service.demo.generator import YEAR, generate_school  # noqa: E402
from archive_service.demo.writers import write_json  # noqa: E402
from archive_service.journals.service import import_file  # noqa: E402
from archive_service.rendering.layout import render_journal  # noqa: E402
from archive_service.rendering.pdfa import finish  # noqa: E402
from archive_service.rendering.service import document_meta  # noqa: E402
from archive_service.snapshots.service import create_snapshots, show_snapshot  # noqa: E402
from signing import pades, pki  # noqa: E402
from signing.verify import verify_pdf  # noqa: E402


@dataclass(frozen=True)
class Bench:
    """The rendered copy, its fields, and a school PKI to sign it with."""

    pdf: bytes
    drawn: Any
    root: pki.Credential
    tsa: Any
    vc: Any
    creds: dict[str, pki.Credential]


def prepare(class_name: str, period: str) -> Bench:
    """Render the demo class's journal copy for the period and make a school to sign it."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(Settings.from_env({"ARCHIVE_HOME": tmp}))
        upgrade(archive.engine)
        docs = generate_school(1, classes=[class_name])
        [path] = write_json(docs, Path(tmp))
        import_file(archive, path, actor=Actor("bench"))
        [snap] = create_snapshots(archive, period=f"{YEAR}/{period}", class_name=class_name,
                                  school_code=None, actor=Actor("bench"))
        info, content = show_snapshot(archive, snap.snapshot.id)
        meta = document_meta(info, "journal", "Демо")
        drawn = render_journal(content, meta)
        pdf = finish(drawn, meta, title="t", subject="s").pdf
        archive.dispose()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    school = "Демо-школа"
    root = pki.create_root(school, now=now)
    tsa = pades.school_timestamper(pki.issue_tsa(root, school=school, now=now),
                                   [root.certificate])
    vc = pades.validation_context([root.certificate],
                                  crls=[pki.issue_crl(root, now=now)])
    creds = {f.name: (pki.issue_organisation(root, school=school, now=now) if f.step == "seal"
                      else pki.issue_person(root, name=f.signer or "Директор", position="x",
                                            school=school, now=now)) for f in drawn.fields}
    return Bench(pdf, drawn, root, tsa, vc, creds)


def sign_all(bench: Bench, fields) -> bytes:
    """``fields`` signed in order with ``signing.pades.sign`` (the seal with B-LTA)."""
    out = bench.pdf
    for f in fields:
        cred = bench.creds[f.name]
        out = pades.sign(out, pades.SignRequest(
            f.name, pades.local_signer(cred, [bench.root.certificate]), cred.certificate,
            "Должность", bench.tsa, bench.vc, archival=f.step == "seal"))
    return out


def main() -> None:
    """Run the benchmark and print figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--class", dest="class_name", default="7А")
    ap.add_argument("--period", default="Q1")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    bench = prepare(args.class_name, args.period)
    pdf, drawn, root, tsa, vc, creds = (bench.pdf, bench.drawn, bench.root, bench.tsa,
                                        bench.vc, bench.creds)

    def ours(fields) -> tuple[bytes, float]:
        gc.collect()  # each timed run starts without the garbage of the one before
        t0 = time.perf_counter()
        out = sign_all(bench, fields)
        return out, time.perf_counter() - t0

    def raw(fields, stamp: bool = False) -> float:
        gc.collect()
        out, t0 = pdf, time.perf_counter()
        for f in fields:
            cred = creds[f.name]
            meta = signers.PdfSignatureMetadata(
                field_name=f.name, subfilter=SigSeedSubFilter.PADES,
                embed_validation_info=f.step == "seal", use_pades_lta=f.step == "seal",
                docmdp_permissions=MDPPerm.NO_CHANGES if f.step == "seal" else MDPPerm.FILL_FORMS,
                validation_context=vc)
            signer = pades._PdfA2Signer(meta, pades.local_signer(cred, [root.certificate]),
                                        timestamper=tsa,
                                        stamp_style=pades._stamp_style() if stamp else None)
            # The same stamp text as ours: certificate serial, owner, position, validity.
            cert = cred.certificate
            params = {"stamp": pades.stamp_text(
                serial=format(cert.serial_number, "X"), owner=pades._cn(cert),
                position="Должность", valid_from=f"{cert.not_valid_before_utc:%d.%m.%Y}",
                valid_to=f"{cert.not_valid_after_utc:%d.%m.%Y}",
                signed_at=pades.local_time(dt.datetime.now(dt.UTC), "Europe/Moscow"))} if stamp else None
            out = signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(out)),
                                  existing_fields_only=True, bytes_reserved=None,
                                  appearance_text_params=params).getvalue()
        return time.perf_counter() - t0

    def verify_with_default_policy(signed: bytes) -> float:
        """The same checks with pyHanko's own change analysis (every signed revision against
        every later one), for comparison with signing.diff.RevisionPairPolicy."""
        gc.collect()
        t0 = time.perf_counter()
        vc = pades.validation_context([root.certificate])
        for sig in PdfFileReader(io.BytesIO(signed)).embedded_signatures:
            if sig.sig_object.get("/Type") == "/DocTimeStamp":
                validate_pdf_timestamp(sig, validation_context=vc)
            else:
                validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)
        return time.perf_counter() - t0

    # The full chain of this document, and the 5-signature chain the target speaks of: the
    # first teacher's field, class leader, deputy, director, seal (other fields left empty).
    full = list(drawn.fields)
    first_teacher = next(f for f in full if f.step == "teachers")
    five = [first_teacher] + [f for f in full if f.step != "teachers"]
    print(speed_line())
    print(f"document: {args.class_name} {args.period}, {drawn.pages} pages, "
          f"{len(full)} signature fields, median of {args.rounds}")
    for label, fields in (("5-signature chain", five), (f"full chain ({len(full)})", full)):
        n = len(fields)
        our_times, raw_times, stamped_times, verify_times, default_times = [], [], [], [], []
        renew_times, renewed_verify_times = [], []
        for _ in range(args.rounds):
            signed, seconds = ours(fields)
            our_times.append(seconds)
            raw_times.append(raw(fields))
            stamped_times.append(raw(fields, stamp=True))
            verify_pdf(signed, roots=[root.certificate])  # warm-up: both timings below warm
            gc.collect()
            t0 = time.perf_counter()
            result = verify_pdf(signed, roots=[root.certificate])
            verify_times.append(time.perf_counter() - t0)
            assert result.ok, result
            default_times.append(verify_with_default_policy(signed))
            # The archival timestamp renewed (archive timestamps renew), then verified again.
            gc.collect()
            t0 = time.perf_counter()
            renewed = pades.renew_archival_timestamp(signed, tsa, vc)
            renew_times.append(time.perf_counter() - t0)
            gc.collect()
            t0 = time.perf_counter()
            again = verify_pdf(renewed, roots=[root.certificate])
            renewed_verify_times.append(time.perf_counter() - t0)
            assert again.ok and again.document_timestamps == 2, again
        o, r, rs, v, vd, rn, rv = (statistics.median(x) for x in (
            our_times, raw_times, stamped_times, verify_times, default_times, renew_times,
            renewed_verify_times))
        print(f"{label} (+ document timestamp):")
        print(f"  ours:      {o:.2f} s per document, {o / n:.3f} s per signature")
        print(f"  raw pyHanko (no stamp): {r:.2f} s per document, {r / n:.3f} s per signature")
        print(f"  raw pyHanko with the same stamp: {rs:.2f} s per document, "
              f"{rs / n:.3f} s per signature")
        print(f"  ratio ours/raw: {o / r:.2f}; ours/raw with stamp: {o / rs:.2f}")
        print(f"  verify (all signatures, change analysis): {v:.2f} s; with pyHanko's default "
              f"change analysis {vd:.2f} s")
        print(f"  timestamp renewal: {rn:.3f} s; verify after it {rv:.2f} s")
    print(speed_line())


if __name__ == "__main__":
    main()
