"""Read the stamps' QR codes back from a signed PDF with an independent decoder.

zxing-cpp (test only) decodes an image drawn from the QR XObject's rectangles, so a test checks
what a phone would read, not what our code meant to draw.
"""

from __future__ import annotations

import io
import re

import pikepdf
import zxingcpp
from PIL import Image


def qr_payloads(data: bytes) -> list[str]:
    """Every QR code drawn in the signature stamps, decoded."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[len(pdf.pages) - 1]
        for annot in page.get("/Annots", []):
            xobjects = annot.AP.N.get("/Resources", {}).get("/XObject", {})
            if "/QR" not in xobjects:
                continue
            stream = xobjects.QR.read_bytes()
            found.append(_decode(modules_of(stream)))
    return found


def modules_of(stream: bytes) -> set[tuple[int, int]]:
    """The modules (x, y) that the ``x y w h re`` rectangles of a QR stream cover."""
    return {
        (x + dx, y + dy)
        for x, y, w, h in (
            map(int, rect) for rect in re.findall(rb"(\d+) (\d+) (\d+) (\d+) re", stream)
        )
        for dx in range(w)
        for dy in range(h)
    }


def _decode(modules: set[tuple[int, int]], scale: int = 6, quiet: int = 4) -> str:
    size = max(max(x, y) for x, y in modules) + 1
    image = Image.new("L", ((size + 2 * quiet) * scale,) * 2, 255)
    for x, y in modules:
        image.paste(
            0,
            (
                (x + quiet) * scale,
                (y + quiet) * scale,
                (x + quiet + 1) * scale,
                (y + quiet + 1) * scale,
            ),
        )
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, "the QR code does not decode"
    return results[0].text
