"""The shipped typefaces: where each font file is, and how ReportLab registers it.

Three parts of the service print text in the same faces: the forms (``docservice.rendering``),
the verification receipt and the archive's document card (ReportLab), and the signature
stamps (``signing``, through pyHanko and fontTools). They all find a font file with
:func:`font_file` and, for ReportLab, register it with :func:`register_family` under one
name per face, so a face is found one way and registered once per process.

Why a module of its own, below rendering, signing and verification: ``signing`` must not
depend on the renderer. ReportLab is imported only when something is registered, so the
signing adapter that merely needs a file path does not load it.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from docservice.resources import FONTS_DIR

#: The main family: Liberation Serif 2.x (SIL OFL), every Kazakh letter, metric twin of
#: Times New Roman.
REGULAR = "LiberationSerif"
BOLD = "LiberationSerif-Bold"
REGULAR_FILE = "LiberationSerif-Regular.ttf"
BOLD_FILE = "LiberationSerif-Bold.ttf"
#: Where a font not shipped with the service may be found (Debian's fonts-liberation2).
SYSTEM_DIRS = (Path("/usr/share/fonts/truetype/liberation2"),)


def font_file(name: str, override: str | os.PathLike[str] | None = None) -> Path:
    """The file of font ``name`` (e.g. ``LiberationSerif-Regular.ttf``).

    ``override`` (an operator's setting) wins when it is a file; then the shipped copy,
    then the system's. A missing font is an installation error, said at once.
    """
    candidates = [Path(override)] if override else []
    candidates += [FONTS_DIR / name, *(d / name for d in SYSTEM_DIRS)]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"font {name} not found (looked in {', '.join(str(c.parent) for c in candidates)})"
    )


@cache
def register_family(regular: str, regular_file: str, bold: str, bold_file: str) -> None:
    """Register a regular face and its bold with ReportLab, once per process.

    The family mapping lets ``<b>`` inside paragraph mark-up find the bold face.
    """
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(regular, str(font_file(regular_file))))
    if bold != regular:
        pdfmetrics.registerFont(TTFont(bold, str(font_file(bold_file))))
    addMapping(regular, 0, 0, regular)
    addMapping(regular, 1, 0, bold)
    addMapping(regular, 0, 1, regular)
    addMapping(regular, 1, 1, bold)


def register() -> str:
    """Register the main family with ReportLab (idempotent); the regular face's name."""
    register_family(REGULAR, REGULAR_FILE, BOLD, BOLD_FILE)
    return REGULAR
