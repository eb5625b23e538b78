"""Turn ReportLab's PDF into PDF/A-3b with the document's XML as an associated file.

ReportLab has no PDF/A mode; pikepdf adds the output intent and XMP, attaches
the XML (AFRelationship /Data, listed in the catalogue's /AF) and validates the
bytes it writes. This is the last whole-file rewrite: signing later only appends
incremental updates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import pikepdf
import pikepdf.pdfa
from pikepdf import AttachedFileSpec, Name
from pikepdf.models.metadata import encode_pdf_date

from docservice.forms.kind import Attachment
from docservice.rendering.pdf import SignaturePlace
from docservice.signature_area import SIGNATURE_DEST

# ReportLab writes its streams uncompressed and qpdf compresses them all here, at
# level 1: about a third of zlib's default cost for files ~6 % larger.
pikepdf.settings.set_flate_compression_level(1)


def _name_signature_area(pdf: pikepdf.Pdf, place: SignaturePlace) -> None:
    dest = pikepdf.Array([pdf.pages[place.page].obj, Name.FitR, *place.rect])
    names = pdf.Root.get(Name.Names)
    if names is None:
        pdf.Root.Names = names = pikepdf.Dictionary()
    tree = pikepdf.NameTree.new(pdf)
    tree[SIGNATURE_DEST] = dest
    names.Dests = tree.obj


def to_pdfa3(pdf_bytes: bytes, xml_bytes: bytes, xml_name: str, *, title: str, lang: str,
             created: dt.datetime, signature_place: SignaturePlace,
             validate: bool = True, attachments: Sequence[Attachment] = ()) -> bytes:
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
        spec = AttachedFileSpec(pdf, xml_bytes, description="Document data (XML)",
                                filename=xml_name, mime_type="text/xml",
                                creation_date=encode_pdf_date(created),
                                mod_date=encode_pdf_date(created), relationship=Name.Data)
        pdf.attachments[xml_name] = spec
        associated = [spec.obj]
        for item in attachments:
            extra = AttachedFileSpec(pdf, item.data, description=item.description,
                                     filename=item.name, mime_type=item.mime_type,
                                     creation_date=encode_pdf_date(created),
                                     mod_date=encode_pdf_date(created),
                                     relationship=Name("/" + item.relationship))
            pdf.attachments[item.name] = extra
            associated.append(extra.obj)
        pdf.Root.AF = pikepdf.Array(associated)
        pdf.Root.Lang = pikepdf.String(lang)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
            meta["dc:language"] = [lang]
        out = io.BytesIO()
        if validate:
            pikepdf.pdfa.save(pdf, out, "3b")
        else:
            pikepdf.pdfa.prepare(pdf, "3b")
            pdf.save(out, **pikepdf.pdfa.resolve_save_kwargs("3b"))
        return out.getvalue()


def validate(pdf: bytes) -> pikepdf.pdfa.Report:
    """The PDF/A-3b validation report of finished bytes (used by tests and the CLI)."""
    return pikepdf.pdfa.validate_written(io.BytesIO(pdf), "3b")
