"""Running the async signing code from synchronous callers.

Why not ``asyncio.run``: on the main thread it installs a SIGINT handler and, when
restoring it, Python 3.11 formats the ``repr`` of the finished task, i.e. of its result:
a whole signed PDF (or an asn1crypto object, whose repr dumps it). That cost more than
the signature itself. One event loop per thread, reused, avoids it and the loop set-up.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on this thread's private event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise RuntimeError("called from a running event loop: use the async_* function")
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)
