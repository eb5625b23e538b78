"""PAdES levels, four officials in a row with certification, stamps, PDF/A after signing."""

from __future__ import annotations

import hashlib
import io
import re

import pikepdf
import pikepdf.pdfa
import pypdf
import pytest
import qrcode
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.cms_util import timestamp_info
from signing.pdf import Level, PdfOptions, document_id, sign_pdf, verify_url
from tests.pki import OFFICIALS, stranger_root
from tests.pyhanko_oracle import all_valid, pyhanko_pdf_statuses
from tests.qr import modules_of

#: What pikepdf 10.17's allowlist PDF/A validator cannot check in *any* signed file:
#: it does not support /AcroForm (every signature field lives there), DocMDP /Perms or
#: the PAdES /DSS, and once the catalogue holds such a key it no longer recognises the
#: PDF/A-3 associated file either. These are "unsupported", never "violation".
UNCHECKABLE = re.compile(r"pikepdf:(schema-Catalog|embedded-file)$")


def _pdfa_findings(data: bytes) -> list[pikepdf.pdfa.Finding]:
    return list(pikepdf.pdfa.validate_written(io.BytesIO(data), "3b").findings)


def _assert_still_pdfa(original: bytes, signed: bytes) -> None:
    assert signed.startswith(original)  # incremental: the PDF/A-3b bytes are untouched
    assert pikepdf.pdfa.validate_written(io.BytesIO(original), "3b").passed
    findings = _pdfa_findings(signed)
    assert all(f.kind == "unsupported" and UNCHECKABLE.match(f.rule) for f in findings), findings


@pytest.fixture(scope="module")
def signed_levels(rendered, officials, pki, trust) -> dict[Level, bytes]:
    options = {"tsa_url": pki.tsa_url, "trust": trust}
    return {
        level: sign_pdf(
            rendered.pdf, officials["career"], PdfOptions(level=level, certify=True, **options)
        )
        for level in Level
    }


@pytest.mark.parametrize("level", list(Level))
def test_each_level_validates_against_explicit_roots(signed_levels, trust, level) -> None:
    data = signed_levels[level]
    (status,) = pyhanko_pdf_statuses(data, trust)
    assert status.bottom_line and status.intact and status.trusted
    assert status.docmdp_ok
    assert (status.timestamp_validity is not None) == (level.rank >= Level.B_T.rank)
    if status.timestamp_validity is not None:
        assert status.timestamp_validity.valid and status.timestamp_validity.trusted
    reader = PdfFileReader(io.BytesIO(data))
    assert ("/DSS" in reader.root) == (level.rank >= Level.B_LT.rank)
    assert bool(reader.embedded_timestamp_signatures) == (level is Level.B_LTA)


@pytest.mark.parametrize("level", [Level.B_LT, Level.B_LTA])
def test_long_term_levels_validate_from_the_dss_alone(signed_levels, trust, level) -> None:
    assert all_valid(pyhanko_pdf_statuses(signed_levels[level], trust, long_term=True))


def test_b_b_lacks_long_term_evidence(signed_levels, trust) -> None:
    # Proves the long-term check can fail: B-B carries no OCSP/CRL.
    assert not all_valid(pyhanko_pdf_statuses(signed_levels[Level.B_B], trust, long_term=True))


def test_time_stamp_uses_the_nca_tsa_policy(signed_levels) -> None:
    reader = PdfFileReader(io.BytesIO(signed_levels[Level.B_T]))
    info = reader.embedded_regular_signatures[0].signer_info
    assert timestamp_info(info)["policy"].dotted == "1.2.398.3.3.2.6.2"


@pytest.mark.parametrize("level", list(Level))
def test_pdfa_3b_survives_signing(rendered, signed_levels, level) -> None:
    _assert_still_pdfa(rendered.pdf, signed_levels[level])


def test_untrusted_root_is_not_trusted(signed_levels) -> None:

    from docservice.pki.anchors import TrustAnchors

    stranger = TrustAnchors((stranger_root(),))
    (status,) = pyhanko_pdf_statuses(signed_levels[Level.B_B], stranger)
    assert status.intact and not status.trusted and not status.bottom_line


