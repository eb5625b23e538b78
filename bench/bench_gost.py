"""GOST speed against the pure-Python baseline (``gostcrypto``), in one run, on one core.

Run: ``python bench/bench_gost.py [--seconds N]``

Prints which implementation ran (Streebog: the C extension built at install or pure
Python; curve arithmetic: OpenSSL's libcrypto or pure Python) and, each beside the
``gostcrypto`` baseline measured in the same run:
- Streebog-512 throughput (target >= 100 MB/s), and its ratio to ``openssl dgst`` with the
  GOST provider (or engine) hashing the same bytes in the same run, measured alternately so
  that a machine shared with other work slows both alike;
- GOST 34.10-2015-512 verification of one signature, and of a 10 kB XMLDSig document with
  the pkigovkz URIs (target >= 50/s);
- a 1 MB PDF with one GOST PAdES signature through the whole verifier (target <= 100 ms);
- GOST 34.10-2015-512 signing (target >= 50/s).
The key is NCA's real 2015 test key (../shared/nca-test); CPU time is measured, so other
processes on the machine do not count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NCA = Path(os.environ.get("DOCSERVICE_SHARED", ROOT.parent / "shared")) / "nca-test"
WHILE_VALID = dt.datetime(2022, 9, 2, 17, 0, tzinfo=dt.UTC)
MAX_ITERATIONS = 100_000


def _rate(fn, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """Calls per CPU second (at least one call)."""
    fn()
    count, start = 0, time.process_time()
    while count < MAX_ITERATIONS and (count == 0 or time.process_time() - start < seconds):
        fn()
        count += 1
    return count / max(time.process_time() - start, 1e-9)


def _line(name: str, ours: float, unit: str, base: float | None = None, target: str = "") -> None:
    ratio = f"  x{ours / base:,.0f} vs gostcrypto ({base:,.3g} {unit})" if base else ""
    print(f"{name:<46} {ours:>10,.1f} {unit}{ratio}{'  target ' + target if target else ''}")


def _openssl_streebog() -> list[str] | None:
    """The ``openssl dgst`` command for Streebog-512 here: the GOST provider, else the engine."""
    if not shutil.which("openssl"):
        return None
    for load in (["-provider", "gostprov"], ["-engine", "gost"]):
        command = ["openssl", "dgst", *load, "-md_gost12_512", "-binary"]
        if subprocess.run(command, input=b"", capture_output=True).returncode == 0:
            return command
    return None


def _child_cpu(command: list[str]) -> float:
    """CPU seconds (user + system) one run of ``command`` took."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _streebog_vs_openssl(buffer: bytes, digest, seconds: float):  # type: ignore[no-untyped-def]
    """(our MB/s, OpenSSL's MB/s, what ran) on ``buffer``, measured alternately five times.

    OpenSSL hashes a file holding ``buffer`` 32 times; its start-up (the run on an empty file)
    is subtracted. Medians of the five rounds are returned.
    """
    command = _openssl_streebog()
    if command is None:
        return None
    copies = 32
    with tempfile.TemporaryDirectory() as tmp:
        big, empty = os.path.join(tmp, "big.bin"), os.path.join(tmp, "empty.bin")
        with open(big, "wb") as out:
            for _ in range(copies):
                out.write(buffer)
        open(empty, "wb").close()
        with open(big, "rb") as f:
            want = f.read()
        check = subprocess.run([*command, big], capture_output=True, check=True).stdout
        if check != digest(want):
            raise SystemExit("Streebog-512 differs from openssl dgst: not measuring")
        mb = len(buffer) * copies / (1 << 20)
        ours, theirs = [], []
        for _ in range(5):
            ours.append(_rate(lambda: digest(buffer), seconds / 5) * len(buffer) / (1 << 20))
            startup = min(_child_cpu([*command, empty]) for _ in range(3))
            spent = _child_cpu([*command, big]) - startup
            theirs.append(mb / max(spent, 1e-9))
    return statistics.median(ours), statistics.median(theirs), " ".join(command[:4])


