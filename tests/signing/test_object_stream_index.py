"""Objects taken from object streams through the header index are pyHanko's own reading."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import patches
from signing.keys import Pkcs12Key
from signing.pdf import PdfOptions, sign_pdf


def _every_object(data: bytes) -> list[bytes]:
    """Each object number's object, serialised, as a fresh non-strict reader reads it."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    out = []
    for idnum in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(generic.Reference(idnum, 0, reader))
        buffer = io.BytesIO()
        obj.write_to_stream(buffer)
        out.append(buffer.getvalue())
    return out


def test_every_object_reads_as_pyhanko_reads_it(
    rendered: object, officials: dict[str, Pkcs12Key], monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf: bytes = rendered.pdf  # type: ignore[attr-defined]
    signed = sign_pdf(pdf, officials["career"], PdfOptions(verify_base_url="https://v.test"))
    assert b"/ObjStm" in pdf
    indexed = PdfFileReader._get_object_from_stream
    assert getattr(indexed, "_indexed", False), "signing.patches.apply() has not run"
    fast = [_every_object(pdf), _every_object(signed)]
    monkeypatch.setattr(PdfFileReader, "_get_object_from_stream", indexed.__wrapped__)  # type: ignore[attr-defined]
    assert fast == [_every_object(pdf), _every_object(signed)]


def _stream(header: bytes, body: bytes, count: int) -> generic.StreamObject:
    return generic.StreamObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/ObjStm"),
            generic.NameObject("/N"): generic.NumberObject(count),
            generic.NameObject("/First"): generic.NumberObject(len(header)),
        },
        stream_data=header + body,
    )


def test_a_plain_header_is_indexed_and_any_other_left_to_pyhanko() -> None:
    offsets = patches._object_stream_offsets
    assert offsets(_stream(b"7 0 9 5 7 12\n", b"<<>> [1] ", 3)) == {7: 0, 9: 5}
    assert offsets(_stream(b"7 0 9 5 ", b"<<>> [1]", 1)) == {7: 0}  # only /N pairs count
    assert offsets(_stream(b"7 0 % note\n9 5 ", b"<<>> [1]", 2)) is None
    assert offsets(_stream(b"7 0 9 +5 ", b"<<>> [1]", 2)) is None
    assert offsets(_stream(b"7 0 ", b"<<>> [1]", 2)) is None  # fewer pairs than /N
    assert offsets(_stream(b"7 0 9 5", b"1 [1]", 2)) is None  # /First inside a number
