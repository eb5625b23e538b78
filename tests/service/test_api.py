"""The /v1 API over a real socket, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from docservice.forms import all_kinds, get_kind
from docservice.service.app import create_service_app
from docservice.service.clients import add_client, revoke_client
from docservice.service.documents import DocService
from docservice.service.keys import add_key
from tests.conftest import example
from tests.pki import TestPki
from tests.qr import qr_payloads
from tests.service.http import Client, serving


@pytest.fixture
def server(
    service: DocService, pki: TestPki, password_file: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on a real socket, with clients: portal (all), reader (render), limited."""
    keys = {}
    with service.db.session() as session:
        _, keys["portal"] = add_client(session, "portal", ["render", "sign", "verify"])
        _, keys["reader"] = add_client(session, "reader", ["render"])
        _, keys["limited"] = add_client(session, "limited", ["render", "sign"], ["direction"])
        for label in ("career", "head"):
            add_key(session, label, pki.p12(label), password_file, ["portal"])
    with serving(create_service_app(service=service)) as base:
        yield base, keys


def test_create_sign_by_two_officials_verify_fetch(server, service: DocService) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    created = api.post(
        "/v1/documents",
        {"kind": "application", "lang": "kk+ru", "data": example("application"), "case_ref": "C-7"},
    )
    assert created.status == 201, created.body
    doc = created.json
    assert created.headers["Location"] == f"/v1/documents/{doc['id']}"
    assert doc["status"] == "ready" and doc["signatures"] == []
    for n, key in enumerate(("career", "head"), start=1):
        signed = api.post(f"/v1/documents/{doc['id']}/signatures", {"key": key})
        assert signed.status == 201, signed.body
        assert signed.json["signature"]["n"] == n
    got = api.get(f"/v1/documents/{doc['id']}").json
    assert got["status"] == "signed" and got["signature_count"] == 2
    assert got["verification"]["verdict"] == "TOTAL_PASSED", got["verification"]
    pdf = api.get(got["links"]["pdf"])
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF")
    # Each stamp's QR code opens this service's page for the document (its configured URL).
    assert (
        qr_payloads(pdf.body) == [f"{service.settings.public_url}/verify?doc={doc['sha256']}"] * 2
    )
    xml = api.get(got["links"]["xml"])
    assert xml.body.startswith(b"<?xml")
    cms = api.get(f"/v1/documents/{doc['id']}/signatures/2")
    assert cms.headers["Content-Type"] == "application/pkcs7-signature" and cms.body[0] == 0x30
    assert api.get(f"/v1/documents/{doc['id']}/signatures/3").status == 404
    # The QR code of the stamp: the stored document's report, nothing to upload.
    page = Client(base).get(f"/verify?doc={doc['sha256']}&lang=ru")
    assert page.status == 200 and 'data-verdict="TOTAL_PASSED"' in page.body.decode()
    assert doc["sha256"] in page.body.decode()
    listing = api.get("/v1/documents?kind=application&status=signed&case_ref=C-7").json
    assert [d["id"] for d in listing["items"]] == [doc["id"]]
    assert api.get("/v1/documents?kind=direction").json["total"] == 0
    # Another client neither sees nor touches it.
    other = Client(base, keys["reader"])
    assert other.get(f"/v1/documents/{doc['id']}").status == 404
    assert other.get(f"/v1/documents/{doc['id']}/pdf").status == 404
    assert other.get("/v1/documents").json["total"] == 0


@pytest.mark.parametrize(("lang", "needle"), [("kk", "ЖСН"), ("ru", "ИИН"), ("en", "check digit")])
def test_bad_fields_are_problems_in_the_callers_language(server, lang: str, needle: str) -> None:
    base, keys = server
    data = example("application")
    data["applicant"]["iin"] = data["applicant"]["iin"][:-1] + str(
        (int(data["applicant"]["iin"][-1]) + 1) % 10
    )
    answer = Client(base, keys["portal"], lang).post(
        "/v1/documents", {"kind": "application", "lang": "kk", "data": data}
    )
    assert answer.status == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["Content-Language"] == lang
    problem = answer.json
    assert problem["status"] == 422 and problem["type"].endswith("invalid_input")
    fields = {e["field"]: e for e in problem["errors"]}
    assert fields["applicant.iin"]["code"] == "iin_checksum"
    assert needle in fields["applicant.iin"]["message"]
    assert Client(base, keys["portal"]).get("/v1/documents").json["total"] == 0


