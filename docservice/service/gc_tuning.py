"""The cyclic garbage collector's settings for a long-running service process.

Why: one signed document allocates a few hundred thousand objects (ReportLab's,
pyHanko's, SQLAlchemy's), nearly all freed by reference counting alone. With CPython's
default first threshold (700 allocations) the collector still ran about four times per
document, and each full collection walked every module, font, schema and key loaded at
start. Measured in ``bench/bench_service.py --modes in-process``: 5–8% of a document's
CPU. After a process's warm-up its long-lived objects are moved out of the collector's
reach (``gc.freeze``, as the ``gc`` documentation suggests for pre-fork servers: it also
keeps the forked pages shared), and the first threshold is raised so that young cycles
are collected in larger, rarer batches. Cycles are still collected; memory held by
garbage cycles between collections grows by at most a threshold's worth of objects.
"""

from __future__ import annotations

import gc

#: The default first threshold (``DOCSERVICE_GC_THRESHOLD``); 0 keeps CPython's own.
DEFAULT_THRESHOLD = 10_000


def settle(threshold: int = DEFAULT_THRESHOLD) -> None:
    """Call once, when the process has loaded what it keeps (after its warm-up)."""
    if threshold > 0:
        _, second, third = gc.get_threshold()
        gc.set_threshold(threshold, second, third)
    gc.collect()  # what is garbage now is not frozen with the rest
    gc.freeze()
