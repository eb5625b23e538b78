"""The document card (ДДК) of a signed document, as Kazakh tools read it.

A PDF/A-3b whose embedded files are, in this order, the original document and one
detached CMS per signer sorted by the ``genTime`` of its signature time-stamp, with
readable UTF-8 names. The visible part (an information page, then one page per
signature, in Kazakh and Russian) is informative only: the attachments carry the legal
weight, which is why every CMS is verified against the original before a card is made,
and why a card is refused for a CMS without a time-stamp or without revocation values
close to it (OCSP ``thisUpdate`` within 5 minutes of ``genTime``, or a CRL valid then).
See ``shared/FIELD-NOTES.md``, "The document card".
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pikepdf
import pikepdf.pdfa
from asn1crypto import cms, core, crl, ocsp, x509
from pikepdf import AttachedFileSpec, Name
from pikepdf.models.metadata import encode_pdf_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from docservice.pki.roles import eku_label
from docservice.rendering import fonts
from docservice.sniff import MIME_TYPES, sniff
from docservice.texts import texts_for
from docservice.timefmt import utc_text
from docservice.verification import Verifier
from docservice.verification.card import Attachment, Card, verify_card
from docservice.verification.cms import Assessor
from docservice.verification.limits import Deadline
from docservice.verification.report import Indication, SignerFacts
from signing.cades import embedded_ocsp, revocation_values
from signing.cms_util import (
    REVOCATION_VALUES_OID,
    RevocationValues,
    add_unsigned_attribute,
    copy_signed,
    load_cms,
    to_der,
    unsigned_attributes,
)

#: ГОСТ Р 7.0.97 margins the card notes give: left 30, top 20, right 10, bottom 20 mm.
MARGINS = {"left": 30 * mm, "top": 20 * mm, "right": 10 * mm, "bottom": 20 * mm}
OCSP_WINDOW = dt.timedelta(minutes=5)
LANGS = ("kk", "ru")


class CardError(ValueError):
    """A card cannot be made: the message names the signature and the reason."""


@dataclass
class CardSignature:
    """What one signature page shows, and the attachment it describes."""

    file_name: str
    der: bytes
    signer: SignerFacts
    key_usage: list[str]
    signed_at: dt.datetime
    tsa: str
    tst_serial: str
    tst_policy: str
    ocsp_status: str
    ocsp_this_update: dt.datetime | None
    ocsp_produced: dt.datetime | None
    ocsp_responder: str
    crl_issuer: str | None


def _cert_of(signed: cms.SignedData, info: cms.SignerInfo) -> x509.Certificate | None:
    sid = info["sid"]
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            if (
                cert.serial_number == sid.chosen["serial_number"].native
                and cert.issuer == sid.chosen["issuer"]
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None


def _timestamp(info: cms.SignerInfo, where: str) -> tuple[cms.SignedData, object]:
    for attr in unsigned_attributes(info):
        if attr["type"].native == "signature_time_stamp_token":
            token = attr["values"][0]["content"]
            return token, token["encap_content_info"]["content"].parsed
    raise CardError(
        f"{where}: no signature time-stamp (unsigned attribute 1.2.840.113549.1.9.16.2.14)"
    )


def _crls(info: cms.SignerInfo) -> list:
    found = []
    for attr in unsigned_attributes(info):
        if attr["type"].dotted == REVOCATION_VALUES_OID:
            values = RevocationValues.load(attr["values"][0].dump())
            if not isinstance(values["crl_vals"], core.Void):
                found.extend(values["crl_vals"])
    return found


def describe_signature(
    der: bytes, signer: SignerFacts, file_name: str, where: str
) -> CardSignature:
    """The time-stamp and revocation facts of one CMS; refuses what a card may not hold."""
    signed = load_cms(der)
    info = signed["signer_infos"][0]
    cert = _cert_of(signed, info)
    token, tst = _timestamp(info, where)
    gen_time = tst["gen_time"].native
    tsa_info = token["signer_infos"][0]
    tsa_cert = _cert_of(token, tsa_info)
    tsa = (
        tsa_cert.subject.human_friendly
        if tsa_cert is not None
        else (tst["tsa"].chosen.human_friendly if tst["tsa"].native else "")
    )
    status = responder = ""
    this_update = produced = None
    for basic in embedded_ocsp(info):
        data = basic["tbs_response_data"]
        for single in data["responses"]:
            if cert is None or single["cert_id"]["serial_number"].native == cert.serial_number:
                status = single["cert_status"].name
                this_update = single["this_update"].native
                produced = data["produced_at"].native
                rid = data["responder_id"]
                responder = (
                    rid.chosen.human_friendly if rid.name == "by_name" else rid.chosen.native.hex()
                )
    crl_issuer = None
    if this_update is None or abs(this_update - gen_time) > OCSP_WINDOW:
        valid = [
            c
            for c in _crls(info)
            if c["tbs_cert_list"]["this_update"].native
            <= gen_time
            <= (c["tbs_cert_list"]["next_update"].native or gen_time)
        ]
        if not valid:
            raise CardError(
                f"{where}: no OCSP response within 5 minutes of the time-stamp "
                f"({gen_time.isoformat()}) and no CRL valid at it"
            )
        crl_issuer = valid[0]["tbs_cert_list"]["issuer"].human_friendly
    usage = []
    if cert is not None:
        usage = sorted(cert.key_usage_value.native) if cert.key_usage_value else []
        for purpose in cert.extended_key_usage_value or []:
            meaning = eku_label(purpose.dotted)
            usage.append(
                f"{purpose.dotted} ({meaning.kk} / {meaning.ru})" if meaning else purpose.dotted
            )
    policy = tst["policy"].dotted
    return CardSignature(
        file_name,
        der,
        signer,
        usage,
        gen_time,
        tsa,
        format(tst["serial_number"].native, "x"),
        policy,
        status,
        this_update,
        produced,
        responder,
        crl_issuer,
    )


def signature_file_name(stem: str, number: int, signer: SignerFacts) -> str:
    """``<document>.<n>.<Surname Name>.cms``: readable, distinct, no path separators."""
    who = (signer.full_name or signer.common_name or signer.iin or "signer").strip()
    who = "".join("_" if c in '/\\:*?"<>|' else c for c in who)
    return f"{stem}.{number}.{who}.cms"


# The visible part -----------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    face = fonts.register()
    base = ParagraphStyle("body", fontName=face, fontSize=10, leading=12.5)
    return {
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=fonts.BOLD,
            fontSize=14,
            leading=17,
            alignment=1,
            spaceAfter=4 * mm,
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=base,
            fontName=fonts.BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=3 * mm,
            spaceAfter=2 * mm,
        ),
        "body": base,
        "label": ParagraphStyle("label", parent=base, fontName=fonts.BOLD, fontSize=9, leading=11),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
    }


def _both(key: str, sep: str = " / ", **params: object) -> str:
    return sep.join(texts_for(lang).get("card", key, **params) for lang in LANGS)


def _when(moment: dt.datetime | None) -> str:
    return utc_text(moment, empty="—")


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _table(rows: list[tuple[str, str]], st: dict[str, ParagraphStyle], width: float) -> Table:
    data = [[_p(k, st["label"]), _p(v, st["body"])] for k, v in rows]
    table = Table(data, colWidths=[width * 0.34, width * 0.66])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR),  # not Helvetica
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#999999"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


class _NumberedCanvas(Canvas):
    """Draws "page n of N" on every page from the second, once N is known."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            if number > 1:
                self.setFont(fonts.REGULAR, 8)
                self.drawRightString(
                    A4[0] - MARGINS["right"],
                    MARGINS["bottom"] / 2,
                    _both("page", page=number, total=total),
                )
            super().showPage()
        super().save()


