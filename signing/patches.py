"""Every process-wide change this project makes to pyHanko and asn1crypto, in one place.

Why one function, called at start-up: these libraries are shared by the whole process, so a
change to them is a change for every caller. Applying them as a side effect of importing
some module made the behaviour depend on import order (a GOST certificate read before
``signing.gost`` happened to be imported failed). Now :func:`apply` is called once by every
entry point - the ``docservice`` CLI (and ``sign``/``verify`` run on their own), the web app
factory, the Celery worker, the emulators, a :class:`docservice.verification.Verifier` and
the test session - and does nothing the second time.

The changes (each relies on a private hook; ``tests/test_library_hooks.py`` has a canary for
each, which fails with a clear message when an upgrade moves it):

1. asn1crypto learns the Kazakh GOST OIDs (:func:`signing.gost.asn1.register`);
2. pyhanko-certvalidator's default signature validator learns GOST
   (:func:`signing.gost.validator.install`);
3. pyHanko's PDF tokenizer reads hex strings with :func:`_read_hex_string`: one
   ``bytes.fromhex`` instead of a loop per character, and an error instead of an endless loop
   on a truncated file.
"""

from __future__ import annotations

import io
import re
import threading

from pyhanko.pdf_utils import generic, misc

_lock = threading.Lock()
_applied = False


def apply() -> None:
    """Apply every patch once per process (thread-safe, idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from signing.gost import asn1, validator

        asn1.register()
        validator.install()
        generic.read_hex_string_from_stream = _read_hex_string
        _applied = True


def applied() -> bool:
    """Whether :func:`apply` has run in this process."""
    return _applied


_WS = re.compile(rb"[\x00\t\n\x0c\r ]+")
_HEX_CHUNK = 1 << 16


def _read_hex_string(stream: io.RawIOBase) -> generic.ByteStringObject | generic.TextStringObject:
    """Drop-in for pyHanko's hex-string reader: one ``bytes.fromhex`` instead of a Python
    loop per character, and an error instead of an endless loop on a truncated file.

    Why: a signature's ``/Contents`` is a 10-50 kB hex string; pyHanko reads it one token at
    a time (tens of ms per signature, the largest single cost of a verification), and its
    loop never ends if the file stops inside the string (hostile or truncated input).
    The result for a well-formed string is byte-identical.
    """
    stream.read(1)
    chunks = []
    while True:
        block = stream.read(_HEX_CHUNK)
        if not block:
            raise misc.PdfStreamError("Stream has ended unexpectedly in a hex string")
        end = block.find(b">")
        if end >= 0:
            chunks.append(block[:end])
            stream.seek(end + 1 - len(block), io.SEEK_CUR)
            break
        chunks.append(block)
    digits = _WS.sub(b"", b"".join(chunks))
    if len(digits) % 2:
        digits += b"0"
    try:
        return generic.pdf_string(bytes.fromhex(digits.decode("ascii")))
    except (ValueError, UnicodeDecodeError):
        raise misc.PdfStreamError("Unexpected token in hex string") from None
