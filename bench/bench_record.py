"""CPU and SQL statements of the archive's record() per signed document.

Run: ``.venv/bin/python bench/bench_record.py [--docs N] [--rounds R] [--postgres]
[--base DIR]``

A signed document makes three records, each in its own transaction as the service makes
them: the document (PDF 60 kB, XML, input), the signature (signed revision 80 kB, CMS,
one time-stamp token) and the verification report. What is measured is
``DocService.archive.record`` alone (``time.process_time`` around each call; the commit
is the caller's), on the embedded default (SQLite, WAL) or with ``--postgres`` in a
fresh schema of 127.0.0.1:5432/test, and the statements it sends
(``before_cursor_execute``). Every blob is put in the file store first, as the service
does before recording, so the store's part is a hash and a ``stat``, not a write.

Each measurement is a child process; with ``--base DIR`` (another checkout of the code)
the children alternate between this checkout and that one, round after round, so both
see the same machine load.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _artefacts(i: int) -> list[list]:  # type: ignore[type-arg]
    """The three records of document ``i`` (random bytes of the service's sizes)."""
    from docservice.archive.record import Artefact

    common = {"document_id": f"d{i:031d}", "case_ref": f"C-{i}", "client_id": 1}
    signer = {**common, "iin": "900101300123"}
    made = {"kind": "application", "lang": "kk"}
    signed = {"signature": 1, "method": "server"}
    report = {"revision": "r1", "signatures": 1, "signed_at": "2026-12-01T00:00:00+00:00"}
    return [
        [
            Artefact(t, secrets.token_bytes(n), meta=made, **signer)
            for t, n in (("document.pdf", 60_000), ("document.xml", 3_000), ("document.input", 800))
        ],
        [
            Artefact(t, secrets.token_bytes(n), meta=signed, **signer)
            for t, n in (
                ("signature.pdf", 80_000),
                ("signature.cms", 6_000),
                ("signature.timestamp", 3_000),
            )
        ],
        [Artefact("report.verification", secrets.token_bytes(4_000), meta=report, **common)],
    ]


def child(docs: int, database_url: str | None) -> None:
    """Record ``docs`` documents after a warm-up; print CPU ms and statements per document."""
    from sqlalchemy import event

    from docservice.service.config import Settings
    from docservice.service.db import Database, upgrade
    from docservice.service.documents import DocService

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", database_url=database_url)
        if database_url:
            db = Database(settings, migrate=False)
            upgrade(db.engine)
            db.dispose()
        svc = DocService(settings)
        sent = [0]

        def count(*_args: object) -> None:
            sent[0] += 1

        event.listen(svc.db.engine, "before_cursor_execute", count)

        def run(n: int) -> tuple[float, int]:
            cpu, statements = 0.0, 0
            for i in range(n):
                records = _artefacts(i)
                for arts in records:
                    for art in arts:
                        svc.store.put(art.data)
                for arts in records:
                    with svc.db.session() as session:
                        before, started = sent[0], time.process_time()
                        svc.archive.record(session, arts)
                        cpu += time.process_time() - started
                        statements += sent[0] - before
            return cpu, statements

        run(20)
        cpu, statements = run(docs)
        svc.db.dispose()
    print(f"{1000 * cpu / docs:.2f} {statements / docs:.1f}")


def _measure(checkout: Path, docs: int, database_url: str | None) -> tuple[float, float]:
    # This script in both cases: only the imported code (PYTHONPATH) is the checkout's.
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    command += ["--docs", str(docs)] + (["--database-url", database_url] if database_url else [])
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run(command, env=env, cwd=checkout, check=True, capture_output=True)
    cpu, statements = out.stdout.split()
    return float(cpu), float(statements)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument("--base", type=Path, help="another checkout to alternate with")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.docs, args.database_url)
        return 0
    checkouts = {"this": ROOT} | ({"base": args.base.resolve()} if args.base else {})
    with ExitStack() as stack:
        url = None
        if args.postgres:
            import psycopg

            conn = stack.enter_context(psycopg.connect(PG, autocommit=True))
            schema = f"bench_record_{secrets.token_hex(4)}"
            conn.execute(f'CREATE SCHEMA "{schema}"')
            stack.callback(conn.execute, f'DROP SCHEMA "{schema}" CASCADE')
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
        for round_ in range(args.rounds):
            for name, checkout in checkouts.items():
                if url:  # each child starts from an empty log
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                    conn.execute(f'CREATE SCHEMA "{schema}"')
                cpu, statements = _measure(checkout, args.docs, url)
                results[name].append((cpu, statements))
                print(
                    f"round {round_ + 1} {name:4}: {cpu:6.2f} ms CPU/doc,"
                    f" {statements} statements/doc"
                )
    database = "PostgreSQL" if args.postgres else "SQLite"
    for name, runs in results.items():
        cpus = sorted(c for c, _ in runs)
        print(
            f"{name:4} ({database}, {args.docs} docs x {args.rounds}): median"
            f" {cpus[len(cpus) // 2]:.2f} ms CPU/doc in record(), {runs[0][1]} statements/doc"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
