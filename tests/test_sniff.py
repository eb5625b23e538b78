"""One rule for what a file is (docservice.sniff), used by verification, archive and CLI."""

from __future__ import annotations

import pytest

from docservice.sniff import sniff


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "pdf"),
        (b"\x00\x00junk%PDF-1.4\n", "pdf"),  # leading junk readers accept
        (b"\xef\xbb\xbf  <?xml version='1.0'?><a/>", "xml"),
        ("<a/>".encode("utf-16"), "xml"),
        (b"\x30\x82\x01\x00", "cms"),
        (b"-----BEGIN CMS-----\n", "cms"),
        (b"MIIBxx==", "cms"),
        (b"hello", None),
        (b"", None),
    ],
)
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind
