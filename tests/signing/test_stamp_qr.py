"""The stamps' QR codes, with their fixed mask pattern, decode with an independent reader.

The symbol is rasterised from the very drawing commands the stamp embeds (the
``x y w h re`` rectangles of the QR stream, in modules) and read by ZXing (zxing-cpp,
a test-only dependency), not by the ``qrcode`` package that made it.
"""

from __future__ import annotations

import io
import re
import secrets

import pikepdf
import pytest
import qrcode
import zxingcpp
from PIL import Image
from pyhanko.pdf_utils.qr import PdfStreamQRImage

from signing import stamp
from signing.pdf import PdfOptions, document_id, sign_pdf, verify_url
from tests.qr import modules_of

_RECT = re.compile(rb"^(\d+) (\d+) (\d+) (\d+) re$", re.M)
_SCALE = 4


def _raster(commands: bytes) -> Image.Image:
    """The QR commands drawn black on white, one module = ``_SCALE`` pixels, quiet zone 4."""
    rects = [tuple(map(int, found)) for found in _RECT.findall(commands)]
    assert rects, "no QR module rectangles in the stream"
    side = max(max(x + w, y + h) for x, y, w, h in rects) + 8
    image = Image.new("L", (side * _SCALE, side * _SCALE), 255)
    for x, y, w, h in rects:
        left, top = (x + 4) * _SCALE, (y + 4) * _SCALE
        image.paste(0, (left, top, left + w * _SCALE, top + h * _SCALE))
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
                if _RECT.search(data):
                    streams.append(data)
    assert len(streams) == 1
    want = verify_url("https://verify.test", document_id(rendered.pdf))
    assert _decode(_raster(streams[0])) == want


@pytest.mark.parametrize("size", [0, 20, 64, 200])
def test_the_fast_symbol_and_drawing_match_the_straightforward_ones(size: int) -> None:
    """The remembered version and the run-length drawing give what ``qrcode``'s own search
    and pyHanko's one-square-per-module image give."""
    for _ in range(4):
        # digits make ``qrcode`` split the data into segments of other modes
        url = verify_url("https://verify.test", secrets.token_hex(size // 2)) + "1" * (size % 23)
        plain = qrcode.QRCode(
            error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=stamp.QR_MASK
        )
        plain.add_data(url)
        plain.make()
        fast = stamp.qr_code(url)
        assert (fast.version, fast.modules) == (plain.version, plain.modules)
        squares = plain.make_image(image_factory=PdfStreamQRImage).render_command_stream()
        drawing = stamp.qr_drawing(fast)
        header = b"\n".join(squares.split(b"\n")[:3])
        assert drawing.startswith(header + b"\n") and drawing.endswith(b"\nf")
        assert modules_of(drawing) == modules_of(squares)


def test_the_error_codewords_are_qrcodes_for_every_version_and_level() -> None:
    """signing.patches' Reed-Solomon step against qrcode's own (reloaded unpatched)."""
    import importlib.util
    import random

    from qrcode import base
    from qrcode import util as live

    from signing import patches

    assert live.create_bytes is patches._create_bytes
    spec = importlib.util.find_spec("qrcode.util")
    assert spec is not None and spec.loader is not None
    plain = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plain)
    rng = random.Random(8)
    for version in range(1, 41):
        for level in (
            qrcode.constants.ERROR_CORRECT_L,
            qrcode.constants.ERROR_CORRECT_M,
            qrcode.constants.ERROR_CORRECT_Q,
            qrcode.constants.ERROR_CORRECT_H,
        ):
            blocks = base.rs_blocks(version, level)
            buffer = live.BitBuffer()
            for _ in range(sum(block.data_count for block in blocks)):
                buffer.put(rng.randrange(256), 8)
            assert patches._create_bytes(buffer, blocks) == plain.create_bytes(buffer, blocks)


def test_the_fast_symbol_is_qrcodes_for_every_version() -> None:
    """Each version's precomputed layout (function patterns, version information from 7 on,
    placement order, remainder bits) against ``qrcode``'s own ``make``."""
    import random

    from qrcode.util import BIT_LIMIT_TABLE

    rng = random.Random(18)
    level = qrcode.constants.ERROR_CORRECT_M
    versions = set()
    for version in range(1, 41):
        # the longest text of one byte-mode segment that fits: mode, count, 8 bits a byte
        length = (BIT_LIMIT_TABLE[level][version] - 4 - (8 if version < 10 else 16)) // 8
        text = "".join(rng.choice("abcdefxyz/:?=") for _ in range(length))
        plain = qrcode.QRCode(error_correction=level, mask_pattern=stamp.QR_MASK)
        plain.add_data(text)
        plain.make()
        fast = stamp.qr_code(text)
        assert (fast.version, fast.modules_count) == (plain.version, plain.modules_count)
        assert fast.modules == plain.modules, f"version {plain.version}"
        versions.add(plain.version)
    assert versions == set(range(1, 41))