def _render(
    title: str,
    system: str,
    created: dt.datetime,
    original_name: str,
    signatures: list[CardSignature],
) -> bytes:
    st = _styles()
    width = A4[0] - MARGINS["left"] - MARGINS["right"]
    story: list = [_p(_both("title", "\n"), st["title"])]
    story.append(
        _table(
            [
                (_both("document_title"), title),
                (_both("created"), created.isoformat(timespec="seconds")),
                (_both("system"), system),
            ],
            st,
            width,
        )
    )
    story.append(_p(_both("contents") + ":", st["heading"]))
    story.append(_p("1. " + _both("contents_info"), st["body"]))
    for n, sig in enumerate(signatures, start=1):
        story.append(
            _p(
                f"{n + 1}. " + _both("signature", index=n) + " — " + sig.signer.full_name,
                st["body"],
            )
        )
    story.append(_p(_both("attachments") + ":", st["heading"]))
    rows = [("1. " + _both("original"), original_name)]
    rows += [
        (f"{n}. " + _both("cms", signer=s.signer.full_name), s.file_name)
        for n, s in enumerate(signatures, start=2)
    ]
    story.append(_table(rows, st, width))
    story.append(Spacer(1, 3 * mm))
    for lang in LANGS:
        texts = texts_for(lang)
        story.append(_p(texts.get("card", "checked", count=len(signatures)), st["small"]))
        story.append(_p(texts.get("card", "how_to_verify"), st["small"]))
        story.append(Spacer(1, 2 * mm))
    for n, sig in enumerate(signatures, start=1):
        s = sig.signer
        cert = s.certificate
        story += [PageBreak(), _p(_both("signature", index=n), st["heading"])]
        rows = [
            (_both("signer"), s.full_name or s.common_name),
            (_both("iin"), s.iin or "—"),
            (_both("organisation"), s.organisation or "—"),
            (_both("bin"), s.bin or "—"),
        ]
        if cert is not None:
            rows += [
                (_both("serial"), cert.serial_hex),
                (
                    _both("validity"),
                    _both(
                        "validity_range",
                        "\n",
                        start=_when(cert.not_before),
                        end=_when(cert.not_after),
                    ),
                ),
                (_both("issuer"), cert.issuer),
            ]
        rows += [
            (_both("policies"), "\n".join(f"{p.oid} — {p.kk} / {p.ru}" for p in s.policies) or "—"),
            (_both("key_usage"), ", ".join(sig.key_usage) or "—"),
            (_both("signing_time"), _when(sig.signed_at)),
            (
                _both("tsp"),
                _both(
                    "tsp_details",
                    "\n",
                    time=_when(sig.signed_at),
                    tsa=sig.tsa or "—",
                    serial=sig.tst_serial,
                    policy=sig.tst_policy,
                ),
            ),
            (
                _both("ocsp"),
                _both(
                    "ocsp_details",
                    "\n",
                    status=sig.ocsp_status or "—",
                    this_update=_when(sig.ocsp_this_update),
                    produced=_when(sig.ocsp_produced),
                    responder=sig.ocsp_responder or "—",
                )
                + (f"\nCRL: {sig.crl_issuer}" if sig.crl_issuer else ""),
            ),
            (_both("file"), sig.file_name),
        ]
        story.append(_table(rows, st, width))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=title,
        author=system,
        creator="docservice",
        lang="kk",
        invariant=1,
        pageCompression=0,
        initialFontName=fonts.REGULAR,
        leftMargin=MARGINS["left"],
        rightMargin=MARGINS["right"],
        topMargin=MARGINS["top"],
        bottomMargin=MARGINS["bottom"],
    )
    doc.build(story, canvasmaker=_NumberedCanvas)
    return buf.getvalue()


