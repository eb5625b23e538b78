"""Instructions per signed document of the production mode's web side plus its report job,
counted by callgrind; or (``--commands``) the CPU its database and broker spend on it.

Run: ``.venv/bin/python bench/count_production.py [--docs K] [--base DIR] [--commands]``
(needs valgrind, redis-server and the PostgreSQL of ``DOCSERVICE_TEST_PG``)

One unit is ``bench_service.py``'s in-process cycle on the production configuration:
PostgreSQL (a fresh schema), the rate limits in Redis and the report job sent through
Celery to a Redis broker (each child starts a redis-server of its own); the job is then
run in this process as the worker's task does (``jobs.run_job``), without the Celery
worker's own machinery. Why: the CPU columns of ``bench_service.py --modes production``
drift by tens of per cent with the machine's load, the instructions do not. User space of
this process only. ``--commands`` runs the same cycles without valgrind and prints, per
document, the CPU time of this process, of the PostgreSQL backends that served it and of
the Redis server, and Redis's commands (its command statistics).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from callgrind_count import FIRST, compare

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("DOCSERVICE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def _redis() -> Iterator[str]:
    """A redis-server of this run's own on a free port (not traced by valgrind)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    binary = shutil.which("redis-server") or "redis-server"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _servers_cpu(broker: Any, name: str) -> tuple[float, float]:
    """CPU seconds so far of the PostgreSQL backends serving schema ``name``'s
    connections (by their application name) and of the Redis server."""
    import psycopg

    with psycopg.connect(PG) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    return sum(_cpu(pid) for (pid,) in rows), _cpu(int(broker.info("server")["process_id"]))


@contextmanager
def _schema() -> Iterator[tuple[str, str]]:
    """A fresh schema: its URL (its connections named after it) and its name."""
    import psycopg

    name = f"ds_count_{secrets.token_hex(4)}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield f"{PG}?options=-csearch_path%3D{name}&application_name={name}", name
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def child(trust_dir: str, p12: str, password_file: str, cycles: int) -> None:
    """``cycles`` production cycles in this process, each with its report job."""
    from signing import patches

    patches.apply()  # the service's start-up
    import redis
    from bench_service import SIGNER, _register, client_cycle

    from docservice.service.app import create_service_app
    from docservice.service.config import from_env
    from docservice.service.documents import DocService
    from docservice.service.jobs import run_job
    from docservice.service.tasks import QUEUE, CeleryRunner

    pki = SimpleNamespace(p12={SIGNER: Path(p12)}, password_file=Path(password_file))
    with tempfile.TemporaryDirectory() as tmp, _redis() as broker, _schema() as (database, name):
        env = dict(
            os.environ,
            DOCSERVICE_DATA_DIR=str(Path(tmp) / "var"),
            DOCSERVICE_TRUST_DIR=trust_dir,
            DOCSERVICE_RATE_LIMIT="1000000/minute",
            DOCSERVICE_DATABASE_URL=database,
            DOCSERVICE_BROKER_URL=broker,
        )
        run = [sys.executable, "-m", "docservice"]
        subprocess.run([*run, "db", "upgrade"], env=env, check=True, capture_output=True)
        key = _register(env, pki)
        svc = DocService(from_env(env))
        sent: list[str] = []
        celery = CeleryRunner(broker)

        class Runner:
            """Celery's sending, and the job ids kept to run them here."""

            def submit(self, job_id: str) -> None:
                celery.submit(job_id)
                sent.append(job_id)

            def check(self) -> str:
                return celery.check()

        def run_sent() -> None:
            while sent:
                run_job(svc, sent.pop(0))

        client = create_service_app(service=svc, runner=Runner()).test_client()
        cycle = client_cycle(client, key, run_sent, "production")

        for _ in range(min(cycles, FIRST)):
            cycle()
        server = redis.Redis.from_url(broker)
        server.config_resetstat()
        before = _servers_cpu(server, name)
        cpu = time.process_time()
        for _ in range(cycles - FIRST):
            cycle()
        cpu = time.process_time() - cpu
        servers = [b - a for a, b in zip(before, _servers_cpu(server, name), strict=True)]
        stats = server.info("commandstats")
        server.delete(QUEUE)
        calls = {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items()}
        calls.pop("config|resetstat", None)
        if cycles > FIRST:
            per_doc = 1000 / (cycles - FIRST)
            print(
                f"CPU ms/doc: this process {cpu * per_doc:.1f}, PostgreSQL backends"
                f" {servers[0] * per_doc:.1f}, Redis {servers[1] * per_doc:.1f};"
                f" Redis commands/doc {sum(calls.values()) / (cycles - FIRST):.1f}"
                f" {calls}",
                file=sys.stderr,
            )
        svc.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=6, help="K: the documents counted")
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument(
        "--commands",
        action="store_true",
        help="instead: run K cycles without valgrind; print the CPU per document of this"
        " process, PostgreSQL's backends and Redis, and Redis's commands",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        child(*args.child, args.run)
        return 0

    sys.path.insert(0, str(ROOT))
    from bench_service import SIGNER, bench_pki

    with tempfile.TemporaryDirectory() as tmp, bench_pki(Path(tmp)) as (pki, trust_dir):
        child_args = [str(trust_dir), str(pki.p12[SIGNER]), str(pki.password_file)]
        if args.commands:
            codes = [("new", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
            for name, code in codes:
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        *child_args,
                        "--run",
                        str(FIRST + args.docs),
                    ],
                    cwd=code,
                    env=dict(os.environ, PYTHONPATH=str(code)),
                    check=True,
                    capture_output=True,
                    text=True,
                )
                print(f"{name:4}: {done.stderr.strip().splitlines()[-1]}")
            return 0
        compare(
            Path(__file__),
            lambda n: ["--child", *child_args, "--run", str(n)],
            args.docs,
            args.base,
            "signed document, production (create + sign + fetch + report job)",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
