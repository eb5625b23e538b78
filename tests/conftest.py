"""Shared fixtures: the official texts, rendered examples, text extraction."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from functools import cache
from pathlib import Path

import pytest
from pypdf import PdfReader

from docservice import logging_setup

#: At the end of the run, the logs of every process it started are searched for unmasked
#: IINs and names (issue 8): see tests/logscan.py. The test PKI fixtures (``pki``, ``trust``,
#: ``officials``, ``gpki`` ...) are defined once, in tests/pki/fixtures.py.
pytest_plugins = ["tests.logscan", "tests.pki.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = Path(os.environ.get("DOCSERVICE_SHARED", ROOT.parent / "shared"))


def pytest_configure(config: pytest.Config) -> None:
    """The test session starts like every entry point: the library patches, once."""
    from signing import patches

    patches.apply()


def need(available: bool, what: str) -> None:
    """Skip when ``what`` is missing here; in CI (DOCSERVICE_REQUIRE_SERVICES=1) fail instead."""
    if available:
        return
    if os.environ.get("DOCSERVICE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (DOCSERVICE_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} is not available")


def squash(text: str) -> str:
    """Text with every kind of white space (NBSP included) removed, for containment checks."""
    return re.sub(r"\s+", "", text.replace("\u00a0", " "))


@cache
def official_corpus() -> str:
    """All official texts the forms may quote: the seeds and the field notes."""
    files = [*sorted((SHARED / "seeds").glob("*.txt")), SHARED / "FIELD-NOTES.md"]
    missing = [f for f in files if not f.exists()]
    if not files or missing:
        pytest.fail(f"official texts not found under {SHARED} (set DOCSERVICE_SHARED)")
    return squash("".join(f.read_text(encoding="utf-8") for f in files))


def pdf_text(pdf: bytes) -> str:
    """The text of every page, in content order."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def example(kind: str) -> dict:
    return json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rendered_examples():
    """Every example rendered in every language, once per test session."""
    from docservice.forms import all_kinds
    from docservice.render import LANG_CHOICES, render

    return {
        (name, lang): render(name, example(name), lang)
        for name in all_kinds()
        for lang in LANG_CHOICES
    }


@pytest.fixture(autouse=True)
def _restore_logging():
    """``docservice.cli.main`` sets up the process's logging; tests run it many times.

    Each test leaves the root logger as it found it (no handler pointing at a finished
    test's captured stderr).
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        if logging_setup.is_service_handler(handler):
            root.removeHandler(handler)
            if getattr(handler, "_owns_stream", False):
                handler.close()
                handler.stream.close()  # type: ignore[attr-defined]
    root.setLevel(level)
    logging.captureWarnings(False)
