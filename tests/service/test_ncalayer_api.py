"""NCALayer signing through the API: prepare, the emulator signs, complete (or refuse)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import pem
from websockets.sync.client import connect

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice_testing.ncalayer import running_emulator
from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.ncalayer import protocol as p
from tests.conftest import example
from tests.ncalayer.conftest import with_key
from tests.pki import TestPki
from tests.service.http import Client, serving


@pytest.fixture(scope="module")
def emulator_keys(pki: TestPki) -> dict[str, EmulatorKey]:
    return {
        label: EmulatorKey.from_p12(pki.p12(label), pki.password, alias=label)
        for label in ("career", "head")
    }


@pytest.fixture(scope="module")
def emulator(emulator_keys: dict[str, EmulatorKey], pki: TestPki):  # type: ignore[no-untyped-def]
    with running_emulator(list(emulator_keys.values()), port=0, tsa_url=pki.tsa_url) as emu:
        yield emu


@pytest.fixture
def api(service: DocService) -> Iterator[Client]:
    with service.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign"])
    with serving(create_service_app(service=service)) as base:
        yield Client(base, key, "ru")


def _pem(key: EmulatorKey) -> str:
    return pem.armor("CERTIFICATE", key.certificate.dump()).decode()


def _sign_in_ncalayer(emulator, keys, label: str, prepared: dict) -> str:  # type: ignore[no-untyped-def]
    """What the official's browser does: one ``sign`` message to NCALayer (the emulator).

    Generous timeouts: this machine's load, not the protocol, is what they absorb."""
    emulator.choose = with_key(keys, label)
    with connect(
        emulator.url, ssl=emulator.client_ssl_context(), open_timeout=30, close_timeout=5
    ) as ws:
        assert p.parse_version(ws.recv(timeout=30)) == p.VERSION
        ws.send(p.dumps(prepared["ncalayer_request"]["basics"]))
        answer = json.loads(ws.recv(timeout=60))
    return p.parse_basics_response(answer)  # type: ignore[return-value]


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_two_officials_sign_through_ncalayer(api: Client, emulator, emulator_keys) -> None:  # type: ignore[no-untyped-def]
    doc = api.post("/v1/documents", {"kind": "direction", "data": example("direction")}).json
    for n, label in enumerate(("career", "head"), start=1):
        prepared = api.post(
            f"/v1/documents/{doc['id']}/signatures/prepare",
            {"certificate": _pem(emulator_keys[label])},
        )
        assert prepared.status == 201, prepared.body
        body = prepared.json
        assert body["data_to_sign"] and body["ncalayer_request"]["basics"]["module"] == p.BASICS
        cms = _sign_in_ncalayer(emulator, emulator_keys, label, body)
        done = api.post(f"/v1/documents/{doc['id']}/signatures/{body['id']}/complete", {"cms": cms})
        assert done.status == 201, done.body
        assert done.json["signature"]["n"] == n
        assert done.json["signature"]["method"] == "ncalayer"
        again = api.post(
            f"/v1/documents/{doc['id']}/signatures/{body['id']}/complete", {"cms": cms}
        )
        assert again.status == 410
    got = api.get(f"/v1/documents/{doc['id']}").json
    assert got["verification"]["verdict"] == "TOTAL_PASSED", got["verification"]


@pytest.mark.parametrize("backend_url", ["sqlite", "postgresql"], indirect=True)
def test_refusals(api: Client, emulator, emulator_keys, service: DocService) -> None:  # type: ignore[no-untyped-def]
    doc = api.post("/v1/documents", {"kind": "direction", "data": example("direction")}).json
    base = f"/v1/documents/{doc['id']}/signatures"
    assert (
        api.post(f"{base}/prepare", {"certificate": "nonsense"}).json["errors"][0]["field"]
        == "certificate"
    )
    one = api.post(f"{base}/prepare", {"certificate": _pem(emulator_keys["career"])}).json
    two = api.post(f"{base}/prepare", {"certificate": _pem(emulator_keys["head"])}).json
    # A CMS by another key than the prepared certificate is refused and signs nothing.
    wrong = _sign_in_ncalayer(
        emulator,
        emulator_keys,
        "head",
        {
            "ncalayer_request": {
                "basics": p.basics_sign_cms(
                    # test-CA keys are offered only with chain: [] (as real NCALayer does)
                    one["data_to_sign"],
                    digested=True,
                    signer=p.SignerParams(chain=()),
                ).to_message()
            }
        },
    )
    refused = api.post(f"{base}/{one['id']}/complete", {"cms": wrong})
    assert refused.status == 422 and refused.json["code"] == "signing_refused"
    # The right CMS still completes the session afterwards.
    good = _sign_in_ncalayer(emulator, emulator_keys, "career", one)
    assert api.post(f"{base}/{one['id']}/complete", {"cms": good}).status == 201
    # Prepared on the same base as the first: the document has moved on -> 409.
    late = _sign_in_ncalayer(emulator, emulator_keys, "head", two)
    conflict = api.post(f"{base}/{two['id']}/complete", {"cms": late})
    assert conflict.status == 409
    assert api.post(f"{base}/nope/complete", {"cms": late}).status == 404
    assert api.get(f"/v1/documents/{doc['id']}").json["signature_count"] == 1


def test_a_prepared_signature_expires(
    tmp_path: Path,
    trust_dir: Path,
    emulator,  # type: ignore[no-untyped-def]
    emulator_keys,
) -> None:
    from tests.service.conftest import make_settings

    settings = make_settings(tmp_path, trust_dir).with_(prepare_ttl=1.0)
    svc = DocService(settings)
    with svc.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign"])
    with serving(create_service_app(service=svc)) as base:
        api = Client(base, key)
        doc = api.post("/v1/documents", {"kind": "direction", "data": example("direction")}).json
        one = api.post(
            f"/v1/documents/{doc['id']}/signatures/prepare",
            {"certificate": _pem(emulator_keys["career"])},
        ).json
        cms = _sign_in_ncalayer(emulator, emulator_keys, "career", one)
        time.sleep(1.2)
        expired = api.post(
            f"/v1/documents/{doc['id']}/signatures/{one['id']}/complete", {"cms": cms}
        )
        assert expired.status == 410
    svc.db.dispose()
