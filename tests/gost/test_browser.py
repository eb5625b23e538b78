"""Headless Chromium, the page script and the emulator with a GOST key: the official's
browser gets a Streebog digest to sign, NCALayer (the emulator) signs it with GOST, the
service completes the PDF and the verifier passes it."""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from docservice.verification import TrustStore, Verifier, VerifierConfig
from docservice.verification.report import Indication
from signing.pdf import PdfOptions
from signing.twophase import TwoPhase, certificate_from_key_info
from tests.conftest import need
from tests.gost.test_emulator import emulator, gost_keys  # noqa: F401  (fixtures)
from tests.ncalayer.test_browser import CHROMIUM, PAGE, SCRIPT, _CancelFirstSign
from tests.verification.fixtures import base_pdf


def test_page_signs_a_pdf_with_a_gost_key(emulator, gpki) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    need(CHROMIUM is not None, "chromium (Debian package)")
    emulator.choose = _CancelFirstSign()
    twophase = TwoPhase(ncalayer_chain=[])
    pdf = base_pdf()
    report: dict[str, Any] = {}
    reported = threading.Event()
    signed: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/ncalayer-client.js":
                self._send(SCRIPT.read_bytes(), "text/javascript; charset=utf-8")
            elif self.path == "/":
                page = PAGE.replace("WS_URL", json.dumps(emulator.url))
                self._send(page.encode(), "text/html; charset=utf-8")
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length", "0")), 1 << 20)
            body = json.loads(self.rfile.read(length) or b"{}")
            answer: dict[str, Any] = {}
            if self.path == "/prepare":
                cert = certificate_from_key_info(body["pem"])
                answer = twophase.prepare_pdf(pdf, cert, [gpki.ca], PdfOptions()).to_json()
            elif self.path == "/complete":
                try:
                    signed.append(twophase.complete_pdf(body["sessionId"], body["cms"]))
                    answer = {"ok": True}
                except Exception as exc:  # reported to the test, which fails on it
                    answer = {"ok": False, "error": repr(exc)}
            elif self.path == "/report":
                report.update(body)
                reported.set()
            else:
                self.send_error(404)
                return
            self._send(json.dumps(answer).encode(), "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--no-first-run", "--disable-extensions",
             f"--user-data-dir={profile}", "--ignore-certificate-errors",
             f"http://127.0.0.1:{server.server_port}/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            finished = reported.wait(timeout=60)
        finally:
            browser.terminate()
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.wait(timeout=10)
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
    assert finished, "the page never reported"
    assert report.get("ok") is True, report
    assert report["cancelled"] is True
    verifier = Verifier(VerifierConfig(trust=TrustStore.from_certificates([gpki.root, gpki.ca])))
    (sig,) = verifier.verify(signed[0]).signatures
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert sig.algorithm == "ГОСТ 34.10-2015, 512 бит"
