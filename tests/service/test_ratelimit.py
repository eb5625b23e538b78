"""The process's own rate-limit counts (docservice.service.ratelimit)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from docservice.service import ratelimit
from docservice.service.app import _rate_limits
from docservice.service.config import Settings
from docservice.service.ratelimit import WindowCounts
from tests.conftest import need
from tests.service.faults import free_port, redis_server


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr(ratelimit.time, "time", clock)
    return clock


def test_a_window_counts_until_it_ends_then_a_new_one_starts(clock: _Clock) -> None:
    limiter = FixedWindowRateLimiter(WindowCounts())
    item = parse("2/minute")
    assert [limiter.hit(item, "key:a") for _ in range(3)] == [True, True, False]
    assert limiter.hit(item, "key:b")  # every key its own budget
    reset, remaining = limiter.get_window_stats(item, "key:a")
    assert remaining == 0 and reset == pytest.approx(clock.now + 60, abs=1)
    clock.now += 59
    assert not limiter.hit(item, "key:a")
    clock.now += 2
    assert limiter.test(item, "key:a") and limiter.hit(item, "key:a")
    assert limiter.get_window_stats(item, "key:a")[1] == 1


def test_ended_windows_are_swept_and_no_thread_is_started(
    clock: _Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``limits``' own memory storage starts a timer thread for nearly every request."""
    started: list[threading.Thread] = []
    monkeypatch.setattr(threading.Thread, "start", started.append)
    counts = WindowCounts()
    for n in range(100):
        counts.incr(f"addr:{n}", 10)
    assert len(counts) == 100
    clock.now += 61  # past the next sweep
    counts.incr("addr:late", 10)
    assert len(counts) == 1 and counts.get("addr:late") == 1 and counts.get("addr:0") == 0
    counts.clear("addr:late")
    assert counts.get_expiry("addr:late") == clock.now and counts.reset() == 0
    assert started == []


def test_the_service_counts_in_its_own_storage_unless_told_otherwise() -> None:
    from limits.storage import storage_from_string

    assert isinstance(storage_from_string(ratelimit.URI), WindowCounts)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of this test's own (its command counts are the test's)."""
    need(shutil.which("redis-server") is not None, "redis-server")
    with redis_server() as server:
        yield server.url


def _limited_app(storage: str, limit: str = "5/minute") -> Flask:
    """An app with the service's limiter (app._rate_limits) on one /v1 route."""
    app = Flask("limited")
    app.add_url_rule("/v1/thing", "thing", lambda: "ok")
    _rate_limits(app, Settings(rate_limit=limit, rate_limit_storage=storage))
    return app


def _calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(stat["calls"]) for name, stat in stats.items()}


def _keys(client: redis.Redis) -> list[str]:
    """The limiter's keys in Redis, without limits' ``LIMITS:`` prefix."""
    keys: list[bytes] = client.keys("LIMITS:*")  # type: ignore[assignment]
    return [k.decode().removeprefix("LIMITS:") for k in keys]


def test_redis_counts_take_one_round_trip_a_request_and_are_shared(redis_url: str) -> None:
    """Two workers' apps on one Redis: one count, and each request's headers from its
    own hit's one script call (no GET, no TTL)."""
    workers = [_limited_app(redis_url).test_client() for _ in range(2)]
    assert isinstance(
        next(iter(workers[0].application.extensions["limiter"])).limiter.storage,
        ratelimit.RedisWindowCounts,
    )
    server = redis.Redis.from_url(redis_url)
    server.config_resetstat()
    answers = [workers[n % 2].get("/v1/thing") for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0", "0"]
    resets = {int(a.headers["X-RateLimit-Reset"]) for a in answers}
    assert len(resets) == 1 and 0 < resets.pop() - time.time() <= 61
    calls = _calls(server)
    assert calls.get("incrby") == 6 and "get" not in calls and "ttl" in calls
    assert calls.get("evalsha", 0) + calls.get("eval", 0) <= 6 + 1  # + a first NOSCRIPT
    # limits' own storage reads the same count (processes with either interoperate).
    from limits.storage import RedisStorage

    (key,) = _keys(server)
    assert RedisStorage(redis_url).get(key) == 6


def test_the_noted_window_is_forgotten_when_the_request_ends(redis_url: str) -> None:
    """A read of the count after the request (here: another process hit it meanwhile)
    goes to Redis, not to the note of this thread's last hit."""
    app = _limited_app(redis_url, "100/minute")
    client = app.test_client()
    assert client.get("/v1/thing").headers["X-RateLimit-Remaining"] == "99"
    server = redis.Redis.from_url(redis_url)
    (key,) = _keys(server)
    server.incrby(f"LIMITS:{key}", 10)  # another worker's hits
    counts = next(iter(app.extensions["limiter"])).limiter.storage
    assert counts.get(key) == 11 and counts.get_expiry(key) > time.time() + 50
    assert client.get("/v1/thing").headers["X-RateLimit-Remaining"] == "88"


def test_redis_away_counts_in_memory_meanwhile() -> None:
    app = _limited_app(f"redis://127.0.0.1:{free_port()}/0", "3/minute")
    client = app.test_client()
    assert [client.get("/v1/thing").status_code for _ in range(4)] == [200, 200, 200, 429]
