"""Malformed, truncated, huge and hostile files: a clear error, bounded time, no crash."""

from __future__ import annotations

import os
import time

import pytest

from docservice.verification import Limits, VerificationInputError, Verifier, VerifierConfig
from tests.verification.conftest import Docs


def _refused(
    verifier: Verifier, data: bytes, original: bytes | None = None
) -> VerificationInputError:
    started = time.monotonic()
    with pytest.raises(VerificationInputError) as err:
        verifier.verify(data, original)
    assert time.monotonic() - started < 10
    exc = err.value
    assert 400 <= exc.status < 500
    assert exc.message("kk") and exc.message("ru") and exc.message("kk") != exc.message("ru")
    return exc


def test_truncated_pdfs(verifier: Verifier, docs: Docs) -> None:
    data = docs.bb()
    # Cut inside the signature's hex string, inside the xref, and right after the header.
    cuts = [data.index(b"/Contents <") + 4000, len(data) - 40, 20]
    for cut in cuts:
        exc = _refused(verifier, data[:cut])
        assert exc.code in ("pdf_unreadable", "pdf_no_signatures"), (cut, exc.code)


def test_broken_xref(verifier: Verifier, docs: Docs) -> None:
    data = bytearray(docs.bb())
    at = data.rindex(b"startxref")
    data[at + 10 : at + 16] = b"999999"
    exc = _refused(verifier, bytes(data))
    assert exc.code in ("pdf_unreadable", "pdf_no_signatures")
    garbage_xref = docs.bb().replace(b"xref", b"xreX")
    _refused(verifier, garbage_xref)


def test_unsigned_pdf(verifier: Verifier, docs: Docs) -> None:
    assert _refused(verifier, docs.base()).code == "pdf_no_signatures"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"hello, I am not a document", "unknown_format"),
        (os.urandom(4096), None),
        (b"%PDF-1.7\n" + os.urandom(2048), "pdf_unreadable"),
        (b"<a><b></a>", "xml_unreadable"),
        (b"MIIB" + b"A" * 100, "cms_unreadable"),
        (b"-----BEGIN CMS-----\nnot base64\n-----END CMS-----\n", "cms_unreadable"),
    ],
)
def test_garbage(verifier: Verifier, data: bytes, code: str | None) -> None:
    exc = _refused(verifier, data)
    if code is not None:
        assert exc.code == code


def test_size_limits(trust, docs: Docs) -> None:  # type: ignore[no-untyped-def]
    small = Verifier(VerifierConfig(trust=trust, limits=Limits(max_file_bytes=1000)))
    exc = _refused(small, docs.bb())
    assert exc.code == "too_large" and exc.status == 413
    exc = _refused(small, b"x" * 10, b"y" * (60 * 1024 * 1024))
    assert exc.field == "original"


def test_decompression_bomb_pdf(verifier: Verifier, docs: Docs) -> None:
    """A signed PDF with a stream that inflates to gigabytes is refused, not inflated."""
    signed = docs.decompression_bomb()
    started = time.monotonic()
    try:
        report = verifier.verify(signed)
    except VerificationInputError as exc:
        assert exc.code == "pdf_unreadable"
    else:
        # Signature bytes are hashed, never inflated: verification stays cheap.
        assert report.signatures[0].signer is not None
    assert time.monotonic() - started < 10


def test_time_budget(trust, docs: Docs) -> None:  # type: ignore[no-untyped-def]
    hurried = Verifier(VerifierConfig(trust=trust, limits=Limits(max_seconds=0.0)))
    exc = _refused(hurried, docs.four())
    assert exc.code == "too_slow"


