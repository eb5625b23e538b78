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

import math
import os
import threading
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docservice.resources import FONTS_DIR
from docservice.ttl_cache import TtlCache

if TYPE_CHECKING:
    from reportlab.pdfbase.ttfonts import TTFont

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


#: zlib level of the embedded font programs: the level the PDF/A pass uses for the rest.
SUBSET_FLATE_LEVEL = 1
#: How many font programs (one per face and glyph sequence) are kept compressed.
SUBSET_CACHE_SIZE = 256


class SubsetCache:
    """Font subsets by (font file, glyph sequence): the compressed program and the
    formatted /Widths array, bounded (LRU).

    Why: cutting the subsets out of the TrueType files and compressing them (which the
    PDF/A pass did) was about an eighth of the CPU of rendering a one-page form, and
    formatting their widths another twentieth; documents of a kind whose data adds no
    new character share the glyph sequence of their static texts. Both depend only on
    the file and the sequence (ReportLab's ``makeSubset`` and ``getCharWidth`` read
    nothing else).
    """

    def __init__(self, size: int = SUBSET_CACHE_SIZE) -> None:
        self.size = size
        self._made: TtlCache[tuple[str, str, tuple[int, ...]], Any] = TtlCache(max_entries=size)
        self._lock = threading.Lock()  # for ``misses``
        self.misses = 0

    def _get(self, what: str, face: Any, subset: list[int], make: Callable[[], Any]) -> Any:
        key = (what, str(face.filename), tuple(subset))
        found = self._made.get(key)
        if found is not None:
            return found
        made = make()
        with self._lock:
            self.misses += 1
        self._made.put(key, made, ttl=math.inf)
        return made

    def program(self, face: Any, subset: list[int]) -> tuple[int, bytes]:
        """(length of the font program, its FlateDecode bytes) of ``subset`` of ``face``."""

        def make() -> tuple[int, bytes]:
            with _CUTTING:
                raw = face.makeSubset(subset)
            return len(raw), zlib.compress(raw, SUBSET_FLATE_LEVEL)

        return self._get("program", face, subset, make)  # type: ignore[no-any-return]

    def widths(self, face: Any, subset: list[int]) -> bytes:
        """The /Widths array of ``subset`` of ``face`` as ReportLab formats it."""
        from reportlab.pdfbase import pdfdoc

        def make() -> bytes:
            widths = pdfdoc.PDFArray([face.getCharWidth(code) for code in subset])
            return widths.format(None)

        return self._get("widths", face, subset, make)  # type: ignore[no-any-return]

    def unicode_map(self, face: Any, font_name: str, subset: list[int]) -> bytes:
        """The ToUnicode CMap of ``subset`` of ``face`` named ``font_name``, encoded as
        ReportLab encodes a stream's text."""
        from reportlab.pdfbase.ttfonts import makeToUnicodeCMap

        def make() -> bytes:
            return makeToUnicodeCMap(font_name, subset).encode("extpdfdoc")

        return self._get(f"cmap {font_name}", face, subset, make)  # type: ignore[no-any-return]


SUBSETS = SubsetCache()
#: One subset cut at a time: ReportLab's face reads its file through one shared position
#: (``seek``, then ``read_*``), so two threads cutting at once read each other's bytes
#: (a KeyError or IndexError, or a wrong font program). Cuts are rare: most are cached.
_CUTTING = threading.Lock()


@cache
def _caching_face() -> type:
    """ReportLab's TrueType face with ``addSubsetObjects`` taking the program from
    :data:`SUBSETS` (a class made on first use: ReportLab is imported only then)."""
    from reportlab.pdfbase import pdfdoc
    from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFontFace

    class CachingFace(TTFontFace):
        """Writes what ReportLab's ``addSubsetObjects`` writes (``FontFile2`` with
        ``Length1``, then the descriptor), only the program already FlateDecode-encoded."""

        def addSubsetObjects(self, doc: Any, fontname: str, subset: list[int]) -> Any:  # noqa: N802
            length, program = SUBSETS.program(self, subset)
            font_file = pdfdoc.PDFStream(content=program)
            font_file.dictionary["Length1"] = length
            # a name, not ReportLab's one-element array: qpdf keeps a stream as it is
            # (no recompression in the PDF/A pass) only when /Filter is the name /FlateDecode
            font_file.dictionary["Filter"] = pdfdoc.PDFName("FlateDecode")
            ref = doc.Reference(font_file, f"fontFile:{self.filename}({fontname})")
            descriptor = pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": self.ascent,
                    "CapHeight": self.capHeight,
                    "Descent": self.descent,
                    "Flags": (self.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                    "FontBBox": pdfdoc.PDFArray(self.bbox),
                    "FontName": pdfdoc.PDFName(fontname),
                    "ItalicAngle": self.italicAngle,
                    "StemV": self.stemV,
                    "FontFile2": ref,
                    "MissingWidth": self.defaultWidth,
                }
            )
            return doc.Reference(descriptor, "fontDescriptor:" + fontname)

    return CachingFace


#: The Kazakh and Russian letters, numbered in the regular face's first subset before a
#: document draws anything (see ``CachingFont.splitString``).
SEEDED_LETTERS = "".join(map(chr, [0x401, *range(0x410, 0x450), 0x451])) + "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
#: ``str.translate`` table entries that stop the fast path at a code point below 256 that
#: has no code yet (it then would pass ``encode("latin-1")`` as itself).
_UNASSIGNED = dict.fromkeys(range(256), "\u0100")


