"""Cases and the application's route (Rules points 8-14) over a real socket, SQLite and
PostgreSQL: who may act, sign and forward, return for revision, versions, deadlines."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import cms, pem
from sqlalchemy import select, update

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice.service.keys import add_key
from docservice.service.models import Document, Route, RouteEvent
from docservice.service.route import add_org, event_bytes, return_payload
from docservice_testing.ncalayer import EmulatorKey, running_emulator
from signing.ncalayer import protocol as p
from tests.conftest import example
from tests.ncalayer.conftest import with_key
from tests.pki import TestPki
from tests.service.http import Client, serving

DEPARTURE, SETTLEMENT = "Түркістан облысы", "Павлодар облысы"
BINS = {"career": "120340001230", "head": "051140004562", "akimat": "991240007893"}


def directory(
    service: DocService, departure: str = DEPARTURE, settlement: str = SETTLEMENT
) -> None:
    """The test PKI's organisations: the career official's centre (its BIN) also acts, for
    the test, as the settlement region's executive body and labour mobility centre."""
    with service.db.session() as session:
        add_org(session, BINS["career"], "career_centre", departure, "Мансап орталығы")
        add_org(session, BINS["head"], "labour_mobility_centre", departure)
        add_org(session, BINS["akimat"], "local_executive_body", departure)
        add_org(session, BINS["career"], "local_executive_body", settlement)
        add_org(session, BINS["career"], "labour_mobility_centre", settlement)


@pytest.fixture
def server(service: DocService, pki: TestPki, password_file: Path) -> Iterator[tuple[str, str]]:
    with service.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign"])
        _, other = add_client(session, "other", ["render", "sign"])
        for label in ("career", "head", "akimat", "hr"):
            add_key(session, label, pki.p12(label), password_file, ["portal"])
    directory(service)
    with serving(create_service_app(service=service)) as base:
        yield base, key, other


def _case(api: Client, ref: str = "K-1", departure: str = DEPARTURE) -> dict:
    made = api.post(
        "/v1/cases",
        {"case_ref": ref, "departure_region": departure, "settlement_region": SETTLEMENT},
    )
    assert made.status == 201, made.body
    return made.json


def _application(api: Client, ref: str = "K-1") -> dict:
    made = api.post(
        "/v1/documents",
        {
            "kind": "application",
            "lang": "kk+ru",
            "data": example("application"),
            "case_ref": ref,
            "route": "application",
        },
    )
    assert made.status == 201, made.body
    return made.json


def _sign(api: Client, doc_id: str, key: str, status: int = 201) -> dict:
    answer = api.post(f"/v1/documents/{doc_id}/signatures", {"key": key})
    assert answer.status == status, answer.body
    return answer.json


def _step(api: Client, doc_id: str) -> dict:
    got = api.get(f"/v1/documents/{doc_id}/route")
    assert got.status == 200, got.body
    return got.json


def _openssl_verifies_the_remarks(
    service: DocService, doc_id: str, event: dict, pki: TestPki, tmp_path: Path
) -> None:
    """An implementation other than ours (OpenSSL) checks the CMS of a return: it signs
    exactly the remarks bound to the revision (``route.return_payload``), by the test PKI."""
    with service.db.sessions() as session:
        document = session.get(Document, doc_id)
        assert document is not None
        payload = return_payload(document, event["step"], event["remarks"])
    (tmp_path / "remarks.p7s").write_bytes(service.content(event["remarks_cms_sha256"]))
    (tmp_path / "remarks.json").write_bytes(payload)
    (tmp_path / "ca.pem").write_bytes(pki.root_pem.read_bytes() + pki.ca_pem.read_bytes())
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER"]
    command += ["-in", str(tmp_path / "remarks.p7s"), "-content", str(tmp_path / "remarks.json")]
    command += ["-CAfile", str(tmp_path / "ca.pem"), "-purpose", "any", "-out", "/dev/null"]
    check = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stderr
    (tmp_path / "remarks.json").write_bytes(payload.replace(b"return", b"retorn", 1))
    tampered = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert tampered.returncode != 0


