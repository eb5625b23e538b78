"""The process's own rate-limit counts (docservice.service.ratelimit)."""

from __future__ import annotations

import threading

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from docservice.service import ratelimit
from docservice.service.ratelimit import WindowCounts


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
