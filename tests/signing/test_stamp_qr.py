"""The stamps' QR codes, with their fixed mask pattern, decode with an independent reader.

The symbol is rasterised from the very drawing commands the stamp embeds (the
``x y 1 1 re`` module rectangles of pyHanko's QR stream) and read by ZXing (zxing-cpp,
a test-only dependency), not by the ``qrcode`` package that made it.
"""

from __future__ import annotations

import io
import re
import secrets

import pikepdf
import pytest
import zxingcpp
from PIL import Image

from signing import stamp
from signing.pdf import PdfOptions, document_id, sign_pdf, verify_url

_MODULE = re.compile(rb"^(\d+) (\d+) 1 1 re$", re.M)
_SCALE = 4


def _raster(commands: bytes) -> Image.Image:
    """The QR commands drawn black on white, one module = ``_SCALE`` pixels, quiet zone 4."""
    modules = [(int(x), int(y)) for x, y in _MODULE.findall(commands)]
    assert modules, "no QR module rectangles in the stream"
    side = max(max(x, y) for x, y in modules) + 1 + 8
    image = Image.new("L", (side * _SCALE, side * _SCALE), 255)
    for x, y in modules:
        left, top = (x + 4) * _SCALE, (y + 4) * _SCALE
        image.paste(0, (left, top, left + _SCALE, top + _SCALE))
    return image


def _decode(image: Image.Image) -> str:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, "ZXing found no QR code"
    return found[0].text


@pytest.mark.parametrize(
    "base",
    [
        "https://docservice.example.kz",
        "http://127.0.0.1:8080",
        "https://kandas.enbek.kz/docservice/with/a/longer/path",
    ],
)
def test_fixed_mask_symbols_decode(base: str) -> None:
    for _ in range(8):
        url = verify_url(base, secrets.token_hex(32))
        assert stamp.qr_code(url).mask_pattern == stamp.QR_MASK
        commands, _size = stamp._qr_commands(url)
        assert _decode(_raster(commands)) == url


def test_the_signed_stamp_carries_a_readable_qr_code(rendered, officials) -> None:  # type: ignore[no-untyped-def]
    options = PdfOptions(verify_base_url="https://verify.test")  # no QR code without a URL
    signed = sign_pdf(rendered.pdf, officials["career"], options)
    streams = []
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form":
                data = obj.read_bytes()
                if _MODULE.search(data):
                    streams.append(data)
    assert len(streams) == 1
    want = verify_url("https://verify.test", document_id(rendered.pdf))
    assert _decode(_raster(streams[0])) == want