def test_the_application_travels_its_route_with_returns_and_versions(
    server, service: DocService, pki: TestPki, tmp_path: Path
) -> None:
    base, key, other_key = server
    api = Client(base, key, "ru")
    case = _case(api)
    assert (
        api.post(
            "/v1/cases",
            {"case_ref": "K-1", "departure_region": DEPARTURE, "settlement_region": SETTLEMENT},
        ).status
        == 409
    )
    v1 = _application(api)
    assert v1["case_id"] == case["id"] and v1["version"] == 1
    route = _step(api, v1["id"])
    assert route["step"]["id"] == "p8" and route["state"] == "active"
    assert route["step"]["region"] == DEPARTURE and route["step"]["due_on"]

    # The head of the centre (first head, not an employee) cannot act at point 8.
    refused = api.post(f"/v1/documents/{v1['id']}/signatures", {"key": "head"})
    assert refused.status == 403, refused.body
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["code"] == "route_refused"
    assert "п. 8" in refused.json["detail"] and "роли" in refused.json["detail"]
    assert refused.json["errors"][0]["code"] == "role_missing"
    assert (
        Client(base, key, "kk")
        .post(f"/v1/documents/{v1['id']}/signatures", {"key": "head"})
        .json["detail"]
        .startswith("«")
    )

    _sign(api, v1["id"], "career")
    assert _step(api, v1["id"])["step"]["id"] == "p9"
    # Point 9 returns to point 8's employee; remarks are signed with the head's key.
    returned = api.post(
        f"/v1/documents/{v1['id']}/route/return",
        {"key": "head", "remarks": "Отбасы мүшелерінің деректерін толтырыңыз"},
    )
    assert returned.status == 201, returned.body
    assert returned.json["event"]["action"] == "returned"
    assert returned.json["event"]["to_step"] == "p8"
    assert returned.json["route"]["state"] == "returned"
    _openssl_verifies_the_remarks(service, v1["id"], returned.json["event"], pki, tmp_path)
    # Nothing more is signed on the returned version.
    blocked = _sign(api, v1["id"], "career", 409)
    assert blocked["errors"][0]["code"] == "returned"

    revised = api.post(f"/v1/documents/{v1['id']}/revisions", {"data": example("application")})
    assert revised.status == 201, revised.body
    v2 = revised.json
    assert v2["version"] == 2 and v2["previous_version"] == v1["id"]
    assert v2["case_id"] == case["id"]
    # The old version keeps its PDF and signature; it is superseded on the route.
    old = api.get(f"/v1/documents/{v1['id']}").json
    assert old["signature_count"] == 1 and api.get(old["links"]["pdf"]).status == 200
    assert _sign(api, v1["id"], "career", 409)["errors"][0]["code"] == "superseded"
    assert (
        api.post(f"/v1/documents/{v1['id']}/revisions", {"data": example("application")}).status
        == 409
    )

    for label, then in (("career", "p9"), ("head", "p10"), ("akimat", "p13")):
        _sign(api, v2["id"], label)
        assert _step(api, v2["id"])["step"]["id"] == then
    # Point 13 (settlement region's executive body, an employee): the akimat's head is
    # refused (role), then the employee returns it (to point 8).
    assert _sign(api, v2["id"], "akimat", 403)["errors"][0]["code"] == "role_missing"
    assert (
        api.post(
            f"/v1/documents/{v2['id']}/route/return",
            {"key": "career", "remarks": "Скан согласия нечитаем"},
        ).status
        == 201
    )
    v3 = api.post(f"/v1/documents/{v2['id']}/revisions", {"data": example("application")}).json
    assert v3["version"] == 3
    assert _step(api, v3["id"])["step"]["id"] == "p8"
    for label in ("career", "head", "akimat", "career"):
        _sign(api, v3["id"], label)
    last = _step(api, v3["id"])
    assert last["step"]["id"] == "p14"
    assert last["step"]["may_return"] is False
    assert (
        api.post(f"/v1/documents/{v3['id']}/route/return", {"key": "career", "remarks": "x"}).json[
            "errors"
        ][0]["code"]
        == "not_returnable"
    )
    _sign(api, v3["id"], "career")
    done = _step(api, v3["id"])
    assert done["state"] == "done" and done["step"] is None
    assert _sign(api, v3["id"], "career", 409)["errors"][0]["code"] == "route_done"

    actions = [(e["action"], e["step"], e["version"]) for e in done["events"]]
    assert actions == [
        ("started", None, 1),
        ("signed", "p8", 1),
        ("returned", "p9", 1),
        ("revised", None, 2),
        ("signed", "p8", 2),
        ("signed", "p9", 2),
        ("signed", "p10", 2),
        ("returned", "p13", 2),
        ("revised", None, 3),
        ("signed", "p8", 3),
        ("signed", "p9", 3),
        ("signed", "p10", 3),
        ("signed", "p13", 3),
        ("signed", "p14", 3),
        ("completed", None, 3),
    ]
    ret = done["events"][2]
    assert ret["remarks"] == "Отбасы мүшелерінің деректерін толтырыңыз"
    assert ret["actor"]["bin"] == BINS["head"] and len(ret["actor"]["certificate_sha256"]) == 64
    assert ret["actor"]["iin"] == "781122300344"

    # The case lists every version and the route's state.
    got = api.get(f"/v1/cases/{case['id']}").json
    assert [d["version"] for d in got["documents"]] == [1, 2, 3]
    assert [d["route_state"]["state"] for d in got["documents"]] == [
        "superseded",
        "superseded",
        "done",
    ]
    assert got["routes"][0]["state"] == "done"
    assert Client(base, other_key).get(f"/v1/cases/{case['id']}").status == 404

    # The return's remarks are a CMS by the head's certificate over the bound payload.
    with service.db.sessions() as session:
        rows = list(session.scalars(select(RouteEvent).order_by(RouteEvent.id)))
    signed_remarks = cms.ContentInfo.load(service.content(rows[2].cms_sha))
    assert signed_remarks["content_type"].native == "signed_data"
    canonical = json.loads(event_bytes(rows[2]))
    assert canonical["remarks"] == ret["remarks"] and event_bytes(rows[2]) == event_bytes(rows[2])
    assert list(canonical) == sorted(canonical)


