"""Fault tests: PostgreSQL cut away, workers SIGKILLed mid-task, the broker killed.

Marked slow; CI runs them (``.ci/run`` runs the whole suite).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.db import PING_AFTER_IDLE, Database, upgrade
from docservice.service.documents import DocService
from docservice.service.jobs import Sweeper
from docservice.service.models import Document, Job
from tests.conftest import example
from tests.service.conftest import _truncate, make_settings, need
from tests.service.faults import CuttableProxy, redis_server
from tests.service.http import Client, serving
from tests.service.test_jobs import _wait_job, workers

pytestmark = pytest.mark.slow


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.split("@")[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def _production(tmp_path: Path, trust_dir: Path, pg_schema: str, **changes):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, trust_dir, pg_schema).with_(**changes)
    db = Database(settings, migrate=False)
    upgrade(db.engine)
    _truncate(db)
    db.dispose()
    return settings


@contextmanager
def _served_through_proxy(
    pg_schema: str, tmp_path: Path, trust_dir: Path
) -> Iterator[tuple[CuttableProxy, str, Client, dict]]:
    """The service on PostgreSQL through a proxy the test can cut, serving on loopback,
    with one document already made: the proxy, the base URL, a client with the
    ``render`` scope and the request that made it."""
    target = urlsplit(pg_schema)
    proxy = CuttableProxy((target.hostname or "127.0.0.1", target.port or 5432))
    try:
        settings = _production(tmp_path, trust_dir, _via(pg_schema, proxy.port))
        svc = DocService(settings)
        with svc.db.session() as session:
            _, key = add_client(session, "portal", ["render"])
        with serving(create_service_app(service=svc)) as base:
            api = Client(base, key)
            request = {"kind": "direction", "data": example("direction")}
            assert api.post("/v1/documents", request).status == 201
            yield proxy, base, api, request
        svc.db.dispose()
    finally:
        proxy.close()


def test_postgresql_cut_gives_503_with_retry_after_and_the_service_resumes(
    pg_schema: str, tmp_path: Path, trust_dir: Path
) -> None:
    with _served_through_proxy(pg_schema, tmp_path, trust_dir) as (proxy, base, api, request):
        proxy.cut()
        during = [api.post("/v1/documents", request) for _ in range(3)]
        assert [a.status for a in during] == [503] * 3, [a.body for a in during]
        assert all(a.headers["Retry-After"] for a in during)
        assert during[0].headers["Content-Type"] == "application/problem+json"
        assert Client(base).get("/ready").status == 503
        proxy.restore()
        deadline = time.monotonic() + 30
        while api.post("/v1/documents", request).status != 201:
            assert time.monotonic() < deadline, "the service did not resume"
            time.sleep(0.5)
        assert Client(base).get("/ready").status == 200
        assert api.get("/v1/documents").json["total"] == 2  # nothing half-written


def test_a_connection_that_died_while_idle_is_replaced_before_a_request_uses_it(
    pg_schema: str, tmp_path: Path, trust_dir: Path
) -> None:
    """The database restarted while the service idled: no request sees the dead
    connections (db._ping_when_idle pings the ones idle longer than PING_AFTER_IDLE)."""
    with _served_through_proxy(pg_schema, tmp_path, trust_dir) as (proxy, _, api, request):
        proxy.cut()  # every pooled connection dies
        proxy.restore()
        time.sleep(PING_AFTER_IDLE + 0.3)
        assert api.post("/v1/documents", request).status == 201
        assert api.get("/v1/documents").json["total"] == 2


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _running(svc: DocService) -> int:
    with svc.db.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Job).where(Job.state == "running")) or 0
        )


def test_twenty_sigkills_of_workers_mid_task_lose_nothing_and_double_nothing(
    pg_schema: str, tmp_path: Path, trust_dir: Path
) -> None:
    need(shutil.which("redis-server") is not None, "redis-server")
    need(shutil.which("pgrep") is not None, "pgrep")
    with redis_server() as redis:
        settings = _production(tmp_path, trust_dir, pg_schema, async_rows=5, broker_url=redis.url)
        svc = DocService(settings)
        with svc.db.session() as session:
            _, key = add_client(session, "portal", ["render"])
        env = dict(
            os.environ,
            DOCSERVICE_DATABASE_URL=pg_schema,
            DOCSERVICE_BROKER_URL=redis.url,
            DOCSERVICE_DATA_DIR=str(settings.data_dir),
            DOCSERVICE_TRUST_DIR=str(trust_dir),
        )
        rng = random.Random(8)
        with (
            workers(env, n=2, concurrency=1) as procs,
            serving(create_service_app(service=svc)) as base,
        ):
            api = Client(base, key)
            locations = [
                api.post(
                    "/v1/documents", {"kind": "report_a3", "data": example("report_a3")}
                ).headers["Location"]
                for _ in range(24)
            ]
            kills, deadline = 0, time.monotonic() + 300
            while kills < 20 and time.monotonic() < deadline:
                if _running(svc) == 0:
                    time.sleep(0.05)
                    continue
                time.sleep(rng.uniform(0.05, 0.4))  # somewhere in the middle of the render
                i = rng.randrange(len(procs))
                if kills % 4 == 3:  # the whole worker: its message stays unacknowledged
                    for pid in [procs[i].pid, *_children(procs[i].pid)]:
                        os.kill(pid, signal.SIGKILL)
                    procs[i].wait()
                    procs[i] = subprocess.Popen(
                        procs[i].args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )
                else:  # a pool process: reject_on_worker_lost puts the message back
                    children = _children(procs[i].pid)
                    if not children:
                        continue
                    os.kill(children[0], signal.SIGKILL)
                kills += 1
            assert kills == 20
            jobs = [_wait_job(api, loc, timeout=300) for loc in locations]
        assert [j["state"] for j in jobs] == ["done"] * 24
        assert max(j["attempts"] for j in jobs) >= 2  # some really were interrupted
        with svc.db.sessions() as session:
            docs = session.scalars(select(Document)).all()
        assert len(docs) == 24
        assert sorted(d.id for d in docs) == sorted(j["document_id"] for j in jobs)
        svc.db.dispose()


def test_the_broker_killed_and_restarted_under_load(
    pg_schema: str, tmp_path: Path, trust_dir: Path
) -> None:
    need(shutil.which("redis-server") is not None, "redis-server")
    with redis_server() as redis:
        settings = _production(tmp_path, trust_dir, pg_schema, async_rows=5, broker_url=redis.url)
        svc = DocService(settings)
        with svc.db.session() as session:
            _, key = add_client(session, "portal", ["render"])
        env = dict(
            os.environ,
            DOCSERVICE_DATABASE_URL=pg_schema,
            DOCSERVICE_BROKER_URL=redis.url,
            DOCSERVICE_DATA_DIR=str(settings.data_dir),
            DOCSERVICE_TRUST_DIR=str(trust_dir),
        )
        with workers(env, n=2, concurrency=1), serving(create_service_app(service=svc)) as base:
            api = Client(base, key)
            request = {"kind": "report_a3", "data": example("report_a3")}
            locations = [api.post("/v1/documents", request).headers["Location"] for _ in range(8)]
            redis.kill()  # the queue (kept nowhere on disk) is gone
            during = [api.post("/v1/documents", request) for _ in range(3)]
            assert [a.status for a in during] == [202] * 3  # recorded; sent by the sweeper
            locations += [a.headers["Location"] for a in during]
            time.sleep(1)
            redis.start()
            jobs = [_wait_job(api, loc, timeout=300) for loc in locations]
        assert [j["state"] for j in jobs] == ["done"] * 11
        with svc.db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Document)) == 11
        svc.db.dispose()


def test_the_sweeper_resends_only_stale_unfinished_jobs(
    pg_schema: str, tmp_path: Path, trust_dir: Path
) -> None:
    settings = _production(tmp_path, trust_dir, pg_schema)
    svc = DocService(settings)
    with svc.db.session() as session:
        client, _ = add_client(session, "portal", ["render"])
    from docservice.service.jobs import create_job, run_job

    done = create_job(
        svc, client, {"kind": "direction", "lang": "kk", "data": example("direction")}
    )
    run_job(svc, done.id)
    lost = create_job(
        svc, client, {"kind": "direction", "lang": "kk", "data": example("direction")}
    )
    sent: list[str] = []
    sweeper = Sweeper(svc, sent.append, interval=3600, stale_after=0)
    assert sweeper.sweep() == 1 and sent == [lost.id]
    sweeper.stale_after = 3600
    assert sweeper.sweep() == 0
    svc.db.dispose()
