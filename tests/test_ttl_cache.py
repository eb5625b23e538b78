"""The one TTL cache (OCSP answers, CRLs, chain outcomes): expiry, LRU bounds, weight."""

from __future__ import annotations

from docservice.ttl_cache import TtlCache


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_on_the_monotonic_clock() -> None:
    clock = _Clock()
    cache: TtlCache[str, int] = TtlCache(clock=clock)
    cache.put("a", 1, ttl=10)
    cache.put("stale", 2, ttl=-1)  # past nextUpdate already: never served
    assert cache.get("a") == 1 and cache.get("stale") is None
    clock.now += 10.5
    assert cache.get("a") is None and len(cache) == 0


def test_least_recently_used_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache(max_entries=2)
    cache.put("a", 1, ttl=60)
    cache.put("b", 2, ttl=60)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3, ttl=60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_weight_bound_and_an_entry_too_heavy_to_keep() -> None:
    cache: TtlCache[str, str] = TtlCache(max_weight=10)
    cache.put("a", "x", ttl=60, weight=4)
    cache.put("b", "y", ttl=60, weight=4)
    cache.put("c", "z", ttl=60, weight=4)
    assert cache.get("a") is None and cache.weight == 8
    cache.put("b", "huge", ttl=60, weight=11)
    assert cache.get("b") is None and cache.weight == 4
    cache.clear()
    assert cache.weight == 0 and len(cache) == 0
