"""The verify page in real headless Chromium (Debian's package), driven over DevTools.

A real threaded HTTP server on 127.0.0.1 serves the app; Chromium loads the page, a file
is put into the form's file input (``DOM.setFileInputFiles``, as a user would pick it),
the form is submitted, and the rendered report is read from the live DOM. Skips when
Chromium is absent unless ``DOCSERVICE_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from docservice.web import create_app
from tests.conftest import need
from tests.verification.conftest import Docs
from tests.verification.fixtures import incremental_update_attack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium_path() -> str:
    need(CHROMIUM is not None, "chromium (Debian package)")
    assert CHROMIUM is not None
    return CHROMIUM


@pytest.fixture(scope="module")
def server(verifier) -> Iterator[str]:  # type: ignore[no-untyped-def]
    app = create_app({"VERIFIER": verifier, "ARCHIVE_LOOKUP": lambda _doc: None})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class Cdp:
    """A minimal Chrome DevTools Protocol client over one page's WebSocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv(timeout=20))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)
        raise TimeoutError(method)

    def wait_load(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(e.get("method") == "Page.loadEventFired" for e in self.events):
                self.events.clear()
                return
            self.events.append(json.loads(self.ws.recv(timeout=20)))
        raise TimeoutError("page load")

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_load()

    def upload_and_submit(self, path: Path) -> None:
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
        self.call("DOM.setFileInputFiles", nodeId=node, files=[str(path)])
        self.events.clear()
        self.js("document.getElementById('submit').click()")
        self.wait_load()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Cdp]:
    profile = tempfile.mkdtemp(prefix="docsvc-chromium-")
    proc = subprocess.Popen(
        [chromium_path, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t["type"] == "page")
        from websockets.sync.client import connect

        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
            cdp = Cdp(ws)
            cdp.call("Page.enable")
            cdp.call("DOM.enable")
            yield cdp
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_upload_in_chromium_shows_report_in_both_languages(browser: Cdp, server: str,
                                                           docs: Docs, tmp_path: Path) -> None:
    signed = tmp_path / "four-officials.pdf"
    signed.write_bytes(docs.four())
    browser.goto(f"{server}/verify?lang=ru")
    assert browser.js("document.querySelector('h1').textContent") == (
        "Проверка электронной подписи")
    browser.upload_and_submit(signed)
    assert browser.js("document.getElementById('verdict').dataset.verdict") == "TOTAL_PASSED"
    names = browser.js("[...document.querySelectorAll('.signer-name')].map(e => e.textContent)")
    assert names == ["ӘБІЛҚАСЫМОВА ГҮЛНАР СЕРІКҚЫЗЫ", "ЖҰМАБЕКОВ ДӘУРЕН ҒАЛЫМҰЛЫ",
                     "ҚҰРМАНҒАЛИЕВ НҰРЛАН ӨМІРЗАҚҰЛЫ", "ИВАНОВА ЕЛЕНА ПЕТРОВНА"]
    roles = browser.js("document.querySelectorAll('.roles')[1].textContent")
    assert "Первый руководитель" in roles
    # The rendered page is visible (not just in the DOM): the verdict box has a size.
    height = browser.js("document.getElementById('verdict').getBoundingClientRect().height")
    assert height > 20
    shot = browser.call("Page.captureScreenshot", format="png")["data"]
    assert len(shot) > 1000
    # Switch to Kazakh on the empty form and verify a tampered copy there.
    browser.js("document.getElementById('lang-kk').click()")
    browser.wait_load()
    assert browser.js("document.querySelector('h1').textContent") == (
        "Электрондық қолтаңбаны тексеру")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(incremental_update_attack(docs.bb()))
    browser.upload_and_submit(tampered)
    assert browser.js("document.getElementById('verdict').dataset.verdict") == "TOTAL_FAILED"
    reason = browser.js("document.querySelector('#sig-1 .reasons li[lang=kk]').textContent")
    assert "рұқсат етілмеген өзгерістер" in reason


def test_qr_link_and_bad_file_in_chromium(browser: Cdp, server: str, tmp_path: Path) -> None:
    doc_id = hashlib.sha256(b"document not yet archived").hexdigest()
    browser.goto(f"{server}/verify?doc={doc_id}&lang=kk")
    note = browser.js("document.getElementById('note').textContent")
    assert doc_id in note and "мұрағатта" in note
    assert browser.js("!!document.getElementById('verify-form')")
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7 this is not really a PDF")
    browser.upload_and_submit(junk)
    error = browser.js("document.getElementById('error').textContent")
    assert "PDF" in error and "бүлінген" in error
