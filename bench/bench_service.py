"""The HTTP service under a bounded load, against the library path in the same run.

Each client system (a thread) repeats: ``POST /v1/documents`` (a ``direction``), ``POST
/v1/documents/{id}/signatures`` (server key, PAdES B-B), ``GET …/pdf`` until the run's
request budget is spent; then it stops. Modes:

* ``library`` - render + sign in this process, no HTTP, no database (the baseline);
* ``in-process`` - the embedded mode's requests and report jobs through Flask's test
  client in this process, one thread: the service's own work without sockets, gunicorn
  or threads sharing the cores (what serving adds is the embedded mode's excess over it);
* ``embedded`` - ``docservice serve`` on SQLite + local files;
* ``production`` - ``docservice serve`` on PostgreSQL (a fresh schema) with a Redis broker
  configured (``DOCSERVICE_BROKER_URL``) and one ``docservice worker`` (one Celery child).

Each signature leaves a job that verifies the new revision and archives the report (the
in-process pool in embedded mode, the Celery worker in production): the run waits for
those jobs to finish (bounded) and counts their CPU too - the server processes' in
embedded mode, the worker's (``worker ms/doc``) in production, where ``cpu ms/doc`` is
the web processes' only and ``total`` adds both.

Both served modes run gunicorn with ``--workers`` worker processes (``--threads`` each),
warmed up by one unmeasured cycle per client first. Prints requests/s,
signed documents/s, p50/p99 latency and errors per mode, and each mode's ratio to the
library path; and, because the wall clock depends on whatever else shares the machine,
the CPU time (user + system) the server processes spent per signed document, its ratio to
the library path's and the rate that CPU allows on this machine's cores unshared.
Targets (issue 8): >= 50 signed documents/s, p99 < 500 ms, no error, HTTP overhead within
1.5x of the library path.

Each client keeps its HTTP connection alive between requests, as a calling system's
connection pool does (``--connection close``: a new connection per request).

Run: ``.venv/bin/python bench/bench_service.py [--clients 20] [--requests 2000]
[--workers 2] [--threads 8] [--modes library,in-process,embedded,production] [--connection close]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docservice.service.demo import _free_port, _wait_for_url  # noqa: E402
from docservice.service.demo_pki import running  # noqa: E402

PG = os.environ.get("DOCSERVICE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
KIND = "direction"


_UPPER = "АӘБВГҒДЕЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЫІЭЮЯ"
_LOWER = "аәбвгғдежзийкқлмнңоөпрстуұүфхһцчшыіэюя"


class _Documents:
    """The example direction with other names and another number in every document, as
    real requests come: no cache of a name's glyphs or a paragraph's layout can make a
    run of identical documents look faster than the service is (seeded: runs compare)."""

    def __init__(self, seed: int = 7) -> None:
        self.example = json.loads((ROOT / "examples" / f"{KIND}.json").read_text("utf-8"))
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def _name(self) -> str:
        rng = self.rng
        return " ".join(
            rng.choice(_UPPER) + "".join(rng.choices(_LOWER, k=rng.randint(4, 9))) for _ in range(3)
        )

    def _renamed(self, value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            return {
                k: self._name() if k.endswith("full_name") else self._renamed(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._renamed(v) for v in value]
        return value

    def next(self) -> dict:
        with self.lock:
            data = self._renamed(self.example)
            data["number"] = str(self.rng.randint(1, 99_999))
            return data


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its live children (gunicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


#: The demo PKI's official whose server key the benchmark signs with.
SIGNER = "dep-career"


def library(pki, trust_dir: Path, n: int) -> dict:  # type: ignore[no-untyped-def]
    """The service's own work without HTTP, database or store: the same render (PDF/A
    check included), the same trust with the same revocation cache, the same signature."""
    from docservice.service.config import from_env
    from docservice.service.documents import render_checked, signing_trust
    from docservice.verification.revocation import CachedRevocation, RevocationCache
    from signing.keys import Pkcs12Key
    from signing.pdf import PdfOptions, sign_pdf

    key = Pkcs12Key.load(pki.p12[SIGNER], pki.password_file.read_text().strip())
    revocation = CachedRevocation(RevocationCache(), status_ttl=60)
    # The served modes' stamps carry a QR code to the service's default public URL: so here.
    public_url = from_env({}).public_url
    options = PdfOptions(
        trust=signing_trust(str(trust_dir), revocation), verify_base_url=public_url
    )
    documents = _Documents()
    return _timed(
        lambda: sign_pdf(render_checked(KIND, documents.next(), "kk").pdf, key, options),
        n,
        warm_up=1,
    )


def _timed(
    cycle: Callable[[], object],
    n: int,
    warm_up: int,
    warmed: Callable[[], None] | None = None,
) -> dict:
    """``n`` runs of ``cycle`` (one signed document each) in this thread after ``warm_up``
    unmeasured ones (caches warmed) and ``warmed`` (what a served process does then):
    rate, wall clock and CPU per document."""
    for _ in range(warm_up):
        cycle()
    if warmed is not None:
        warmed()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        cycle()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "docs_per_s": n / elapsed,
        "seconds": elapsed,
        "docs": n,
        "cpu_ms_per_doc": 1000 * cpu / n,
    }


class _Client:
    """One client system's HTTP connection: kept alive between requests (as an
    integration's connection pool does) unless ``keep_alive`` is off; a connection the
    server closed while idle is opened again once."""

    def __init__(self, base: str, key: str, keep_alive: bool) -> None:
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.key, self.keep_alive = key, keep_alive
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, payload=None) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.key}"}
        if not self.keep_alive:
            headers["Connection"] = "close"
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        for _ in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                idle_close = isinstance(exc, http.client.RemoteDisconnected | ConnectionError)
                if reused and idle_close:
                    continue  # closed by the server while idle: once more, on a new one
                return 0, f"{type(exc).__name__}: {exc}".encode()
            if not self.keep_alive or response.will_close:
                self.close()
            return response.status, body
        return 0, b""

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _unfinished_jobs(env: dict) -> int:
    """Jobs (the signings' report jobs) not yet done, in the served mode's database."""
    from sqlalchemy import create_engine, text

    from docservice.service.config import from_env

    engine = create_engine(from_env(env).sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(
                    text("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


def _drain(env: dict, timeout: float = 180.0) -> int:
    """Wait (at most ``timeout`` s) until every job is finished; the number left."""
    deadline = time.monotonic() + timeout
    left = _unfinished_jobs(env)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _unfinished_jobs(env)
    return left


def load(
    base: str,
    key: str,
    clients: int,
    budget: int,
    server_pid: int,
    env: dict | None = None,
    worker_pid: int | None = None,
    keep_alive: bool = True,
    services: tuple[int, ...] = (),
) -> dict:
    """``clients`` threads share a budget of ``budget`` requests (3 per document).
    ``services``: server processes (PostgreSQL, Redis) whose CPU is counted too."""
    lock = threading.Lock()
    left = [budget // 3]
    latencies: list[float] = []
    errors: list[int] = []
    details: Counter[str] = Counter()
    signed = [0]
    documents = _Documents()

    def timed(client: _Client, method: str, path: str, payload=None) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        status, body = client.call(method, path, payload)
        with lock:
            latencies.append(time.perf_counter() - t0)
            if status >= 300 or status == 0:
                errors.append(status)
                details[f"{method} {status} {body[:160].decode(errors='replace')}"] += 1
        return status, body

    def client() -> None:
        http_client = _Client(base, key, keep_alive)
        try:
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                status, body = timed(
                    http_client, "POST", "/v1/documents", {"kind": KIND, "data": documents.next()}
                )
                if status != 201:
                    continue
                doc_id = json.loads(body)["id"]
                status, _ = timed(
                    http_client, "POST", f"/v1/documents/{doc_id}/signatures", {"key": SIGNER}
                )
                if status == 201:
                    with lock:
                        signed[0] += 1
                timed(http_client, "GET", f"/v1/documents/{doc_id}/pdf")
        finally:
            http_client.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    server_cpu, client_cpu = _cpu_seconds(server_pid), time.process_time()
    worker_cpu = _cpu_seconds(worker_pid) if worker_pid else 0.0
    services_cpu = sum(_cpu_seconds(pid) for pid in services)
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_cpu
    jobs_left = _drain(env) if env is not None else 0
    server_cpu = _cpu_seconds(server_pid) - server_cpu
    worker_cpu = (_cpu_seconds(worker_pid) - worker_cpu) if worker_pid else 0.0
    services_cpu = sum(_cpu_seconds(pid) for pid in services) - services_cpu
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "docs_per_s": signed[0] / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "errors": len(errors),
        "error_statuses": dict(Counter(errors)),
        "error_details": dict(details),
        "jobs_left": jobs_left,
        "cpu_ms_per_doc": 1000 * server_cpu / max(signed[0], 1),
        "worker_ms_per_doc": 1000 * worker_cpu / max(signed[0], 1),
        "services_ms_per_doc": 1000 * services_cpu / max(signed[0], 1),
        "client_cpu_ms_per_doc": 1000 * client_cpu / max(signed[0], 1),
    }


def _log_file(args, name: str):  # type: ignore[no-untyped-def]
    """Where a process's log goes: ``--logs DIR/NAME.log``, else nowhere."""
    if not args.logs:
        return subprocess.DEVNULL
    Path(args.logs).mkdir(parents=True, exist_ok=True)
    return open(Path(args.logs) / f"{name}.log", "ab")


def _service_pids(env: dict) -> tuple[int, ...]:
    """The PostgreSQL server (its postmaster, whose children are the backends) and the
    Redis broker: their CPU is spent on the same cores."""
    import psycopg
    import redis

    with psycopg.connect(PG) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    broker = redis.Redis.from_url(env["DOCSERVICE_BROKER_URL"]).info("server")["process_id"]
    return postmaster, int(broker)


def _embedded_env(mode: str, trust_dir: Path, workdir: Path) -> dict:
    """The environment of a mode's service: its own data folder, SQLite, no broker."""
    env = dict(
        os.environ,
        DOCSERVICE_DATA_DIR=str(workdir / mode),
        DOCSERVICE_TRUST_DIR=str(trust_dir),
        DOCSERVICE_RATE_LIMIT="1000000/minute",
    )
    env.pop("DOCSERVICE_DATABASE_URL", None)
    env.pop("DOCSERVICE_BROKER_URL", None)
    return env


def _register(env: dict, pki) -> str:  # type: ignore[no-untyped-def]
    """The benchmark's client (its new API key) and the server key it signs with."""
    run = [sys.executable, "-m", "docservice"]
    key = subprocess.run(
        [*run, "clients", "add", "bench", "--scopes", "render,sign"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        [
            *run,
            "keys",
            "add",
            SIGNER,
            "--p12",
            str(pki.p12[SIGNER]),
            "--password-file",
            str(pki.password_file),
            "--clients",
            "bench",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return key


class _InlineJobs:
    """A job runner that runs each submitted job when asked (``drain``), in this thread."""

    def __init__(self) -> None:
        self.queue: list[str] = []

    def submit(self, job_id: str) -> None:
        self.queue.append(job_id)

    def check(self) -> str:
        return "ok"

    def drain(self, svc) -> None:  # type: ignore[no-untyped-def]
        from docservice.service.jobs import run_job

        while self.queue:
            run_job(svc, self.queue.pop(0))


@contextmanager
def bench_pki(workdir: Path) -> Iterator[tuple[Any, Path]]:
    """The demo PKI under ``workdir`` and a trust folder holding its root: what every
    benchmark here signs and verifies with (``count_*.py`` too)."""
    with running(workdir / "pki", "bench") as pki:
        trust_dir = workdir / "trust"
        trust_dir.mkdir()
        (trust_dir / "root.pem").write_bytes(pki.root_pem.read_bytes())
        yield pki, trust_dir


def in_process_cycle(pki, trust_dir: Path, workdir: Path):  # type: ignore[no-untyped-def]
    """The embedded mode's whole work for one document (the same requests, the report job
    included) through Flask's test client in this thread, and the service doing it: the
    service's own cost without sockets, gunicorn or threads sharing a core
    (``count_cycle.py`` counts its instructions)."""
    from docservice.service.app import create_service_app
    from docservice.service.config import from_env
    from docservice.service.documents import DocService

    env = _embedded_env("in-process", trust_dir, workdir)
    key = _register(env, pki)
    svc, jobs = DocService(from_env(env)), _InlineJobs()
    client = create_service_app(service=svc, runner=jobs).test_client()
    return client_cycle(client, key, lambda: jobs.drain(svc), "in-process"), svc


def client_cycle(client, key: str, run_jobs: Callable[[], None], label: str) -> Callable[[], None]:  # type: ignore[no-untyped-def]
    """One document's requests (create, sign with the server key, fetch the PDF) through
    Flask's test ``client`` with API ``key``, then ``run_jobs`` (the report job the
    signature left): ``in_process_cycle``'s and ``count_production.py``'s cycle."""
    headers = {"Authorization": f"Bearer {key}"}
    documents = _Documents()

    def cycle() -> None:
        made = client.post(
            "/v1/documents", json={"kind": KIND, "data": documents.next()}, headers=headers
        )
        doc_id = made.get_json()["id"]
        signed = client.post(
            f"/v1/documents/{doc_id}/signatures", json={"key": SIGNER}, headers=headers
        )
        fetched = client.get(f"/v1/documents/{doc_id}/pdf", headers=headers)
        if (made.status_code, signed.status_code, fetched.status_code) != (201, 201, 200):
            raise SystemExit(
                f"{label}: {made.status_code} {signed.status_code} {fetched.status_code}"
            )
        run_jobs()

    return cycle


def in_process(pki, trust_dir: Path, workdir: Path, n: int) -> dict:  # type: ignore[no-untyped-def]
    """``in_process_cycle`` timed: what serving adds is the embedded mode's excess over it."""
    from docservice.service.gc_tuning import settle

    cycle, svc = in_process_cycle(pki, trust_dir, workdir)
    # As a served process does: a warm-up, then the collector settled (gc_tuning).
    result = _timed(cycle, n, warm_up=5, warmed=lambda: settle(svc.settings.gc_threshold))
    return {**result, "requests_per_s": 3 * result["docs_per_s"]}


def served(mode: str, pki, trust_dir: Path, workdir: Path, args) -> dict:  # type: ignore[no-untyped-def]
    env = _embedded_env(mode, trust_dir, workdir)
    schema = None
    if mode == "production":
        import psycopg

        schema = f"ds_bench_{secrets.token_hex(4)}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        env["DOCSERVICE_DATABASE_URL"] = f"{PG}?options=-csearch_path%3D{schema}"
        env["DOCSERVICE_BROKER_URL"] = "redis://127.0.0.1:6379/14"
        subprocess.run(
            [sys.executable, "-m", "docservice", "db", "upgrade"],
            env=env,
            check=True,
            capture_output=True,
        )
    run = [sys.executable, "-m", "docservice"]
    key = _register(env, pki)
    worker = None
    if mode == "production":
        worker = subprocess.Popen(
            [*run, "worker", "--concurrency", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=_log_file(args, f"{mode}-worker"),
            start_new_session=True,
        )  # its pool child goes with it
    port = _free_port()
    proc = subprocess.Popen(
        [
            *run,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=_log_file(args, f"{mode}-server"),
    )
    try:
        base = _wait_for_url(proc)
        # Warm-up, not measured: one cycle per client, so that every worker has booted
        # (each warms itself up after the fork) and served a signature.
        keep_alive = args.connection == "keep-alive"
        load(base, key, args.clients, 3 * args.clients, proc.pid, env, keep_alive=keep_alive)
        worker_pid = worker.pid if worker else None
        services = _service_pids(env) if mode == "production" else ()
        return load(
            base, key, args.clients, args.requests, proc.pid, env, worker_pid, keep_alive, services
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if worker:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a warm shutdown that does not end
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
        if schema:
            import psycopg

            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--modes", default="library,in-process,embedded,production")
    parser.add_argument(
        "--connection",
        choices=("keep-alive", "close"),
        default="keep-alive",
        help="each client's HTTP connection: kept alive (default) or one per request",
    )
    parser.add_argument("--logs", help="keep the servers' and the worker's logs in this folder")
    args = parser.parse_args()
    modes = args.modes.split(",")
    with tempfile.TemporaryDirectory() as tmp, bench_pki(Path(tmp)) as (pki, trust_dir):
        workdir = Path(tmp)
        results = {}
        if "library" in modes:
            results["library"] = library(pki, trust_dir, max(args.requests // 3 // 4, 10))
        if "in-process" in modes:
            results["in-process"] = in_process(
                pki, trust_dir, workdir, max(args.requests // 3 // 4, 10)
            )
        for mode in ("embedded", "production"):
            if mode in modes:
                results[mode] = served(mode, pki, trust_dir, workdir, args)
    base = results.get("library", {}).get("docs_per_s")
    base_cpu = results.get("library", {}).get("cpu_ms_per_doc")
    cores = os.cpu_count() or 1
    print(
        f"{'mode':12} {'req/s':>8} {'signed/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'library/x':>10} {'cpu ms/doc':>11} {'worker ms/doc':>14} {'db+broker':>10}"
        f" {'total':>6}"
        f" {'cpu x':>6} {f'{cores}-core cap/s':>14} {'jobs left':>9}"
    )
    for mode, r in results.items():
        ratio = f"{base / r['docs_per_s']:.2f}" if base and r["docs_per_s"] else "-"
        cpu = r.get("cpu_ms_per_doc", 0)
        total = cpu + r.get("worker_ms_per_doc", 0) + r.get("services_ms_per_doc", 0)
        cpu_ratio = f"{total / base_cpu:.2f}" if base_cpu and total else "-"
        capacity = f"{cores * 1000 / total:.1f}" if total else "-"
        print(
            f"{mode:12} {r.get('requests_per_s', 0):8.1f} {r['docs_per_s']:9.1f} "
            f"{r.get('p50_ms', 0):8.0f} {r.get('p99_ms', 0):8.0f} {r.get('errors', 0):7d}"
            f" {ratio:>10} {cpu:11.1f} {r.get('worker_ms_per_doc', 0):14.1f}"
            f" {r.get('services_ms_per_doc', 0):10.1f} {total:6.1f}"
            f" {cpu_ratio:>6} {capacity:>14} {r.get('jobs_left', 0):9d}"
        )
    print(
        f"(clients={args.clients}, requests={args.requests}, gunicorn workers={args.workers}"
        f" x {args.threads} threads, connections {args.connection};"
        f" library: {results.get('library', {}).get('docs', 0)} documents in one process)"
    )
    print(
        "cpu ms/doc: CPU (user+system) the server processes (library: this process) spent"
        " per signed document, the report jobs included in embedded mode (in-process: this"
        " process, one thread); worker ms/doc:"
        " the Celery worker's (production: the report jobs); db+broker: PostgreSQL's and"
        " Redis's (production); total: all of them; cpu x: the total over the"
        " library path's; core cap/s: signed"
        " documents/s that CPU allows on this machine's cores when they are not shared"
        " (the wall-clock columns depend on what else runs here)."
        + "".join(
            f" Load generator: {r['client_cpu_ms_per_doc']:.1f} ms CPU/doc ({m})."
            for m, r in results.items()
            if "client_cpu_ms_per_doc" in r
        )
    )
    for mode, r in results.items():
        if r.get("error_statuses"):
            print(f"{mode} errors by HTTP status (0: no answer): {r['error_statuses']}")
            for detail, count in r["error_details"].items():
                print(f"  {count} x {detail}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
