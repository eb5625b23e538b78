"""The embedded font: Liberation Serif 2.x (SIL OFL), shipped in ``docservice/fonts``.

It covers every Kazakh letter (ӘәҒғҚқҢңӨөҰұҮүҺһІі) and is the metric twin of
Times New Roman, the face of printed official documents. Registering it once per
process keeps per-document cost to the subsetting ReportLab does anyway; the
forms use two faces only (regular, bold), as each embedded subset costs time.
"""

from __future__ import annotations

from functools import cache

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from docservice.resources import FONTS_DIR

REGULAR = "LiberationSerif"
BOLD = "LiberationSerif-Bold"

KAZAKH_LETTERS = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"


@cache
def register() -> str:
    """Register the family with ReportLab (idempotent) and return the regular face name."""
    for name, file in ((REGULAR, "LiberationSerif-Regular.ttf"),
                       (BOLD, "LiberationSerif-Bold.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(FONTS_DIR / file)))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR


def missing_glyphs(text: str, face: str = REGULAR) -> set[str]:
    """Characters of ``text`` the face has no glyph for (white space ignored)."""
    register()
    font = pdfmetrics.getFont(face)
    cmap = font.face.charToGlyph
    return {c for c in text if not c.isspace() and ord(c) not in cmap}
