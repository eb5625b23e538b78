"""Files appear whole or not at all (docservice.atomic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from docservice.atomic import write_atomically, write_together


def test_write_atomically_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.pdf"
    write_atomically(target, b"one")
    write_atomically(target, b"two", durable=True)
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.pdf"]


def test_a_failure_leaves_every_target_untouched(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pdf", tmp_path / "a.xml"
    first.write_bytes(b"old pdf")
    with pytest.raises(TypeError):
        write_together([(first, b"new pdf"), (second, "not bytes")])  # type: ignore[list-item]
    assert first.read_bytes() == b"old pdf" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf"]