def test_a_route_needs_a_case_and_an_official_of_the_right_region(server) -> None:
    base, key, _ = server
    api = Client(base, key, "kk")
    missing = api.post(
        "/v1/documents",
        {
            "kind": "application",
            "data": example("application"),
            "case_ref": "NO-SUCH",
            "route": "application",
        },
    )
    assert missing.status == 422, missing.body
    assert missing.json["errors"][0] == {
        "field": "case_ref",
        "code": "unknown_case",
        "message": missing.json["detail"],
    }
    assert "POST /v1/cases" in missing.json["detail"]
    # Without a route a free case_ref is still only a label (as before cases existed).
    free = api.post(
        "/v1/documents",
        {"kind": "application", "data": example("application"), "case_ref": "NO-SUCH"},
    )
    assert free.status == 201 and free.json["case_id"] is None
    bad_route = api.post(
        "/v1/documents",
        {
            "kind": "direction",
            "data": example("direction"),
            "case_ref": "K-1",
            "route": "application",
        },
    )
    assert bad_route.status == 422
    _case(api, "K-1")
    assert (
        api.post(
            "/v1/documents",
            {
                "kind": "direction",
                "data": example("direction"),
                "case_ref": "K-1",
                "route": "application",
            },
        ).status
        == 422
    )
    # A case leaving another region: the career centre (BIN) acts only for its own.
    _case(api, "K-2", departure="Алматы облысы")
    doc = _application(api, "K-2")
    refused = Client(base, key, "ru").post(
        f"/v1/documents/{doc['id']}/signatures", {"key": "career"}
    )
    assert refused.status == 403
    assert refused.json["errors"][0]["code"] == "not_this_body"
    assert "Алматы облысы" in refused.json["detail"] and "120340001230" in refused.json["detail"]
    en = (
        Client(base, key, "en")
        .post(f"/v1/documents/{doc['id']}/signatures", {"key": "career"})
        .json["detail"]
    )
    assert "does not act for career_centre of region Алматы облысы" in en
    assert api.get(f"/v1/documents/{doc['id']}").json["signature_count"] == 0


