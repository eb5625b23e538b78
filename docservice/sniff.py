"""What a file is, from its content: PDF, XML or CMS (file names and MIME types lie).

One rule for the verifier, the archive card and the signing CLI:

* **PDF**: ``%PDF-`` within the first 1024 bytes (readers accept leading junk there, so a
  check at byte 0 would let such a PDF be treated as something else);
* **XML**: ``<`` first after a UTF-8 BOM and white space, or a UTF-16 byte-order mark;
* **CMS**: DER (``0x30``), PEM (``-----BEGIN``) or Base64 of a DER SEQUENCE (``MI``).
"""

from __future__ import annotations

from typing import Literal

Format = Literal["pdf", "xml", "cms"]

_HEAD = 1024


def looks_like_cms(data: bytes) -> bool:
    head = data.lstrip()[:64]
    # "MI": Base64 of a DER SEQUENCE with a long length
    return head.startswith((b"\x30", b"-----BEGIN", b"MI"))


def sniff(data: bytes) -> Format | None:
    """``pdf``, ``xml``, ``cms``, or None for anything else."""
    head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"%PDF-" in data[:_HEAD]:
        return "pdf"
    if head.startswith((b"<", b"\xff\xfe", b"\xfe\xff", b"\x00<")):
        return "xml"
    if looks_like_cms(data):
        return "cms"
    return None


MIME_TYPES: dict[Format, str] = {
    "pdf": "application/pdf",
    "xml": "text/xml",
    "cms": "application/pkcs7-signature",
}
