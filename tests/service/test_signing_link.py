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
    service: DocService, emulator, browser: Cdp, pki: TestPki
) -> None:  # type: ignore[no-untyped-def]
    with service.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign"])
    app = create_service_app(service=service)
    app.config["NCALAYER_URL"] = emulator.url
    with serving(app) as base:
        svc = DocService(
            service.settings.with_(public_url=base), db=service.db, store=service.store
        )
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
        pinned = api.post(
            f"/v1/documents/{doc['id']}/signing-links", {"expected_signer": "781122300344"}
        ).json["url"]
        browser.goto(pinned + "?lang=kk")
        state, text = _press_and_wait(browser)
        assert state == "failed", text
        assert api.get(f"/v1/documents/{doc['id']}").json["signature_count"] == 1
        bad = api.post(f"/v1/documents/{doc['id']}/signing-links", {"expires_in": 1})
        assert bad.status == 422 and bad.json["errors"][0]["field"] == "expires_in"


# -- a document on its route: the page shows the step, the deadline, earlier remarks and
# -- both actions; the official signs one step and returns the next with remarks --------


@pytest.fixture(scope="module")
def route_keys(pki: TestPki) -> dict[str, EmulatorKey]:
    return {
        label: EmulatorKey.from_p12(pki.p12(label), pki.password, alias=label)
        for label in ("career", "head")
    }


@pytest.fixture(scope="module")
def route_emulator(route_keys, pki: TestPki):  # type: ignore[no-untyped-def]
    with running_emulator(list(route_keys.values()), port=0, tsa_url=pki.tsa_url) as emu:
        yield emu


def _click_and_wait(browser: Cdp, button: str, timeout: float = 60) -> tuple[str, str]:
    browser.js(f"document.getElementById('{button}').click()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = browser.js("document.getElementById('status').dataset.state || ''")
        if state and state != "working":
            return state, browser.js("document.getElementById('status').textContent")
        time.sleep(0.2)
    raise AssertionError("the page did not finish")


def test_an_official_signs_a_step_and_the_next_returns_it_in_chromium(
    service: DocService, route_emulator, route_keys, browser: Cdp
) -> None:  # type: ignore[no-untyped-def]
    from tests.ncalayer.conftest import with_key
    from tests.service.test_route_api import DEPARTURE, SETTLEMENT, directory

    with service.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign"])
    directory(service)
    app = create_service_app(service=service)
    app.config["NCALAYER_URL"] = route_emulator.url
    with serving(app) as base:
        svc = DocService(
            service.settings.with_(public_url=base), db=service.db, store=service.store
        )
        app.extensions["docservice"] = svc
        api = Client(base, key)
        assert (
            api.post(
                "/v1/cases",
                {"case_ref": "L-1", "departure_region": DEPARTURE, "settlement_region": SETTLEMENT},
            ).status
            == 201
        )
        doc = api.post(
            "/v1/documents",
            {
                "kind": "application",
                "data": example("application"),
                "case_ref": "L-1",
                "route": "application",
            },
        ).json
        due = api.get(f"/v1/documents/{doc['id']}/route").json["step"]["due_on"]

        # Point 8 in Kazakh: the step, its deadline; no return at point 8.
        route_emulator.choose = with_key(route_keys, "career")
        browser.goto(
            api.post(f"/v1/documents/{doc['id']}/signing-links", {}).json["url"] + "?lang=kk"
        )
        assert browser.js("document.getElementById('route').dataset.step") == "p8"
        assert "Шығу өңірінің мансап орталығының қызметкері" in browser.js(
            "document.getElementById('step').textContent"
        )
        assert browser.js("document.getElementById('deadline').dataset.due") == due
        assert browser.js("document.getElementById('return') === null")
        assert "келесі қадамға" in browser.js("document.getElementById('sign').textContent")
        state, text = _click_and_wait(browser, "sign")
        assert state == "done", text
        assert api.get(f"/v1/documents/{doc['id']}/route").json["step"]["id"] == "p9"

        # Point 9 in Russian: the head returns it with remarks signed in NCALayer.
        route_emulator.choose = with_key(route_keys, "head")
        browser.goto(
            api.post(f"/v1/documents/{doc['id']}/signing-links", {}).json["url"] + "?lang=ru"
        )
        assert browser.js("document.getElementById('route').dataset.step") == "p9"
        assert "Руководитель центра трудовой мобильности" in browser.js(
            "document.getElementById('step').textContent"
        )
        state, _ = _click_and_wait(browser, "return")
        assert state == "need_remarks"
        browser.js("document.getElementById('remarks').value = 'Уточните состав семьи'")
        state, text = _click_and_wait(browser, "return")
        assert state == "returned", text
        assert text == "Документ возвращён на доработку с замечаниями."
        route = api.get(f"/v1/documents/{doc['id']}/route").json
        assert route["state"] == "returned" and route["step"]["id"] == "p8"
        assert route["events"][-1]["remarks"] == "Уточните состав семьи"
        assert route["events"][-1]["actor"]["iin"] == "781122300344"

        # The revision's page shows the earlier remarks.
        v2 = api.post(f"/v1/documents/{doc['id']}/revisions", {"data": example("application")}).json
        route_emulator.choose = with_key(route_keys, "career")
        browser.goto(
            api.post(f"/v1/documents/{v2['id']}/signing-links", {}).json["url"] + "?lang=kk"
        )
        assert "Уточните состав семьи" in browser.js(
            "document.getElementById('earlier').textContent"
        )
        assert browser.js("document.getElementById('version').textContent") == "2"
