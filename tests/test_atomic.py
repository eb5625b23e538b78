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


def test_a_durable_write_syncs_each_file_before_its_rename_and_each_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A durable batch: every file's data is ``fsync``ed before any name points at it, and
    every folder that gained a name - the targets' and those a missing folder was made in
    - is ``fsync``ed after the renames, once each (so the names survive a power cut too)."""
    import os
    import stat

    events: list[tuple[str, object]] = []
    fsync, replace = os.fsync, os.replace

    def recording_fsync(fd: int) -> None:
        info = os.fstat(fd)
        what = "folder" if stat.S_ISDIR(info.st_mode) else "file"
        events.append((what, info.st_ino))
        fsync(fd)

    def recording_replace(src: str, dst: Path) -> None:
        events.append(("rename", os.stat(src).st_ino))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    (tmp_path / "old").mkdir()
    targets = [tmp_path / "old" / "a", tmp_path / "new" / "deeper" / "b", tmp_path / "old" / "c"]
    write_together([(t, t.name.encode()) for t in targets], durable=True)

    assert [t.read_bytes() for t in targets] == [b"a", b"b", b"c"]
    files = [ino for what, ino in events if what == "file"]
    renamed = [ino for what, ino in events if what == "rename"]
    assert files == renamed == [t.stat().st_ino for t in targets]
    last_file = max(i for i, (what, _) in enumerate(events) if what == "file")
    first_rename = min(i for i, (what, _) in enumerate(events) if what == "rename")
    assert last_file < first_rename
    folders = [ino for what, ino in events if what == "folder"]
    changed = [tmp_path / "old", tmp_path / "new" / "deeper", tmp_path / "new", tmp_path]
    assert sorted(folders) == sorted(p.stat().st_ino for p in changed)
    assert all(what == "folder" for what, _ in events[len(events) - len(folders) :])
    assert not [p for p in tmp_path.rglob(".partial-*")]


def test_a_write_that_is_not_durable_syncs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    calls: list[int] = []
    monkeypatch.setattr(os, "fsync", calls.append)
    write_together([(tmp_path / "x" / "a", b"a")])
    assert calls == [] and (tmp_path / "x" / "a").read_bytes() == b"a"