def _pdfa(
    pdf_bytes: bytes,
    title: str,
    created: dt.datetime,
    files: list[tuple[str, bytes, str, str, Name]],
) -> bytes:
    """PDF/A-3b with ``files`` embedded in this order (name-tree keys sort the same way)."""
    stamp = encode_pdf_date(created)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            if Name.Trans in page.obj:  # ReportLab's empty /Trans, forbidden by PDF/A
                del page.obj[Name.Trans]
        tree = pikepdf.NameTree.new(pdf)
        specs = []
        for number, (name, data, mime, description, relationship) in enumerate(files):
            spec = AttachedFileSpec(
                pdf,
                data,
                description=description,
                filename=name,
                mime_type=mime,
                creation_date=stamp,
                mod_date=stamp,
                relationship=relationship,
            )
            tree[f"{number:04d}"] = spec.obj
            specs.append(spec.obj)
        if Name.Names not in pdf.Root:
            pdf.Root.Names = pikepdf.Dictionary()
        pdf.Root.Names.EmbeddedFiles = tree.obj
        pdf.Root.AF = pikepdf.Array(specs)
        pdf.Root.Lang = pikepdf.String("kk")
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
            meta["dc:language"] = list(LANGS)
        out = io.BytesIO()
        pikepdf.pdfa.save(pdf, out, "3b")
        return out.getvalue()


def _mime(data: bytes) -> str:
    kind = sniff(data)
    return MIME_TYPES[kind] if kind in ("pdf", "xml") else "application/octet-stream"


