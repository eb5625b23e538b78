"""The archive's Merkle log: appends per second and proof times at 100,000 entries.

Run: ``.venv/bin/python bench/bench_archive.py [--entries N] [--skip-postgres]``

For SQLite (a file, WAL + synchronous=NORMAL) and PostgreSQL (127.0.0.1:5432, database
``test``, a fresh schema dropped afterwards), measured:

* **baseline** - inserting the same entry rows alone (no tree) in batches of 1,000: the
  floor any log on that database pays;
* **log, batched** - ``MerkleLog.append_many`` of N entries in batches of 1,000 (the rows
  plus the interior hashes);
* **log, one transaction each** - ``MerkleLog.append`` for at most 2,000 entries or 3 s,
  what the service pays when each artefact is recorded as it comes;
* **service record()** - ``docservice.archive.record.record`` of one artefact per
  transaction (the append lock, entry, nodes and index row), what a signature pays;
* **cold proofs** - a new process opens a new engine and asks for one inclusion proof and
  one consistency proof (connection set-up shown apart);
* **warm proofs** - the median of 200 proofs of random leaves / sizes in this process, at
  1,000 and at N leaves, with the number of stored hashes each one reads;
* **case bundle** - a case of 20 documents and 80 signatures (four officials each, PAdES
  B-LT with the test PKI's TSA and OCSP on loopback) on the embedded default: exporting
  its bundle (``GET /v1/cases/{id}/bundle``'s function: artefacts, proofs, tree heads, one
  ДДК per document) and verifying it offline (``docservice audit verify-bundle``'s
  function, with the ДДК signatures checked), against a baseline of zipping the same
  artefacts with no proof or card.

The log part takes about 30-60 s on this machine with the default N=100,000; the case
part about as long again (most of it signing the 80 signatures, which is not measured).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from docservice.archive.merkle import MerkleLog, leaf_hash, verify_consistency, verify_inclusion
from docservice.archive.store import SqlStore, log_entry, make_engine, metadata

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 1000


def entry(i: int) -> bytes:
    return f'{{"artefact":"sha256:{i:064x}","kind":"bench"}}'.encode()


def baseline(engine, n: int) -> float:
    """Plain inserts of the entry rows in batches: entries per second."""
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        with engine.begin() as conn:
            conn.execute(
                insert(log_entry),
                [{"idx": i, "data": entry(i)} for i in range(start, min(n, start + BATCH))],
            )
    return n / (time.perf_counter() - started)


def fill(log: MerkleLog, n: int) -> float:
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        log.append_many([entry(i) for i in range(start, min(n, start + BATCH))])
    return n / (time.perf_counter() - started)


def one_by_one(log: MerkleLog, first: int, limit: int = 2000, seconds: float = 3.0) -> float:
    started = time.perf_counter()
    count = 0
    while count < limit and time.perf_counter() - started < seconds:
        log.append(entry(first + count))
        count += 1
    return count / (time.perf_counter() - started)


class _Blobs:
    """A file store that keeps nothing: the bench measures the log, not the disk."""

    def put(self, data: bytes) -> str:
        import hashlib

        return hashlib.sha256(data).hexdigest()


def recorded(store: SqlStore, limit: int = 1000, seconds: float = 3.0) -> float:
    """The service's path: ``record()`` of one artefact per transaction (append lock,
    entry, nodes and index row in the caller's transaction), as signing records it."""
    from sqlalchemy.orm import Session

    from docservice.archive.record import Artefact, record

    blobs, key = _Blobs(), b"bench-index-key"
    started = time.perf_counter()
    count = 0
    while count < limit and time.perf_counter() - started < seconds:
        with Session(store.engine) as session, session.begin():
            record(
                session,
                blobs,
                [
                    Artefact(
                        "route.event", entry(count), case_ref="B-1", client_id=1, iin="900101300123"
                    )
                ],
                index_key=key,
            )
        count += 1
    return count / (time.perf_counter() - started)


