"""Webhooks: signed with a timestamped HMAC, retried with backoff, recorded; a receiver
detects a replayed or late delivery."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice.service.jobs import ThreadRunner
from docservice.service.keys import add_key
from docservice.service.models import WebhookDelivery
from docservice.service.webhooks import HEADER, Deliverer, signature_header, verify
from tests.conftest import example
from tests.pki import TestPki
from tests.service.http import Client, serving


class Receiver:
    """A client system's endpoint: fails the first ``fail_first`` deliveries with 500."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                ok = len(receiver.received) > receiver.fail_first
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=2)
    yield r
    r.close()


def _deliver_until(deliverer: Deliverer, done, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline
        deliverer.deliver_due()
        time.sleep(0.05)


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_signature_and_job_webhooks_are_signed_retried_and_recorded(
    service: DocService, pki: TestPki, password_file: Path, receiver: Receiver
) -> None:
    svc = DocService(service.settings.with_(async_rows=5), db=service.db, store=service.store)
    with svc.db.session() as session:
        client, key = add_client(session, "portal", ["render", "sign"])
        add_key(session, "career", pki.p12("career"), password_file, ["portal"])
    secret = client.webhook_secret
    assert secret and secret.startswith("whsec_")
    deliverer = Deliverer(svc, base_delay=0.1)
    runner = ThreadRunner(svc, 1)
    with serving(create_service_app(service=svc, runner=runner)) as base:
        api = Client(base, key)
        doc = api.post(
            "/v1/documents",
            {"kind": "direction", "data": example("direction"), "callback_url": receiver.url},
        ).json
        assert api.post(f"/v1/documents/{doc['id']}/signatures", {"key": "career"}).status == 201
        _deliver_until(deliverer, lambda: len(receiver.received) == 3)
        job = api.post(
            "/v1/documents",
            {"kind": "report_a3", "data": example("report_a3"), "callback_url": receiver.url},
        )
        assert job.status == 202
        _deliver_until(deliverer, lambda: len(receiver.received) == 4)
    runner.shutdown()
    (_, b1), (_, b2), (h3, b3), (_, b4) = receiver.received
    assert b1 == b2 == b3  # the same delivery, retried
    event = json.loads(b3)
    assert event["event"] == "document.signed" and event["data"]["document_id"] == doc["id"]
    assert event["data"]["signature"] == 1
    assert h3["X-Docservice-Delivery"] == event["id"]
    assert verify(h3[HEADER], b3, secret)
    assert not verify(h3[HEADER], b3 + b" ", secret)  # tampered body
    assert not verify(h3[HEADER], b3, "whsec_other")  # someone else's secret
    t = int(h3[HEADER].split(",")[0][2:])
    assert not verify(h3[HEADER], b3, secret, now=t + 301)  # replayed / late
    assert json.loads(b4)["event"] == "job.completed"
    assert json.loads(b4)["data"]["state"] == "done"
    with svc.db.sessions() as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))
        recorded = [(r.event, r.state, r.attempts, r.last_status) for r in rows]
    assert recorded == [
        ("document.signed", "delivered", 3, 200),
        ("job.completed", "delivered", 1, 200),
    ]


def test_backoff_gives_up_after_max_attempts(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "sign"])
        add_key(session, "career", pki.p12("career"), password_file, ["portal"])
    doc = service.create_document(
        client,
        "direction",
        "kk",
        example("direction"),
        callback_url="http://127.0.0.1:9/nothing-listens",
    )
    service.sign_with_key(client, doc.id, "career")
    deliverer = Deliverer(service, base_delay=0.05, max_attempts=3, timeout=2)
    started = time.monotonic()
    for _ in range(200):
        deliverer.deliver_due()
        with service.db.sessions() as session:
            row = session.scalar(select(WebhookDelivery))
        if row.state != "pending":
            break
        time.sleep(0.02)
    assert row.state == "failed" and row.attempts == 3 and row.last_error
    assert time.monotonic() - started >= 0.05 + 0.1  # waited 0.05 s, then 0.1 s


def test_signature_header_is_the_documented_hmac() -> None:
    import hashlib
    import hmac

    body = b'{"id":"x"}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature_header("whsec_k", body, 1700000000) == f"t=1700000000,v1={expected}"
