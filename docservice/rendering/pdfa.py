"""Turn ReportLab's PDF into PDF/A-3b with the document's XML as an associated file.

ReportLab has no PDF/A mode; with pikepdf this module adds the output intent and
XMP (what ``pikepdf.pdfa.prepare`` would add, see :func:`_declare_pdfa3b`), attaches
the XML (AFRelationship /Data, listed in the catalogue's /AF) and has pikepdf validate
the bytes it writes. This is the last whole-file rewrite: signing later only appends
incremental updates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import zlib
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from importlib.resources import files
from xml.sax.saxutils import escape

import pikepdf
import pikepdf.pdfa
from pikepdf import AttachedFileSpec, Name
from pikepdf.models.metadata import encode_pdf_date

from docservice.forms.kind import Attachment
from docservice.rendering.pdf import SignaturePlace
from docservice.signature_area import SIGNATURE_DEST
from docservice.ttl_cache import TtlCache

# ReportLab writes its streams uncompressed and qpdf compresses them here, at level 1:
# about a third of zlib's default cost for files ~6 % larger. The font programs come
# compressed at the same level (docservice.typefaces.SubsetCache) and are kept as they are.
FLATE_LEVEL = 1
pikepdf.settings.set_flate_compression_level(FLATE_LEVEL)

#: The XMP packet ``pikepdf.pdfa.prepare(pdf, "3b")`` writes for this renderer's documents
#: (title, language, metadata date, producer, PDF/A-3b identification), byte for byte.
_XMP_PACKET = """\
<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
    <rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" \
xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" rdf:about="">
      <dc:title>
        <rdf:Alt>
          <rdf:li xml:lang="x-default">{title}</rdf:li>
        </rdf:Alt>
      </dc:title>
      <dc:language>
        <rdf:Bag>
          <rdf:li>{lang}</rdf:li>
        </rdf:Bag>
      </dc:language>
      <xmp:MetadataDate>{date}</xmp:MetadataDate>
      <pdf:Producer>{producer}</pdf:Producer>
      <pdfaid:part>3</pdfaid:part>
      <pdfaid:conformance>B</pdfaid:conformance>
    </rdf:Description>
  </rdf:RDF>
</x:xmpmeta>

<?xpacket end="w"?>
"""
#: DocInfo entries with an XMP equivalent that the packet above leaves out.
_DOCINFO_DROPPED = (
    Name.Author,
    Name.Subject,
    Name.Keywords,
    Name.Creator,
    Name.CreationDate,
    Name.ModDate,
)


@cache
def _srgb_profile() -> bytes:
    """pikepdf's sRGB profile (the output intent ``prepare`` installs), compressed once."""
    icc = files("pikepdf.pdfa").joinpath("data", "sRGB.icc").read_bytes()
    return zlib.compress(icc, FLATE_LEVEL)


def _declare_pdfa3b(pdf: pikepdf.Pdf, title: str, lang: str) -> None:
    """Make the changes ``pikepdf.pdfa.prepare(pdf, "3b")`` makes to a document of this
    renderer, without its scans of the whole document (a seventh of the CPU of rendering
    a form): the sRGB output intent, the XMP packet and DocInfo in agreement with it.

    The embedded files already have their MIME type, /AFRelationship and /AF entry, and
    ReportLab writes no annotations, image interpolation, JavaScript or alternate
    presentations. ``tests/test_pdfa_conformance.py`` checks that ``prepare`` finds
    nothing left to do on every example.
    """
    profile = pikepdf.Stream(pdf, b"")
    profile.write(_srgb_profile(), filter=Name.FlateDecode)
    profile.N = 3
    intent = pikepdf.Dictionary(
        Type=Name.OutputIntent,
        S=Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String("sRGB"),
        Info=pikepdf.String("sRGB"),
        DestOutputProfile=profile,
    )
    pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])
    producer = f"pikepdf {pikepdf.__version__}"
    packet = _XMP_PACKET.format(
        title=escape(title),
        lang=escape(lang),
        date=dt.datetime.now(dt.UTC).isoformat(),
        producer=escape(producer),
    )
    pdf.Root.Metadata = pdf.make_stream(packet.encode(), Type=Name.Metadata, Subtype=Name.XML)
    info = pdf.docinfo
    for key in _DOCINFO_DROPPED:
        if key in info:
            del info[key]
    info.Title = pikepdf.String(title)
    info.Producer = pikepdf.String(producer)