@pytest.fixture(scope="module")
def four_signed(rendered, officials, pki) -> bytes:
    data = rendered.pdf
    for index, label in enumerate(OFFICIALS):
        data = sign_pdf(
            data,
            officials[label],
            PdfOptions(
                level=Level.B_T,
                certify=index == 0,
                tsa_url=pki.tsa_url,
                verify_base_url="https://verify.test",
            ),
        )
    return data


def test_four_officials_in_a_row_all_valid(four_signed, trust, officials, rendered) -> None:
    statuses = pyhanko_pdf_statuses(four_signed, trust)
    assert len(statuses) == 4 and all_valid(statuses)
    assert all(s.docmdp_ok for s in statuses)
    signers = [s.signing_cert.serial_number for s in statuses]
    assert signers == [officials[label].certificate.serial_number for label in OFFICIALS]
    reader = PdfFileReader(io.BytesIO(four_signed))
    assert reader.embedded_regular_signatures[0].docmdp_level is not None  # certified
    _assert_still_pdfa(rendered.pdf, four_signed)


def _signature_area(data: bytes) -> tuple[list[float], dict[str, list[float]]]:
    """The named destination's rectangle and each signature widget's /Rect (last page)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        dest = pdf.Root.Names.Dests.Names[1]
        area = [float(v) for v in dest[2:6]]
        page = pdf.pages[len(pdf.pages) - 1]
        widgets = {
            str(a.T): [float(v) for v in a.Rect] for a in page.Annots if a.get("/FT") == "/Sig"
        }
    return area, widgets


def _caption_bottom(data: bytes, area: list[float]) -> float:
    """Lowest point of the page text the renderer wrote *inside* the area (its hint line).

    Read from the page content itself (pypdf text positions, baseline minus a quarter
    of the font size for descenders), so a change in the renderer shows up here.
    """
    left, bottom, right, top = area
    lowest: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip() and left <= x <= right and bottom <= y <= top:
            lowest.append(y - 0.25 * size * cm[3])

    reader = pypdf.PdfReader(io.BytesIO(data))
    reader.pages[len(reader.pages) - 1].extract_text(visitor_text=visit)
    assert lowest, "the renderer's hint line was not found inside the area"
    return min(lowest)


def test_stamps_fill_the_named_area_slot_by_slot(four_signed) -> None:
    area, widgets = _signature_area(four_signed)
    assert sorted(widgets) == ["Signature1", "Signature2", "Signature3", "Signature4"]
    left, bottom, right, top = area
    usable_top = _caption_bottom(four_signed, area)
    mid_x, mid_y = (left + right) / 2, (bottom + usable_top) / 2
    quadrants = set()
    for rect in widgets.values():
        assert left <= rect[0] < rect[2] <= right and bottom <= rect[1] < rect[3] <= top
        quadrants.add((rect[0] >= mid_x - 1, rect[1] >= mid_y - 1))
    assert len(quadrants) == 4  # one stamp per slot, no overlap
    sig1 = widgets["Signature1"]
    assert sig1[0] < mid_x and sig1[1] >= mid_y - 1  # signer 1: top left


def test_stamps_stay_below_the_area_caption(four_signed) -> None:
    area, widgets = _signature_area(four_signed)
    left, bottom, right, _ = area
    usable_top = _caption_bottom(four_signed, area)
    assert len(widgets) == 4
    for name, (x0, y0, x1, y1) in widgets.items():
        assert left <= x0 < x1 <= right and bottom <= y0 < y1 <= usable_top, (name, usable_top)


def _appearance_texts(data: bytes) -> dict[str, str]:
    """Field name -> all /ActualText of its appearance (pyHanko tags the stamp text)."""
    texts: dict[str, str] = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for annot in pdf.pages[len(pdf.pages) - 1].Annots:
            if annot.get("/FT") != "/Sig":
                continue
            raw = annot.AP.N.read_bytes()
            for name, xobj in annot.AP.N.Resources.get("/XObject", {}).items():
                raw += xobj.read_bytes()
                del name
            found = re.findall(rb"/ActualText \((.*?)\)\s*>>", raw, re.S)
            texts[str(annot.T)] = " ".join(_pdf_string(s) for s in found)
    return texts


def _pdf_string(raw: bytes) -> str:
    unescaped = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
    unescaped = re.sub(rb"\\(.)", rb"\1", unescaped)
    return (
        unescaped.decode("utf-16-be")
        if unescaped[:2] == b"\xfe\xff"
        else (unescaped.decode("latin-1"))
    )


def test_stamp_shows_name_iin_organisation_role_serial(four_signed, officials) -> None:
    texts = _appearance_texts(four_signed)
    head = officials["head"].identity
    stamp = texts["Signature2"].replace("\ufeff", "")
    for expected in (
        head.full_name,
        head.iin,
        head.bin,
        "Бірінші басшы",
        "Первый руководитель",
        head.serial_hex,
        "UTC+5",
    ):
        assert expected in stamp, expected
    assert officials["hr"].identity.iin in texts["Signature4"]


def test_qr_code_encodes_the_verification_url(four_signed, rendered) -> None:
    doc_id = document_id(four_signed)
    assert doc_id == hashlib.sha256(rendered.pdf).hexdigest()
    url = verify_url("https://verify.test", doc_id)
    # The stamp fixes the mask (signing.stamp.QR_MASK; tests/signing/test_stamp_qr.py
    # decodes the symbols with ZXing), so the expected symbol uses it as well.
    from signing.stamp import QR_MASK

    qr = qrcode.QRCode(
        border=0, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=QR_MASK
    )
    qr.add_data(url)
    qr.make(fit=True)
    expected = {
        (x, y) for y, row in enumerate(qr.get_matrix()) for x, dark in enumerate(row) if dark
    }
    with pikepdf.open(io.BytesIO(four_signed)) as pdf:
        annot = next(
            a for a in pdf.pages[len(pdf.pages) - 1].Annots if str(a.get("/T")) == "Signature1"
        )
        qr_stream = annot.AP.N.Resources.XObject.QR.read_bytes()
    drawn = modules_of(qr_stream)
    assert drawn == expected


def test_change_after_certification_is_detected(four_signed, trust) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(four_signed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    statuses = pyhanko_pdf_statuses(out.getvalue(), trust)
    assert statuses[0].intact  # the bytes it signed are still there...
    assert not statuses[0].docmdp_ok and not statuses[0].bottom_line  # ...but not allowed


def test_fifth_signer_after_certification_signs_invisibly(four_signed, pki, trust) -> None:
    from signing.keys import Pkcs12Key

    applicant = Pkcs12Key.load(pki.p12("applicant"), pki.password)
    data = sign_pdf(four_signed, applicant, PdfOptions())
    statuses = pyhanko_pdf_statuses(data, trust)
    assert len(statuses) == 5 and all_valid(statuses)
    assert all(s.docmdp_ok for s in statuses)


def test_foreign_pdf_gets_stamp_at_bottom_of_last_page(officials, trust) -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(100, 750, "foreign")
    c.showPage()
    c.drawString(100, 750, "page 2")
    c.save()
    data = sign_pdf(buf.getvalue(), officials["career"], PdfOptions())
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (annot,) = [a for a in pdf.pages[1].Annots if a.get("/FT") == "/Sig"]
        rect = [float(v) for v in annot.Rect]
    assert rect[1] < 200  # bottom band of the last page
    assert all_valid(pyhanko_pdf_statuses(data, trust))


KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"


def _stamp_fonts(data: bytes) -> dict[str, set[tuple[int, int]]]:
    """Field name -> the (object number, generation) of every font its appearance uses."""

    def walk(xobj: pikepdf.Object, found: set[tuple[int, int]], depth: int) -> None:
        resources = xobj.get("/Resources")
        if resources is None or depth > 4:
            return
        for font in (resources.get("/Font") or {}).values():
            found.add(font.objgen)
        for child in (resources.get("/XObject") or {}).values():
            walk(child, found, depth + 1)

    result: dict[str, set[tuple[int, int]]] = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for annot in pdf.pages[len(pdf.pages) - 1].Annots:
            if annot.get("/FT") == "/Sig":
                walk(annot.AP.N, result.setdefault(str(annot.T), set()), 0)
    return result


def test_four_stamps_share_one_embedded_font_covering_kazakh(four_signed) -> None:
    from fontTools.ttLib import TTFont

    fonts = _stamp_fonts(four_signed)
    assert len(fonts) == 4
    shared = set.union(*fonts.values())
    assert len(shared) == 1 and all(f == shared for f in fonts.values())  # embedded once
    with pikepdf.open(io.BytesIO(four_signed)) as pdf:
        type0 = pdf.get_object(*next(iter(shared)))
        cid_font = type0.DescendantFonts[0]
        program = cid_font.FontDescriptor.FontFile2.read_bytes()
        widths = list(cid_font.W)
        to_unicode = type0.ToUnicode.read_bytes().decode("ascii")
    font = TTFont(io.BytesIO(program))
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in KAZAKH + "ЁёЩщЪъ№«»")
    # /W must agree with the embedded program's advance widths (PDF/A 6.2.11.5).
    order, hmtx = font.getGlyphOrder(), font["hmtx"].metrics
    i = 0
    checked = 0
    while i < len(widths):
        first, run = int(widths[i]), widths[i + 1]
        for offset, width in enumerate(run):
            assert int(width) == hmtx[order[first + offset]][0]
            checked += 1
        i += 2
    assert checked > 300  # the whole repertoire, not one stamp's glyphs
    # Copy/search gives the Kazakh letters back.
    gid_of = {name: gid for gid, name in enumerate(order)}
    for ch in KAZAKH:
        assert f"<{gid_of[cmap[ord(ch)]]:04X}> <{ord(ch):04X}>" in to_unicode, ch


def test_stamp_shaping_never_falls_back_to_notdef() -> None:
    import uharfbuzz as hb

    from signing.stamp import stamp_font
    from signing.stamp_font import REQUIRED, stamp_font_program

    program = stamp_font_program(stamp_font())
    buf = hb.Buffer()
    buf.add_str(REQUIRED + " ӘБДІРАХМАНОВА Әсел Ғалымжанқызы — «Ақмола» ЖШС")
    buf.guess_segment_properties()
    hb.shape(program.hb_font, buf)
    assert all(info.codepoint != 0 for info in buf.glyph_infos)


def test_remembered_shaping_equals_fresh_shaping() -> None:
    from pyhanko.pdf_utils.writer import PdfFileWriter

    from signing.stamp import stamp_font
    from signing.stamp_font import StampFontEngine, stamp_font_program

    program = stamp_font_program(stamp_font())
    lines = ["ЭЦҚ қойылды / Подписано ЭЦП", "ӘБДІРАХМАНОВА Әсел Ғалымжанқызы", "ЖСН / ИИН: 9", ""]
    for size in (10, 7):
        engine = StampFontEngine(PdfFileWriter(), program, size)
        for line in lines * 2:  # the second time from the remembered results
            assert engine.shape(line) == engine._shape(line)
        assert engine.shape(lines[1]) is engine.shape(lines[1])
    assert engine.shape(lines[1]) != StampFontEngine(PdfFileWriter(), program, 10).shape(lines[1])


def test_visible_stamp_on_a_foreign_pdf_validates_with_pyhanko(officials, trust) -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(100, 750, "foreign")
    c.save()
    data = buf.getvalue()
    for label in ("career", "head"):
        data = sign_pdf(data, officials[label], PdfOptions())
    statuses = pyhanko_pdf_statuses(data, trust)
    assert len(statuses) == 2 and all_valid(statuses)
    fonts = _stamp_fonts(data)
    assert len(set.union(*fonts.values())) == 1  # the second signer reused the font


def test_signatures_leave_the_pdfa_metadata_untouched(four_signed, rendered) -> None:
    # Signing appends revisions but neither rewrites the XMP packet nor /Info, so the
    # catalogue's PDF/A metadata stay identical (and consistent with each other).
    def metadata(data: bytes) -> tuple[bytes, str]:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return pdf.Root.Metadata.read_bytes(), repr(dict(pdf.trailer.get("/Info", {})))

    assert metadata(four_signed) == metadata(rendered.pdf)
    assert four_signed.count(b"<x:xmpmeta") == rendered.pdf.count(b"<x:xmpmeta")
