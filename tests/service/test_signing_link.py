"""The officials' signing link in headless Chromium with the NCALayer emulator.

The calling system asks for a link over the API; the official opens it, presses the
button, the page talks to NCALayer (the emulator) with ``ncalayer-client.js``, the service
prepares and completes through the same functions as the API, and the page says so. A link
works once, expires, and may be pinned to the signer's IIN.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice_testing.ncalayer import running_emulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from tests.browser import Cdp, chromium
from tests.conftest import example
from tests.pki import TestPki
from tests.service.http import Client, serving

pytestmark = pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Cdp]:
    with chromium() as cdp:
        cdp.call("Security.setIgnoreCertificateErrors", ignore=True)  # the emulator's own TLS
        yield cdp


@pytest.fixture(scope="module")
def emulator(pki: TestPki):  # type: ignore[no-untyped-def]
    keys = [EmulatorKey.from_p12(pki.p12("career"), pki.password, alias="career")]
    with running_emulator(keys, port=0, tsa_url=pki.tsa_url) as emu:
        yield emu


def _press_and_wait(browser: Cdp, timeout: float = 60) -> tuple[str, str]:
    browser.js("document.getElementById('sign').click()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = browser.js("document.getElementById('status').dataset.state || ''")
        if state and state != "working":
            return state, browser.js("document.getElementById('status').textContent")
        time.sleep(0.2)
    raise AssertionError("the page did not finish")


def test_an_official_signs_through_a_link_in_chromium(
        service: DocService, emulator, browser: Cdp, pki: TestPki) -> None:  # type: ignore[no-untyped-def]
    with service.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign"])
    app = create_service_app(service=service)
    app.config["NCALAYER_URL"] = emulator.url
    with serving(app) as base:
        svc = DocService(service.settings.with_(public_url=base), db=service.db,
                         store=service.store)
        app.extensions["docservice"] = svc
        api = Client(base, key)
        doc = api.post("/v1/documents", {"kind": "direction", "data": example("direction")}).json
        link = api.post(f"/v1/documents/{doc['id']}/signing-links", {"expires_in": 600})
        assert link.status == 201, link.body
        url = link.json["url"]
        assert url.startswith(f"{base}/sign/")
        browser.goto(url + "?lang=ru")
        assert browser.js("document.documentElement.lang") == "ru"
        assert "Подписать" in browser.js("document.getElementById('sign').textContent")
        state, text = _press_and_wait(browser)
        assert state == "done", text
        assert text == "Документ подписан. Спасибо!"
        got = api.get(f"/v1/documents/{doc['id']}").json
        assert got["signature_count"] == 1 and got["signatures"][0]["method"] == "ncalayer"
        assert got["verification"]["verdict"] == "TOTAL_PASSED"
        # One time only: the page now says the link is spent, in Kazakh too.
        browser.goto(url + "?lang=kk")
        assert "пайдаланылған" in browser.js("document.getElementById('status').textContent")
        # A link pinned to another official's IIN refuses this key.
        pinned = api.post(f"/v1/documents/{doc['id']}/signing-links",
                          {"expected_signer": "781122300344"}).json["url"]
        browser.goto(pinned + "?lang=kk")
        state, text = _press_and_wait(browser)
        assert state == "failed", text
        assert api.get(f"/v1/documents/{doc['id']}").json["signature_count"] == 1
        bad = api.post(f"/v1/documents/{doc['id']}/signing-links", {"expires_in": 1})
        assert bad.status == 422 and bad.json["errors"][0]["field"] == "expires_in"