def _name_signature_area(pdf: pikepdf.Pdf, place: SignaturePlace) -> None:
    """The named destination of the signature area, in a name tree of one leaf: the
    dictionary ``pikepdf.NameTree.new`` makes and fills, written directly (for one name
    there is no tree to balance; ``NameTree.new`` cost a seventh of the PDF/A pass)."""
    dest = pikepdf.Array([pdf.pages[place.page].obj, Name.FitR, *place.rect])
    names = pdf.Root.get(Name.Names)
    if names is None:
        pdf.Root.Names = names = pikepdf.Dictionary()
    leaf = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String(SIGNATURE_DEST), dest]))
    names.Dests = pdf.make_indirect(leaf)


def to_pdfa3(
    pdf_bytes: bytes,
    xml_bytes: bytes,
    xml_name: str,
    *,
    title: str,
    lang: str,
    created: dt.datetime,
    signature_place: SignaturePlace,
    validate: bool = True,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """Return PDF/A-3b bytes; raise :class:`pikepdf.pdfa.PdfaError` if they do not conform.

    ``attachments`` (evidence files) follow the XML as further associated files,
    each listed in the catalogue's /AF with its own relationship.
    """
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        _name_signature_area(pdf, signature_place)
        for page in pdf.pages:
            # ReportLab writes an empty /Trans (page transition) that PDF/A forbids.
            if Name.Trans in page.obj:
                del page.obj[Name.Trans]
        spec = AttachedFileSpec(
            pdf,
            xml_bytes,
            description="Document data (XML)",
            filename=xml_name,
            mime_type="text/xml",
            creation_date=encode_pdf_date(created),
            mod_date=encode_pdf_date(created),
            relationship=Name.Data,
        )
        pdf.attachments[xml_name] = spec
        associated = [spec.obj]
        for item in attachments:
            extra = AttachedFileSpec(
                pdf,
                item.data,
                description=item.description,
                filename=item.name,
                mime_type=item.mime_type,
                creation_date=encode_pdf_date(created),
                mod_date=encode_pdf_date(created),
                relationship=Name("/" + item.relationship),
            )
            pdf.attachments[item.name] = extra
            associated.append(extra.obj)
        pdf.Root.AF = pikepdf.Array(associated)
        pdf.Root.Lang = pikepdf.String(lang)
        _declare_pdfa3b(pdf, title, lang)
        out = io.BytesIO()
        if validate:
            pikepdf.pdfa.save(pdf, out, "3b")  # prepare (finding nothing to do), validate
        else:
            pdf.save(out, **pikepdf.pdfa.resolve_save_kwargs("3b"))
        return out.getvalue()


def validate(pdf: bytes) -> pikepdf.pdfa.Report:
    """The PDF/A-3b validation report of finished bytes (used by tests and the CLI)."""
    return pikepdf.pdfa.validate_written(io.BytesIO(pdf), "3b")


#: Longest string PDF/A-2/3 allow (ISO 19005-2, 6.1.13, table of implementation limits).
_MAX_STRING = 32767
#: Arrays longer than this are shaped by the set of their element shapes (page lists,
#: glyph widths), so that a document with one more page or glyph has the same shape.
_EXACT_ARRAY = 16


_DICTIONARY, _ARRAY, _NAME, _STREAM, _STRING = (
    pikepdf.ObjectType.dictionary,
    pikepdf.ObjectType.array,
    pikepdf.ObjectType.name_,
    pikepdf.ObjectType.stream,
    pikepdf.ObjectType.string,
)


def _shape(obj: object, top: bool = False) -> object:
    """An object reduced to what PDF/A structure depends on (see :func:`conforms`);
    a reference inside it counts as "a reference" (the target is shaped on its own).

    Dispatches on pikepdf's type code, one attribute read: a chain of ``isinstance``
    checks against pikepdf's Stream, Dictionary, Array... classes took 40 % longer.
    """
    if isinstance(obj, pikepdf.Object):
        if not top and obj.is_indirect:
            return "ref"
        code = obj._type_code
        if code is _DICTIONARY:
            return ("d", tuple(sorted([(key, _shape(obj.get(key))) for key in obj])))
        if code is _NAME:
            return str(obj)
        if code is _ARRAY:
            items = [_shape(item) for item in obj]
            if len(items) <= _EXACT_ARRAY:
                return ("a", tuple(items))
            return ("A", tuple(sorted(set(items), key=repr)), len(items) > 8191)
        if code is _STREAM:
            return ("stream", _shape(obj.stream_dict))
        if code is _STRING:
            return "s" if len(bytes(obj)) <= _MAX_STRING else "s!"
    if isinstance(obj, bool):
        return "b"
    if isinstance(obj, int):
        return "i" if -(2**31) <= obj < 2**31 else "i!"
    if isinstance(obj, (float, Decimal)):
        return "r" if abs(float(obj)) < 3.4e38 else "r!"
    return type(obj).__name__


class ShapeMemo:
    """Shapes of top-level objects by their serialisation, bounded (LRU), kept as the text
    :func:`shape_of` hashes (``repr`` of the shape).

    Why: shaping every object was most of :func:`shape_of`, and most objects (fonts with
    their widths, descriptors, the output intent, the resources) are written the same in
    every document of a kind. Sound because a shape is a function of the object's own
    content, which its serialisation spells out: names, string bytes, integers and reals
    (as written, so ``1`` and ``1.0`` differ), nesting and references (``n 0 R``).
    Objects longer than ``longest`` bytes are shaped each time, not kept. Why the text:
    writing out every shape of a document again (to sort and hash them) was a third of
    :func:`shape_of` once the shapes came from the memo.
    """

    def __init__(self, size: int = 2048, longest: int = 16384) -> None:
        self.size, self.longest = size, longest
        self._shapes: TtlCache[bytes, str] = TtlCache(max_entries=size)

    def shape(self, obj: object) -> str:
        """``repr(_shape(obj, top=True))``, from the memo when the same object was shaped."""
        if not isinstance(obj, pikepdf.Object):  # a null object comes as None
            return repr(_shape(obj, top=True))
        if obj._type_code is _STREAM:
            key = b"stream " + obj.stream_dict.unparse(resolved=True)
        else:
            key = obj.unparse(resolved=True)
        found = self._shapes.get(key)
        if found is not None:
            return found
        shape = repr(_shape(obj, top=True))
        if len(key) <= self.longest:
            self._shapes.put(key, shape, ttl=math.inf)
        return shape


SHAPES = ShapeMemo()


def shape_of(pdf_bytes: bytes, memo: ShapeMemo | None = SHAPES) -> str:
    """The document's structural fingerprint (hex SHA-256); see :func:`conforms`.

    ``memo``: where shapes of objects already seen are kept (None: shape every object).
    The fingerprint hashes the sorted, distinct shapes written out (``repr``).
    """
    shapes: set[str] = set()
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        trailer = pdf.trailer
        shapes.add(repr(("trailer", tuple(sorted(str(k) for k in trailer)), pdf.pdf_version)))
        for obj in pdf.objects:
            shapes.add(repr(_shape(obj, top=True)) if memo is None else memo.shape(obj))
    canonical = f"[{', '.join(sorted(shapes))}]".encode()
    return hashlib.sha256(canonical).hexdigest()


class ConformanceCache:
    """Shapes whose documents passed the full PDF/A-3b validation, bounded (LRU)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._passed: TtlCache[str, bool] = TtlCache(max_entries=size)
        self.full_checks = 0

    def known(self, shape: str) -> bool:
        return self._passed.get(shape) is not None

    def add(self, shape: str) -> None:
        self._passed.put(shape, True, ttl=math.inf)

    def clear(self) -> None:
        self._passed.clear()


CONFORMANCE = ConformanceCache()


def conforms(pdf: bytes, attempts: int = 3, cache: ConformanceCache | None = None) -> bool:
    """PDF/A-3b conformance of a document this renderer wrote: full validation once per
    document *shape*, a structural comparison afterwards.

    Why it is still sound: the renderer's output is a function of the kind, the
    language(s) and the data, and data reaches the file only as the text in content
    streams, the glyphs of the font subsets (from the same embedded TrueType files, with
    widths and ToUnicode written from the same program), numbers (positions, page
    count, widths), dates, and the bytes of the attached XML/evidence streams (PDF/A-3
    allows any associated file). Everything PDF/A constrains beyond that - which objects
    exist, their types, keys and names, fonts and their embedding, filters, colour
    spaces, annotations, actions, the metadata stream, the implementation limits on
    strings and numbers - is in :func:`shape_of`, so a document whose shape has passed
    pikepdf's full validator passes it too. Glyphs missing from every face (``.notdef``)
    are refused before rendering (:func:`docservice.render.check_printable`). A new
    shape (a fallback face, a third page, a new attachment, a forbidden key such as a
    page ``/Trans``) is validated in full before it is believed. The full validator
    runs on every rendered example in the tests (``tests/test_catalogue.py``).

    ``attempts``: pikepdf's validator records every warning raised in the process while
    it runs (``warnings.catch_warnings`` is process-wide), so in a threaded server a
    warning from another thread can fail a good document; a real violation is
    deterministic and fails every attempt.
    """
    cache = cache or CONFORMANCE
    shape = shape_of(pdf)
    if cache.known(shape):
        return True
    for _ in range(attempts):
        cache.full_checks += 1
        if validate(pdf).passed:
            cache.add(shape)
            return True
    return False
