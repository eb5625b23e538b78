"""Session fixtures: documents to sign (the test PKI and the officials' keys are the
suite's, tests/pki/fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rendered():
    """A real catalogue document: PDF/A-3b with the named signature area, and its XML."""
    from docservice.render import render

    data = json.loads((ROOT / "examples" / "application.json").read_text(encoding="utf-8"))
    return render("application", data, "kk+ru")
