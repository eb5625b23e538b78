"""Visible signature stamps: where each signer's stamp goes and what it says.

The renderer reserves a signature area on the last page and names it with the PDF
destination ``docservice-signatures`` (``/FitR`` page left bottom right top). The area is
cut into 2 columns x 2 rows; signer *k* (counting signatures already in the file) takes
slot *k*. Decisions for the rest:

* No such destination (a foreign PDF): the same 2 x 2 grid on a band at the bottom of the
  last page.
* More than four signers: compact stamps (QR, name, IIN, role, time) in a 4-column grid
  on the bottom band of the last page, rows stacking upwards. The route has four
  officials, so this is for exceptional extra signers; such stamps may cover page content
  and the PDF cannot grow a page without breaking a certification (adding pages is not a
  permitted change). In a *certified* file no visible field may be added at all, so there
  the certifying signer pre-creates the four slot fields and a fifth signature is
  invisible (see :func:`signing.pdf._choose_field`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import qrcode
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.qr import PdfStreamQRImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter, init_xobject_dictionary
from pyhanko.stamp import QRStamp, QRStampStyle, TextStampStyle
from qrcode import base as qrcode_base
from qrcode import exceptions as qrcode_exceptions
from qrcode import util as qrcode_util

from docservice.pki.person import Person
from docservice.signature_area import SIGNATURE_DEST, SIGNATURE_HINT_BAND
from docservice.typefaces import REGULAR_FILE, font_file
from signing.stamp_font import StampFontFactory

if TYPE_CHECKING:  # qrcode's default image: Pillow's, or pure-Python PNG without Pillow
    from qrcode.image.pil import PilImage
    from qrcode.image.pure import PyPNGImage

# fontTools reports every table it drops while subsetting (e.g. FFTM) as a warning.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

#: Full-size slots in the signature area (2 columns x 2 rows).
SLOTS = 4
FONT_ENV = "DOCSERVICE_STAMP_FONT"
#: Kazakhstan has one time zone (UTC+5) since March 2024.
KZ_TIME = dt.timezone(dt.timedelta(hours=5))
_BAND_MARGIN = 28.0
_BAND_ROW = 80.0
_OVERFLOW_ROW = 56.0
_PAD = 3.0
#: Kept free at the top of the renderer's area, where ``SignatureArea`` draws its hint
#: line inside the dashed box; ``_PAD`` adds the gap.
AREA_TOP_INSET = SIGNATURE_HINT_BAND

Rect = tuple[float, float, float, float]


def stamp_font() -> str:
    """Path of the TTF used in stamps: must embed and cover every Kazakh letter."""
    return _at_1000_upem(font_file(REGULAR_FILE, os.environ.get(FONT_ENV)))


_SCALED_LOCK = threading.Lock()


def _at_1000_upem(source: Path) -> str:
    """A copy of ``source`` scaled to 1000 units per em (cached on disk).

    Why: pyHanko 0.38 writes the CIDFont ``/W`` widths in the font's own units, which are
    only right for 1000-unit fonts; Liberation uses 2048, so text would be spread out and
    widths would contradict the embedded program (a PDF/A violation).
    """
    stat = source.stat()
    found = _scaled_copy(str(source), stat.st_mtime_ns, stat.st_size)
    if not Path(found).is_file():  # the temporary copy was cleaned away
        _scaled_copy.cache_clear()
        found = _scaled_copy(str(source), stat.st_mtime_ns, stat.st_size)
    return found


@functools.lru_cache(maxsize=16)
def _scaled_copy(source: str, mtime_ns: int, size: int) -> str:
    """:func:`_at_1000_upem` for one version of the file, once per process.

    Why cached: opening the font to read its units per em was about a twentieth of a
    visible signature, done again for every signature.
    """
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    with TTFont(source, lazy=True) as probe:
        if probe["head"].unitsPerEm == 1000:
            return source
    tag = hashlib.sha256(f"{source}:{mtime_ns}:{size}".encode()).hexdigest()
    target = Path(tempfile.gettempdir()) / "docservice-fonts" / f"{tag[:16]}-{Path(source).name}"
    with _SCALED_LOCK:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            font = TTFont(source)
            scale_upem(font, 1000)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            font.save(str(tmp))
            os.replace(tmp, target)
    return str(target)


@dataclass(frozen=True)
class Placement:
    """Page (0-based) and box of one stamp; ``compact`` for overflow stamps."""

    page: int
    box: Rect
    compact: bool = False


def _page_refs(writer: BasePdfFileWriter) -> list[generic.IndirectObject]:
    """References to the pages in document order."""
    refs: list[generic.IndirectObject] = []

    def walk(node_ref: generic.IndirectObject) -> None:
        node = node_ref.get_object()
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            for kid in node["/Kids"]:
                walk(kid)
        else:
            refs.append(node_ref)

    walk(writer.root.raw_get("/Pages"))
    return refs


def _lookup_name_tree(node: generic.DictionaryObject, key: str) -> generic.PdfObject | None:
    if "/Names" in node:
        names = node["/Names"]
        for i in range(0, len(names) - 1, 2):
            if str(names[i]) == key:
                value: generic.PdfObject = names[i + 1]
                return value
    for kid in node.get("/Kids", ()):
        found = _lookup_name_tree(kid.get_object(), key)
        if found is not None:
            return found
    return None


def named_area(
    writer: BasePdfFileWriter, pages: list[generic.IndirectObject] | None = None
) -> tuple[int, Rect] | None:
    """The renderer's signature area (page index, rect) or None when absent/unusable.

    ``pages``: :func:`_page_refs` of ``writer`` when the caller has them already.
    """
    root = writer.root
    dest: generic.PdfObject | None = None
    names = root.get("/Names")
    if names is not None and "/Dests" in names:
        dest = _lookup_name_tree(names["/Dests"], SIGNATURE_DEST)
    if dest is None and "/Dests" in root:
        dest = root["/Dests"].get("/" + SIGNATURE_DEST)
    if isinstance(dest, generic.DictionaryObject):
        dest = dest.get("/D")
    if not isinstance(dest, generic.ArrayObject) or len(dest) != 6 or dest[1] != "/FitR":
        return None
    page_ref = dest.raw_get(0)
    if not isinstance(page_ref, generic.IndirectObject):
        return None
    numbers = [ref.idnum for ref in (pages if pages is not None else _page_refs(writer))]
    if page_ref.idnum not in numbers:
        return None
    left, bottom, right, top = (float(dest[i]) for i in range(2, 6))
    return numbers.index(page_ref.idnum), (left, bottom, right, top)


def stamp_area(area: Rect) -> Rect:
    """The part of the named area that stamps may cover (below its hint line)."""
    left, bottom, right, top = area
    return (left, bottom, right, top - AREA_TOP_INSET)


def _grid(area: Rect, index: int, cols: int, rows: int) -> Rect:
    left, bottom, right, top = area
    w, h = (right - left) / cols, (top - bottom) / rows
    col, row = index % cols, index // cols
    x0, y1 = left + col * w, top - row * h
    return (x0 + _PAD, y1 - h + _PAD, x0 + w - _PAD, y1 - _PAD)


def placement(writer: BasePdfFileWriter, existing: int) -> Placement:
    """Where the stamp of the signer after ``existing`` signatures goes."""
    pages = _page_refs(writer)  # one walk of the page tree for both look-ups
    last = len(pages) - 1
    page_obj = pages[last].get_object()
    media = [float(v) for v in page_obj.get("/MediaBox", (0, 0, 595.28, 841.89))]
    band_left, band_right = media[0] + _BAND_MARGIN, media[2] - _BAND_MARGIN
    area = named_area(writer, pages)
    if existing < SLOTS:
        if area is not None:
            return Placement(area[0], _grid(stamp_area(area[1]), existing, 2, 2))
        bottom = media[1] + _BAND_MARGIN
        band = (band_left, bottom, band_right, bottom + 2 * _BAND_ROW)
        return Placement(last, _grid(band, existing, 2, 2))
    extra = existing - SLOTS
    row, col = divmod(extra, 4)
    bottom = media[1] + _BAND_MARGIN + row * _OVERFLOW_ROW
    band = (band_left, bottom, band_right, bottom + _OVERFLOW_ROW)
    return Placement(last, _grid(band, col, 4, 1), compact=True)


def stamp_text(
    identity: Person, role: str | None, signed_at: dt.datetime, compact: bool = False
) -> str:
    """The stamp's lines, Kazakh / Russian; '%' escaped for pyHanko's interpolation."""
    kk_role, ru_role = identity.role_label(role)
    when = signed_at.astimezone(KZ_TIME).strftime("%Y-%m-%d %H:%M:%S (UTC+5)")
    lines = ["ЭЦҚ қойылды / Подписано ЭЦП", identity.full_name, f"ЖСН / ИИН: {identity.iin}"]
    if identity.organisation and not compact:
        lines += [_shorten(identity.organisation, 48), f"БСН / БИН: {identity.bin}"]
    if kk_role:
        lines.append(f"{kk_role} / {ru_role}")
    lines.append(when)
    if not compact:
        lines.append(f"Сертификат №: {identity.serial_hex}")
    return "\n".join(lines).replace("%", "%%")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stamp_style(font_path: str, compact: bool = False, qr: bool = True) -> TextStampStyle:
    """QR code on the left, text on the right; the font is subset-embedded (PDF/A).

    The font is subset once per process to the stamp repertoire and embedded once per
    document (:mod:`signing.stamp_font`), not subset again for every signature. Without
    ``qr`` (no public URL of the service is configured) the stamp is the text alone.
    """
    font = StampFontFactory(font_path, font_size=10)
    text = TextBoxStyle(font=font, font_size=10, leading=12)
    if not qr:
        return TextStampStyle(
            stamp_text="%(signer)s", text_box_style=text, border_width=1, background=None
        )
    return StampStyle(
        stamp_text="%(signer)s",
        text_box_style=text,
        border_width=1,
        background=None,
        innsep=2 if compact else 3,
    )


#: The QR mask pattern of every stamp (ISO/IEC 18004, 7.8.2). Why fixed: ``qrcode`` tries
#: all eight masks in pure Python and scores each (~13 ms, half of a B-B signature);
#: every mask gives a standard symbol any reader decodes (the mask is in the format
#: information), and for verification URLs pattern 2 is the one the scoring itself picks
#: for nearly all of them (lowest average penalty). ``tests/signing/test_stamp_qr.py``
#: decodes the stamps' symbols with an independent reader (ZXing).
QR_MASK = 2


def qr_code(url: str) -> qrcode.QRCode[PilImage | PyPNGImage]:
    """The stamp's QR symbol for ``url`` (level M, mask :data:`QR_MASK`).

    The same symbol as ``qrcode``'s ``make``, but the codewords are collected in one
    integer and placed through the version's precomputed :class:`_Layout`: ``qrcode``
    writes them a bit at a time and, for every symbol, draws the finder, timing and
    format patterns again and walks the matrix for the free modules (together a tenth
    of a visible signature, and every document has a new URL).
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=QR_MASK)
    qr.add_data(url)
    shape = tuple((segment.mode, len(segment)) for segment in qr.data_list)
    version = _VERSIONS.get(shape)
    if version is None:
        version = _VERSIONS[shape] = qr.best_fit()
    qr.version = version
    qr.data_cache = _codewords(version, qr.data_list)
    qr.modules = _layout(version).filled(qr.data_cache)
    qr.modules_count = len(qr.modules)
    return qr


