"""``npm ci`` of a test folder's pinned packages, once, however many test processes ask.

The browser tests (axe-core) and the NCALayer tests (ncalayer-js-client) install their
packages on first use. Under pytest-xdist two worker processes may both find them missing at
the same moment; two ``npm ci`` in one folder delete each other's files. An exclusive
``flock`` on the folder's ``package-lock.json`` makes the second wait for the first and then
find the packages installed (a lock a thread of the same process takes blocks too: each
call opens the file anew).
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from tests.conftest import need


def npm_ci(folder: Path, installed: Path, what: str) -> None:
    """Install ``folder``'s locked packages unless ``installed`` (a file they ship) exists.

    Missing Node.js/npm or a failed install skips locally and fails in CI (``need``).
    """
    with (folder / "package-lock.json").open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if installed.exists():
            return
        npm = shutil.which("npm")
        need(
            npm is not None and shutil.which("node") is not None,
            f"node and npm (Debian packages nodejs, npm) to install {what}",
        )
        assert npm is not None
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        need(
            done.returncode == 0 and installed.exists(),
            f"{what} (npm ci in {folder}: {done.stderr.strip()[-2000:]})",
        )
