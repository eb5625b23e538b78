"""The browser script for real: headless Chromium, a page on 127.0.0.1, the emulator.

The page asks NCALayer (the emulator) for the key, has the service prepare the PDF, meets
a cancelled dialog (must surface as ``cancelled``, not as an error), signs the prepared
digest on the second try and posts the PEM CMS back; the service completes the PDF.
Skipped when no ``chromium`` binary is installed (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from docservice_testing.ncalayer import NCALayerEmulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.ncalayer import protocol as p
from signing.pdf import PdfOptions
from signing.twophase import TwoPhase, certificate_from_key_info
from tests.conftest import need
from tests.pki import TestPki
from tests.pyhanko_oracle import all_valid, pyhanko_pdf_statuses

SCRIPT = Path(__file__).resolve().parents[2] / "signing" / "static" / "ncalayer-client.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html><meta charset="utf-8"><title>sign</title>
<script type="module">
import { NCALayerClient } from "/ncalayer-client.js";
const post = (path, body) => fetch(path, { method: "POST", body: JSON.stringify(body) })
  .then((r) => r.json());
(async () => {
  const steps = {};
  try {
    const nca = new NCALayerClient(WS_URL, { timeoutMs: 20000 });
    steps.version = await nca.connect();
    const info = await nca.getKeyInfo("PKCS12");
    const request = await post("/prepare", { pem: info.pem });
    try {
      await nca.send(request.basics);
      steps.cancelled = false;
    } catch (e) {
      steps.cancelled = e.cancelled === true;
      steps.cancelName = e.name;
    }
    const cms = await nca.send(request.basics);
    const done = await post("/complete", { sessionId: request.sessionId, cms });
    nca.close();
    await post("/report", { ...steps, ...done });
  } catch (e) {
    await post("/report", { ...steps, ok: false, error: String(e && e.message || e) });
  }
})();
</script>"""


class _CancelFirstSign:
    """The dialog: closed on the first ``sign``, the first key offered afterwards."""

    def __init__(self) -> None:
        self.signs = 0

    def __call__(self, offered: list[EmulatorKey], request: p.Request) -> EmulatorKey | None:
        if isinstance(request, p.BasicsSign):
            self.signs += 1
            if self.signs == 1:
                return None
        return offered[0] if offered else None


def sign_on_the_page(
    emulator: NCALayerEmulator, twophase: TwoPhase, pdf: bytes, chain: list[Any]
) -> tuple[dict[str, Any], list[bytes]]:
    """Serve :data:`PAGE` on 127.0.0.1, let headless Chromium run it against ``emulator``
    (the first sign cancelled, then signed) and return what the page reported and the PDFs
    the service completed."""
    need(CHROMIUM is not None, "chromium (Debian package)")
    emulator.choose = _CancelFirstSign()
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
            if self.path == "/prepare":
                cert = certificate_from_key_info(body["pem"])
                request = twophase.prepare_pdf(pdf, cert, chain, PdfOptions())
                self._send(json.dumps(request.to_json()).encode(), "application/json")
            elif self.path == "/complete":
                try:
                    signed.append(twophase.complete_pdf(body["sessionId"], body["cms"]))
                    answer = {"ok": True}
                except Exception as exc:  # reported to the test, which fails on it
                    answer = {"ok": False, "error": repr(exc)}
                self._send(json.dumps(answer).encode(), "application/json")
            elif self.path == "/report":
                report.update(body)
                reported.set()
                self._send(b"{}", "application/json")
            else:
                self.send_error(404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        browser = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-extensions",
                f"--user-data-dir={profile}",
                "--ignore-certificate-errors",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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
    return report, signed


def test_page_signs_a_pdf_through_the_emulator(
    emulator: NCALayerEmulator,
    twophase: TwoPhase,
    pki: TestPki,
    trust,
    keys,  # type: ignore[no-untyped-def]
    application_pdf: bytes,
) -> None:
    report, signed = sign_on_the_page(emulator, twophase, application_pdf, [pki.ca])
    assert report.get("ok") is True, report
    assert report["version"] == p.VERSION
    assert report["cancelled"] is True and report["cancelName"] == "NCALayerCancelledError"
    statuses = pyhanko_pdf_statuses(signed[0], trust)
    assert all_valid(statuses)
    assert statuses[0].signing_cert.serial_number == keys["career"].certificate.serial_number
