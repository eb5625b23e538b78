"""Recording artefacts: the blob by its SHA-256 in the file store, an entry in the log.

Every artefact of a case (a document version, a signed revision, a detached CMS, a
time-stamp token, OCSP/CRL data, a verification report, a route event, an audit read) is
recorded by :func:`record` *inside the caller's transaction*: the log entry, its Merkle
nodes and its index row commit or roll back with the row that made the artefact, so the
log never names something the service does not have, nor misses something it has. Blobs
go to the content-addressed store first; a blob left by a rolled-back transaction is
harmless (nothing names it).

Appends are serialised by updating the single ``archive_log_lock`` row first (a row lock
on PostgreSQL, the writer lock on SQLite), held until the transaction ends: two appenders
can never both extend the same tree size, so the log cannot fork. The same update moves
the row's ``size`` (the number of entries) and returns it: where the new entries go. It
also names this append by a random id and returns the previous append's: when that is
the caller's own last one (``AppendMemory``), the log's right edge is the one the caller
kept, and no stored hash is read back.

The entry (the leaf input ``d`` of RFC 9162) is canonical JSON (keys sorted, no spaces,
UTF-8): ``{"case_ref", "client", "document", "iin_key", "meta", "sha256", "size", "time",
"type", "v"}``. An IIN never appears in clear: ``iin_key`` is HMAC-SHA256 under the index
key, which is also what search by IIN looks up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from docservice.archive.merkle import MerkleLog, Tail
from docservice.archive.store import ConnStore, artefact, log_lock

ENTRY_VERSION = 1

#: The kinds of artefact the log records.
TYPES = (
    "document.pdf",
    "document.xml",
    "document.input",
    "signature.pdf",
    "signature.cms",
    "signature.xml",
    "signature.timestamp",
    "signature.ocsp",
    "signature.crl",
    "report.verification",
    "document.timestamp",
    "route.event",
    "audit.read",
)


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...


class RecordError(RuntimeError):
    """The log cannot be appended to (its lock row is missing: migrate the database)."""


@dataclass(frozen=True)
class Artefact:
    """One thing to record: its bytes and what it belongs to."""

    type: str
    data: bytes
    document_id: str | None = None
    case_ref: str | None = None
    client_id: int | None = None
    #: The subject's or signer's IIN: only its keyed hash is kept.
    iin: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: The SHA-256 (hex) ``data`` was stored under, when the caller has just put it in the
    #: store itself: ``record`` then trusts it and neither hashes nor stores ``data`` again.
    #: Why: the service writes a document's and a signature's files before its transaction,
    #: and putting them again cost a SHA-256 and a ``stat`` each (0.3-0.4 ms per signed
    #: document). Only for callers that have the value from ``put``/``put_many`` of these
    #: very bytes; a wrong one is not caught here, but by ``audit check`` (the entry names a
    #: file that is missing, or whose size is not the entry's).
    sha256: str | None = None


@dataclass(frozen=True)
class Recorded:
    index: int
    sha256: str
    entry: bytes


def iin_key(index_key: bytes, iin: str) -> str:
    """The keyed hash an IIN is indexed and searched by (HMAC-SHA256, hex)."""
    return hmac.new(index_key, iin.strip().encode(), hashlib.sha256).hexdigest()


def entry_bytes(art: Artefact, sha256: str, when: dt.datetime, index_key: bytes) -> bytes:
    """The canonical leaf input of ``art`` (see the module docstring)."""
    key = iin_key(index_key, art.iin) if art.iin else None
    return canonical(_entry(art, sha256, format_time(when), key))


def _entry(art: Artefact, sha256: str, time: str, key: str | None) -> dict[str, Any]:
    if art.type not in TYPES:
        raise ValueError(f"unknown artefact type {art.type!r}")
    return {
        "v": ENTRY_VERSION,
        "type": art.type,
        "sha256": sha256,
        "size": len(art.data),
        "document": art.document_id,
        "case_ref": art.case_ref,
        "client": art.client_id,
        "time": time,
        "iin_key": key,
        "meta": dict(art.meta),
    }


# One encoder for every entry: ``json.dumps`` with options builds a new one per call.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode()


def format_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_entry(data: bytes) -> dict[str, Any]:
    """An entry's fields; ``ValueError`` when the bytes are not a canonical entry."""
    entry = json.loads(data.decode())
    if not isinstance(entry, dict) or entry.get("v") != ENTRY_VERSION:
        raise ValueError("not a version 1 archive entry")
    if canonical(entry) != data:
        raise ValueError("entry bytes are not canonical")
    return entry


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def index_row(
    idx: int, entry: Mapping[str, Any], recorded_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The ``archive_artefact`` row an entry implies (recomputed by ``audit check``).

    ``recorded_at``: the entry's ``time`` as the datetime it was formatted from, when the
    caller has it (``record``), so that it is not parsed back.
    """
    return {
        "idx": idx,
        "type": entry["type"],
        "sha256": entry["sha256"],
        "document_id": entry["document"],
        "case_ref": entry["case_ref"],
        "client_id": entry["client"],
        "recorded_at": parse_time(entry["time"]) if recorded_at is None else recorded_at,
        "iin_key": entry["iin_key"],
    }


# Built once (a statement keeps its cache key): the lock, where the entries go, and
# whether the last append was this process's own (SET sees the row as it was).
_TAKE_LOCK = (
    update(log_lock)
    .where(log_lock.c.id == 1)
    .values(
        appends=log_lock.c.appends + 1,
        size=log_lock.c.size + bindparam("count"),
        prior_append=log_lock.c.last_append,
        last_append=bindparam("append_id"),
    )
    .returning(log_lock.c.size, log_lock.c.prior_append)
)
_INSERT_INDEX = insert(artefact)


class AppendMemory:
    """This process's last append to the log: its id, and the log's tail after it.

    Why: reading the log's right edge back was one statement of every record. The
    ``Archive`` (one per service process) keeps one; the lock row says which append was
    the last, so the tail is trusted only when that is this very append at this very
    size: one rolled back, or anybody else's since, leaves another id (or NULL) there.
    Replaced whole, so a thread never sees half of another's.
    """

    def __init__(self) -> None:
        self.last: tuple[int, Tail] | None = None

    def tail_at(self, prior: int | None, start: int) -> Tail | None:
        """The tail to append at ``start`` after the append ``prior``, if it is ours."""
        last = self.last
        if last is None or prior is None or last[0] != prior or last[1][0] != start:
            return None
        return last[1]


def record(
    session: Session,
    store: BlobStore,
    artefacts: Sequence[Artefact],
    *,
    index_key: bytes,
    now: dt.datetime | None = None,
    memory: AppendMemory | None = None,
) -> list[Recorded]:
    """Store and log ``artefacts`` in ``session``'s transaction; their entries, in order.

    An artefact with its ``sha256`` is taken as already stored under it (not put again).
    ``memory``: the caller's last append (see ``AppendMemory``), updated by this one.
    """
    if not artefacts:
        return []
    session.flush()  # the recorded rows first: on SQLite that takes the writer lock
    conn = session.connection()
    # The lock and the place of the new entries in one statement: the size after them.
    append_id = secrets.randbits(63)
    row = conn.execute(_TAKE_LOCK, {"count": len(artefacts), "append_id": append_id}).first()
    if row is None:
        raise RecordError("the archive log has no lock row: run `docservice db upgrade`")
    end, prior = row
    # The entry keeps milliseconds; the index row gets that same instant, not parsed back.
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    time = format_time(when)
    keys: dict[str, str] = {}  # one HMAC per IIN: a record's artefacts share their signer's
    start = end - len(artefacts)
    shas, fields = [], []
    for art in artefacts:
        sha = art.sha256 if art.sha256 is not None else store.put(art.data)
        key = keys.get(art.iin) if art.iin else None
        if art.iin and key is None:
            key = keys[art.iin] = iin_key(index_key, art.iin)
        shas.append(sha)
        fields.append(_entry(art, sha, time, key))
    entries = [canonical(f) for f in fields]
    log = MerkleLog(ConnStore(conn, start), memory.tail_at(prior, start) if memory else None)
    log.append_many(entries, attempts=1)
    if memory is not None:
        memory.last = (append_id, log.tail) if log.tail else None
    # The index rows from the fields themselves: ``audit check`` recomputes them from the
    # stored bytes (``index_row(i, parse_entry(...))``) and compares.
    conn.execute(_INSERT_INDEX, [index_row(i, f, when) for i, f in enumerate(fields, start)])
    return [
        Recorded(i, sha, e) for i, (sha, e) in enumerate(zip(shas, entries, strict=True), start)
    ]


def record_event(
    session: Session,
    store: BlobStore,
    event: bytes,
    *,
    index_key: bytes,
    document_id: str | None = None,
    case_ref: str | None = None,
    client_id: int | None = None,
    iin: str | None = None,
    meta: Mapping[str, Any] | None = None,
    kind: str = "route.event",
    memory: AppendMemory | None = None,
) -> Recorded:
    """Record one event (a route step's ``event_bytes(event)``, an audit read) as an entry."""
    return record(
        session,
        store,
        [Artefact(kind, event, document_id, case_ref, client_id, iin, meta or {})],
        index_key=index_key,
        memory=memory,
    )[0]
