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
* **cold proofs** - a new process opens a new engine and asks for one inclusion proof and
  one consistency proof (connection set-up shown apart);
* **warm proofs** - the median of 200 proofs of random leaves / sizes in this process, at
  1,000 and at N leaves, with the number of stored hashes each one reads.

The whole run takes about 30-60 s on this machine with the default N=100,000.
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
            conn.execute(insert(log_entry), [{"idx": i, "data": entry(i)}
                                             for i in range(start, min(n, start + BATCH))])
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
    return {"inclusion_ms": statistics.median(inc) * 1e3,
            "consistency_ms": statistics.median(con) * 1e3,
            "inclusion_hashes": len(path), "consistency_hashes": len(cpath)}


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
    ok = (verify_inclusion(size // 3, size, leaf_hash(entry(size // 3)), path, root)
          and verify_consistency(size // 2 + 17, size, log.root(size // 2 + 17), root, cpath))
    return {"connect_ms": (t1 - t0) * 1e3, "inclusion_ms": (t2 - t1) * 1e3,
            "consistency_ms": (t3 - t2) * 1e3, "verified": ok}


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
    size = store.size()
    out = subprocess.run([sys.executable, __file__, "--cold", url, schema or "", str(n)],
                         capture_output=True, text=True, check=True)
    c = json.loads(out.stdout)
    w_small, w_big = warm(log, 1000), warm(log, n)
    engine.dispose()
    print(f"[{name}] baseline rows only, batches of {BATCH}: {base:,.0f} entries/s")
    print(f"[{name}] log append_many, batches of {BATCH}: {batched:,.0f} entries/s "
          f"({batched / base:.2f} x baseline)")
    print(f"[{name}] log append, one transaction each: {single:,.0f} entries/s")
    print(f"[{name}] cold (new process, size {n:,}): connect {c['connect_ms']:.1f} ms, "
          f"inclusion {c['inclusion_ms']:.2f} ms, consistency {c['consistency_ms']:.2f} ms, "
          f"verified={c['verified']}")
    for label, w in ((f"{1000:,}", w_small), (f"{n:,}", w_big)):
        print(f"[{name}] warm median at {label} leaves: inclusion {w['inclusion_ms']:.2f} ms "
              f"({w['inclusion_hashes']} hashes), consistency {w['consistency_ms']:.2f} ms "
              f"({w['consistency_hashes']} hashes)")
    print(f"[{name}] log size after the run: {size:,}")


def main(argv: list[str] | None = None) -> int:
    from signing import patches

    patches.apply()  # the GOST OIDs and validator, the fast hex reader (start-up)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--cold", nargs=3, metavar=("URL", "SCHEMA", "SIZE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold:
        url, schema, size = args.cold
        print(json.dumps(cold(url, schema or None, int(size))))
        return 0
    started = time.perf_counter()
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
    print(f"total {time.perf_counter() - started:.1f} s; tables: "
          f"{', '.join(sorted(metadata.tables))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
