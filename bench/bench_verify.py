"""Verification throughput on one core: docservice's verifier against plain pyHanko.

Run: ``/work/venv/bin/python bench/bench_verify.py [--seconds S]``

Measured, in one process pinned to one CPU:

* **baseline** - a plain pyHanko loop: read the PDF, ``validate_pdf_signature`` with a
  ``ValidationContext`` pinned to the test root, the CA and the OCSP response / CRL
  fetched once beforehand (so revocation is "cached" for it too);
* **docservice** - ``Verifier.verify`` on the same single-signature PAdES B-B PDF (full
  report: signer facts, coverage, modifications, chain, revocation), pinned trust store,
  revocation from its cache after one warm-up verification;
* the same verifier on a four-signature PDF and on an XMLDSig document.

Every loop is bounded by an iteration count *and* a time budget; figures and the ratio
are printed. The baseline runs before the verifier installs its fast hex-string reader
into pyHanko; a second baseline run after it shows how much of the gain that alone is.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _rate(fn: Callable[[], object], seconds: float, max_iter: int = 5000) -> tuple[float, int]:
    fn()  # warm-up (caches, imports)
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while count < max_iter and time.perf_counter() < deadline:
        fn()
        count += 1
    return count / (time.perf_counter() - started), count


def main(argv: list[str] | None = None) -> int:
    from signing import patches

    patches.apply()  # the GOST OIDs and validator, the fast hex reader (start-up)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per loop")
    args = parser.parse_args(argv)
    _pin_one_core()

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from tests.pki import running_pki
    from tests.verification.fixtures import SAMPLE_XML, Signers, base_pdf

    with running_pki() as pki:
        signers = Signers(pki)
        # Placeholder sized like a real NCA RK B-B signature (CMS + chain), not inflated.
        single = signers.sign_pdf(base_pdf(), "career", reserve=8192)
        four = signers.sign_pdf(base_pdf(), "career", certify=True, reserve=8192)
        for label in ("head", "akimat", "hr"):
            four = signers.sign_pdf(four, label, reserve=8192)
        xml = signers.sign_xml(SAMPLE_XML, "career")

        fetching = ValidationContext(
            trust_roots=[pki.root], other_certs=[pki.ca], allow_fetching=True
        )
        sig = PdfFileReader(io.BytesIO(single)).embedded_signatures[0]
        assert validate_pdf_signature(sig, fetching).bottom_line
        ocsps, crls = list(fetching.ocsps), list(fetching.crls)

        def baseline() -> None:
            reader = PdfFileReader(io.BytesIO(single))
            context = ValidationContext(
                trust_roots=[pki.root],
                other_certs=[pki.ca],
                ocsps=ocsps,
                crls=crls,
                allow_fetching=False,
            )
            status = validate_pdf_signature(reader.embedded_signatures[0], context)
            assert status.bottom_line

        base_rate, base_n = _rate(baseline, args.seconds)

        from docservice.verification import Indication, TrustAnchors, Verifier, VerifierConfig

        verifier = Verifier(
            VerifierConfig(trust=TrustAnchors.from_certificates([pki.root, pki.ca], "bench"))
        )

        def ours(data: bytes) -> Callable[[], None]:
            def run() -> None:
                report = verifier.verify(data)
                assert report.verdict is Indication.TOTAL_PASSED, report.to_json()

            return run

        mine_rate, mine_n = _rate(ours(single), args.seconds)
        four_rate, four_n = _rate(ours(four), args.seconds)
        xml_rate, xml_n = _rate(ours(xml), args.seconds)
        base2_rate, base2_n = _rate(baseline, args.seconds)
        network = dict(pki.hits)

    print(f"plain pyHanko validate_pdf_signature (B-B, 1 sig): {base_rate:8.1f} /s  (n={base_n})")
    print(f"docservice Verifier.verify      (B-B, 1 sig):      {mine_rate:8.1f} /s  (n={mine_n})")
    print(f"  ratio docservice / pyHanko:                      {mine_rate / base_rate:8.2f} x")
    print(f"docservice Verifier.verify      (PDF, 4 sigs):     {four_rate:8.1f} /s  (n={four_n})")
    print(f"docservice Verifier.verify      (XMLDSig, 1 sig):  {xml_rate:8.1f} /s  (n={xml_n})")
    print(f"pyHanko baseline again, with the fast hex reader:  {base2_rate:8.1f} /s  (n={base2_n})")
    print(
        f"revocation cache: {dict(verifier.revocation.stats)}; "
        f"chain cache hits: {verifier.chains.hits}; PKI HTTP hits: {network}"
    )
    print(f"target >= 150/s: {'met' if mine_rate >= 150 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