@pytest.mark.parametrize(
    "raw",
    [
        b"<48656c6c6f>",
        b"<48 65\n6c\t6c 6f>",
        b"<4>",
        b"<>",
        b"<ABCDEF0123456789abcdef>",
        b"<48656c6c6f7>",
        b"<48\x0065\r\n6c\x0c6c \t6f\n>",  # every PDF white-space byte
        b"<" + b"30" * 10_000 + b"\r\n>",  # a signature's /Contents
        b"<" + b"ab" * 40_000 + b" 0 a\n>",  # white space after the first 64 kB read
    ],
)
def test_fast_hex_reader_matches_pyhanko(raw: bytes) -> None:
    import io

    from pyhanko.pdf_utils import generic

    from signing.patches import _read_hex_string

    original = generic.__dict__.get("_docsvc_original_hex") or _pyhanko_hex()
    expected = original(io.BytesIO(raw + b" tail"))
    stream = io.BytesIO(raw + b" tail")
    assert _read_hex_string(stream) == expected
    assert stream.read() == b" tail"


def _pyhanko_hex():  # type: ignore[no-untyped-def]
    """pyHanko's own reader, reloaded from source (the module attribute may be replaced)."""
    return _pyhanko_generic().read_hex_string_from_stream


def _pyhanko_generic():  # type: ignore[no-untyped-def]
    """A fresh copy of ``pyhanko.pdf_utils.generic`` from source, without our patches."""
    import importlib.util

    spec = importlib.util.find_spec("pyhanko.pdf_utils.generic")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "raw",
    [
        b"/Type /Page",
        b"/A#20B(x)",
        b"12 0 R",
        b"-3.25]",
        b"true>>",
        b"null",
        b"",
        b"x" * 63 + b"/",
        b"x" * 64 + b"%",
        b"x" * 200,
        b"abc\x00def",
        b"\xff\xfe{",
    ],
)
def test_fast_token_reader_matches_pyhanko(raw: bytes) -> None:
    import io

    from pyhanko.pdf_utils import misc

    from signing.patches import _read_until_delimiter

    for start in range(min(len(raw), 2) + 1):
        theirs, ours = io.BytesIO(raw), io.BytesIO(raw)
        theirs.seek(start)
        ours.seek(start)
        assert _read_until_delimiter(ours) == misc.read_until_delimiter(theirs)
        assert ours.tell() == theirs.tell()


@pytest.mark.parametrize(
    "raw",
    [b"Type", b"F1", b"A#20B", b"Caf\xc3\xa9", b"\xff\xfe", b"", b"x~!", b"ab#41", b"A#2"],
)
def test_fast_name_coding_matches_pyhanko(raw: bytes) -> None:
    import io
    import types

    from pyhanko.pdf_utils import generic

    pyhanko = _pyhanko_generic()
    # pyHanko's own functions, run against the live module (its NameObject class)
    decode = types.FunctionType(pyhanko._decode_name.__code__, generic.__dict__)
    write = types.FunctionType(pyhanko.NameObject.write_to_stream.__code__, generic.__dict__)
    try:
        expected: object = decode(raw)
    except generic.PdfReadError as exc:
        with pytest.raises(generic.PdfReadError):
            generic._decode_name(raw)
        expected = str(exc)
    else:
        assert generic._decode_name(raw) == expected
        theirs, ours = io.BytesIO(), io.BytesIO()
        write(expected, theirs, None, None)
        expected.write_to_stream(ours)  # type: ignore[attr-defined]
        assert ours.getvalue() == theirs.getvalue()


def test_truncated_hex_string_raises_instead_of_looping() -> None:
    import io

    from pyhanko.pdf_utils.misc import PdfStreamError

    from signing.patches import _read_hex_string

    with pytest.raises(PdfStreamError):
        _read_hex_string(io.BytesIO(b"<48656c6c6f"))
    with pytest.raises(PdfStreamError):
        _read_hex_string(io.BytesIO(b"<48zz>"))


def test_logs_mask_the_iin(verifier: Verifier, docs: Docs, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    with caplog.at_level(logging.INFO, logger="docservice.verification"):
        verifier.verify(docs.bb())
    text = caplog.text
    assert "85********21" in text and "850301300121" not in text
    assert "ӘБІЛҚАСЫМОВА" not in text
