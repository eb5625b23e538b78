"""Text in the embedded fonts: Liberation Serif 2.x and a fallback chain, face by face.

Liberation Serif (SIL OFL) covers every Kazakh letter (ӘәҒғҚқҢңӨөҰұҮүҺһІі) and
is the metric twin of Times New Roman, the face of printed official documents;
it prints the forms and almost all data. Free text and names may carry other
scripts (kandases arrive from China, Mongolia, Iran, Afghanistan...), so a
character Liberation lacks is printed in the first face of the chain that has it:

1. Noto Naskh Arabic (OFL): Arabic script, incl. the Kazakh/Uyghur letters and
   the presentation forms the shaper below produces;
2. DejaVu Sans (Bitstream Vera licence): Greek, Hebrew, Armenian, Georgian and
   the common symbols (arrows, check marks, maths, box drawing);
3. Droid Sans Fallback (Apache 2.0): CJK ideographs, kana and Hangul in a
   3.4 MB TrueType file (Noto Sans CJK is CFF-outlined, which ReportLab cannot
   embed, and about five times bigger).

ReportLab embeds each face as subsets of the glyphs used, so PDF/A-3b holds. A
fallback face is loaded only when a document needs it: Liberation-only
documents cost what they did. A character no face has is refused at
validation time (:func:`unprintable`), never left to the PDF/A check. The files are found
and registered by :mod:`docservice.typefaces`, as the receipt and the stamps find them.

ReportLab has no bidi or Arabic shaping of its own here (its ``rlbidi`` is not
on PyPI), so :func:`for_display` joins Arabic letters into their presentation
forms (arabic-reshaper) and puts a line into visual order (python-bidi).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from reportlab.pdfbase import pdfmetrics

from docservice.typefaces import BOLD, REGULAR, register, register_family

KAZAKH_LETTERS = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"

#: The fallback chain after Liberation Serif: (regular face, its file, bold face, its file).
FALLBACKS: tuple[tuple[str, str, str, str], ...] = (
    (
        "NotoNaskhArabic",
        "NotoNaskhArabic-Regular.ttf",
        "NotoNaskhArabic-Bold",
        "NotoNaskhArabic-Bold.ttf",
    ),
    ("DejaVuSans", "DejaVuSans.ttf", "DejaVuSans", "DejaVuSans.ttf"),
    ("DroidSansFallback", "DroidSansFallback.ttf", "DroidSansFallback", "DroidSansFallback.ttf"),
)

#: Right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko...) and their presentation forms.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")


@cache
def _fallback(index: int) -> frozenset[int]:
    """Register fallback ``index`` on first use; the code points it covers."""
    register_family(*FALLBACKS[index])
    return frozenset(pdfmetrics.getFont(FALLBACKS[index][0]).face.charToGlyph)


@cache
def _main_cmap() -> frozenset[int]:
    register()
    return frozenset(pdfmetrics.getFont(REGULAR).face.charToGlyph)


@cache
def _main_chars() -> frozenset[str]:
    """The characters Liberation Serif has, as strings (a set test runs in C)."""
    return frozenset(map(chr, _main_cmap()))


@lru_cache(maxsize=8192)
def face_for(char: str) -> str | None:
    """The regular face that prints ``char``: Liberation Serif first, then the chain."""
    if ord(char) in _main_cmap():
        return REGULAR
    for index, (name, *_rest) in enumerate(FALLBACKS):
        if ord(char) in _fallback(index):
            return name
    return None


def missing_glyphs(text: str, face: str = REGULAR) -> set[str]:
    """Characters of ``text`` the face ``face`` has no glyph for (white space ignored).

    The form texts must print in Liberation Serif alone; the chain is for data.
    """
    register()
    cmap = pdfmetrics.getFont(face).face.charToGlyph
    return {c for c in text if not c.isspace() and ord(c) not in cmap}


def needs_fallback(text: str) -> bool:
    """True when some character of ``text`` is not in Liberation Serif or is right-to-left."""
    if text.isascii():  # printable ASCII is all in Liberation (controls are refused earlier)
        return False
    return not _main_chars().issuperset(text) or _RTL.search(text) is not None


def has_rtl(text: str) -> bool:
    """True when ``text`` holds right-to-left characters (it then needs :func:`visual`)."""
    return _RTL.search(text) is not None


def starts_rtl(text: str) -> bool:
    """True when the first strongly directed character of ``text`` is right-to-left
    (the paragraph then reads from the right, so it is aligned right)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def unprintable(text: str) -> str | None:
    """The first character of ``text`` that no shipped face prints (white space aside)."""
    if not needs_fallback(text):
        return None
    return next((c for c in text if not c.isspace() and face_for(c) is None), None)


def bold_of(face: str) -> str:
    """The bold face of the family ``face`` belongs to (itself when it has none)."""
    if face == REGULAR:
        return BOLD
    return next((bold for name, _f, bold, _b in FALLBACKS if name == face), face)


def runs(text: str, base: str = REGULAR) -> list[tuple[str, str]]:
    """``text`` cut into (face, piece) runs so each piece prints in a face that has it.

    White space and combining marks stay in the run they follow, so a word keeps
    one face; ``base`` is REGULAR or BOLD and picks the weight of every run.
    """
    bold = base == BOLD
    out: list[tuple[str, str]] = []
    for char in text:
        # white space and marks stay with the run they follow when its face has them
        keep = out and (char.isspace() or _is_mark(char)) and _covers(out[-1][0], char)
        face = out[-1][0] if keep else face_for(char)
        if face is None:
            face = out[-1][0] if out else base
        elif keep:
            pass
        elif bold:
            face = bold_of(face)
        elif face == REGULAR:
            face = base
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + char)
        else:
            out.append((face, char))
    return out


def _covers(face: str, char: str) -> bool:
    return ord(char) in pdfmetrics.getFont(face).face.charToGlyph


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


@cache
def _reshaper():
    import arabic_reshaper

    # keep the vowel marks (harakat): they are part of what the applicant wrote
    return arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False})


def shape(text: str) -> str:
    """Arabic letters joined into their contextual presentation forms (logical order kept)."""
    return _reshaper().reshape(text) if _ARABIC.search(text) else text


def visual(line: str) -> str:
    """One line of (shaped) text in the left-to-right order it is drawn in."""
    if not _RTL.search(line):
        return line
    from bidi import get_display

    return get_display(line)


def for_display(text: str) -> str:
    """A one-line value shaped and put into visual order (for text laid out as a unit)."""
    return visual(shape(text))


def width(text: str, base: str, size: float) -> float:
    """The width of ``text`` drawn run by run (see :func:`runs`)."""
    return sum(pdfmetrics.stringWidth(piece, face, size) for face, piece in runs(text, base))
