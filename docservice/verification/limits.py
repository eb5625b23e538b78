"""Configurable bounds on what a verification may consume, and the error for unusable input.

Why: officials upload whatever they were handed; the service must answer a 4xx with a
reason for a malformed, truncated, huge or hostile file, never crash or exhaust memory.
Every parser in this package checks these limits *before* doing the expensive work, and
long-running steps check :meth:`Deadline.check` between signatures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from docservice.errors import DocserviceError

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Upper bounds; the defaults suit documents of the service (a few MiB at most)."""

    #: Largest signed file accepted (PDF, XML or CMS), in bytes.
    max_file_bytes: int = 25 * MiB
    #: Largest original for a detached CMS, in bytes.
    max_original_bytes: int = 50 * MiB
    #: Signatures (and document time-stamps) examined in one file.
    max_signatures: int = 40
    #: Signer infos in one CMS.
    max_signers: int = 20
    #: Total decoded PDF stream data, as a multiple of the file size (zip-bomb guard).
    pdf_decode_ratio: float = 50.0
    #: XML: deepest element nesting and most elements.
    max_xml_depth: int = 200
    max_xml_elements: int = 200_000
    #: Wall-clock budget for one verification, in seconds (checked between steps).
    max_seconds: float = 30.0
    #: Network budget per OCSP / CRL request, in seconds, and largest CRL accepted.
    fetch_timeout: float = 5.0
    max_crl_bytes: int = 20 * MiB


class VerificationInputError(DocserviceError, ValueError):
    """The input cannot be verified at all (not a document, too big, hostile).

    ``field`` names the offending input (``file`` or ``original``), ``code`` is a stable
    machine-readable reason, ``status`` the HTTP status the web layer answers with.
    """

    def __init__(self, code: str, field: str = "file", status: int = 400, detail: str = "") -> None:
        super().__init__(f"{field}: {code}{': ' + detail if detail else ''}")
        self.code = code
        self.field = field
        self.status = status
        self.detail = detail
        self.params = {"field": field}


class Deadline:
    """A monotonic time budget; :meth:`check` raises once it is spent."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self._end:
            raise VerificationInputError("too_slow", status=422, detail=f"over {self.seconds:g} s")


def check_size(data: bytes, limit: int, field: str = "file") -> None:
    """Refuse empty and oversized inputs before any parsing."""
    if not data:
        raise VerificationInputError("empty", field=field)
    if len(data) > limit:
        raise VerificationInputError(
            "too_large", field=field, status=413, detail=f"{len(data)} > {limit} bytes"
        )