def test_malformed_requests_name_the_field(server) -> None:
    base, keys = server
    api = Client(base, keys["portal"], "en")
    assert (
        api.post("/v1/documents", raw=b"{", headers={"Content-Type": "application/json"}).status
        == 400
    )
    assert api.post("/v1/documents", raw=b"x", headers={"Content-Type": "text/plain"}).status == 415
    unknown = api.post("/v1/documents", {"kind": "nope", "data": {}})
    assert unknown.status == 422 and unknown.json["errors"][0]["field"] == "kind"
    lang = api.post("/v1/documents", {"kind": "direction", "lang": "en", "data": {}})
    assert lang.status == 422 and lang.json["errors"][0]["field"] == "lang"
    assert api.get("/v1/documents?limit=0").json["errors"][0]["field"] == "limit"
    assert api.get("/v1/nowhere").headers["Content-Type"] == "application/problem+json"


def test_keys_scopes_and_kinds(server, service: DocService) -> None:
    base, keys = server
    assert Client(base).get("/v1/documents").status == 401
    assert Client(base, "ds_nope_nope").get("/v1/documents").status == 401
    reader = Client(base, keys["reader"])
    doc = reader.post("/v1/documents", {"kind": "direction", "data": example("direction")})
    assert doc.status == 201
    assert (
        reader.post(f"/v1/documents/{doc.json['id']}/signatures", {"key": "career"}).status == 403
    )
    limited = Client(base, keys["limited"])
    refused = limited.post("/v1/documents", {"kind": "journal", "data": example("journal")})
    assert refused.status == 403 and refused.json["errors"][0]["field"] == "kind"
    mine = limited.post("/v1/documents", {"kind": "direction", "data": example("direction")})
    # The key exists but is not granted to this client.
    assert (
        limited.post(f"/v1/documents/{mine.json['id']}/signatures", {"key": "career"}).status == 403
    )
    with service.db.session() as session:
        revoke_client(session, "limited")
    # Another process revokes (the CLI): this one's lookup cache forgets the key within
    # DOCSERVICE_AUTH_CACHE_TTL seconds.
    time.sleep(service.settings.auth_cache_ttl + 0.1)
    assert limited.get("/v1/documents").status == 401


