"""Periodic archive work: signed tree heads and re-time-stamping of B-LTA documents.

The embedded default runs :class:`Scheduler` (a thread in the service process); in
production Celery beat sends the same two tasks (``docservice.tasks``), and this thread is
off. Both call the same functions, which are safe to run twice at once: a tree head is
only made when the log grew, and a document is re-time-stamped under its lock only if it
is still due.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from docservice.logsafe import describe

log = logging.getLogger("docservice.archive")


def tree_head_if_grown(svc: Any) -> bool:
    """Sign a tree head when entries were appended since the newest head."""
    heads = svc.archive.tree_heads()
    size = svc.archive.log_store.size()
    if size == 0 or (heads and heads[-1][0].tree_size >= size):
        return False
    svc.archive.make_tree_head()
    return True


class Scheduler:
    """Runs each task every its interval (seconds), first after one interval."""

    def __init__(self, svc: Any, *, tick: float = 1.0) -> None:
        from docservice.service.ltv import retimestamp_due

        settings = svc.settings
        self.svc = svc
        self.tasks = [
            ("tree-head", settings.tree_head_interval, tree_head_if_grown),
            ("re-time-stamp", settings.retimestamp_interval, retimestamp_due),
        ]
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="archive-scheduler", daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        due = {name: time.monotonic() + interval for name, interval, _ in self.tasks}
        while not self._stop.wait(self.tick):
            now = time.monotonic()
            for name, interval, task in self.tasks:
                if now < due[name]:
                    continue
                due[name] = now + interval
                try:
                    task(self.svc)
                except Exception as exc:
                    log.warning("archive scheduler: %s failed: %s", name, describe(exc))
