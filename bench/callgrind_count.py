"""Instructions per unit of work (a signature, a report job …), counted by callgrind.

Shared by ``count_sign.py`` and ``count_report_job.py``. Why a count: CPU time on a shared
machine drifts by tens of per cent with its load; the instructions a process executes do
not. Each checkout's script runs as a child under ``valgrind --tool=callgrind`` twice, doing
``FIRST`` and ``FIRST + K`` units; the difference of the two counts divided by ``K`` is one
unit without start-up, imports or first-use costs. All children run in parallel.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FIRST = 2  # units done in both counts: their first-use costs cancel out


def _count(script: Path, code: Path, args: list[str], out: Path) -> int:
    """Instructions (user space) of one child run of ``script`` with ``code`` importable
    first."""
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(script),
            *args,
        ],
        cwd=code,
        env=dict(os.environ, PYTHONPATH=str(code)),
        check=True,
        capture_output=True,
    )
    found = re.search(rb"^summary: (\d+)$", out.read_bytes(), re.MULTILINE)
    if found is None:
        raise SystemExit(f"no callgrind summary in {out}")
    return int(found.group(1))


def compare(
    script: Path,
    child_args: Callable[[int], list[str]],
    k: int,
    base: Path | None,
    unit: str,
) -> dict[str, float]:
    """Print and return the instructions per ``unit`` of ``root``'s code (and ``base``'s).

    ``child_args(n)`` is ``script``'s command line for ``n`` units (``--child`` and what it
    needs). The same ``script`` runs for both checkouts, each with its own code importable
    first, so a base older than the script can be counted too.
    """
    codes = [("new", script.resolve().parent.parent)] + ([("base", base.resolve())] if base else [])
    runs = [(name, code, n) for name, code in codes for n in (FIRST, FIRST + k)]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(len(runs)) as pool:
        counts = list(
            pool.map(
                lambda r: _count(script, r[1], child_args(r[2]), Path(tmp) / f"{r[0]}-{r[2]}.cg"),
                runs,
            )
        )
    per_unit = {}
    for name, _ in codes:
        few, many = (c for (n, _, _), c in zip(runs, counts, strict=True) if n == name)
        per_unit[name] = (many - few) / k
        print(f"{name:4}: {per_unit[name] / 1e6:7.2f} M instructions per {unit} (K={k})")
    if base:
        print(f"new / base: {per_unit['new'] / per_unit['base']:.3f}")
    return per_unit
