"""Run ``docservice`` command lines as processes forked from one that imported the CLI.

Why: a test that runs a hundred command lines (``tests/verification/test_cli_output.py``)
spent nearly all of its time starting Python and importing pyHanko, aiohttp, lxml … once
per run (0.6-1.2 s of CPU each), not verifying (a few tens of ms). Each run here is still
a process of its own - its own environment, working directory, file descriptors 1 and 2,
log file and exit status, through :func:`docservice.cli.main` as the console script calls
it, ``signing.patches.apply()`` included - but forked from multiprocessing's fork server: a
fresh interpreter (not a copy of the test session, none of its threads, patches or
logging) that imported the CLI's modules once. What a run does not repeat is the
interpreter's start and those imports; the tests that execute the real console script
check them (``test_the_issue_case_on_a_terminal``, ``tests/verification/test_cli.py``).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: What ``docservice verify`` and ``docservice audit`` import, loaded once by the fork
#: server (one server per test session, so one list for every caller). Importing them
#: changes no library (``tests/test_library_hooks.py``; each run applies the patches
#: itself), reads no environment and starts no thread.
PRELOAD = [
    "docservice.cli",
    "docservice.verification.card",
    "docservice.verification.cms",
    "docservice.verification.pdf",
    "docservice.verification.xml",
    "docservice.service.audit",
    "docservice.service.documents",
    "docservice.archive.bundle",
    "signing.patches",
    __name__,
]


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: bytes
    stderr: bytes


def _child(argv: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: become ``docservice ARGV`` run in ``cwd`` with ``env``."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["docservice", *argv]
    from docservice.cli import main

    try:
        code = main(argv)
    finally:
        # What the interpreter does at exit and multiprocessing's child does not: the
        # handlers registered with atexit (logging.shutdown closes the log file).
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    raise SystemExit(code)


def run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float) -> Finished:
    """``docservice ARGV`` in a forked process (its output goes through temporary files)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    with tempfile.TemporaryDirectory(prefix="forked-cli-") as scratch:
        out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
        process = context.Process(
            target=_child, args=(list(argv), dict(env), str(cwd), str(out), str(err))
        )
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise TimeoutError(f"docservice {' '.join(argv)} ran longer than {timeout} s")
        return Finished(process.exitcode, out.read_bytes(), err.read_bytes())


def completed(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """:func:`run`, answered as ``subprocess.run(..., capture_output=True, text=True)`` does."""
    done = run(argv, env=env, cwd=cwd, timeout=timeout)
    return subprocess.CompletedProcess(
        ["docservice", *argv], done.code, done.stdout.decode(), done.stderr.decode()
    )
