"""The per-client request counts of one process (Flask-Limiter's fixed windows).

Why not ``limits``' own ``memory://`` storage: it expires its counters from a
``threading.Timer`` that lives 10 ms and is started again by the next request after it
ended - a new thread per request at any rate below 100 requests/s, about 0.37 ms of CPU
per request (a tenth of a millisecond of it in the timer thread), over a millisecond per
signed document. Here a window's counter expires when it is next read, and counters no
one read again are swept at most once a minute, during a count. The counts are the
limiter's state, not a cache of something kept elsewhere. Only the fixed-window strategy
(the one the service configures) is supported.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from limits.storage import Storage

#: Flask-Limiter's ``storage_uri`` for these counts.
URI = "docservice-memory://"
_SWEEP_SECONDS = 60.0


class WindowCounts(Storage):
    """Counters by key, each with the end of its window (epoch seconds, as ``limits``
    reports it in ``X-RateLimit-Reset``)."""

    STORAGE_SCHEME: ClassVar[list[str] | None] = ["docservice-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: object):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` in ``key``'s window, a new one of ``expiry`` seconds if the
        last has ended; the count so far."""
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._counts[key] = (count, ends)
            return count

    def get(self, key: str) -> int:
        with self._lock:
            count, ends = self._counts.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with self._lock:
            found = self._counts.get(key)
        return found[1] if found is not None else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            dropped = len(self._counts)
            self._counts.clear()
        return dropped

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def __len__(self) -> int:
        """How many counters are kept (ended windows not yet swept included)."""
        with self._lock:
            return len(self._counts)

    def _sweep(self, now: float) -> None:
        """Drop the counters whose window has ended (the lock held)."""
        for key in [k for k, (_, ends) in self._counts.items() if ends <= now]:
            del self._counts[key]
        self._next_sweep = now + _SWEEP_SECONDS