#: The symbol version (size) for the segments' modes and lengths, which alone decide it.
#: Why: ``qrcode``'s own search encodes the data once more, bit by bit, only to count the
#: bits; a service's verification URLs all have the same shape, so it is searched once.
_VERSIONS: dict[tuple[tuple[int, int], ...], int] = {}


class _Bits:
    """A bit buffer in one integer, for ``QRData.write`` (``qrcode``'s appends a bit at a
    time to a list)."""

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length

    def __len__(self) -> int:
        return self.length

    @property
    def buffer(self) -> list[int]:
        """The bits as bytes (what ``qrcode_util.create_bytes`` reads), the last one
        padded with zeros."""
        pad = -self.length % 8
        return list((self.value << pad).to_bytes((self.length + pad) // 8, "big"))


def _codewords(version: int, data_list: list[qrcode_util.QRData]) -> list[int]:
    """``qrcode_util.create_data`` at level M: the segments, terminator, padding to whole
    bytes and pad codewords (ISO/IEC 18004, 7.4.9), then the error-correction codewords."""
    level = qrcode.constants.ERROR_CORRECT_M
    bits = _Bits()
    for data in data_list:
        bits.put(data.mode, 4)
        bits.put(len(data), qrcode_util.length_in_bits(data.mode, version))
        data.write(bits)  # type: ignore[arg-type]  # duck-typed buffer: put() only
    rs_blocks = qrcode_base.rs_blocks(version, level)
    bit_limit = sum(block.data_count * 8 for block in rs_blocks)
    if len(bits) > bit_limit:
        raise qrcode_exceptions.DataOverflowError(
            f"Code length overflow. Data size ({len(bits)}) > size available ({bit_limit})"
        )
    bits.put(0, min(bit_limit - len(bits), 4))
    bits.put(0, -len(bits) % 8)
    for i in range((bit_limit - len(bits)) // 8):
        bits.put(qrcode_util.PAD1 if i % 2 else qrcode_util.PAD0, 8)
    codewords: list[int] = qrcode_util.create_bytes(bits, rs_blocks)  # type: ignore[arg-type]  # duck-typed buffer
    return codewords


@dataclass(frozen=True)
class _Layout:
    """One version's symbol without data (level M, mask :data:`QR_MASK`), row-major.

    ``blank``: the function patterns, format and version information, and every data
    module as the mask makes a zero bit; ``order``: the data modules' indices in the
    order the codeword bits are placed (ISO/IEC 18004, 7.7.3).
    """

    size: int
    blank: tuple[bool, ...]
    order: tuple[int, ...]

    def filled(self, codewords: list[int]) -> list[list[bool | None]]:
        """The modules with ``codewords`` placed; bits beyond them stay zero (remainder)."""
        flat: list[bool | None] = list(self.blank)
        bits = format(int.from_bytes(bytes(codewords), "big"), f"0{8 * len(codewords)}b")
        for index, bit in zip(self.order, bits, strict=False):
            if bit == "1":
                flat[index] = not flat[index]
        n = self.size
        return [flat[row : row + n] for row in range(0, n * n, n)]


class _LayoutProbe(qrcode.QRCode):  # type: ignore[type-arg]  # never drawn: no image type
    """``qrcode``'s own symbol construction, noting which modules it leaves for data."""

    free: list[list[bool]]

    def map_data(self, data: Sequence[int], mask_pattern: int) -> None:
        self.free = [[module is None for module in row] for row in self.modules]
        super().map_data(data, mask_pattern)


#: Layouts by version, built on first use; equal values if two threads build one at once.
_LAYOUTS: dict[int, _Layout] = {}


def _layout(version: int) -> _Layout:
    found = _LAYOUTS.get(version)
    if found is None:
        found = _LAYOUTS[version] = _build_layout(version)
    return found


def _build_layout(version: int) -> _Layout:
    """The layout from ``qrcode`` itself: its symbol with no data, and the free modules
    visited in its placement walk (two columns at a time, upwards and downwards in turn,
    skipping the vertical timing pattern)."""
    probe = _LayoutProbe(
        version=version,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        mask_pattern=QR_MASK,
    )
    probe.data_cache = []
    probe.makeImpl(False, QR_MASK)
    n, free = probe.modules_count, probe.free
    order: list[int] = []
    row, step = n - 1, -1
    for right in range(n - 1, 0, -2):
        col = right - 1 if right <= 6 else right
        while 0 <= row < n:
            order += [row * n + c for c in (col, col - 1) if free[row][c]]
            row += step
        row -= step
        step = -step
    blank = tuple(bool(module) for line in probe.modules for module in line)
    return _Layout(n, blank, tuple(order))


def qr_drawing(qr: qrcode.QRCode[PilImage | PyPNGImage]) -> bytes:
    """The symbol's dark modules as PDF drawing commands, one rectangle per run in a row.

    The same coordinate system as pyHanko's :class:`PdfStreamQRImage` (its header, one
    unit a module, quiet zone included), but a row's adjacent dark modules are one
    ``x y w 1 re`` instead of ``w`` unit squares: a third of the operators to write and
    compress, the same picture. The rows are searched for runs as one byte string (a
    zero byte after each row ends its last run), all rectangles are written by one
    formatting operation, and the header is made once per size.
    """
    width = len(qr.modules) + 1
    try:  # a finished symbol's modules are all booleans
        matrix = b"\x00".join(map(bytes, qr.modules)) + b"\x00"  # type: ignore[arg-type]  # bool rows
    except TypeError:  # a module left None (never drawn): light
        matrix = b"".join(bytes(map(bool, row)) + b"\x00" for row in qr.modules)
    numbers: list[int] = []
    for start, end in map(re.Match.span, _DARK_RUN.finditer(matrix)):
        numbers += (start % width, start // width, end - start)
    runs = b"%d %d %d 1 re\n" * (len(numbers) // 3) % tuple(numbers)
    return b"%s\n%sf" % (_qr_header(qr.border, qr.modules_count, qr.box_size), runs)


@functools.lru_cache(maxsize=64)
def _qr_header(border: int, modules_count: int, box_size: int) -> bytes:
    """pyHanko's :class:`PdfStreamQRImage` header (colours, the module grid's matrix)."""
    header: bytes = PdfStreamQRImage(
        border, modules_count, box_size, qrcode_modules=[]
    ).setup_drawing_area()
    return header


_DARK_RUN = re.compile(b"\x01+")


@functools.lru_cache(maxsize=256)
def _qr_commands(url: str) -> tuple[bytes, int]:
    """The QR drawing commands for ``url`` and their size, computed once per URL
    (every signer of a document shows the same verification URL)."""
    qr = qr_code(url)
    return qr_drawing(qr), (qr.modules_count + 2 * qr.border) * qr.box_size


class _Stamp(QRStamp):
    """pyHanko's QR stamp with the QR code's commands from :func:`_qr_commands`."""

    def _qr_xobject(self) -> tuple[generic.IndirectObject, int]:
        if self.style.qr_inner_content is not None:
            fancy: tuple[generic.IndirectObject, int] = super()._qr_xobject()  # type: ignore[no-untyped-call]  # unannotated in pyHanko
            return fancy
        writer = self.writer
        if writer is None:  # pyHanko gives every stamp its writer before drawing it
            raise ValueError("the stamp has no PDF writer")
        commands, size = _qr_commands(self.url)
        xobj = init_xobject_dictionary(commands, size, size)
        xobj.compress()
        return writer.add_object(xobj), size


@dataclass(frozen=True)
class StampStyle(QRStampStyle):
    """:class:`QRStampStyle` whose stamps reuse the QR code of the document's URL."""

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, object]
    ) -> QRStamp:
        url = text_params.pop("url", None)
        if not isinstance(url, str):
            raise layout.LayoutError("a QR stamp needs the 'url' text parameter")
        return _Stamp(writer, style=self, url=url, text_params=text_params, box=box)
