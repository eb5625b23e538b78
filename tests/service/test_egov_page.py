"""The official's eGov signing page in headless Chromium (DevTools), on a phone-sized screen.

The page is served by the service on a real socket; the emulator signs while the page is
open, and the page must show the result by itself; a second request runs out on screen.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from docservice.service.egov import PAGE_TEXTS
from docservice.service.models import EgovRequest
from docservice_testing.egov_mobile import EgovMobileEmulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from tests.browser import Cdp, chromium
from tests.pki import TestPki
from tests.service.test_egov import LABELS, _document, _request, _served


@pytest.fixture(scope="module")
def browser() -> Iterator[Cdp]:
    with chromium() as cdp:
        yield cdp


@pytest.fixture(scope="module")
def keys(pki: TestPki) -> dict[str, EmulatorKey]:
    """RSA keys: the page does not depend on the key's algorithm (test_egov runs both)."""
    return {
        label: EmulatorKey.from_p12(pki.p12(label), pki.password, alias=label) for label in LABELS
    }


def _wait(cdp: Cdp, expression: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cdp.js(expression):
            return
        time.sleep(0.2)
    raise AssertionError(f"never true: {expression}")


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_page_on_a_phone_shows_link_countdown_and_result(browser, service, keys) -> None:  # type: ignore[no-untyped-def]
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=3,
        mobile=True,
    )
    for client, svc in _served(service):
        doc_id = _document(client)
        made = _request(client, doc_id, keys["career"])
        browser.goto(made["links"]["page"] + "?lang=kk")
        assert browser.js("document.documentElement.lang") == "kk"
        assert browser.js("document.querySelectorAll('main').length") == 1
        assert browser.js("document.querySelector('h1').textContent") == PAGE_TEXTS["title"]["kk"]
        assert browser.js("!!document.querySelector('#qr svg')")
        assert browser.js("document.getElementById('open').href") == made["links"]["egov_mobile"]
        # Phone first: the cross-signing link comes before the QR code, nothing overflows.
        assert browser.js(
            "document.getElementById('open').getBoundingClientRect().top"
            " < document.getElementById('qr').getBoundingClientRect().top"
        )
        assert browser.js("document.documentElement.scrollWidth <= window.innerWidth")
        _wait(
            browser, "/^0[01]:[0-5][0-9]$/.test(document.getElementById('countdown').textContent)"
        )
        first = browser.js("document.getElementById('countdown').textContent")
        time.sleep(1.2)
        assert browser.js("document.getElementById('countdown').textContent") < first

        assert EgovMobileEmulator(keys["career"]).run(made["qr"]["payload"]).status == 200
        _wait(browser, "document.getElementById('result').dataset.state === 'signed'")
        assert (
            browser.js("document.getElementById('result').textContent")
            == PAGE_TEXTS["signed"]["kk"]
        )
        assert browser.js("document.getElementById('open').hidden")

        # In Russian, a request that runs out while the page is open.
        other = _request(client, doc_id, keys["head"])
        with svc.db.session() as session:
            session.execute(
                update(EgovRequest)
                .where(EgovRequest.id == other["id"])
                .values(expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3))
            )
        browser.goto(other["links"]["page"] + "?lang=ru")
        assert browser.js("document.documentElement.lang") == "ru"
        assert browser.js("document.querySelector('h1').textContent") == PAGE_TEXTS["title"]["ru"]
        _wait(browser, "document.getElementById('result').dataset.state === 'expired'")
        assert (
            browser.js("document.getElementById('result').textContent")
            == PAGE_TEXTS["expired"]["ru"]
        )
        assert browser.js("document.getElementById('countdown').textContent") == "00:00"
        assert client.get(other["links"]["status"]).json["state"] == "expired"

        browser.goto(client.base + "/egov/no-such-request?lang=ru")
        assert (
            browser.js("document.getElementById('result').textContent")
            == PAGE_TEXTS["unknown"]["ru"]
        )
