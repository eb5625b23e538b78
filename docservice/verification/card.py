"""The document card (ДДК): a PDF whose embedded files are the signed document and its CMS.

As Kazakh tools read it (``sigex-kz/ddc``, spec ``kaarkz/ddcard``): only the embedded
files count; the **first** is the original, each further one a detached CMS of a signer.
A card is trusted only if every CMS checks against that first file, so each is verified
by the ordinary CMS verifier with the original as its detached content. The visible
pages are never read. When the original is itself a signed PDF, a CMS copied from one of
its signatures' ``/Contents`` covers the PDF's byte range, not the whole file: it is then
judged as that PDF signature.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from typing import Any

import pikepdf
from asn1crypto import cms
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import PdfFileReader

from docservice.sniff import looks_like_cms
from docservice.verification.cms import Assessor, parse_cms, verify_cms
from docservice.verification.limits import Limits, VerificationInputError, check_size
from docservice.verification.report import (
    DocumentFacts,
    DocumentFormat,
    SignatureKind,
    SignatureReport,
)


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes


@dataclass(frozen=True)
class Card:
    original: Attachment
    signatures: list[Attachment]


def _file_name(spec: pikepdf.Object, key: str) -> str:
    for entry in ("/UF", "/F"):
        value = spec.get(entry)
        if isinstance(value, pikepdf.String):
            return str(value)
    return key


def _bounded_bytes(stream: pikepdf.Stream, limit: int) -> bytes | None:
    """The decoded stream, never more than ``limit`` bytes of it (zip-bomb guard).

    Embedded files are stored plain or Flate-compressed; any other filter chain is not
    what a card's builder writes, and the file is then read as no card.
    """
    filters = stream.get("/Filter")
    chain = (
        []
        if filters is None
        else [str(f) for f in (filters if isinstance(filters, pikepdf.Array) else [filters])]
    )
    raw = stream.read_raw_bytes()
    if not chain:
        data = raw
    elif chain == ["/FlateDecode"] and stream.get("/DecodeParms") is None:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(raw, limit + 1)
        except zlib.error:
            return None
    else:
        return None
    if len(data) > limit:
        raise VerificationInputError(
            "too_large", status=413, detail=f"an embedded file exceeds {limit} bytes"
        )
    return data


def _stored_order(
    node: pikepdf.Object, most: int, depth: int = 0
) -> list[tuple[str, pikepdf.Object]]:
    """The name tree's entries in the order they are stored, which is the card's order.

    Not pikepdf's NameTree: it sorts the keys, and other tools' keys need not sort the way
    they are meant ("Attachement10" before "Attachement2").
    """
    if depth > 8:
        raise ValueError("name tree too deep")
    out: list[tuple[str, pikepdf.Object]] = []
    names = node.get("/Names")
    if names is not None:
        out += [(str(names[i]), names[i + 1]) for i in range(0, len(names) - 1, 2)]
    for kid in node.get("/Kids") or []:
        out += _stored_order(kid, most, depth + 1)
        if len(out) > most:
            break
    return out[:most]


def _embedded_at_least(node: Any, wanted: int, depth: int = 0) -> int:
    """How many entries the name tree at ``node`` holds, counted up to ``wanted``."""
    if depth > 8:
        return wanted  # too deep to tell here: read_card decides
    node = node.get_object()
    names = node.get("/Names")
    found = len(names.get_object()) // 2 if names is not None else 0
    for kid in (node.get("/Kids") or generic.ArrayObject()).get_object():
        if found >= wanted:
            break
        found += _embedded_at_least(kid, wanted - found, depth + 1)
    return found


def may_be_card(reader: PdfFileReader) -> bool:
    """False when the PDF ``reader`` reads cannot be a card: fewer than two embedded files.

    Why: every signed PDF the service makes is PDF/A-3 with its XML embedded, so telling
    it from a card took pikepdf opening the whole file again beside pyHanko's reader that
    verifies it (about 0.45 ms CPU for a signed ``direction`` here). The name tree's
    entries are counted in that reader instead (no embedded file is read; the tree's
    object stream is, about 0.3 ms), and only a file with at least two entries, or one
    whose tree cannot be read here, goes to :func:`read_card`, which alone decides what
    is a card (with fewer than two files it never finds one).
    """
    try:
        names = reader.root.get("/Names")
        tree = names.get_object().get("/EmbeddedFiles") if names is not None else None
        return tree is not None and _embedded_at_least(tree, 2) >= 2
    except Exception:  # only a probe: in doubt, read_card decides
        return True


def read_card(data: bytes, limits: Limits) -> Card | None:
    """The card's attachments in their stored order, or None when ``data`` is no card.

    A card has at least two embedded files, every one after the first a CMS.
    """
    budget = max(limits.max_original_bytes, int(len(data) * limits.pdf_decode_ratio))
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            names = pdf.Root.get("/Names")
            tree = names.get("/EmbeddedFiles") if names is not None else None
            if tree is None:
                return None
            files: list[Attachment] = []
            for key, spec in _stored_order(tree, limits.max_signatures + 2):
                if len(files) > limits.max_signatures:
                    raise VerificationInputError("too_many_signatures", status=422)
                stream = spec.EF.get("/UF") or spec.EF.get("/F")
                if not isinstance(stream, pikepdf.Stream):
                    return None
                limit = limits.max_original_bytes if not files else limits.max_file_bytes
                content = _bounded_bytes(stream, min(limit, budget))
                if not content:
                    return None
                budget -= len(content)
                files.append(Attachment(_file_name(spec, str(key)), content))
    except VerificationInputError:
        raise
    except (pikepdf.PdfError, AttributeError, KeyError, TypeError, ValueError):
        return None
    if len(files) < 2 or not all(looks_like_cms(f.data) for f in files[1:]):
        return None
    return Card(files[0], files[1:])


def _signed_part(info: cms.SignerInfo) -> bytes:
    part: bytes = info["signed_attrs"].dump() + info["signature"].dump()
    return part


def _pdf_signatures(
    original: bytes, assessor: Assessor, limits: Limits
) -> dict[bytes, SignatureReport]:
    """The original's own PDF signatures, by what their signature covers and its value.

    A card's copy of such a CMS may differ only in unsigned attributes (e.g. revocation
    values copied from the DSS) and in the certificates it carries.
    """
    from docservice.verification.pdf import verify_pdf

    try:
        reader = PdfFileReader(io.BytesIO(original), strict=False)
        values = [
            _signed_part(sig.signer_info)
            for sig in sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
            if sig.sig_object_type != "/DocTimeStamp"
        ]
    except (misc.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return {}  # not a readable signed PDF: its CMS are judged as detached ones
    if not values:
        return {}
    _, reports = verify_pdf(original, assessor, limits)
    signed = [r for r in reports if r.kind is SignatureKind.PDF_SIGNATURE]
    return dict(zip(values, signed, strict=False))


def verify_card(
    card: Card, data: bytes, assessor: Assessor, limits: Limits, file_name: str | None = None
) -> tuple[DocumentFacts, list[SignatureReport]]:
    """One report per embedded CMS, each checked against the first embedded file."""
    original = card.original.data
    check_size(original, limits.max_original_bytes, "original")
    facts = DocumentFacts(
        DocumentFormat.CARD,
        hashlib.sha256(data).hexdigest(),
        len(data),
        file_name,
        hashlib.sha256(original).hexdigest(),
    )
    in_pdf = _pdf_signatures(original, assessor, limits) if original.startswith(b"%PDF-") else {}
    reports: list[SignatureReport] = []
    for attachment in card.signatures:
        assessor.deadline.check()
        infos = parse_cms(attachment.data, field=attachment.name)["signer_infos"]
        value = _signed_part(infos[0]) if len(infos) == 1 else None
        if value in in_pdf:
            found = [in_pdf[value]]
        else:
            _, found = verify_cms(attachment.data, original, assessor, limits, attachment.name)
        for report in found:
            report.index = len(reports) + 1
            report.field_name = attachment.name
            reports.append(report)
    return facts, reports
