"""Instructions per server-key PAdES B-B signature (visible stamp + QR), counted by callgrind.

Run: ``.venv/bin/python bench/count_sign.py [--signatures K] [--base DIR]`` (needs valgrind)

Why a count: the CPU time of a ~8 ms signature drifts by tens of per cent with the shared
machine's load; the instructions a process executes do not. Each child process, under
``valgrind --tool=callgrind``, loads the test PKI's ``career`` key and signs the same
rendered ``application`` document ``N`` times (``N`` = 2 or ``2 + K``) with
:func:`signing.pdf.sign_pdf` as the service does (B-B, visible stamp, a QR code to a
verification URL), the QR code computed afresh each time (each document has its own URL,
so the service's first signer of a document never finds it cached). The difference of
the two counts divided by ``K`` is one signature without start-up, imports or first-use
costs (the stamp font's subset, the QR layouts). With ``--base DIR`` the same counts are
made with that checkout's code too; the children run in parallel.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

from callgrind_count import compare

ROOT = Path(__file__).resolve().parent.parent
#: A fixed signing time: every child signs the same bytes.
SIGNED_AT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def child(pdf_path: str, p12_path: str, password: str, signatures: int) -> None:
    """Sign the document ``signatures`` times as the service's server key does."""
    from signing import patches

    patches.apply()  # the service's start-up
    from signing import stamp
    from signing.keys import Pkcs12Key
    from signing.pdf import PdfOptions, sign_pdf

    pdf = Path(pdf_path).read_bytes()
    key = Pkcs12Key.load(Path(p12_path), password)
    options = PdfOptions(verify_base_url="http://127.0.0.1:8080")
    for _ in range(signatures):
        stamp._qr_commands.cache_clear()
        signed = sign_pdf(pdf, key, options, now=SIGNED_AT)
        assert signed.startswith(pdf) and len(signed) > len(pdf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=10, help="K: the signatures counted")
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        pdf, p12, password, runs = args.child
        child(pdf, p12, password, int(runs))
        return 0

    sys.path.insert(0, str(ROOT))
    from docservice.render import render
    from tests.pki import running_pki

    data = json.loads((ROOT / "examples" / "application.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp, running_pki() as pki:
        pdf = Path(tmp) / "application.pdf"
        pdf.write_bytes(render("application", data, "kk+ru").pdf)
        common = [str(pdf), str(pki.p12("career")), pki.password]
        compare(
            Path(__file__),
            lambda n: ["--child", *common, str(n)],
            args.signatures,
            args.base,
            "signature",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
