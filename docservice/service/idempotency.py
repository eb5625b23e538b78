"""``Idempotency-Key`` on POST: a retry gets the first answer and creates nothing.

The first request with a key inserts its record *before* doing the work (the unique
``(client_id, key)`` constraint makes a concurrent twin fail to insert and get a 409), then
stores its answer; an answer of 5xx deletes the record so the retry really retries. The
same key with another method, path or body is refused with 422.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from docservice.service.db import Database
from docservice.service.models import IdempotencyRecord


@dataclass(frozen=True)
class Stored:
    status: int
    headers: dict[str, str]
    body: str


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b"\0" + path.encode() + b"\0" + body).hexdigest()


def begin(db: Database, client_id: int, key: str, digest: str) -> Stored | str | int:
    """A stored answer to replay, ``"mismatch"``, ``"in_progress"``, or the new record id."""
    try:
        with db.session() as session:
            record = IdempotencyRecord(client_id=client_id, key=key, request_hash=digest)
            session.add(record)
            session.flush()
            return record.id
    except IntegrityError:
        pass
    with db.sessions() as session:
        found = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
            )
        )
    if found is None:  # deleted meanwhile (its first request failed): try once more
        return begin(db, client_id, key, digest)
    if found.request_hash != digest:
        return "mismatch"
    if found.status is None:
        return "in_progress"
    return Stored(found.status, json.loads(found.headers or "{}"), found.body or "")


def finish(db: Database, record_id: int, status: int, headers: dict[str, str], body: str) -> None:
    with db.session() as session:
        if status >= 500:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
            return
        record = session.get(IdempotencyRecord, record_id)
        if record is not None:
            record.status, record.headers, record.body = status, json.dumps(headers), body
