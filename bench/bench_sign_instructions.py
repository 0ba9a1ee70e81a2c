"""Benchmark: CPU instructions of one verification of a fully signed copy, counted by valgrind.

Wall-clock figures on a shared machine swing by a third or more within an hour (the same
verification took 0.26-0.45 s in one afternoon); instruction counts do not. This renders the
demo class's journal copy and signs every field (as ``bench/bench_sign.py`` does, not
counted), then runs ``signing.verify.verify_pdf`` on it under ``valgrind --tool=callgrind``
twice, in parallel: once with one warm-up verification, once with the warm-up and
``--verifications`` more. The difference divided by ``--verifications`` is printed. About two
minutes. (Hashing costs more instructions under valgrind than on the machine, whose SHA
instructions valgrind's CPU does not offer.)

    .venv/bin/python bench/bench_sign_instructions.py [--class 7А] [--period Q1] [--verifications 1]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    """Sign a copy, count, print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--class", dest="class_name", default="7А")
    ap.add_argument("--period", default="Q1")
    ap.add_argument("--verifications", type=int, default=1)
    ap.add_argument("--inner", nargs=3, metavar=("PDF", "ROOT", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        _verify(Path(args.inner[0]), Path(args.inner[1]), int(args.inner[2]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian package valgrind)")
    import bench_sign
    from cryptography.hazmat.primitives.serialization import Encoding

    bench = bench_sign.prepare(args.class_name, args.period)
    signed = bench_sign.sign_all(bench, bench.drawn.fields)
    with tempfile.TemporaryDirectory() as tmp:
        pdf, root = Path(tmp) / "signed.pdf", Path(tmp) / "root.pem"
        pdf.write_bytes(signed)
        root.write_bytes(bench.root.certificate.public_bytes(Encoding.PEM))
        with ThreadPoolExecutor(2) as pool:
            base, more = pool.map(lambda n: _instructions(pdf, root, n),
                                  [0, args.verifications])
    print(f"document: {args.class_name} {args.period}, {len(bench.drawn.fields)} signatures "
          f"and the document timestamp, {len(signed) / 1024:.0f} KB")
    print(f"verify: {(more - base) / args.verifications / 1e6:.1f} M instructions per "
          f"verification ({args.verifications} after 1 warm-up)")


def _instructions(pdf: Path, root: Path, verifications: int) -> int:
    """Instructions callgrind counts for the whole inner process."""
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, __file__, "--inner", str(pdf), str(root), str(verifications)],
            capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"the run under valgrind failed:\n{run.stderr[-2000:]}")
    return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def _verify(pdf: Path, root: Path, verifications: int) -> None:
    """Inside valgrind: one warm-up verification, then ``verifications`` more."""
    from cryptography import x509

    from signing.verify import verify_pdf

    data, roots = pdf.read_bytes(), [x509.load_pem_x509_certificate(root.read_bytes())]
    for _ in range(1 + verifications):
        if not verify_pdf(data, roots=roots).ok:
            raise SystemExit("the signed copy does not verify")


if __name__ == "__main__":
    main()
