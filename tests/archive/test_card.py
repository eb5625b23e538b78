"""The document card (ДДК): built from detached CAdES made with the test PKI (OCSP and TSA
served by certomancer on loopback), read back by pypdf and pikepdf, verified through the
Verifier, the ``docservice verify`` command and the verification page."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pikepdf
import pytest
from asn1crypto import pem
from pypdf import PdfReader

from docservice.archive.card import CardError, build_card
from docservice.rendering.pdfa import validate
from docservice.verification import TrustAnchors, Verifier, VerifierConfig
from docservice.verification.report import load_schema
from signing.cades import CadesOptions, sign_detached
from signing.cms_util import to_der
from tests.conftest import need, pdf_text

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL = "Өтініш / Заявление №42 — ӘБІЛҚАСЫМОВА".encode()


@pytest.fixture(scope="module")
def verifier(trust):
    return Verifier(VerifierConfig(trust=trust))


@pytest.fixture(scope="module")
def signed(pki, trust, officials):
    """Detached CAdES of three officials over ORIGINAL, signed one after the other."""
    options = CadesOptions(tsa_url=pki.tsa_url, trust=trust)
    out = []
    for label in ("head", "career", "akimat"):
        out.append((label, to_der(sign_detached(ORIGINAL, officials[label], options))))
        time.sleep(1.1)  # distinct genTime seconds, so the order is the signing order
    return out


@pytest.fixture(scope="module")
def card(signed, verifier):
    # Handed over out of order: the card sorts by time-stamp genTime.
    cms_list = [signed[2][1], signed[0][1], signed[1][1]]
    created = dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    return build_card(
        ORIGINAL,
        "өтініш-42.txt",
        cms_list,
        verifier,
        title="Өтініш / Заявление №42",
        created=created,
    )


@pytest.fixture(scope="module")
def trust_dir(tmp_path_factory, pki) -> Path:
    folder = tmp_path_factory.mktemp("trust")
    (folder / "root.pem").write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
    (folder / "ca.cer").write_bytes(pki.ca.dump())
    return folder


def embedded_in_stored_order(data: bytes) -> list[tuple[str, bytes]]:
    """The name tree's /Names array as stored, read with pypdf (not the builder's pikepdf)."""
    reader = PdfReader(io.BytesIO(data))
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    out = []
    for spec in names[1::2]:
        spec = spec.get_object()
        out.append((str(spec["/UF"]), spec["/EF"]["/F"].get_object().get_data()))
    return out


def test_card_is_pdfa_with_the_original_first_then_cms_in_time_stamp_order(card, signed):
    report = validate(card)
    assert report.passed and report.verdict == "pass", report.summary
    files = embedded_in_stored_order(card)
    assert files[0] == ("өтініш-42.txt", ORIGINAL)
    assert [data for _, data in files[1:]] == [der for _, der in signed]
    names = [name for name, _ in files[1:]]
    assert all(name.startswith("өтініш-42.") and name.endswith(".cms") for name in names)
    assert len(set(names)) == 3
    with pikepdf.open(io.BytesIO(card)) as pdf:
        assert len(pdf.Root.AF) == 4  # every attachment is an associated file (PDF/A-3)
        assert str(pdf.Root.AF[0].AFRelationship) == "/Source"
        assert all(str(f.AFRelationship) == "/Supplement" for f in list(pdf.Root.AF)[1:])


def test_poppler_lists_the_attachments_in_the_same_order(card, signed, tmp_path):
    """An independent reader (Poppler's pdfdetach, Debian poppler-utils) agrees on the order."""
    need(shutil.which("pdfdetach") is not None, "pdfdetach (Debian poppler-utils)")
    path = tmp_path / "card.pdf"
    path.write_bytes(card)
    listed = subprocess.run(
        ["pdfdetach", "-list", "-enc", "UTF-8", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    names = [line.split(": ", 1)[1] for line in listed.splitlines()[1:]]
    assert names == [name for name, _ in embedded_in_stored_order(card)]
    assert names[0] == "өтініш-42.txt" and len(names) == 4
    saved = tmp_path / "first"
    subprocess.run(["pdfdetach", "-save", "1", "-o", str(saved), str(path)], check=True, timeout=60)
    assert saved.read_bytes() == ORIGINAL
    subprocess.run(["pdfdetach", "-save", "2", "-o", str(saved), str(path)], check=True, timeout=60)
    assert saved.read_bytes() == signed[0][1]


def test_card_pages_in_both_languages_numbered_from_page_two(card):
    reader = PdfReader(io.BytesIO(card))
    assert len(reader.pages) == 4  # the information page + one page per signature
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)  # A4
    first = reader.pages[0].extract_text()
    assert "Карточка электронного документа" in first
    assert "Электрондық құжат карточкасы" in first
    assert "2026-12-01T15:30:00+05:00" in first
    assert "Стр." not in first
    for number in range(2, 5):
        text = reader.pages[number - 1].extract_text()
        assert f"Стр. {number} из 4" in text and f"4 беттің {number}-беті" in text
        for label in ("ИИН", "ЖСН", "БИН", "OCSP", "TSP", "thisUpdate", "good"):
            assert label in text, (number, label)
    text = pdf_text(card)
    assert "Қолтаңба № 3 / Подпись № 3" in text


def test_card_text_uses_only_embedded_fonts(card):
    with pikepdf.open(io.BytesIO(card)) as pdf:
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.get("/DescendantFonts")
                desc = (descendant[0] if descendant else font).FontDescriptor
                assert any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_verifier_recognises_the_card_and_passes_each_signature(card, verifier, signed):
    report = verifier.verify(card, file_name="card.pdf")
    jsonschema.validate(report.to_dict(), load_schema())
    assert report.document.format == "card"
    assert report.verdict == "TOTAL_PASSED"
    assert len(report.signatures) == 3
    assert all(s.indication == "TOTAL_PASSED" and s.kind == "cms" for s in report.signatures)
    assert report.document.original_sha256 == hashlib.sha256(ORIGINAL).hexdigest()
    assert [s.field_name.endswith(".cms") for s in report.signatures] == [True] * 3


def _swap_first_attachment(card: bytes, data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(card)) as pdf:
        tree = pikepdf.NameTree(pdf.Root.Names.EmbeddedFiles)
        first = next(iter(tree.keys()))
        tree[first].EF.F.write(data)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def test_a_card_whose_original_was_swapped_fails(card, verifier):
    forged = _swap_first_attachment(card, ORIGINAL.replace(b"42", b"43"))
    report = verifier.verify(forged)
    assert report.document.format == "card"
    assert report.verdict == "TOTAL_FAILED"
    assert all(s.indication == "TOTAL_FAILED" for s in report.signatures)


def test_a_card_built_by_another_tool_is_recognised(signed, verifier):
    """SIGEX-style (sigex-kz/ddc writes keys Attachement1..N into one /Names array, in
    insertion order, so key order is not file order past 9): made here with pikepdf, no
    PDF/A and no pages of ours."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    files = [("заявление.txt", ORIGINAL)]
    files += [(f"{n}-{label}.cms", der) for n, (label, der) in enumerate(signed * 4, start=1)]
    names = []
    for n, (name, data) in enumerate(files, start=1):
        names += [
            pikepdf.String(f"Attachement{n}"),
            pikepdf.AttachedFileSpec(pdf, data, filename=name).obj,
        ]
    tree = pdf.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array(names)))
    pdf.Root.Names = pikepdf.Dictionary(EmbeddedFiles=tree)
    out = io.BytesIO()
    pdf.save(out)
    report = verifier.verify(out.getvalue())
    assert report.document.format == "card" and report.verdict == "TOTAL_PASSED"
    assert [s.field_name for s in report.signatures] == [name for name, _ in files[1:]]
    assert [s.index for s in report.signatures] == list(range(1, 13))


def test_a_card_whose_name_tree_has_one_file_per_kid_is_recognised(signed, verifier):
    """The name tree split into kids of one entry each (a tree builder's choice for many
    files): the verifier's count of embedded files walks the kids, so it is still a card."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    files = [("заявление.txt", ORIGINAL)] + [(f"{label}.cms", der) for label, der in signed]
    kids = []
    for n, (name, data) in enumerate(files, start=1):
        key = pikepdf.String(f"{n:02d}")
        spec = pikepdf.AttachedFileSpec(pdf, data, filename=name).obj
        leaf = pikepdf.Dictionary(Names=pikepdf.Array([key, spec]), Limits=[key, key])
        kids.append(pdf.make_indirect(leaf))
    tree = pdf.make_indirect(pikepdf.Dictionary(Kids=pikepdf.Array(kids)))
    pdf.Root.Names = pikepdf.Dictionary(EmbeddedFiles=tree)
    out = io.BytesIO()
    pdf.save(out)
    report = verifier.verify(out.getvalue())
    assert report.document.format == "card" and report.verdict == "TOTAL_PASSED"
    assert [s.field_name for s in report.signatures] == [name for name, _ in files[1:]]


def test_a_pdf_with_one_attachment_is_not_a_card(verifier):
    from docservice.verification.limits import VerificationInputError

    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.attachments["data.xml"] = pikepdf.AttachedFileSpec(pdf, b"<a/>", filename="data.xml")
    out = io.BytesIO()
    pdf.save(out)
    with pytest.raises(VerificationInputError) as info:
        verifier.verify(out.getvalue())
    assert info.value.code == "pdf_no_signatures"


def test_card_refuses_a_signature_over_other_bytes(signed, verifier):
    with pytest.raises(CardError, match="signature 1 does not verify"):
        build_card(b"other bytes", "other.txt", [signed[0][1]], verifier, title="x")


def test_card_refuses_a_cms_without_time_stamp(officials, verifier, pki):
    bare = to_der(
        sign_detached(
            ORIGINAL, officials["hr"], CadesOptions(trust=TrustAnchors((pki.root,), (pki.ca,)))
        )
    )
    with pytest.raises(CardError, match="time-stamp"):
        build_card(ORIGINAL, "a.txt", [bare], verifier, title="x")


def test_docservice_verify_command_reads_a_card(card, trust_dir, tmp_path):
    good, bad = tmp_path / "card.pdf", tmp_path / "forged.pdf"
    good.write_bytes(card)
    bad.write_bytes(_swap_first_attachment(card, b"forged"))
    run = [sys.executable, "-m", "docservice", "verify", "--trust", str(trust_dir)]
    ok = subprocess.run(
        [*run, str(good), "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    body = json.loads(ok.stdout)
    assert body["document"]["format"] == "card" and len(body["signatures"]) == 3
    failed = subprocess.run(
        [*run, str(bad), "--lang", "ru"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert failed.returncode == 1, failed.stderr
    assert failed.stdout.count(".cms") == 3


def test_verification_page_reports_each_signature_of_a_card(card, verifier):
    from docservice.web import create_app

    app = create_app({"VERIFIER": verifier, "TESTING": True})
    client = app.test_client()
    response = client.post(
        "/v1/verify",
        data={"file": (io.BytesIO(card), "card.pdf")},
        content_type="multipart/form-data",
    )
    body = response.get_json()
    assert response.status_code == 200 and body["document"]["format"] == "card"
    assert [s["indication"] for s in body["signatures"]] == ["TOTAL_PASSED"] * 3
    page = client.post(
        "/verify?lang=ru",
        data={"file": (io.BytesIO(card), "card.pdf")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count(".cms") >= 3


@pytest.fixture(scope="module")
def signed_pdf(pki, officials):
    """A rendered application signed by two officials, PAdES B-LT (OCSP in the DSS)."""
    from docservice.render import render
    from signing.pdf import Level, PdfOptions, sign_pdf

    data = json.loads((ROOT / "examples" / "application.json").read_text(encoding="utf-8"))
    pdf = render("application", data, "kk+ru").pdf
    trust = TrustAnchors((pki.root,), (pki.ca,))
    for index, label in enumerate(("career", "head")):
        pdf = sign_pdf(
            pdf,
            officials[label],
            PdfOptions(level=Level.B_LT, certify=index == 0, tsa_url=pki.tsa_url, trust=trust),
        )
    return pdf


def test_card_of_a_signed_pdf_carries_its_signatures_cms(signed_pdf, verifier):
    from docservice.archive.card import cms_of_signed_pdf
    from signing.cms_util import REVOCATION_VALUES_OID, load_cms, unsigned_attributes

    cms_list = cms_of_signed_pdf(signed_pdf)
    assert len(cms_list) == 2
    for der in cms_list:  # the DSS evidence now travels inside each CMS
        info = load_cms(der)["signer_infos"][0]
        assert any(a["type"].dotted == REVOCATION_VALUES_OID for a in unsigned_attributes(info))
    card = build_card(signed_pdf, "application.pdf", cms_list, verifier, title="Өтініш")
    assert validate(card).passed
    files = embedded_in_stored_order(card)
    assert files[0] == ("application.pdf", signed_pdf)
    report = verifier.verify(card)
    assert report.document.format == "card" and report.verdict == "TOTAL_PASSED"
    assert [s.kind for s in report.signatures] == ["pdf_signature", "pdf_signature"]

    # The same CMS beside another PDF: judged as detached over it, and fails.
    forged = _swap_first_attachment(card, signed_pdf.replace(b"%%EOF", b"%%EOF\n% x", 1))
    assert verifier.verify(forged).verdict == "TOTAL_FAILED"


def test_a_compressed_bomb_in_a_card_is_refused_not_inflated(signed, verifier):
    from docservice.verification.limits import VerificationInputError

    pdf = pikepdf.new()
    pdf.add_blank_page()
    tree = pikepdf.NameTree.new(pdf)
    bomb = b"\0" * (51 * 1024 * 1024)  # past max_original_bytes; ~50 kB once compressed
    for n, (name, data) in enumerate([("a.bin", bomb), ("s.cms", signed[0][1])], start=1):
        tree[f"Attachement{n}"] = pikepdf.AttachedFileSpec(pdf, data, filename=name).obj
    pdf.Root.Names = pikepdf.Dictionary(EmbeddedFiles=tree.obj)
    out = io.BytesIO()
    pdf.save(out)
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(VerificationInputError) as info:
        verifier.verify(out.getvalue())
    assert info.value.code == "too_large"
