"""Server-key signing throughput: docservice's adapter against a plain pyHanko call.

Why: the issue's target is >= 100 PAdES B-B signatures per second on one core, where
pyHanko's straightforward ``sign_pdf`` + ``SimpleSigner.load_pkcs12`` manages ~13/s
(it re-reads the key and signs a dummy to size the placeholder, per document).
B-T and B-LT are measured against the loopback TSA/OCSP of the test PKI.

Run: ``/work/venv/bin/python bench/bench_sign.py [--seconds S] [--max N]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import signers  # noqa: E402

from docservice.pki.anchors import TrustAnchors  # noqa: E402
from signing import stamp as stamps  # noqa: E402
from signing.keys import Pkcs12Key  # noqa: E402
from signing.pdf import Level, PdfOptions, sign_pdf  # noqa: E402
from tests.pki import running_pki  # noqa: E402


def _document() -> bytes:
    """A real catalogue document (PDF/A-3b with the signature area)."""
    from docservice.render import render

    data = json.loads((ROOT / "examples" / "application.json").read_text(encoding="utf-8"))
    return render("application", data, "kk+ru").pdf


def _rate(name: str, fn: Callable[[], bytes], seconds: float, max_runs: int) -> float:
    """Signatures per second over a bounded loop (time and count), after one warm-up;
    also the CPU time per signature, which other load on the machine disturbs less."""
    fn()
    runs, start, cpu = 0, time.perf_counter(), time.process_time()
    while runs < max_runs and time.perf_counter() - start < seconds:
        fn()
        runs += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = runs / elapsed
    print(
        f"{name:<46} {rate:8.1f} /s   ({runs} in {elapsed:.2f} s, "
        f"{1000 * elapsed / runs:.1f} ms each, {1000 * cpu / runs:.2f} ms CPU)"
    )
    return rate


def main(argv: list[str] | None = None) -> int:
    from signing import patches

    patches.apply()  # the GOST OIDs and validator, the fast hex reader (start-up)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time bound per case")
    parser.add_argument("--max", type=int, default=1000, help="count bound per case")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    pdf = _document()
    with running_pki() as pki:
        p12 = pki.p12("career")
        key = Pkcs12Key.load(p12, pki.password)
        trust = TrustAnchors(tuple(pki.trust_roots), (pki.ca,))

        def baseline() -> bytes:
            signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=pki.password.encode())
            assert signer is not None
            out = signers.sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(pdf)),
                signers.PdfSignatureMetadata(field_name="Signature1"),
                signer=signer,
            )
            return out.getvalue()

        def ours(options: PdfOptions) -> Callable[[], bytes]:
            return lambda: sign_pdf(pdf, key, options)

        print(f"document: {len(pdf)} bytes; one core; bounds {args.seconds} s / {args.max}")
        base = _rate(
            "baseline pyHanko sign_pdf + load_pkcs12 (B-B)", baseline, args.seconds, args.max
        )
        bb = _rate(
            "signing.sign_pdf B-B, invisible",
            ours(PdfOptions(visible=False)),
            args.seconds,
            args.max,
        )
        # The service's own default public URL: without one a stamp has no QR code.
        with_qr = PdfOptions(verify_base_url="http://127.0.0.1:8080")
        _rate("signing.sign_pdf B-B, visible stamp + QR", ours(with_qr), args.seconds, args.max)

        def visible_new_url() -> bytes:
            # The QR code is cached per verification URL (one per document): clearing it
            # measures a document's first signer, not the next signers of the same one.
            stamps._qr_commands.cache_clear()
            return sign_pdf(pdf, key, with_qr)

        _rate(
            "signing.sign_pdf B-B, visible, QR not cached", visible_new_url, args.seconds, args.max
        )
        _rate(
            "signing.sign_pdf B-T (loopback TSA), invisible",
            ours(PdfOptions(level=Level.B_T, tsa_url=pki.tsa_url, visible=False)),
            args.seconds,
            args.max,
        )
        _rate(
            "signing.sign_pdf B-LT (TSA + OCSP/CRL), invisible",
            ours(PdfOptions(level=Level.B_LT, tsa_url=pki.tsa_url, trust=trust, visible=False)),
            args.seconds,
            args.max,
        )
        print(f"B-B speed-up over the baseline: x{bb / base:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
