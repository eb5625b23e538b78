"""Flask-Limiter's per-client counts (fixed windows): :class:`WindowCounts` in one
process, :class:`RedisWindowCounts` in Redis for all the workers.

Why not ``limits``' own ``memory://`` storage: it expires its counters from a
``threading.Timer`` that lives 10 ms and is started again by the next request after it
ended - a new thread per request at any rate below 100 requests/s, about 0.37 ms of CPU
per request (a tenth of a millisecond of it in the timer thread), over a millisecond per
signed document. In WindowCounts a window's counter expires when it is next read, and
counters no one read again are swept at most once a minute, during a count. The counts
are the limiter's state, not a cache of something kept elsewhere. Only the fixed-window
strategy (the one the service configures) is supported.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from limits.storage import RedisStorage, Storage

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


#: The storage scheme prefix of :class:`RedisWindowCounts` (``docservice+redis://…``).
REDIS_PREFIX = "docservice+"

# limits' own incr_expire.lua, which also answers the key's remaining seconds.
_INCR_EXPIRE_TTL = b"""
local current = redis.call("incrby", KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""


class RedisWindowCounts(RedisStorage):
    """``limits``' Redis storage, with one round trip per request instead of three.

    Why: with ``X-RateLimit-*`` headers, Flask-Limiter's fixed window asks its storage
    three things per request - ``incr`` (the hit, a Lua script), then ``get`` and
    ``get_expiry`` (``GET``, ``TTL``) for the remaining count and the reset time. Here
    the hit's script answers the count and the key's TTL together, and the thread notes
    them; the ``get`` and ``get_expiry`` of that key that follow in the same request are
    answered from the note - the state of the window right after this request's own hit,
    which is what the headers describe. The counts stay in Redis under limits' own keys
    (every worker counts together; processes with limits' plain storage interoperate).
    :meth:`forget` drops the note when the request ends, so a later read of the key
    (another request's) goes to Redis. Errors are limits' (``redis.RedisError``): the
    limiter's in-memory fallback works as before.
    """

    STORAGE_SCHEME = [REDIS_PREFIX + "redis", REDIS_PREFIX + "rediss"]  # noqa: RUF012 (as limits)

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri.removeprefix(REDIS_PREFIX), **options)
        self._incr_ttl = self.get_connection().register_script(_INCR_EXPIRE_TTL)
        self._note = threading.local()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        count, ttl = self._incr_ttl([self.prefixed_key(key)], [expiry, amount])
        self._note.window = (key, int(count), max(int(ttl), 0) + time.time())
        return int(count)

    def _noted(self, key: str) -> tuple[str, int, float] | None:
        window: tuple[str, int, float] | None = getattr(self._note, "window", None)
        return window if window is not None and window[0] == key else None

    def get(self, key: str) -> int:
        noted = self._noted(key)
        return noted[1] if noted is not None else super().get(key)

    def get_expiry(self, key: str) -> float:
        noted = self._noted(key)
        return noted[2] if noted is not None else super().get_expiry(key)

    def clear(self, key: str) -> None:
        self.forget()
        super().clear(key)

    def reset(self) -> int | None:
        self.forget()
        return super().reset()

    def forget(self, *_: object) -> None:
        """Drop this thread's note (Flask's ``teardown_request``: the request ended)."""
        self._note.window = None
