"""Files that appear whole or not at all: written beside the target, then renamed over it.

Why: a crash, a full disk or a killed worker must never leave a half-written PDF, XML or
stored object where a reader (an official, the archive, the next signer) would take it
for the real one. ``os.replace`` within one directory is atomic on POSIX; the temporary
files are removed on any failure.

Durable writes (the content store) ``fsync`` each file before it is renamed - so a name
never points at data a power cut lost - and, after the renames, each folder whose
entries changed, once per batch: until then the new *names* may be lost with the cache
even though the data is on disk.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Exclusive creation (never another writer's temporary), not inherited by children.
_CREATE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def write_together(files: Sequence[tuple[Path, bytes]], *, durable: bool = False) -> None:
    """Write every ``(target, payload)``: all temporary files first, then each renamed into
    place, so a failure while writing leaves none of the targets touched. ``durable``:
    ``fsync`` each file before it is renamed, and every folder whose entries changed (the
    targets' and those of any folder made for them) once after the renames, so that the
    files are on disk when this returns (the content store: survive a power cut)."""
    temps: list[str] = []
    changed: set[Path] = set()
    try:
        for target, payload in files:
            tmp, fd = _temporary_beside(target, changed)
            temps.append(tmp)
            try:
                _write_all(fd, payload)
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
        for tmp, (target, _) in zip(temps, files, strict=True):
            os.replace(tmp, target)
            changed.add(target.parent)
        temps.clear()
        if durable:
            sync_folders(changed)
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _write_all(fd: int, payload: bytes) -> None:
    """``payload`` written whole (``os.write`` may write less than asked)."""
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def _temporary_beside(target: Path, made: set[Path]) -> tuple[str, int]:
    """A new temporary file (path, open descriptor) in ``target``'s folder, the folder made
    first if it is missing (tried first: a store's folders mostly exist, and one ``mkdir``
    or ``stat`` per write was measurable). The folders whose entries a ``mkdir`` changed
    are added to ``made``."""
    tmp = os.path.join(target.parent, f".partial-{secrets.token_hex(8)}")
    try:
        return tmp, os.open(tmp, _CREATE, 0o600)
    except FileNotFoundError:
        made.update(_make_folders(target.parent))
        return tmp, os.open(tmp, _CREATE, 0o600)


def _make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing ancestors; the parents of those this call made."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    changed = []
    for item in reversed(missing):
        try:
            os.mkdir(item)
        except FileExistsError:  # another writer made it meanwhile
            continue
        changed.append(item.parent)
    return changed


def sync_folders(folders: Iterable[Path]) -> None:
    """``fsync`` each folder, so that the names created or renamed in it are on disk.

    Only where a folder can be opened and synced (POSIX); elsewhere the file system's own
    ordering is all there is.
    """
    if os.name != "posix":
        return
    for folder in folders:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomically(target: Path, payload: bytes, *, durable: bool = False) -> None:
    """One file, whole or not at all (see :func:`write_together`)."""
    write_together([(target, payload)], durable=durable)