def test_idempotency_key_replays_the_first_answer(server) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    request = {"kind": "direction", "data": example("direction")}
    first = api.post("/v1/documents", request, headers={"Idempotency-Key": "k-1"})
    again = api.post("/v1/documents", request, headers={"Idempotency-Key": "k-1"})
    assert first.status == again.status == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.get("/v1/documents").json["total"] == 1
    other = api.post(
        "/v1/documents", {**request, "case_ref": "x"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status == 422 and other.json["code"] == "idempotency_mismatch"
    doc_id = first.json["id"]
    s1 = api.post(
        f"/v1/documents/{doc_id}/signatures", {"key": "career"}, headers={"Idempotency-Key": "s-1"}
    )
    s2 = api.post(
        f"/v1/documents/{doc_id}/signatures", {"key": "career"}, headers={"Idempotency-Key": "s-1"}
    )
    assert s1.json == s2.json
    assert api.get(f"/v1/documents/{doc_id}").json["signature_count"] == 1


def test_concurrent_signing_requests_are_sequential(server) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    doc_id = api.post("/v1/documents", {"kind": "direction", "data": example("direction")}).json[
        "id"
    ]
    answers = []
    barrier = threading.Barrier(6)

    def sign(key: str) -> None:
        barrier.wait()
        answers.append(api.post(f"/v1/documents/{doc_id}/signatures", {"key": key}))

    threads = [threading.Thread(target=sign, args=(("career", "head")[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(a.status for a in answers) == [201] * 6, [a.body for a in answers]
    assert sorted(a.json["signature"]["n"] for a in answers) == [1, 2, 3, 4, 5, 6]
    got = api.get(f"/v1/documents/{doc_id}").json
    assert got["verification"]["verdict"] == "TOTAL_PASSED"
    assert len(got["verification"]["signatures"]) == 6


def test_openapi_is_generated_from_the_kinds_and_the_docs_work_offline(server) -> None:
    base, _ = server
    spec = Client(base).get("/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    schemas = spec["components"]["schemas"]
    for name, kind in all_kinds().items():
        expected = {k: v for k, v in kind.json_schema().items() if k not in ("$schema", "$id")}
        assert schemas[f"{name}_input"] == expected
        jsonschema.validate(example(name), schemas[f"{name}_input"])
    assert {v["properties"]["kind"]["const"] for v in schemas["DocumentCreate"]["oneOf"]} == set(
        all_kinds()
    )
    assert "post" in spec["paths"]["/v1/documents/{doc_id}/signatures/prepare"]
    page = Client(base).get("/docs").body.decode()
    assert "/v1/documents" in page and "<script" not in page and "src=" not in page
    for name in all_kinds():
        assert f"<summary><code>{name}</code></summary>" in page
    assert (
        "&quot;number&quot;" in page
        and "number" in get_kind("direction").json_schema()["properties"]
    )


def test_health_ready_and_metrics(server) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    api.post("/v1/documents", {"kind": "direction", "data": example("direction")})
    assert Client(base).get("/health").json == {"status": "ok"}
    ready = Client(base).get("/ready")
    assert ready.status == 200 and ready.json["checks"] == {
        "database": "ok",
        "store": "ok",
        "jobs": "ok",
    }
    text = Client(base).get("/metrics").body.decode()
    assert (
        'docservice_http_requests_total{method="POST",route="/v1/documents",status="201"} 1.0'
    ) in text
    assert 'docservice_documents{kind="direction"} 1.0' in text
    assert "docservice_http_request_seconds_bucket" in text
    answer = api.get("/v1/documents", headers={"X-Request-Id": "abc-123"})
    assert answer.headers["X-Request-Id"] == "abc-123"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_rate_limit_per_client_is_a_429_problem(service: DocService) -> None:
    svc = DocService(
        service.settings.with_(rate_limit="3/minute"), db=service.db, store=service.store
    )
    with svc.db.session() as session:
        _, one = add_client(session, "one", ["render"])
        _, two = add_client(session, "two", ["render"])
    with serving(create_service_app(service=svc)) as base:
        statuses = [Client(base, one).get("/v1/documents").status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = Client(base, one, "ru").get("/v1/documents")
        assert limited.headers["Content-Type"] == "application/problem+json"
        assert limited.json["code"] == "rate_limited" and limited.headers["Retry-After"]
        assert Client(base, two).get("/v1/documents").status == 200  # its own budget
        assert Client(base).get("/health").status == 200  # operations are not limited


def test_request_size_limit_is_a_413_problem(server) -> None:
    base, keys = server
    answer = Client(base, keys["portal"]).post(
        "/v1/documents",
        raw=b"{" + b" " * (17 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 413
    assert answer.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_rows_per_report_limit_is_a_422_naming_the_field(service: DocService) -> None:
    svc = DocService(service.settings.with_(max_report_rows=5), db=service.db, store=service.store)
    with svc.db.session() as session:
        _, key = add_client(session, "one", ["render"])
    with serving(create_service_app(service=svc)) as base:
        answer = Client(base, key, "en").post(
            "/v1/documents", {"kind": "report_a3", "data": example("report_a3")}
        )
        assert answer.status == 422
        assert answer.json["errors"][0]["field"] == "data.rows"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_an_audit_client_reads_but_cannot_create_or_sign(service: DocService) -> None:
    with service.db.session() as session:
        _, auditor = add_client(session, "auditor", ["audit"])
    with serving(create_service_app(service=service)) as base:
        api = Client(base, auditor)
        assert api.get("/v1/documents").status == 200
        refused = api.post("/v1/documents", {"kind": "direction", "data": example("direction")})
        assert refused.status == 403 and refused.json["code"] == "forbidden"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_a_bug_is_a_logged_500_problem_with_the_request_id(
    service: DocService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the real app over a socket: our failure is a 500, not the caller's 4xx."""
    with service.db.session() as session:
        _, key = add_client(session, "portal", ["render"])

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("IIN 850301300121")

    monkeypatch.setattr(DocService, "list_documents", broken)
    with serving(create_service_app(service=service)) as base, caplog.at_level("ERROR"):
        answer = Client(base, key, "en").get(
            "/v1/documents", headers={"X-Request-ID": "portal-bug-1"}
        )
    assert answer.status == 500
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["X-Request-ID"] == "portal-bug-1"
    assert (answer.json["code"], answer.json["status"], answer.json["request_id"]) == (
        "internal",
        500,
        "portal-bug-1",
    )
    assert "portal-bug-1" in answer.json["detail"] and "850301300121" not in answer.body.decode()
    assert "Traceback" not in answer.body.decode()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "KeyError" in errors[0] and "850301300121" not in errors[0]
