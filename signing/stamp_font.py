"""The stamp font: subset once per process, embedded once per document.

Why: pyHanko's ``GlyphAccumulatorFactory`` parses the TTF, subsets it to the glyphs of
*this* stamp and re-encodes the font program for every signature (~90 ms of a ~120 ms
visible signature), and every signer of a document embeds another copy. A stamp only
ever shows Kazakh, Russian and Latin text, digits and punctuation, so the font is
subset **once per process** to that fixed repertoire (which therefore never lacks a glyph
a stamp needs), together with its widths, ToUnicode CMap and compressed program. Per
document, the first signer embeds that font; later signers find it in the earlier
signature appearances (same name *and* same program bytes) and reference it.

Text is shaped with HarfBuzz on the subset itself, so every glyph it produces is in the
embedded program and the ``/W`` widths are that program's advance widths (PDF/A).
"""

from __future__ import annotations

import functools
import hashlib
import io
import threading
import zlib
from dataclasses import dataclass

import uharfbuzz as hb
from fontTools import subset, ttLib
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.font.opentype import _format_cid_glyphline_from_buffer
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.pdf_utils.xref import ObjectStream

#: Code points a stamp may contain: Basic Latin, Latin-1, all of Cyrillic (Kazakh and
#: Russian letters), general punctuation (dashes, quotes, ellipsis), №, ₸.
REPERTOIRE: tuple[range, ...] = (
    range(0x20, 0x7F),
    range(0xA0, 0x100),
    range(0x400, 0x500),
    range(0x2010, 0x2045),
    range(0x2116, 0x2117),
    range(0x20B8, 0x20B9),
)
KAZAKH_LETTERS = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
#: What the font must cover, or it is refused (a stamp must never show a missing glyph).
REQUIRED = (
    KAZAKH_LETTERS
    + "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,:;/()-№«»…"
)
_ENCODING = "Identity-H"
#: Shaped lines kept per font program (a few per signer; the time line is always new).
_SHAPED_LINES = 4096


@dataclass(frozen=True)
class StampFontProgram:
    """Everything about the subset font that does not depend on the document."""

    postscript_name: str
    program: bytes
    program_sha256: bytes
    compressed_program: bytes
    compressed_to_unicode: bytes
    widths: tuple[tuple[int, int], ...]
    units_per_em: int
    ascent: int
    descent: int
    bbox: tuple[int, int, int, int]
    cap_height: int
    italic_angle: float
    stem_v: int
    covered: frozenset[int]

    @functools.cached_property
    def hb_font(self) -> hb.Font:
        return hb.Font(hb.Face(self.program))

    @functools.cached_property
    def width_of(self) -> dict[int, int]:
        return dict(self.widths)

    @functools.cached_property
    def shaped(self) -> dict[tuple[str, float], ShapeResult]:
        """Lines already shaped, by text and font size (see :meth:`StampFontEngine.shape`)."""
        return {}

    @functools.cached_property
    def widths_array(self) -> generic.ArrayObject:
        """``/W``; one shared instance, only ever written, never changed."""
        return _widths_array(self.widths)

    @property
    def base_font(self) -> str:
        return f"/{self.postscript_name}-{_ENCODING}"


_PROGRAMS: dict[str, StampFontProgram] = {}
_PROGRAMS_LOCK = threading.Lock()


def stamp_font_program(font_path: str) -> StampFontProgram:
    """The subset program for ``font_path``, built on first use in this process."""
    with _PROGRAMS_LOCK:
        found = _PROGRAMS.get(font_path)
        if found is None:
            found = _PROGRAMS[font_path] = _build(font_path)
    return found


def _build(font_path: str) -> StampFontProgram:
    font = ttLib.TTFont(font_path)
    cmap = font.getBestCmap()
    missing = [ch for ch in REQUIRED if ord(ch) not in cmap]
    if missing:
        raise ValueError(f"stamp font {font_path} lacks {''.join(missing)!r}")
    wanted = [cp for block in REPERTOIRE for cp in block if cp in cmap]
    options = subset.Options(
        layout_closure=False,
        retain_gids=True,
        notdef_outline=True,
        name_IDs=["*"],
        name_languages=["*"],
    )
    options.drop_tables += ["GPOS", "GDEF", "GSUB", "FFTM"]
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    program = buf.getvalue()
    font = ttLib.TTFont(io.BytesIO(program))  # read back what is embedded
    digest = hashlib.sha256(program).digest()
    ps_name = next(r.toUnicode() for r in font["name"].names if r.nameID == 6)
    # A subset tag of 6 capitals, derived from the program: same bytes, same name.
    tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
    order, hmtx = font.getGlyphOrder(), font["hmtx"].metrics
    gid_of = {name: gid for gid, name in enumerate(order)}
    to_unicode: dict[int, int] = {}
    for cp in wanted:  # repertoire order: Latin before look-alike Cyrillic duplicates
        gid = gid_of[font.getBestCmap()[cp]] if cp in font.getBestCmap() else 0
        if gid:
            to_unicode.setdefault(gid, cp)
    used = sorted({0, *to_unicode})
    head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
    return StampFontProgram(
        postscript_name=f"{tag}+{ps_name}",
        program=program,
        program_sha256=digest,
        compressed_program=zlib.compress(program, 9),
        compressed_to_unicode=zlib.compress(_to_unicode_cmap(to_unicode), 9),
        widths=tuple((gid, hmtx[order[gid]][0]) for gid in used),
        units_per_em=head.unitsPerEm,
        ascent=hhea.ascent,
        descent=hhea.descent,
        bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        cap_height=getattr(os2, "sCapHeight", 700),
        italic_angle=float(getattr(font["post"], "italicAngle", 0)),
        stem_v=int(10 + 220 * (os2.usWeightClass - 50) / 900),
        covered=frozenset(wanted),
    )


