"""CPU of the service's report job per signed document: verify + summary + archived JSON.

Run: ``.venv/bin/python bench/bench_report_job.py [--docs N] [--rounds R] [--base DIR]``

What is measured is the body of ``DocService.report_revision`` without its database and
store: ``DocService.verifier().verify(pdf)`` (the Verifier the service builds: trust
anchors from the trust folder, the process's revocation cache), then ``_summary`` and
``report_json``, on freshly signed single-signature PAdES B-B ``direction`` documents
(rendered from examples/direction.json in kk, signed with the demo PKI's 'dep-career'
server key, as bench/bench_service.py does). The demo PKI runs in this process (its OCSP
responder answers the first verification of each child); each measurement is a child
process pinned to one CPU that verifies a few documents to warm up, then each of the
others once (``--passes``) and prints its CPU time (``time.process_time``) per
verification.

With ``--base DIR`` (another checkout of the code) the children alternate between this
checkout and that one, round after round, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIGNER = "dep-career"
KIND = "direction"
#: Documents verified before the measurement (not measured): the service's report job
#: sees each document once, so the measured ones are documents this process never saw.
WARM_UP = 3


def _make_documents(pki, trust_dir: Path, out: Path, n: int) -> list[Path]:  # type: ignore[no-untyped-def]
    from docservice.service.documents import render_checked, signing_trust
    from docservice.verification.revocation import CachedRevocation, RevocationCache
    from signing.keys import Pkcs12Key
    from signing.pdf import PdfOptions, sign_pdf

    key = Pkcs12Key.load(pki.p12[SIGNER], pki.password_file.read_text().strip())
    options = PdfOptions(
        trust=signing_trust(str(trust_dir), CachedRevocation(RevocationCache(), status_ttl=60))
    )
    data = json.loads((ROOT / "examples" / f"{KIND}.json").read_text(encoding="utf-8"))
    paths = []
    for i in range(n):
        data["number"] = str(100 + i)  # distinct documents, as the service signs them
        path = out / f"signed-{i}.pdf"
        path.write_bytes(sign_pdf(render_checked(KIND, data, "kk").pdf, key, options))
        paths.append(path)
    return paths


def child(trust_dir: str, docs: list[str], passes: int) -> None:
    """One measurement: the service's Verifier and report building over ``docs``."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import docservice
    from signing import patches

    patches.apply()  # the service's start-up
    from docservice.service.documents import _summary, report_json
    from docservice.verification import Indication, Verifier, VerifierConfig
    from docservice.verification.revocation import RevocationCache

    verifier = Verifier(
        VerifierConfig(
            trust_dir=trust_dir, fetch_revocation=True, revocation_cache=RevocationCache()
        )
    )
    pdfs = [Path(d).read_bytes() for d in docs]

    def job(pdf: bytes) -> bytes:
        report = verifier.verify(pdf, file_name="doc.pdf")
        assert report.verdict is Indication.TOTAL_PASSED, report.to_json()
        _summary(report)
        return report_json(report)

    warm, measured = pdfs[:WARM_UP], pdfs[WARM_UP:]
    for pdf in warm:  # imports, the OCSP fetch, first-use caches
        job(pdf)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(passes):
        for pdf in measured:
            job(pdf)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    count = passes * len(measured)
    print(
        json.dumps(
            {
                "code": str(Path(docservice.__file__).resolve().parent.parent),
                "cpu_ms": 1000 * cpu / count,
                "wall_ms": 1000 * wall / count,
                "n": count,
            }
        )
    )


def _run_child(code: Path, trust_dir: Path, docs: list[Path], passes: int) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_report_job.py"),
            "--child",
            str(trust_dir),
            "--passes",
            str(passes),
            *map(str, docs),
        ],
        cwd=code,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    if Path(result["code"]) != code.resolve():
        raise SystemExit(f"child imported {result['code']}, not {code}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60, help="distinct signed documents")
    parser.add_argument(
        "--passes", type=int, default=1, help="verifications of each document per child"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.paths, args.passes)
        return 0

    sys.path.insert(0, str(ROOT))
    from docservice.service.demo_pki import running
    from signing import patches

    patches.apply()  # start-up, as every entry point does before it signs

    with tempfile.TemporaryDirectory() as tmp, running(Path(tmp) / "pki", "bench") as pki:
        trust_dir = Path(tmp) / "trust"
        trust_dir.mkdir()
        (trust_dir / "root.pem").write_bytes(pki.root_pem.read_bytes())
        docs = _make_documents(pki, trust_dir, Path(tmp), args.docs + WARM_UP)
        codes = [("new", ROOT)] + ([("base", args.base)] if args.base else [])
        results: dict[str, list[float]] = {name: [] for name, _ in codes}
        for round_ in range(args.rounds):
            order = codes if round_ % 2 == 0 else codes[::-1]
            for name, code in order:
                r = _run_child(code, trust_dir, docs, args.passes)
                results[name].append(r["cpu_ms"])
                print(
                    f"round {round_ + 1} {name:4}: {r['cpu_ms']:6.2f} ms CPU/verification"
                    f" ({r['wall_ms']:.2f} ms wall, n={r['n']})",
                    flush=True,
                )
    for name, values in results.items():
        print(f"{name:4}: median {sorted(values)[len(values) // 2]:6.2f} ms CPU/verification")
    if args.base:
        new, base = (sorted(results[k])[len(results[k]) // 2] for k in ("new", "base"))
        print(f"new / base: {new / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
