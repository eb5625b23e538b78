"""The whole chain through the one ``docservice`` command: render, sign in turn, verify.

This is what the services' users do: an application is rendered, two officials of
the route sign it with their NCA RK-style keys (the first certifies), and an
official who is handed the file verifies it against the trust store.
"""

from __future__ import annotations

import io
import json
import shutil

import pytest

from docservice.cli import main

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def signed(pki, tmp_path_factory):
    """The application rendered, then signed by the career-centre employee and the head."""
    work = tmp_path_factory.mktemp("chain")
    (work / "password").write_text(pki.password, encoding="utf-8")
    trust = work / "trust"
    trust.mkdir()
    shutil.copy(pki.root_pem, trust / "root.pem")
    assert (
        main(
            [
                "render",
                "application",
                "--lang",
                "kk+ru",
                "--data",
                str(EXAMPLES / "application.json"),
                "--out",
                str(work),
            ]
        )
        == 0
    )
    first, second = work / "signed-1.pdf", work / "signed-2.pdf"
    assert (
        main(
            [
                "sign",
                str(work / "application-kk-ru.pdf"),
                "--key",
                str(pki.p12("career")),
                "--password-file",
                str(work / "password"),
                "--certify",
                "--out",
                str(first),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "sign",
                str(first),
                "--key",
                str(pki.p12("head")),
                "--password-file",
                str(work / "password"),
                "--level",
                "B-T",
                "--tsa-url",
                pki.tsa_url,
                "--out",
                str(second),
            ]
        )
        == 0
    )
    return work, second, trust


def test_an_official_verifies_both_signatures(signed, pki, capsys):
    _, pdf, trust = signed
    capsys.readouterr()
    assert main(["verify", str(pdf), "--trust", str(trust), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "TOTAL_PASSED"
    signers = [s["signer"] for s in report["signatures"]]
    expected = [
        pki.cert(label).subject.native["serial_number"].removeprefix("IIN")
        for label in ("career", "head")
    ]
    assert [s["iin"] for s in signers] == expected
    assert all(s["indication"] == "TOTAL_PASSED" for s in report["signatures"])


def test_a_changed_byte_after_signing_fails_verification(signed, capsys):
    work, pdf, trust = signed
    data = bytearray(pdf.read_bytes())
    at = data.find(b"/Type /Page") + 2  # inside the signed revision
    data[at] = ord("X") if data[at] != ord("X") else ord("Y")
    tampered = work / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    capsys.readouterr()
    code = main(["verify", str(tampered), "--trust", str(trust), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["verdict"] == "TOTAL_FAILED"
    assert {s["sub_indication"] for s in report["signatures"]} >= {"HASH_FAILURE"}


def test_signing_with_a_wrong_password_writes_nothing(pki, tmp_path, capsys):
    (tmp_path / "password").write_text("wrong", encoding="utf-8")
    assert (
        main(
            [
                "render",
                "direction",
                "--lang",
                "ru",
                "--data",
                str(EXAMPLES / "direction.json"),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = tmp_path / "signed.pdf"
    assert (
        main(
            [
                "sign",
                str(tmp_path / "direction-ru.pdf"),
                "--key",
                str(pki.p12("career")),
                "--password-file",
                str(tmp_path / "password"),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert not out.exists()
    assert "Traceback" not in capsys.readouterr().err


def test_the_verification_page_is_served_over_a_real_socket(signed):
    import subprocess
    import sys
    import urllib.request

    _, pdf, trust = signed
    # Real signed documents run to hundreds of kB; the upload path must take them whole.
    assert len(pdf.read_bytes()) > 128 * 1024
    proc = subprocess.Popen(
        [sys.executable, "-m", "docservice", "serve", "--port", "0", "--trust", str(trust)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "?lang=ru", timeout=60) as response:
            assert response.status == 200
            assert "text/html" in response.headers["Content-Type"]
        boundary = "docservice-test-boundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="signed.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + pdf.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            url.replace("/verify", "/v1/verify"),
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read())["verdict"] == "TOTAL_PASSED"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_wsgi_stream_that_hands_over_the_whole_upload_at_once_is_parsed(signed):
    """Werkzeug's multipart decoder holds back data with CRs in it; a server that reads the
    whole body in one go (as the test client does) must not drop a real signed PDF."""
    from docservice.web import create_app

    _, pdf, trust = signed
    app = create_app({"TRUST_DIR": str(trust), "FETCH_REVOCATION": False})
    data = pdf.read_bytes()
    response = app.test_client().post(
        "/v1/verify",
        data={"file": (io.BytesIO(data), "signed.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["document"]["size"] == len(data)