def _to_unicode_cmap(to_unicode: dict[int, int]) -> bytes:
    """ToUnicode CMap for the whole repertoire (CID = GID, Identity-H)."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    pairs = sorted(to_unicode.items())
    for start in range(0, len(pairs), 100):
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{gid:04X}> <{cp:04X}>" for gid, cp in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _name(value: str) -> generic.NameObject:
    return generic.NameObject(value)


class StampFontEngine(FontEngine):
    """pyHanko font engine over a :class:`StampFontProgram` (no per-signature subsetting)."""

    def __init__(
        self,
        writer: BasePdfFileWriter,
        program: StampFontProgram,
        font_size: int,
        obj_stream: ObjectStream | None = None,
    ) -> None:
        super().__init__(
            writer,
            program.postscript_name.split("+", 1)[1],
            embedded_subset=True,
            obj_stream=obj_stream,
            font_size=font_size,
        )
        self.program = program
        self.subset_prefix = program.postscript_name.split("+", 1)[0]
        self._existing = find_embedded(writer, program)
        self._font_ref = self._existing or writer.allocate_placeholder()
        self._written = self._existing is not None

    def shape(self, txt: str) -> ShapeResult:
        """``txt`` shaped with HarfBuzz, remembered per text and size in the program.

        Why: a signer's stamp repeats the same lines (heading, name, IIN, organisation,
        certificate) at every signature, and shaping them was a tenth of a signature;
        the result depends only on the text, the font program and the size.
        """
        key = (txt, self.font_size)
        shaped = self.program.shaped
        found = shaped.get(key)
        if found is None:
            found = self._shape(txt)
            if len(shaped) >= _SHAPED_LINES:
                shaped.clear()
            shaped[key] = found
        return found

    def _shape(self, txt: str) -> ShapeResult:
        if not txt:
            return ShapeResult(b"", 0, 0)
        buf = hb.Buffer()
        buf.add_str(txt)
        buf.guess_segment_properties()
        hb.shape(self.program.hb_font, buf)
        widths = self.program.width_of
        ops, (total_x, total_y) = _format_cid_glyphline_from_buffer(
            buf,
            cid_width_callback=lambda gid: (gid, widths.get(gid, 0)),
            units_per_em=self.program.units_per_em,
            font_size=self.font_size,
            vertical=False,
        )
        # /ActualText keeps the exact string searchable and copyable.
        props = generic.DictionaryObject({_name("/ActualText"): generic.TextStringObject(txt)})
        out = io.BytesIO()
        out.write(b"/Span ")
        props.write_to_stream(out)
        out.write(b" BDC " + ops + b" EMC")
        upem = self.program.units_per_em
        return ShapeResult(out.getvalue(), total_x / upem, total_y / upem)

    def as_resource(self) -> generic.IndirectObject:
        return self._font_ref

    def prepare_write(self) -> None:
        """Embed the font in this revision, unless an earlier signer already did."""
        if self._written:
            return
        p, writer = self.program, self.writer
        font_file = generic.StreamObject(
            {
                _name("/Filter"): _name("/FlateDecode"),
                _name("/Length1"): generic.NumberObject(len(p.program)),
            },
            encoded_data=p.compressed_program,
        )
        descriptor = generic.DictionaryObject(
            {
                _name("/Type"): _name("/FontDescriptor"),
                _name("/FontName"): _name("/" + p.postscript_name),
                _name("/Flags"): generic.NumberObject(0b110),
                _name("/FontBBox"): generic.ArrayObject(generic.NumberObject(v) for v in p.bbox),
                _name("/ItalicAngle"): generic.FloatObject(p.italic_angle),
                _name("/Ascent"): generic.NumberObject(p.ascent),
                _name("/Descent"): generic.NumberObject(p.descent),
                _name("/CapHeight"): generic.NumberObject(p.cap_height),
                _name("/StemV"): generic.NumberObject(p.stem_v),
                _name("/FontFile2"): writer.add_object(font_file),
            }
        )
        cid_font = generic.DictionaryObject(
            {
                _name("/Type"): _name("/Font"),
                _name("/Subtype"): _name("/CIDFontType2"),
                _name("/BaseFont"): _name("/" + p.postscript_name),
                _name("/CIDSystemInfo"): generic.DictionaryObject(
                    {
                        _name("/Registry"): generic.pdf_string("Adobe"),
                        _name("/Ordering"): generic.pdf_string("Identity"),
                        _name("/Supplement"): generic.NumberObject(0),
                    }
                ),
                _name("/CIDToGIDMap"): _name("/Identity"),
                _name("/FontDescriptor"): writer.add_object(descriptor, self.obj_stream),
                _name("/W"): p.widths_array,
            }
        )
        to_unicode = generic.StreamObject(
            {_name("/Filter"): _name("/FlateDecode")}, encoded_data=p.compressed_to_unicode
        )
        type0 = generic.DictionaryObject(
            {
                _name("/Type"): _name("/Font"),
                _name("/Subtype"): _name("/Type0"),
                _name("/BaseFont"): _name(p.base_font),
                _name("/Encoding"): _name("/" + _ENCODING),
                _name("/DescendantFonts"): generic.ArrayObject(
                    [writer.add_object(cid_font, self.obj_stream)]
                ),
                _name("/ToUnicode"): writer.add_object(to_unicode),
            }
        )
        writer.add_object(type0, self.obj_stream, idnum=self._font_ref.idnum)
        self._written = True


def _widths_array(widths: tuple[tuple[int, int], ...]) -> generic.ArrayObject:
    """``/W`` as runs of consecutive CIDs: ``c [w1 w2 ...] ...``."""
    out = generic.ArrayObject()
    run: list[int] = []
    first = prev = -2
    for gid, width in widths:
        if run and gid != prev + 1:
            out += [
                generic.NumberObject(first),
                generic.ArrayObject(map(generic.NumberObject, run)),
            ]
            run = []
        if not run:
            first = gid
        run.append(width)
        prev = gid
    if run:
        out += [generic.NumberObject(first), generic.ArrayObject(map(generic.NumberObject, run))]
    return out


def find_embedded(
    writer: BasePdfFileWriter, program: StampFontProgram
) -> generic.IndirectObject | None:
    """Our Type0 font as an earlier signer's stamp embedded it, if any.

    Matched by ``/BaseFont`` and then by the decoded program's SHA-256, so a foreign font
    that merely has the same name is never used.
    """
    form = _get_dict(writer.root, "/AcroForm")
    if form is None:
        return None
    for field_ref in _get_array(form, "/Fields") or ():
        appearance = _get_dict(field_ref.get_object(), "/AP")
        if appearance is None or "/N" not in appearance:
            continue
        found = _find_in_resources(appearance.raw_get("/N"), program, depth=3)
        if found is not None:
            return found
    return None


def _get(container: generic.PdfObject, key: str) -> generic.PdfObject | None:
    """``container[key]`` dereferenced, or None (``dict.get`` keeps indirect refs)."""
    if not isinstance(container, generic.DictionaryObject) or key not in container:
        return None
    value: generic.PdfObject = container[key]
    return value


def _get_dict(container: generic.PdfObject, key: str) -> generic.DictionaryObject | None:
    """:func:`_get` where only a dictionary is of use (anything else counts as absent)."""
    value = _get(container, key)
    return value if isinstance(value, generic.DictionaryObject) else None


def _get_array(container: generic.PdfObject, key: str) -> generic.ArrayObject | None:
    """:func:`_get` where only an array is of use (anything else counts as absent)."""
    value = _get(container, key)
    return value if isinstance(value, generic.ArrayObject) else None


def _find_in_resources(
    ref: generic.PdfObject, program: StampFontProgram, depth: int
) -> generic.IndirectObject | None:
    xobj = ref.get_object()
    if not isinstance(xobj, generic.StreamObject) or depth < 0:
        return None
    resources = _get_dict(xobj, "/Resources")
    if resources is None:
        return None
    for font_ref in (_get_dict(resources, "/Font") or {}).values():
        if isinstance(font_ref, generic.IndirectObject) and _is_ours(font_ref, program):
            return font_ref
    for child in (_get_dict(resources, "/XObject") or {}).values():
        found = _find_in_resources(child, program, depth - 1)
        if found is not None:
            return found
    return None


def _is_ours(font_ref: generic.IndirectObject, program: StampFontProgram) -> bool:
    font = font_ref.get_object()
    if not isinstance(font, generic.DictionaryObject) or (
        _get(font, "/BaseFont") != generic.NameObject(program.base_font)
    ):
        return False
    try:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        data = descriptor["/FontFile2"].get_object().data
    except (KeyError, IndexError, TypeError):
        return False
    return hashlib.sha256(data).digest() == program.program_sha256


@dataclass(frozen=True)
class StampFontFactory(FontEngineFactory):
    """Drop-in for ``GlyphAccumulatorFactory`` in a stamp's ``TextBoxStyle``."""

    font_path: str
    font_size: int = 10

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: ObjectStream | None = None
    ) -> StampFontEngine:
        return StampFontEngine(
            writer, stamp_font_program(self.font_path), self.font_size, obj_stream
        )
