"""Jobs: 202 + GET /v1/jobs/{id}; the in-process pool and Celery on the machine's Redis
and RabbitMQ with ``docservice worker`` processes; idempotent runs; the sweeper."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.db import Database, upgrade
from docservice.service.documents import DocService
from docservice.service.jobs import ThreadRunner, create_job, run_job, stale_jobs
from docservice.service.models import Document, Job
from tests.conftest import example
from tests.service.conftest import _truncate, make_settings, need
from tests.service.http import Client, serving


def _wait_job(api: Client, location: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(location).json
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job not finished: {job}")


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_a_large_report_is_a_job_in_the_embedded_pool(service: DocService) -> None:
    svc = DocService(service.settings.with_(async_rows=5), db=service.db, store=service.store)
    with svc.db.session() as session:
        _, key = add_client(session, "portal", ["render"])
    runner = ThreadRunner(svc, 2)
    with serving(create_service_app(service=svc, runner=runner)) as base:
        api = Client(base, key)
        accepted = api.post("/v1/documents", {"kind": "report_a3", "data": example("report_a3")})
        assert accepted.status == 202, accepted.body
        job = _wait_job(api, accepted.headers["Location"])
        assert job["state"] == "done" and job["progress"] == 100
        doc = api.get(job["links"]["document"]).json
        assert doc["kind"] == "report_a3"
        assert api.get(doc["links"]["pdf"]).body.startswith(b"%PDF")
        small = api.post("/v1/documents", {"kind": "direction", "data": example("direction")})
        assert small.status == 201
        bad = example("report_a3")
        bad["rows"][0]["iin"] = "1"
        refused = api.post("/v1/documents", {"kind": "report_a3", "data": bad})
        assert refused.status == 422  # validated before any job is made
        assert Client(base, key).get("/v1/jobs/nope").status == 404
    runner.shutdown()


def test_a_job_runs_once_however_often_it_is_delivered(service: DocService) -> None:
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render"])
    job = create_job(
        service, client, {"kind": "direction", "lang": "kk", "data": example("direction")}
    )
    assert stale_jobs(service, 3600) == []
    assert stale_jobs(service, 0) == [job.id]
    assert run_job(service, job.id) == "done"
    assert run_job(service, job.id) == "done"
    with service.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1
        assert session.get(Job, job.id).attempts == 1
    assert stale_jobs(service, 0) == []


def test_twin_runs_at_once_make_one_document(service: DocService) -> None:
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render"])
    job = create_job(
        service, client, {"kind": "direction", "lang": "kk", "data": example("direction")}
    )
    start = threading.Barrier(4)

    def deliver() -> str:
        start.wait()
        return run_job(service, job.id)

    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(lambda _: deliver(), range(4)))
    assert states == ["done"] * 4
    with service.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1
        finished = session.get(Job, job.id)
        assert finished.state == "done" and finished.document_id == job.result_id
        assert 1 <= finished.attempts <= 4
    assert run_job(service, job.id) == "done"


@contextlib.contextmanager
def workers(env: dict[str, str], n: int = 2, concurrency: int = 1) -> Iterator[list]:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "docservice",
                "worker",
                "--concurrency",
                str(concurrency),
                "--sweep-interval",
                "1",
                "--stale-after",
                "5",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("broker", "host", "port"),
    [
        ("redis://127.0.0.1:6379/15", "127.0.0.1", 6379),
        ("amqp://guest:guest@127.0.0.1:5672//", "127.0.0.1", 5672),
    ],
    ids=["redis", "rabbitmq"],
)
def test_production_mode_with_celery_workers(
    broker: str, host: str, port: int, pg_schema: str, tmp_path: Path, trust_dir: Path
) -> None:
    need(_port_open(host, port), broker.split(":")[0])
    settings = make_settings(tmp_path, trust_dir, pg_schema).with_(async_rows=5, broker_url=broker)
    db = Database(settings, migrate=False)
    upgrade(db.engine)
    _truncate(db)
    svc = DocService(settings, db=db)
    with svc.db.session() as session:
        _, key = add_client(session, "portal", ["render"])
    env = dict(
        os.environ,
        DOCSERVICE_DATABASE_URL=pg_schema,
        DOCSERVICE_BROKER_URL=broker,
        DOCSERVICE_DATA_DIR=str(settings.data_dir),
        DOCSERVICE_TRUST_DIR=str(trust_dir),
    )
    with workers(env, n=2), serving(create_service_app(service=svc)) as base:
        api = Client(base, key)
        assert api.get("/ready").json["checks"]["jobs"] == "ok"
        locations = []
        for _ in range(4):
            accepted = api.post(
                "/v1/documents", {"kind": "report_a3", "data": example("report_a3")}
            )
            assert accepted.status == 202, accepted.body
            locations.append(accepted.headers["Location"])
        jobs = [_wait_job(api, loc, timeout=180) for loc in locations]
    assert [j["state"] for j in jobs] == ["done"] * 4
    with svc.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 4
    db.dispose()


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_an_unexpected_failure_is_retried_then_failed_for_good(
    service: DocService, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import docservice.service.jobs as jobs

    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render"])
    calls = []

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a transient failure")
        return original(*args, **kwargs)

    original = jobs.render
    monkeypatch.setattr(jobs, "render", broken)
    runner = ThreadRunner(service, 1)
    job = create_job(
        service, client, {"kind": "direction", "lang": "kk", "data": example("direction")}
    )
    runner.submit(job.id)
    deadline = time.monotonic() + 30
    while service.get_job(client, job.id).state != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert service.get_job(client, job.id).attempts == 2
    monkeypatch.setattr(jobs, "render", lambda *a, **k: (_ for _ in ()).throw(RuntimeError()))
    hopeless = create_job(
        service, client, {"kind": "direction", "lang": "kk", "data": example("direction")}
    )
    for _ in range(jobs.MAX_ATTEMPTS):
        with pytest.raises(RuntimeError):
            run_job(service, hopeless.id)
    assert run_job(service, hopeless.id) == "failed"
    runner.shutdown()
