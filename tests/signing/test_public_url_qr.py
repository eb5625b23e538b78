"""The stamp's QR code leads to the configured public URL of the service, or is left out.

The payload is read back from the signed file by an independent decoder (:mod:`tests.qr`).
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from signing.cli import main
from signing.pdf import PUBLIC_URL_ENV, PdfOptions, document_id, sign_pdf, verify_url
from tests.qr import qr_payloads

PLACEHOLDER = "docservice.example.kz"


def _annotations(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return sum(1 for a in pdf.pages[len(pdf.pages) - 1].get("/Annots", []) if "/AP" in a)


def test_the_qr_code_links_to_the_configured_public_url(
    rendered, officials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://docs.enbek.test/")
    signed = sign_pdf(rendered.pdf, officials["career"], PdfOptions())
    assert qr_payloads(signed) == [verify_url("https://docs.enbek.test", document_id(signed))]
    assert qr_payloads(signed)[0].startswith("https://docs.enbek.test/verify?doc=")


def test_without_a_public_url_the_stamp_has_no_qr_code(
    rendered, officials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PUBLIC_URL_ENV, raising=False)
    options = PdfOptions()
    assert options.verify_base_url is None
    signed = sign_pdf(rendered.pdf, officials["career"], options)
    assert qr_payloads(signed) == [] and _annotations(signed) >= 1  # the stamp is still there
    assert PLACEHOLDER.encode() not in signed


def test_an_explicit_base_wins_over_the_environment(
    rendered, officials, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://from-env.test")
    signed = sign_pdf(
        rendered.pdf, officials["career"], PdfOptions(verify_base_url="http://127.0.0.1:8080")
    )
    assert qr_payloads(signed) == [f"http://127.0.0.1:8080/verify?doc={document_id(signed)}"]


def test_the_sign_command_says_once_that_the_qr_code_is_left_out(
    rendered,
    pki,
    password_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
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
