"""Webhooks to a document's ``callback_url``: on each signature and on job completion.

Outbox: the delivery row is written in the same transaction as the event, so an event is
never lost and never announced without having happened. A :class:`Deliverer` sends due
rows, claiming each with a conditional ``UPDATE`` (several processes may run one), and
retries failures with exponential backoff until ``max_attempts``; every attempt's status
is recorded on the row.

Signature (as Stripe and DocuSeal do): ``X-Docservice-Signature: t=<unix time>,v1=<hex>``
where ``v1 = HMAC-SHA256(secret, f"{t}." + body)``. A receiver recomputes it with its
client's webhook secret, compares in constant time, and refuses a ``t`` older than its
tolerance (a replay or a late delivery) - :func:`verify` does exactly that. The body's
``id`` (also ``X-Docservice-Delivery``) is the same on every retry, for de-duplication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from docservice.logsafe import describe
from docservice.service.models import Client, WebhookDelivery, utcnow

log = logging.getLogger("docservice.webhooks")
HEADER = "X-Docservice-Signature"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    header: str, body: bytes, secret: str, *, tolerance: float = 300, now: float | None = None
) -> bool:
    """The receiver's check: a valid ``v1`` for this body, made at most ``tolerance`` s ago."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature_header(secret, body, timestamp).split("v1=", 1)[1]
    return any(
        hmac.compare_digest(expected, v)
        for k, v in (item.split("=", 1) for item in header.split(","))
        if k == "v1"
    )


def enqueue(
    session: Session,
    client_id: int,
    url: str | None,
    event: str,
    data: dict[str, Any],
    document_id: str | None = None,
) -> None:
    """Record an event for ``url`` inside the caller's transaction (nothing if no URL)."""
    if not url:
        return
    delivery_id = secrets.token_hex(16)
    payload = {"id": delivery_id, "event": event, "created_at": utcnow().isoformat(), "data": data}
    session.add(
        WebhookDelivery(
            id=delivery_id,
            client_id=client_id,
            document_id=document_id,
            event=event,
            url=url,
            next_at=utcnow(),
            payload=json.dumps(payload, ensure_ascii=False),
        )
    )


class Deliverer:
    """Sends due deliveries; ``start()`` runs it in a thread every ``interval`` seconds."""

    def __init__(
        self,
        svc: Any,
        *,
        interval: float = 1.0,
        base_delay: float = 2.0,
        max_delay: float = 3600.0,
        max_attempts: int = 10,
        timeout: float = 10.0,
    ) -> None:
        self.svc = svc
        self.interval, self.base_delay, self.max_delay = interval, base_delay, max_delay
        self.max_attempts, self.timeout = max_attempts, timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    def start(self) -> Deliverer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.deliver_due()
            except Exception as exc:
                log.warning("webhooks: %s", describe(exc))

    def deliver_due(self) -> int:
        now = utcnow()
        with self.svc.db.sessions() as session:
            due = list(
                session.scalars(
                    select(WebhookDelivery.id)
                    .where(WebhookDelivery.state == "pending", WebhookDelivery.next_at <= now)
                    .order_by(WebhookDelivery.next_at)
                    .limit(50)
                )
            )
        sent = 0
        for delivery_id in due:
            sent += self._deliver(delivery_id, now)
        return sent

    def _deliver(self, delivery_id: str, now: dt.datetime) -> int:
        lease = now + dt.timedelta(seconds=self.timeout + 5)
        with self.svc.db.session() as session:
            claimed = session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.state == "pending",
                    WebhookDelivery.next_at <= now,
                )
                .values(next_at=lease)
            )
            if claimed.rowcount != 1:
                return 0
            row = session.get(WebhookDelivery, delivery_id)
            assert row is not None
            secret = session.get(Client, row.client_id).webhook_secret or ""  # type: ignore[union-attr]
            url, body, event = row.url, row.payload.encode(), row.event
        status, error = self._post(url, body, event, delivery_id, secret)
        with self.svc.db.session() as session:
            row = session.get(WebhookDelivery, delivery_id)
            assert row is not None
            row.attempts += 1
            row.last_status, row.last_error = status, error
            if status is not None and 200 <= status < 300:
                row.state, row.delivered_at = "delivered", utcnow()
            elif row.attempts >= self.max_attempts:
                row.state = "failed"
            else:
                delay = min(self.base_delay * 2 ** (row.attempts - 1), self.max_delay)
                row.next_at = utcnow() + dt.timedelta(seconds=delay)
        return 1

    def _post(
        self, url: str, body: bytes, event: str, delivery_id: str, secret: str
    ) -> tuple[int | None, str | None]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "docservice-webhooks",
            "X-Docservice-Event": event,
            "X-Docservice-Delivery": delivery_id,
            HEADER: signature_header(secret, body, int(time.time())),
        }
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return None, type(exc).__name__