def build_card(
    original: bytes,
    original_name: str,
    signatures: Sequence[bytes],
    verifier: Verifier,
    *,
    title: str,
    system: str = "docservice",
    created: dt.datetime | None = None,
) -> bytes:
    """The ДДК of ``original`` signed by ``signatures`` (DER, PEM or Base64 detached CMS,
    or CMS taken from the original PDF's own signatures: see :func:`cms_of_signed_pdf`).

    Raises :class:`CardError` when a signature does not verify against the original or
    lacks the time-stamp and revocation evidence a card must carry.
    """
    if not signatures:
        raise CardError("a card needs at least one signature")
    created = created or dt.datetime.now(dt.UTC).astimezone()
    stem = original_name.rsplit(".", 1)[0] or "document"
    ders = [to_der(load_cms(raw)) for raw in signatures]
    signers = _verify_each(original, original_name, ders, verifier)
    described = [
        describe_signature(der, signer, "", f"signature {number}")
        for number, (der, signer) in enumerate(zip(ders, signers, strict=True), 1)
    ]
    described.sort(key=lambda s: s.signed_at)
    for number, sig in enumerate(described, start=1):
        sig.file_name = signature_file_name(stem, number, sig.signer)
    pdf = _render(title, system, created, original_name, described)
    files = [(original_name, original, _mime(original), _both("original"), Name.Source)]
    files += [
        (
            s.file_name,
            s.der,
            "application/pkcs7-signature",
            _both("cms", signer=s.signer.full_name),
            Name.Supplement,
        )
        for s in described
    ]
    return _pdfa(pdf, title, created, files)


def _verify_each(
    original: bytes, original_name: str, ders: list[bytes], verifier: Verifier
) -> list[SignerFacts]:
    """Verify every CMS the way a reader of the card will (the reader's own code)."""
    limits = verifier.config.limits
    assessor = Assessor(verifier.chains, dt.datetime.now(dt.UTC), Deadline(limits.max_seconds))
    card = Card(
        Attachment(original_name, original),
        [Attachment(f"{n}.cms", der) for n, der in enumerate(ders, start=1)],
    )
    _, reports = verify_card(card, b"", assessor, limits)
    signers = []
    for number, sig in enumerate(reports, start=1):
        if sig.indication is not Indication.TOTAL_PASSED or sig.signer is None:
            reasons = "; ".join(r.ru for r in sig.reasons) or sig.sub_indication or "?"
            raise CardError(
                f"signature {number} does not verify against {original_name}: "
                f"{sig.indication.value} ({reasons})"
            )
        signers.append(sig.signer)
    return signers


def _dss_revocation(reader) -> tuple[list[ocsp.OCSPResponse], list[crl.CertificateList]]:
    dss = reader.root.get("/DSS")
    if dss is None:
        return [], []
    dss = dss.get_object()
    return (
        [ocsp.OCSPResponse.load(r.get_object().data) for r in dss.get("/OCSPs", [])],
        [crl.CertificateList.load(r.get_object().data) for r in dss.get("/CRLs", [])],
    )


def cms_of_signed_pdf(pdf: bytes) -> list[bytes]:
    """The CMS of each signature of a signed PDF (its ``/Contents``), in revision order.

    PAdES keeps revocation data in the document security store, not in the CMS; a card's
    CMS must carry it itself, so the DSS responses about each signer are added as the
    unsigned revocation-values attribute (unsigned: the signature value is untouched,
    and the card's reader matches it to the PDF's signature by that value).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    ocsps, crls = _dss_revocation(reader)
    out = []
    for sig in sorted(reader.embedded_signatures, key=lambda s: s.signed_revision):
        if sig.sig_object_type == "/DocTimeStamp":
            continue
        signed = copy_signed(sig.signed_data)
        info = signed["signer_infos"][0]
        has_values = any(
            a["type"].dotted == REVOCATION_VALUES_OID for a in unsigned_attributes(info)
        )
        serial = sig.signer_cert.serial_number
        mine = [
            r
            for r in ocsps
            if r["response_status"].native == "successful"
            and any(
                s["cert_id"]["serial_number"].native == serial
                for s in r["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]
            )
        ]
        if not has_values and (mine or crls):
            add_unsigned_attribute(info, REVOCATION_VALUES_OID, revocation_values(mine, crls))
        out.append(to_der(signed))
    return out