def warm(log: MerkleLog, size: int, rounds: int = 200) -> dict:
    rng = random.Random(size)
    root = log.root(size)
    inc, con = [], []
    for _ in range(rounds):
        i = rng.randrange(size)
        t = time.perf_counter()
        path = log.inclusion_proof(i, size)
        inc.append(time.perf_counter() - t)
        assert verify_inclusion(i, size, leaf_hash(entry(i)), path, root)
        m = rng.randrange(1, size)
        t = time.perf_counter()
        cpath = log.consistency_proof(m, size)
        con.append(time.perf_counter() - t)
        assert verify_consistency(m, size, log.root(m), root, cpath)
    return {
        "inclusion_ms": statistics.median(inc) * 1e3,
        "consistency_ms": statistics.median(con) * 1e3,
        "inclusion_hashes": len(path),
        "consistency_hashes": len(cpath),
    }


def cold(url: str, schema: str | None, size: int) -> dict:
    """Run in a new process: connect, then the first inclusion and consistency proofs."""
    engine = make_engine(url)  # imports the driver: not part of the database's time
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    t1 = time.perf_counter()
    log = MerkleLog(SqlStore(engine, schema))
    path = log.inclusion_proof(size // 3, size)
    t2 = time.perf_counter()
    cpath = log.consistency_proof(size // 2 + 17, size)
    t3 = time.perf_counter()
    root = log.root(size)
    ok = verify_inclusion(
        size // 3, size, leaf_hash(entry(size // 3)), path, root
    ) and verify_consistency(size // 2 + 17, size, log.root(size // 2 + 17), root, cpath)
    return {
        "connect_ms": (t1 - t0) * 1e3,
        "inclusion_ms": (t2 - t1) * 1e3,
        "consistency_ms": (t3 - t2) * 1e3,
        "verified": ok,
    }


def run_backend(name: str, url: str, schema: str | None, n: int) -> None:
    engine = make_engine(url)
    store = SqlStore(engine, schema)
    store.create_tables()
    base = baseline(store.engine, n)
    with store.engine.begin() as conn:
        conn.execute(log_entry.delete())
    log = MerkleLog(store)
    batched = fill(log, n)
    single = one_by_one(log, n)
    service_path = recorded(store)
    size = store.size()
    out = subprocess.run(
        [sys.executable, __file__, "--cold", url, schema or "", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    c = json.loads(out.stdout)
    w_small, w_big = warm(log, 1000), warm(log, n)
    engine.dispose()
    print(f"[{name}] baseline rows only, batches of {BATCH}: {base:,.0f} entries/s")
    print(
        f"[{name}] log append_many, batches of {BATCH}: {batched:,.0f} entries/s "
        f"({batched / base:.2f} x baseline)"
    )
    print(f"[{name}] log append, one transaction each: {single:,.0f} entries/s")
    print(
        f"[{name}] service record(), one artefact per transaction (lock, entry, nodes, "
        f"index row): {service_path:,.0f} entries/s"
    )
    print(
        f"[{name}] cold (new process, size {n:,}): connect {c['connect_ms']:.1f} ms, "
        f"inclusion {c['inclusion_ms']:.2f} ms, consistency {c['consistency_ms']:.2f} ms, "
        f"verified={c['verified']}"
    )
    for label, w in ((f"{1000:,}", w_small), (f"{n:,}", w_big)):
        print(
            f"[{name}] warm median at {label} leaves: inclusion {w['inclusion_ms']:.2f} ms "
            f"({w['inclusion_hashes']} hashes), consistency {w['consistency_ms']:.2f} ms "
            f"({w['consistency_hashes']} hashes)"
        )
    print(f"[{name}] log size after the run: {size:,}")


def bench_bundle(documents: int = 20, signers_per_document: int = 4) -> None:
    """Export and verify offline the bundle of a case of documents x signers signatures."""
    import io
    import zipfile

    from docservice.archive.bundle import verify_bundle
    from docservice.service.archive import public_pem
    from docservice.service.bundle import build_bundle
    from docservice.service.clients import add_client
    from docservice.service.config import Settings
    from docservice.service.documents import DocService
    from docservice.service.keys import add_key
    from tests.pki import OFFICIALS, running_pki

    examples = Path(__file__).resolve().parent.parent / "examples"
    data = json.loads((examples / "application.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp, running_pki(Path(tmp) / "pki") as pki:
        trust = Path(tmp) / "trust"
        trust.mkdir()
        (trust / "root.pem").write_bytes(pki.root_pem.read_bytes())
        (trust / "ca.pem").write_bytes(pki.ca_pem.read_bytes())
        password = Path(tmp) / "password.txt"
        password.write_text(pki.password + "\n", encoding="utf-8")
        svc = DocService(
            Settings(
                data_dir=Path(tmp) / "var",
                trust_dir=str(trust),
                tsa_url=pki.tsa_url,
                pades_level="B-LT",
            )
        )
        with svc.db.session() as session:
            client, _ = add_client(session, "bench", ["render", "sign", "audit"])
            for label in OFFICIALS[:signers_per_document]:
                add_key(session, label, pki.p12(label), password, ["bench"])
        t = time.perf_counter()
        for _ in range(documents):
            doc = svc.create_document(client, "application", "kk", data, case_ref="BENCH-1")
            for label in OFFICIALS[:signers_per_document]:
                svc.sign_with_key(client, doc.id, label)
        setup = time.perf_counter() - t
        (trust / "seal.pem").write_bytes(public_pem(svc.archive.seal_key))
        with svc.db.sessions() as session:
            from docservice.service.archive import case_documents

            rows = svc.archive.case_rows(
                session, client, "BENCH-1", case_documents(session, client, "BENCH-1")
            )
        t = time.perf_counter()
        plain = io.BytesIO()
        with zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as zf:
            for row in rows:
                zf.writestr(f"{row['idx']}", svc.store.get(row["sha256"]))
        base = time.perf_counter() - t
        t = time.perf_counter()
        bundle = build_bundle(svc, client, "BENCH-1")
        export = time.perf_counter() - t
        assert bundle is not None
        path = Path(tmp) / "bundle.zip"
        path.write_bytes(bundle)
        t = time.perf_counter()
        report = verify_bundle(path, trust)
        verify = time.perf_counter() - t
        t = time.perf_counter()
        fast = verify_bundle(path, None)
        verify_nocards = time.perf_counter() - t
        svc.db.dispose()
    print(
        f"[bundle] case of {documents} documents, {documents * signers_per_document} "
        f"signatures (B-LT), {len(rows)} entries; made in {setup:.1f} s (not measured)"
    )
    print(
        f"[bundle] baseline zip of the artefacts only: {base * 1e3:.0f} ms "
        f"({len(plain.getvalue()) / 1e6:.1f} MB)"
    )
    print(
        f"[bundle] export: {export:.2f} s ({export / base:.1f} x baseline), "
        f"{len(bundle) / 1e6:.1f} MB, {report.cards} cards"
    )
    print(
        f"[bundle] verify offline with --trust (cards' signatures checked): {verify:.2f} s, "
        f"intact={report.intact}; without --trust (members, entries, proofs, heads): "
        f"{verify_nocards:.2f} s, intact={fast.intact}"
    )
    if report.problems:
        print("[bundle] problems: " + "; ".join(report.problems[:5]))


def main(argv: list[str] | None = None) -> int:
    from signing import patches

    patches.apply()  # the GOST OIDs and validator, the fast hex reader (start-up)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-bundle", action="store_true")
    parser.add_argument("--bundle-only", action="store_true")
    parser.add_argument(
        "--cold", nargs=3, metavar=("URL", "SCHEMA", "SIZE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.cold:
        url, schema, size = args.cold
        print(json.dumps(cold(url, schema or None, int(size))))
        return 0
    started = time.perf_counter()
    if args.bundle_only:
        bench_bundle()
        print(f"total {time.perf_counter() - started:.1f} s")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("sqlite-wal", f"sqlite:///{Path(tmp) / 'log.sqlite'}", None, args.entries)
    if not args.skip_postgres:
        schema = f"bench_archive_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            run_backend("postgresql", PG_URL, schema, args.entries)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    if not args.skip_bundle:
        bench_bundle()
    print(
        f"total {time.perf_counter() - started:.1f} s; tables: {', '.join(sorted(metadata.tables))}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
