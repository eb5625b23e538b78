"""A bounded, thread-safe LRU cache whose entries expire (one for OCSP, CRLs and chains).

Why one: revocation answers and chain outcomes are cached for a short, per-entry time
(never past an OCSP ``nextUpdate``), bounded by a number of entries or by a total weight
(CRL bytes); three hand-written copies of that had three sets of eviction rules. Expiry
uses the monotonic clock, so a wall-clock jump neither keeps nor drops entries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """``get`` returns a live entry (and marks it recently used) or None; ``put`` stores
    one for ``ttl`` seconds, evicting the least recently used beyond the bounds."""

    def __init__(
        self,
        max_entries: int | None = None,
        max_weight: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight
        self._clock = clock
        self._items: OrderedDict[K, tuple[V, float, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.weight = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[1] < self._clock():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: K, value: V, ttl: float, weight: int = 0) -> None:
        """Keep ``value`` for ``ttl`` seconds; one heavier than ``max_weight`` is not kept
        (and replaces nothing: any older entry under ``key`` is dropped)."""
        with self._lock:
            self._drop(key)
            if self.max_weight is not None and weight > self.max_weight:
                return
            self._items[key] = (value, self._clock() + ttl, weight)
            self.weight += weight
            while self._items and (
                (self.max_entries is not None and len(self._items) > self.max_entries)
                or (self.max_weight is not None and self.weight > self.max_weight)
            ):
                _, (_, _, dropped) = self._items.popitem(last=False)
                self.weight -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.weight = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _drop(self, key: K) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.weight -= item[2]