def test_overdue_steps_are_listed_and_exported(server, service: DocService) -> None:
    base, key, other_key = server
    api = Client(base, key)
    _case(api)
    doc = _application(api)
    assert api.get("/v1/route/overdue").json["total"] == 0
    with service.db.session() as session:  # the step began ten days ago
        session.execute(
            update(Route).values(
                step_since=dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
                due_on=dt.date.today() - dt.timedelta(days=9),
            )
        )
    late = api.get("/v1/route/overdue").json
    assert late["total"] == 1 and late["items"][0]["document_id"] == doc["id"]
    assert late["items"][0]["step"]["id"] == "p8" and late["items"][0]["step"]["overdue"]
    assert Client(base, other_key).get("/v1/route/overdue").json["total"] == 0
    metrics = Client(base).get("/metrics").body.decode()
    assert 'docservice_route_overdue_steps{route="application",step="p8"} 1.0' in metrics
    spec = Client(base).get("/openapi.json").json
    for path in (
        "/v1/cases",
        "/v1/cases/{case_id}",
        "/v1/route/overdue",
        "/v1/documents/{doc_id}/route",
        "/v1/documents/{doc_id}/route/return",
        "/v1/documents/{doc_id}/route/return/prepare",
        "/v1/documents/{doc_id}/route/return/{sid}/complete",
        "/v1/documents/{doc_id}/revisions",
    ):
        assert path in spec["paths"], path


# -- NCALayer two-phase: the same who-may-act check at prepare and at completion ----------


@pytest.fixture(scope="module")
def emulator_keys(pki: TestPki) -> dict[str, EmulatorKey]:
    return {
        label: EmulatorKey.from_p12(pki.p12(label), pki.password, alias=label)
        for label in ("career", "head")
    }


@pytest.fixture(scope="module")
def emulator(emulator_keys, pki: TestPki):  # type: ignore[no-untyped-def]
    with running_emulator(list(emulator_keys.values()), port=0, tsa_url=pki.tsa_url) as emu:
        yield emu


def _pem(key: EmulatorKey) -> str:
    return pem.armor("CERTIFICATE", key.certificate.dump()).decode()


def _ncalayer(emulator, keys, label: str, prepared: dict) -> str:  # type: ignore[no-untyped-def]
    from websockets.sync.client import connect

    emulator.choose = with_key(keys, label)
    with connect(
        emulator.url, ssl=emulator.client_ssl_context(), open_timeout=30, close_timeout=5
    ) as ws:
        assert p.parse_version(ws.recv(timeout=30)) == p.VERSION
        ws.send(p.dumps(prepared["ncalayer_request"]["basics"]))
        answer = json.loads(ws.recv(timeout=60))
    return p.parse_basics_response(answer)  # type: ignore[return-value]


def test_ncalayer_signing_and_return_check_the_step(server, emulator, emulator_keys) -> None:
    base, key, _ = server
    api = Client(base, key, "ru")
    _case(api)
    doc = _application(api)
    # Prepare already refuses the wrong official: nothing to sign is handed out.
    refused = api.post(
        f"/v1/documents/{doc['id']}/signatures/prepare",
        {"certificate": _pem(emulator_keys["head"])},
    )
    assert refused.status == 403 and refused.json["errors"][0]["code"] == "role_missing"
    prepared = api.post(
        f"/v1/documents/{doc['id']}/signatures/prepare",
        {"certificate": _pem(emulator_keys["career"])},
    )
    assert prepared.status == 201, prepared.body
    signed = _ncalayer(emulator, emulator_keys, "career", prepared.json)
    done = api.post(
        f"/v1/documents/{doc['id']}/signatures/{prepared.json['id']}/complete", {"cms": signed}
    )
    assert done.status == 201, done.body
    assert _step(api, doc["id"])["step"]["id"] == "p9"
    # Return at point 9 in the head's NCALayer: the remarks are what is signed.
    remarks = "Проверьте состав семьи"
    assert (
        api.post(
            f"/v1/documents/{doc['id']}/route/return/prepare",
            {"certificate": _pem(emulator_keys["career"]), "remarks": remarks},
        ).status
        == 403
    )
    ready = api.post(
        f"/v1/documents/{doc['id']}/route/return/prepare",
        {"certificate": _pem(emulator_keys["head"]), "remarks": remarks},
    )
    assert ready.status == 201, ready.body
    cms_b64 = _ncalayer(emulator, emulator_keys, "head", ready.json)
    other = api.post(
        f"/v1/documents/{doc['id']}/route/return/{ready.json['id']}/complete",
        {"cms": cms_b64, "remarks": "другие замечания"},
    )
    assert other.status == 422 and other.json["errors"][0]["field"] == "remarks"
    back = api.post(
        f"/v1/documents/{doc['id']}/route/return/{ready.json['id']}/complete",
        {"cms": cms_b64, "remarks": remarks},
    )
    assert back.status == 201, back.body
    assert back.json["event"]["actor"]["bin"] == BINS["head"]
    assert back.json["route"]["state"] == "returned"
