"""The PDF/A-3b parts of a document, written by ReportLab in the same pass as the pages.

ReportLab has no PDF/A mode, but its document model takes any object in the catalogue.
:func:`declare` adds what PDF/A-3b asks of this renderer's documents beyond the pages:
the sRGB output intent, the XMP packet and the DocInfo in agreement with it, /Lang, the
document's XML (and evidence files) as associated files (/AF, /AFRelationship, the
/EmbeddedFiles name tree), the signature area's named destination; the page streams
compressed and without the empty /Trans ReportLab gives every page
(:class:`docservice.rendering.pdf.ContentCanvas`).

Why here and not by pikepdf afterwards: opening ReportLab's output with pikepdf and saving
it again parsed and rewrote the whole file once more, a tenth of rendering a form.
:func:`docservice.rendering.pdfa.validate` checks the result (the tests do on every kind,
the service once per document shape, :func:`docservice.rendering.pdfa.conforms`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import ClassVar
from xml.sax.saxutils import escape

import reportlab
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFCatalog,
    PDFDictionary,
    PDFDocument,
    PDFInfo,
    PDFName,
    PDFPage,
    PDFStream,
    PDFString,
    PDFText,
)

from docservice.forms.kind import Attachment
from docservice.signature_area import SIGNATURE_DEST

# zlib level 1 for the streams written here (page contents, attachments, the ICC profile):
# about a third of zlib's default cost for files ~6 % larger. The font programs come
# compressed at the same level (docservice.typefaces.SubsetCache).
FLATE_LEVEL = 1

#: Producer in the DocInfo and the XMP packet (they must agree).
PRODUCER = f"ReportLab {reportlab.Version} (docservice)"

#: The XMP packet (title, language, metadata date, producer, PDF/A-3b identification), in
#: the form ``pikepdf.pdfa.prepare`` writes it; ``tests/test_pdfa_conformance.py`` checks
#: that ``prepare`` finds nothing to change.
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


@dataclass(frozen=True)
class PdfaParts:
    """What :func:`declare` writes besides the pages. ``files``: the document's XML first
    (relationship Data), then evidence files, each listed in the catalogue's /AF."""

    title: str
    lang: str
    created: dt.datetime
    files: Sequence[Attachment]


class PdfaCatalog(PDFCatalog):
    """ReportLab's catalogue with the two PDF/A entries it does not know (/AF and
    /OutputIntents); ReportLab writes only the keys a catalogue class lists."""

    __NoDefault__: ClassVar[list[str]] = [*PDFCatalog.__NoDefault__, "AF", "OutputIntents"]
    # /Names written in the catalogue itself, as before: the signing step reads the
    # catalogue's entries with pyHanko's ``get``, which does not follow a reference.
    __Refs__: ClassVar[list[str]] = [k for k in __NoDefault__ if k != "Names"]


class PdfaInfo(PDFInfo):
    """The DocInfo of a PDF/A document: the title and the producer, as in the XMP packet.

    ReportLab's also writes author, subject, keywords, creator and dates; PDF/A would want
    each of them in the XMP as well, and nobody reads them."""

    def format(self, document: PDFDocument) -> bytes:
        entries = {
            "Title": PDFString(self.title),
            "Producer": PDFString(PRODUCER),
            "Trapped": PDFName("False"),
        }
        return PDFDictionary(entries).format(document)


def _name(text: str) -> str:
    """A PDF name; ReportLab's ``PDFName`` leaves ``/`` as it is (``text/xml``), which
    would end the name there."""
    return "/" + PDFName(text)[1:].replace("/", "#2F")


def _pdf_date(when: dt.datetime) -> str:
    """``D:YYYYMMDDHHmmSS+HH'mm'`` of an aware datetime (as pikepdf's ``encode_pdf_date``)."""
    offset = when.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"D:{when:%Y%m%d%H%M%S}{sign}{hours:02d}'{rest:02d}'"


