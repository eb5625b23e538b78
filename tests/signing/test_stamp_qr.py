"""The stamp's QR code leads to the configured public URL of the service, or is left out.

The payload is read back from the signed file by an independent decoder (zxing-cpp, test
only): the QR XObject's modules are drawn into an image and decoded, so the test checks
what a phone would read, not what our code meant to draw.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pytest
import zxingcpp
from PIL import Image

from signing.cli import main
from signing.pdf import PUBLIC_URL_ENV, PdfOptions, document_id, sign_pdf, verify_url

PLACEHOLDER = "docservice.example.kz"


def _stamps(data: bytes) -> list[pikepdf.Dictionary]:
    """The normal appearance of every signature widget of the last page."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[len(pdf.pages) - 1]
        return [pikepdf.Dictionary(a.AP.N) for a in page.get("/Annots", [])
                if a.get("/FT") == "/Sig" or str(a.get("/T", "")).startswith("Signature")]


def qr_payloads(data: bytes) -> list[str]:
    """Every QR code drawn in the signature stamps, decoded."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[len(pdf.pages) - 1]
        for annot in page.get("/Annots", []):
            xobjects = annot.AP.N.get("/Resources", {}).get("/XObject", {})
            if "/QR" not in xobjects:
                continue
            stream = xobjects.QR.read_bytes()
            modules = {(int(x), int(y)) for x, y in re.findall(rb"(\d+) (\d+) 1 1 re", stream)}
            found.append(_decode(modules))
    return found


def _decode(modules: set[tuple[int, int]], scale: int = 6, quiet: int = 4) -> str:
    size = max(max(x, y) for x, y in modules) + 1
    image = Image.new("L", ((size + 2 * quiet) * scale,) * 2, 255)
    for x, y in modules:
        image.paste(0, ((x + quiet) * scale, (y + quiet) * scale,
                        (x + quiet + 1) * scale, (y + quiet + 1) * scale))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, "the QR code does not decode"
    return results[0].text


def _annotations(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return sum(1 for a in pdf.pages[len(pdf.pages) - 1].get("/Annots", [])
                   if "/AP" in a)


def test_the_qr_code_links_to_the_configured_public_url(rendered, officials,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://docs.enbek.test/")
    signed = sign_pdf(rendered.pdf, officials["career"], PdfOptions())
    assert qr_payloads(signed) == [verify_url("https://docs.enbek.test",
                                              document_id(signed))]
    assert qr_payloads(signed)[0].startswith("https://docs.enbek.test/verify?doc=")


def test_without_a_public_url_the_stamp_has_no_qr_code(rendered, officials,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PUBLIC_URL_ENV, raising=False)
    options = PdfOptions()
    assert options.verify_base_url is None
    signed = sign_pdf(rendered.pdf, officials["career"], options)
    assert qr_payloads(signed) == [] and _annotations(signed) >= 1  # the stamp is still there
    assert PLACEHOLDER.encode() not in signed


def test_an_explicit_base_wins_over_the_environment(rendered, officials,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://from-env.test")
    signed = sign_pdf(rendered.pdf, officials["career"],
                      PdfOptions(verify_base_url="http://127.0.0.1:8080"))
    assert qr_payloads(signed) == [f"http://127.0.0.1:8080/verify?doc={document_id(signed)}"]


def test_the_sign_command_says_once_that_the_qr_code_is_left_out(
        rendered, pki, password_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "doc.pdf"
    src.write_bytes(rendered.pdf)
    key = ["--key", str(pki.p12("career")), "--password-file", str(password_file)]
    monkeypatch.delenv(PUBLIC_URL_ENV, raising=False)
    assert main(["sign", str(src), *key, "--out", str(tmp_path / "a.pdf")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and PUBLIC_URL_ENV in err and "QR" in err
    assert qr_payloads((tmp_path / "a.pdf").read_bytes()) == []
    monkeypatch.setenv(PUBLIC_URL_ENV, "http://127.0.0.1:8099")
    assert main(["sign", str(src), *key, "--out", str(tmp_path / "b.pdf")]) == 0
    assert capsys.readouterr().err == ""
    signed = (tmp_path / "b.pdf").read_bytes()
    assert qr_payloads(signed) == [f"http://127.0.0.1:8099/verify?doc={document_id(signed)}"]
