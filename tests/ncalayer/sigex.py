"""SIGEX's ``ncalayer-js-client`` (npm, pinned in ``jsclient/package-lock.json``): where it is.

The package is installed by ``npm ci`` (``.ci/run`` does it; locally the first test that
needs it does, if ``npm`` is there). Missing npm, or a failed install, skips locally and
fails in CI (``DOCSERVICE_REQUIRE_SERVICES=1``), like every other outside tool.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

from tests.conftest import need

FOLDER = Path(__file__).with_name("jsclient")
VERSION = "1.5.6"


@cache
def package() -> Path:
    """The installed package's folder (``ncalayer-client.js``, ``test/test-data.json``)."""
    root = FOLDER / "node_modules" / "ncalayer-js-client"
    if not (root / "package.json").exists():
        npm = shutil.which("npm")
        need(npm is not None, "npm (Debian package npm) to install ncalayer-js-client")
        assert npm is not None
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=FOLDER,
            capture_output=True,
            text=True,
            timeout=300,
        )
        need(
            result.returncode == 0,
            f"ncalayer-js-client from npm (npm ci: {result.stderr.strip()[-300:]})",
        )
    installed = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
    assert installed == VERSION, f"ncalayer-js-client {installed} installed, {VERSION} pinned"
    return root
