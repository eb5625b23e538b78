"""Headless Chromium (Debian's package) over the DevTools protocol, and axe-core for it.

One small driver for every browser test of the pages: ``chromium()`` starts the browser on
127.0.0.1 with a throw-away profile, ``Cdp`` sends commands to its page, ``serve(app)`` runs
a WSGI app on a free loopback port, and ``axe_source()`` returns axe-core's script, pinned
by this folder's ``package.json`` + ``package-lock.json`` and installed with ``npm ci`` on
first use. A missing Chromium or Node.js skips locally and fails in CI (``need``).
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import need
from tests.npm import npm_ci

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    need(path is not None, "chromium (Debian package)")
    assert path is not None
    return path


def axe_source() -> str:
    """axe-core's browser script, ``npm ci``-installed from the lock file when absent."""
    npm_ci(HERE, AXE, "axe-core")
    return AXE.read_text(encoding="utf-8")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in a thread; yields its base URL."""
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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv(timeout=60))
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

    def js(self, expression: str, *, await_promise: bool = False) -> Any:
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=await_promise,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_load()

    def set_files(self, selector: str, path: Path) -> None:
        """Put a file into a file input, as a user picking it in the dialog would."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.call("DOM.setFileInputFiles", nodeId=node, files=[str(path)])

    def upload_and_submit(self, path: Path, original: Path | None = None) -> None:
        self.set_files("#file", path)
        if original is not None:
            self.set_files("#original", original)
        self.events.clear()
        self.js("document.getElementById('submit').click()")
        self.wait_load()

    def viewport(self, width: int, height: int) -> None:
        """Emulate a screen; ``mobile`` below 800 px so the viewport meta tag applies."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 800,
        )

    def press(self, key: str, *, shift: bool = False) -> None:
        """A real key press through the browser's input pipeline (Tab, Enter, space)."""
        codes = {"Tab": 9, "Enter": 13, " ": 32}
        base = {
            "key": key,
            "code": "Space" if key == " " else key,
            "windowsVirtualKeyCode": codes[key],
            "modifiers": 8 if shift else 0,
        }
        down = {**base, "text": "\r"} if key == "Enter" else dict(base)
        if key == " ":
            down["text"] = " "
        self.call("Input.dispatchKeyEvent", type="keyDown", **down)
        self.call("Input.dispatchKeyEvent", type="keyUp", **base)

    def screenshot(self, path: Path) -> None:
        """The whole page (not only the first screen) as a PNG."""
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def print_pdf(self) -> bytes:
        """The page as Chromium prints it (the print stylesheet, the CSS page size)."""
        data = self.call("Page.printToPDF", preferCSSPageSize=True, printBackground=True)
        return base64.b64decode(data["data"])


@contextmanager
def chromium() -> Iterator[Cdp]:
    """Headless Chromium on 127.0.0.1 with a fresh profile; yields a client for its page."""
    binary = chromium_path()
    profile = tempfile.mkdtemp(prefix="docsvc-chromium-")
    proc = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read()
        )
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
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