def _codes_of(state: Any) -> dict[int, str]:
    """The ``str.translate`` table of a subset state: each code point with a code in the
    first subset to that code, every other code point below 256 to a stop."""
    table = dict(_UNASSIGNED)
    table.update((point, chr(n)) for point, n in state.assignments.items() if n < 256)
    table[0xA0] = table[32]  # ReportLab draws a no-break space as the space
    return table


@cache
def _caching_font_class() -> type:
    """ReportLab's TrueType font with the /Widths of its subsets from :data:`SUBSETS`."""
    from reportlab.pdfbase import pdfdoc
    from reportlab.pdfbase.ttfonts import SUBSETN, TTFont

    class Formatted(pdfdoc.PDFObject):
        """A PDF object already formatted."""

        def __init__(self, data: bytes) -> None:
            self.data = data

        def format(self, document: Any) -> bytes:
            return self.data

    class CachingFont(TTFont):
        #: letters numbered first in every document (:data:`SEEDED_LETTERS` or none)
        seed = ""

        def splitString(  # noqa: N802 - ReportLab's name
            self, text: str | bytes, doc: Any, encoding: str = "utf-8"
        ) -> list[tuple[int, bytes]]:
            """ReportLab's ``splitString`` (the subset codes of ``text``, numbering new
            characters as they come), with the seed numbered first and a fast path.

            Why the seed: ReportLab numbers a face's glyphs in the order a document first
            draws them, so every new name gave the regular face another glyph sequence,
            and the subset cache a miss (cutting and compressing a font program). With
            the Kazakh and Russian letters numbered first, every document in these
            letters and ASCII (which ReportLab numbers first the same way) has one subset.
            Why the fast path: the loop over characters was a twentieth of rendering a
            form; text whose characters all have a code in the first subset is coded by
            ``str.translate`` with the document's table, which learns each new code.
            """
            state: Any = self.state.get(doc)
            table = getattr(state, "docservice_codes", None)
            if table is None:
                state = self._assignState(doc)  # type: ignore[attr-defined] # not in the stubs
                if self.seed:
                    super().splitString(self.seed, doc)
                table = state.docservice_codes = _codes_of(state)
            if isinstance(text, bytes):
                text = text.decode(encoding)
            try:
                return [(0, text.translate(table).encode("latin-1"))] if text else []
            except UnicodeEncodeError:  # a character without a code in the first subset
                pass
            parts: list[tuple[int, bytes]] = super().splitString(text, doc, encoding)
            for point in map(ord, set(text)):
                n = state.assignments.get(point)
                if n is not None and n < 256:
                    table[point] = chr(n)
            return parts

        def addObjects(self, doc: Any) -> None:  # noqa: N802 - ReportLab's name
            """ReportLab's ``addObjects`` (a font dictionary per subset, named by the
            subset), with each subset's /Widths array and ToUnicode CMap made once per
            glyph sequence (:data:`SUBSETS`): with the seed, the same in every document."""
            state = self.state.get(doc)
            if state is None:
                readable = self._asciiReadable  # type: ignore[attr-defined] # not in the stubs
                state = self.state[doc] = TTFont.State(readable)
            state.frozen = 1
            fonts = doc.idToObject["BasicFonts"].dict
            face: Any = self.face
            for n, subset in enumerate(state.subsets):
                internal = self.getSubsetInternalName(n, doc)[1:]
                parts = (SUBSETN(n), b"+", face.name, face.subfontNameX)
                base = b"".join(parts).decode("pdfdoc")
                font: Any = pdfdoc.PDFTrueTypeFont()
                font.__Comment__ = f"Font {self.fontName} subset {n}"
                font.Name = internal
                font.BaseFont = base
                font.FirstChar = 0
                font.LastChar = len(subset) - 1
                font.Widths = Formatted(SUBSETS.widths(face, subset))
                cmap = pdfdoc.PDFStream(content=SUBSETS.unicode_map(face, base, subset))
                if doc.compression:
                    cmap.filters = [pdfdoc.PDFZCompress]
                font.ToUnicode = doc.Reference(cmap, "toUnicodeCMap:" + base)
                font.FontDescriptor = face.addSubsetObjects(doc, base, subset)
                doc.Reference(font, internal)
                fonts[internal] = font
            del self.state[doc]

    return CachingFont


def _caching_font(name: str, path: str, seed: str = "") -> TTFont:
    """A ReportLab TrueType font whose subsets come from :data:`SUBSETS`; ``seed``: the
    letters numbered first in every document."""
    font = _caching_font_class()(name, path)
    font.face.__class__ = _caching_face()
    font.seed = seed
    return font  # type: ignore[no-any-return]


@cache
def register_family(
    regular: str, regular_file: str, bold: str, bold_file: str, seed: str = ""
) -> None:
    """Register a regular face and its bold with ReportLab, once per process.

    The family mapping lets ``<b>`` inside paragraph mark-up find the bold face. ``seed``:
    the letters numbered first in the regular face (the bold prints the forms' own
    texts, the same letters in every document).
    """
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics

    pdfmetrics.registerFont(_caching_font(regular, str(font_file(regular_file)), seed))
    if bold != regular:
        pdfmetrics.registerFont(_caching_font(bold, str(font_file(bold_file))))
    addMapping(regular, 0, 0, regular)
    addMapping(regular, 1, 0, bold)
    addMapping(regular, 0, 1, regular)
    addMapping(regular, 1, 1, bold)


def register() -> str:
    """Register the main family with ReportLab (idempotent); the regular face's name."""
    register_family(REGULAR, REGULAR_FILE, BOLD, BOLD_FILE, SEEDED_LETTERS)
    return REGULAR