def main() -> int:
    from signing import patches

    patches.apply()  # the GOST OIDs and validator, the fast hex reader (start-up)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="per measurement")
    args = parser.parse_args()

    import gostcrypto
    from gostcrypto import gostsignature
    from lxml import etree

    import signing.gost as gost
    from docservice.verification import TrustAnchors, Verifier, VerifierConfig
    from signing.gost import curves, streebog
    from signing.gost import xmldsig as gost_xmldsig
    from signing.keys import GostPrivateKey, Pkcs12Key
    from signing.pdf import PdfOptions, sign_pdf

    print(
        f"paths: {gost.backends()} (c: the extension built at install; openssl: "
        "libcrypto via ctypes; else pure Python); baseline: gostcrypto (pure Python)"
    )
    key = Pkcs12Key.load(NCA / "gost2015_individual_Aa123456.p12", "Aa123456", at=WHILE_VALID)
    private = key.private_key
    assert isinstance(private, GostPrivateKey)
    curve = curves.TC26_512_A

    mb = os.urandom(1 << 20)
    small = mb[: 64 * 1024]
    ours = _rate(lambda: streebog.digest(mb), args.seconds)  # 1 MB per call
    base = (
        _rate(lambda: gostcrypto.gosthash.new("streebog512", data=small).digest(), args.seconds)
        / 16
    )
    _line("Streebog-512 (MB/s)", ours, "MB/s", base, ">= 100")
    versus = _streebog_vs_openssl(mb, streebog.digest, args.seconds)
    if versus is None:
        print("  (no openssl with GOST here: no ratio to OpenSSL)")
    else:
        ours_alt, theirs, what = versus
        print(
            f"{'  same, alternating with openssl (MB/s)':<46} {ours_alt:>10,.1f} MB/s"
            f"  x{ours_alt / theirs:.2f} vs `{what}` ({theirs:,.1f} MB/s, same bytes)"
        )
    pure = _rate(lambda: streebog.digest(small, force_python=True), args.seconds) / 16
    _line("  same, our pure-Python path (MB/s)", pure, "MB/s", base)
    from signing.gost import gost94

    c94 = _rate(lambda: gost94.digest(mb), args.seconds)
    py94 = _rate(lambda: gost94.digest(small, force_python=True), args.seconds) / 16
    print(
        f"{'GOST 34.311-95 (2004 documents) (MB/s)':<46} {c94:>10,.1f} MB/s  "
        f"x{c94 / py94:,.0f} vs our pure Python ({py94:.3g} MB/s; gostcrypto has none)"
    )

    digest = streebog.digest(b"x" * 10_000)
    value = private.sign_digest(digest)
    public = private.public
    theirs = gostsignature.new(
        gostsignature.MODE_512,
        gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-12-512-paramSetA"],
    )

    def swap(b: bytes) -> bytearray:
        r = b[::-1]
        return bytearray(r[len(r) // 2 :] + r[: len(r) // 2])

    g_key, g_sig, g_digest = swap(public.key), swap(value), bytearray(digest[::-1])
    assert theirs.verify(g_key, g_digest, g_sig)
    base_verify = _rate(lambda: theirs.verify(g_key, g_digest, g_sig), args.seconds)
    _line(
        "GOST 2015-512 verify, one signature (/s)",
        _rate(lambda: gost.verify_digest(public, digest, value), args.seconds),
        "/s",
        base_verify,
    )
    pure_verify = _rate(
        lambda: gost.signature.verify_number(
            curve,
            gost.signature.decode_public_key(curve, public.key),
            gost.signature.digest_number(digest, curve),
            *gost.signature.decode_signature(curve, value),
            arithmetic=gost.ec.PURE,
        ),
        args.seconds,
    )
    _line("  same, our pure-Python path (/s)", pure_verify, "/s", base_verify)

    body = "".join(f'<row n="{i}">Өтініш беруші / Заявитель {i:05d}</row>' for i in range(115))
    root = etree.fromstring(f'<doc xmlns="urn:bench">{body}</doc>'.encode())
    gost_xmldsig.sign(root, curve, private.d, [key.certificate.dump()], gost.SIG_2015_512)
    xml = etree.tostring(root, encoding="utf-8")
    signature = root.find(f"{{{gost_xmldsig.DS}}}Signature")

    def verify_xml() -> None:
        gost_xmldsig.verify(signature, key.certificate)

    base_xml = 1 / (1 / base_verify + 10 / 1024 / base)  # the same work with gostcrypto
    _line(
        f"XMLDSig GOST-512, {len(xml) // 1024} kB, crypto (/s)",
        _rate(verify_xml, args.seconds),
        "/s",
        base_xml,
        ">= 50",
    )
    from tests.gost.nca import cert

    trust = TrustAnchors.from_certificates([cert("nca_gost2015_test.cer")])
    verifier = Verifier(VerifierConfig(trust=trust, fetch_revocation=False))
    _line(
        "  same, whole verifier with chain (/s)",
        _rate(lambda: verifier.verify(xml, now=WHILE_VALID), args.seconds),
        "/s",
        base_xml,
    )

    import io

    import pikepdf

    from tests.verification.fixtures import base_pdf

    with pikepdf.open(io.BytesIO(base_pdf())) as doc:  # a ~1 MB PDF: a 1 MB attachment
        doc.attachments["annex.bin"] = pikepdf.AttachedFileSpec(doc, os.urandom(1 << 20))
        buffer = io.BytesIO()
        doc.save(buffer)
    pdf = buffer.getvalue()
    signed = sign_pdf(pdf, key, PdfOptions(), now=WHILE_VALID)
    start = time.process_time()
    runs = 5
    for _ in range(runs):
        verifier.verify(signed, now=WHILE_VALID)
    per_pdf = (time.process_time() - start) / runs * 1000
    base_pdf_ms = (len(signed) / (1 << 20) / base + 1 / base_verify) * 1000
    print(
        f"{'1 MB PDF, one GOST signature, verifier (ms)':<46} {per_pdf:>10,.1f} ms"
        f"  gostcrypto would spend {base_pdf_ms:,.0f} ms on hash + verify  target <= 100"
    )

    base_sign = _rate(
        lambda: theirs.sign(bytearray(private.d.to_bytes(64, "big")), g_digest), args.seconds
    )
    _line(
        "GOST 2015-512 signing (/s)",
        _rate(lambda: private.sign_digest(digest), args.seconds),
        "/s",
        base_sign,
        ">= 50",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
