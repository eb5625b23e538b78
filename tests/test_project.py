"""The project's own promises: the README's commands and what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import ROOT


def _readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert block, "README must start with a sh block of two commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert "docservice demo --out" in commands[0]  # the service, end to end (issue 8)
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _readme_commands()[1] in [line.strip() for line in ci]


def test_only_an_absent_external_tool_may_skip_and_never_in_ci(monkeypatch):
    """A skip around a call hides a changed API: interop tests fail instead. The one way to
    skip is :func:`tests.conftest.need` (an absent tool or service), which fails under
    DOCSERVICE_REQUIRE_SERVICES=1 as .ci/run sets it."""
    import pytest

    from .conftest import need

    skipping = re.compile(r"pytest\.skip\(|importorskip\(|mark\.skip|skipif")
    allowed = {ROOT / "tests" / "conftest.py", Path(__file__).resolve()}
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path not in allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if skipping.search(line)
    ]
    assert offenders == []
    need(True, "a tool that is there")
    monkeypatch.setenv("DOCSERVICE_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        need(False, "an absent tool")
    monkeypatch.delenv("DOCSERVICE_REQUIRE_SERVICES")
    with pytest.raises(pytest.skip.Exception, match="not available"):
        need(False, "an absent tool")