@cache
def _srgb_profile() -> bytes:
    """pikepdf's sRGB profile (the output intent ``pikepdf.pdfa.prepare`` installs),
    compressed once."""
    icc = files("pikepdf.pdfa").joinpath("data", "sRGB.icc").read_bytes()
    return zlib.compress(icc, FLATE_LEVEL)


def compressed_stream(data: bytes, entries: dict[str, object] | None = None) -> PDFStream:
    """A stream of ``data`` compressed with Flate at :data:`FLATE_LEVEL`."""
    dictionary = PDFDictionary({**(entries or {}), "Filter": PDFName("FlateDecode")})
    return PDFStream(dictionary, zlib.compress(data, FLATE_LEVEL))


def _file_spec(doc: PDFDocument, item: Attachment, date: PDFString) -> PDFDictionary:
    """The file specification of an associated file, its embedded stream as pikepdf's
    ``AttachedFileSpec`` writes it (size, MD5 checksum, dates, MIME type)."""
    params = PDFDictionary(
        {
            "Size": len(item.data),
            "CheckSum": PDFText(hashlib.md5(item.data, usedforsecurity=False).digest(), "raw"),
            "CreationDate": date,
            "ModDate": date,
        }
    )
    stream = compressed_stream(
        item.data,
        {"Type": PDFName("EmbeddedFile"), "Subtype": _name(item.mime_type), "Params": params},
    )
    reference = doc.Reference(stream)
    return PDFDictionary(
        {
            "Type": PDFName("Filespec"),
            "F": PDFString(item.name),
            "UF": PDFString(item.name),
            "Desc": PDFString(item.description),
            "EF": PDFDictionary({"F": reference, "UF": reference}),
            "AFRelationship": PDFName(item.relationship),
        }
    )


def declare(
    doc: PDFDocument, parts: PdfaParts, page: PDFPage, rect: tuple[float, float, float, float]
) -> None:
    """Make ReportLab's ``doc`` (not yet written) a PDF/A-3b document; see the module.
    ``page`` and ``rect`` (l, b, r, t): the signature area's, its named destination."""
    catalog = PdfaCatalog()
    catalog.__dict__.update(doc.Catalog.__dict__)
    doc.Catalog = doc._catalog = catalog
    info = PdfaInfo()
    info.__dict__.update(doc.info.__dict__)
    doc.info = info
    # ReportLab's file identifier hashes the title and its invariant time stamp: the same
    # for every document of a kind unless the content goes into it too.
    for item in parts.files:
        doc.updateSignature(item.data)

    date = PDFString(_pdf_date(parts.created))
    specs = {item.name: doc.Reference(_file_spec(doc, item, date)) for item in parts.files}
    catalog.AF = PDFArray([specs[item.name] for item in parts.files])
    target = PDFArray([doc.Reference(page), "/FitR", *rect])
    catalog.Names = PDFDictionary(
        {
            "Dests": PDFDictionary({"Names": PDFArray([PDFString(SIGNATURE_DEST), target])}),
            # a name tree's keys are sorted
            "EmbeddedFiles": PDFDictionary(
                {
                    "Names": PDFArray(
                        [x for name in sorted(specs) for x in (PDFString(name), specs[name])]
                    )
                }
            ),
        }
    )
    catalog.Lang = PDFString(parts.lang)
    profile = doc.Reference(
        PDFStream(PDFDictionary({"N": 3, "Filter": PDFName("FlateDecode")}), _srgb_profile())
    )
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString("sRGB"),
            "Info": PDFString("sRGB"),
            "DestOutputProfile": profile,
        }
    )
    catalog.OutputIntents = PDFArray([doc.Reference(intent)])
    packet = _XMP_PACKET.format(
        title=escape(parts.title),
        lang=escape(parts.lang),
        date=dt.datetime.now(dt.UTC).isoformat(),
        producer=escape(PRODUCER),
    )
    catalog.Metadata = PDFStream(
        PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}), packet.encode()
    )
