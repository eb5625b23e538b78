"""Content-addressed file store: bytes in, their SHA-256 out.

Why content-addressed: a PDF revision, an XML or a CMS is named by its hash, so a write is
idempotent (a retried job writes the same name), a reader can check what it got, and rows
in the database only need the hash. :class:`FileStore` is the whole interface, so a
shared directory today and an S3-compatible bucket later are interchangeable.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from docservice.atomic import write_together

_HEX = frozenset("0123456789abcdef")


class FileStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256 (hex). Storing twice is harmless."""
        ...

    def put_many(self, items: Sequence[bytes]) -> list[str]:
        """Store each of ``items`` (durably when this returns, as ``put``); their SHA-256s,
        in order. Why: a document's files are written together, and a store may make a
        batch durable for less than one ``put`` each."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes named ``sha256``; ``KeyError`` when absent."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def check(self) -> None:
        """Raise ``OSError`` when the store cannot be written (``/ready``)."""
        ...


class LocalFileStore:
    """Files under ``root/ab/cd/<sha256>``, written via a temporary file and a rename."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._root = str(self.root)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not _HEX.issuperset(sha256):
            raise KeyError(sha256)
        return Path(f"{self._root}/{sha256[:2]}/{sha256[2:4]}/{sha256}")  # one parse, not three

    def put(self, data: bytes) -> str:
        return self.put_many([data])[0]

    def put_many(self, items: Sequence[bytes]) -> list[str]:
        """The missing ones written in one batch: each file ``fsync``ed, renamed into place,
        then each folder that gained a name ``fsync``ed once (``atomic.write_together``)."""
        shas = [hashlib.sha256(data).hexdigest() for data in items]
        missing: dict[Path, bytes] = {}
        for sha, data in zip(shas, items, strict=True):
            target = self._path(sha)
            if target not in missing and not target.exists():
                missing[target] = data
        if missing:
            write_together(list(missing.items()), durable=True)
        return shas

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise KeyError(sha256) from None

    def exists(self, sha256: str) -> bool:
        try:
            return self._path(sha256).exists()
        except KeyError:
            return False

    def check(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".ready-")
        os.close(fd)
        os.unlink(tmp)
