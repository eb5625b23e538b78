"""SIGEX's ``ncalayer-js-client`` (npm, pinned in ``jsclient/package-lock.json``): where it is.

The package is installed by ``npm ci`` (``.ci/run`` does it; locally the first test that
needs it does, if ``npm`` is there). Missing npm, or a failed install, skips locally and
fails in CI (``DOCSERVICE_REQUIRE_SERVICES=1``), like every other outside tool.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from tests.npm import npm_ci

FOLDER = Path(__file__).with_name("jsclient")
VERSION = "1.5.6"


@cache
def package() -> Path:
    """The installed package's folder (``ncalayer-client.js``, ``test/test-data.json``)."""
    root = FOLDER / "node_modules" / "ncalayer-js-client"
    npm_ci(FOLDER, root / "package.json", "ncalayer-js-client")
    installed = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
    assert installed == VERSION, f"ncalayer-js-client {installed} installed, {VERSION} pinned"
    return root
