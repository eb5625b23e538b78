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
    holder = getattr(_local, "holder", None)
    if holder is None or holder.loop.is_closed():
        holder = _local.holder = _LoopHolder()
    return holder.loop.run_until_complete(coro)


class _LoopHolder:
    """Closes its thread's loop when the thread ends (its thread-local goes away).

    Why: an unclosed loop warns (``ResourceWarning``) when collected, and a warning raised
    while pikepdf validates PDF/A in another thread (``warnings.catch_warnings`` is
    process-wide) became a PDF/A "violation": a threaded server's request threads made
    rendering fail at random.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        if not self.loop.is_closed():
            self.loop.close()
