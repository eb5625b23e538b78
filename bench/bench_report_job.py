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

Each child then measures the whole job too: ``jobs.run_job`` (claiming the job's row,
then ``DocService.report_revision``: verification, the summary, the stored report, the
job's and the document's rows, the archive entry) in the embedded mode (SQLite, the local
store) on as many directions as it signed itself through ``sign_with_key`` with the same
server key.

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


def whole_job(trust_dir: str, key: str, count: int) -> float:
    """CPU ms of the report job (``jobs.run_job``) per document (embedded mode: SQLite and
    the local store in a temporary folder), on ``count`` directions signed with the
    server key ``key`` (``p12:password-file``) by the service, as a signing request does."""
    from sqlalchemy import select

    from docservice.service.clients import add_client
    from docservice.service.config import Settings
    from docservice.service.documents import DocService
    from docservice.service.jobs import run_job
    from docservice.service.keys import add_key
    from docservice.service.models import Client

    class Collected:  # the jobs the signings send, run here one by one
        def __init__(self) -> None:
            self.sent: list[str] = []

        def submit(self, job_id: str) -> None:
            self.sent.append(job_id)

    p12, password_file = key.split(":")
    data = json.loads((ROOT / "examples" / f"{KIND}.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), trust_dir=trust_dir, fetch_revocation=True)
        service = DocService(settings)
        service.jobs = jobs = Collected()
        with service.db.session() as session:
            add_client(session, "bench", ["render", "sign"])
            add_key(session, SIGNER, Path(p12), Path(password_file), ["bench"])
        with service.db.sessions() as session:
            client = session.scalar(select(Client))
            session.expunge(client)
        todo = []
        for i in range(WARM_UP + count):
            data["number"] = str(500 + i)
            doc = service.create_document(client, KIND, "kk", data)
            signature = service.sign_with_key(client, doc.id, SIGNER)
            assert signature.pdf_sha  # the revision the job verifies
            todo.append(jobs.sent[-1])
        for job_id in todo[:WARM_UP]:
            run_job(service, job_id)
        cpu = time.process_time()
        for job_id in todo[WARM_UP:]:
            assert run_job(service, job_id) == "done"
        cpu = time.process_time() - cpu
        service.db.dispose()
    return 1000 * cpu / count


def child(trust_dir: str, docs: list[str], passes: int, key: str) -> None:
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
                "job_cpu_ms": whole_job(trust_dir, key, len(measured)),
            }
        )
    )


def _run_child(code: Path, trust_dir: Path, docs: list[Path], passes: int, key: str) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_report_job.py"),
            "--child",
            str(trust_dir),
            "--passes",
            str(passes),
            "--key",
            key,
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
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.paths, args.passes, args.key)
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
        key = f"{pki.p12[SIGNER]}:{pki.password_file}"
        codes = [("new", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
        results: dict[str, dict[str, list[float]]] = {
            name: {"cpu_ms": [], "job_cpu_ms": []} for name, _ in codes
        }
        for round_ in range(args.rounds):
            order = codes if round_ % 2 == 0 else codes[::-1]
            for name, code in order:
                r = _run_child(code, trust_dir, docs, args.passes, key)
                for what in ("cpu_ms", "job_cpu_ms"):
                    results[name][what].append(r[what])
                print(
                    f"round {round_ + 1} {name:4}: verify+summary+JSON {r['cpu_ms']:6.2f} ms CPU"
                    f" ({r['wall_ms']:.2f} ms wall, n={r['n']});"
                    f" whole job (run_job) {r['job_cpu_ms']:6.2f} ms CPU",
                    flush=True,
                )
    medians = {
        name: {what: sorted(v)[len(v) // 2] for what, v in found.items()}
        for name, found in results.items()
    }
    for name, m in medians.items():
        print(
            f"{name:4}: median verify+summary+JSON {m['cpu_ms']:6.2f} ms CPU,"
            f" whole job (run_job) {m['job_cpu_ms']:6.2f} ms CPU (per signed document)"
        )
    if args.base:
        new, base = medians["new"], medians["base"]
        print(
            f"new / base: verify+summary+JSON {new['cpu_ms'] / base['cpu_ms']:.2f},"
            f" whole job {new['job_cpu_ms'] / base['job_cpu_ms']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
