"""Instructions per report job (``jobs.run_job`` of a ``verify`` job), counted by callgrind.

Run: ``.venv/bin/python bench/count_report_job.py [--jobs K] [--base DIR]`` (needs valgrind)

Why a count: on a shared machine the CPU time of a few milliseconds of work drifts by tens
of per cent with the load (``bench_report_job.py`` shows it), while the number of
instructions a process executes does not. Each child process, run under
``valgrind --tool=callgrind``, sets up the embedded mode (SQLite, the local store) with
``2 + K`` signed ``direction`` documents stored and their rows and report jobs inserted as
a signing leaves them (document, signature, queued ``verify`` job), then runs the first
``N`` jobs, ``N`` being 2 or ``2 + K``; the difference of the two counts divided by ``K``
is the instructions of one report job (verification of the stored bytes against the trust
folder with the demo PKI's OCSP responder, summary, stored report, job and document rows,
archive entry), without start-up, imports or first-use costs. User space only: the
kernel's share (fsync, file writes) is not counted. The children run in parallel; with
``--base DIR`` the same counts are made with that checkout's code too.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

from callgrind_count import FIRST, compare

ROOT = Path(__file__).resolve().parent.parent


def child(trust_dir: str, jobs_to_run: int, pdfs: list[str]) -> None:
    """Store ``pdfs`` with the rows a signing leaves, then run ``jobs_to_run`` report jobs."""
    from signing import patches

    patches.apply()  # the service's start-up
    from sqlalchemy import select

    from docservice.service.clients import add_client
    from docservice.service.config import Settings
    from docservice.service.documents import DocService
    from docservice.service.jobs import run_job
    from docservice.service.models import Client, Document, Job, Signature

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), trust_dir=trust_dir, fetch_revocation=True)
        service = DocService(settings)
        with service.db.session() as session:
            add_client(session, "bench", ["render", "sign"])
        with service.db.sessions() as session:
            client_id = session.scalar(select(Client.id))
        job_ids = []
        for path in pdfs:
            sha = service.store.put(Path(path).read_bytes())
            with service.db.session() as session:
                document = Document(
                    id=secrets.token_hex(16),
                    client_id=client_id,
                    kind="direction",
                    lang="kk",
                    status="signed",
                    sha256=sha,
                    pdf_sha=sha,
                    xml_sha=sha,
                    signature_count=1,
                    input_sha=sha,
                )
                session.add(document)
                session.flush()
                session.add(
                    Signature(
                        document_id=document.id,
                        seq=1,
                        pdf_sha=sha,
                        cms_sha=sha,
                        method="server_key",
                    )
                )
                job = Job(
                    id=secrets.token_hex(16),
                    client_id=client_id,
                    task="verify",
                    state="queued",
                    input_sha=sha,
                    result_id=secrets.token_hex(16),
                    document_id=document.id,
                )
                session.add(job)
                job_ids.append(job.id)
        for job_id in job_ids[:jobs_to_run]:
            assert run_job(service, job_id) == "done"
        with service.db.sessions() as session:
            passed = session.scalars(
                select(Document.verification).where(Document.verification.is_not(None))
            )
            assert all('"TOTAL_PASSED"' in v for v in passed)
        service.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10, help="K: the jobs counted")
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.run, args.paths)
        return 0

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_report_job import _make_documents
    from bench_service import bench_pki

    from signing import patches

    patches.apply()
    with tempfile.TemporaryDirectory() as tmp, bench_pki(Path(tmp)) as (pki, trust_dir):
        pdfs = [str(p) for p in _make_documents(pki, trust_dir, Path(tmp), FIRST + args.jobs)]
        compare(
            Path(__file__),
            lambda n: ["--child", str(trust_dir), "--run", str(n), *pdfs],
            args.jobs,
            args.base,
            "report job",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
