"""The service's archive: what each action records, tree heads, proofs, a case's chain.

Recording itself is :func:`docservice.archive.record.record`, called by ``DocService``
inside the transaction of the thing recorded. This module knows which artefacts an action
yields (a rendered document: PDF, XML, input; a signature: the signed revision, its
detached CMS, its time-stamp tokens and the OCSP/CRL data in the revision's DSS; a
verification report), the keys (index key for IIN hashes, seal key for tree heads) and
the read side the API and the CLI share (tree heads, proofs, search, chain, bundle).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import io
import os
import secrets
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docservice.archive import record as rec
from docservice.archive.bundle import head_json as sth_view
from docservice.archive.merkle import MerkleLog
from docservice.archive.sth import (
    SealKey,
    SignedTreeHead,
    async_timestamp_tree_head,
    sign_tree_head,
)
from docservice.archive.store import SqlStore, artefact, tree_head
from docservice.service.config import Settings
from docservice.service.models import Case, Client, Document
from signing.cms_util import unsigned_attributes

#: Entry types that belong to a case's chain (reads of it are logged, but are not it).
CHAIN_TYPES = tuple(t for t in rec.TYPES if t != "audit.read")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _private_file(path: Path, data: bytes) -> None:
    """Write a new secret file (0600) whole, or not at all: written aside, then linked
    into place, so a concurrent process never reads it half-written and the first
    creator's file wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink()


def load_index_key(settings: Settings) -> bytes:
    """``DOCSERVICE_INDEX_KEY``, else ``data_dir/index.key`` (made on first use)."""
    if settings.index_key:
        return settings.index_key.encode()
    path = settings.data_dir / "index.key"
    if not path.exists():
        _private_file(path, secrets.token_hex(32).encode())
    return path.read_bytes().strip()


def load_seal_key(settings: Settings) -> SealKey:
    """``DOCSERVICE_SEAL_KEY`` (PEM, Ed25519 or RSA), else ``data_dir/seal-key.pem``."""
    path = (
        Path(settings.seal_key_path)
        if settings.seal_key_path
        else settings.data_dir / "seal-key.pem"
    )
    if not settings.seal_key_path and not path.exists():
        _private_file(
            path,
            ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"the seal key {path} must be Ed25519 or RSA")
    return key


def public_pem(key: SealKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- what an action yields -----------------------------------------------------------------


#: The DER of id-aa-signatureTimeStampToken (1.2.840.113549.1.9.16.2.14), the type of the
#: unsigned attribute that carries a signature's time-stamp tokens (an OID's DER is unique).
_TIME_STAMP_TOKEN = bytes.fromhex("060b2a864886f70d010910020e")


def signature_artefacts(
    document: Document,
    seq: int,
    signed_pdf: bytes,
    der: bytes,
    iin: str | None,
    method: str,
    *,
    pdf_sha: str | None = None,
    cms_sha: str | None = None,
) -> list[rec.Artefact]:
    """A signature's artefacts: the signed revision, the CMS, time-stamps, OCSP/CRL.

    ``pdf_sha``, ``cms_sha``: those of ``signed_pdf`` and ``der`` when the caller has just
    put them in the store (``rec.Artefact.sha256``)."""
    common = {
        "document_id": document.id,
        "case_ref": document.case_ref,
        "client_id": document.client_id,
        "iin": iin,
    }
    meta = {"signature": seq, "method": method}
    out = [
        rec.Artefact("signature.pdf", signed_pdf, meta=meta, sha256=pdf_sha, **common),
        rec.Artefact("signature.cms", der, meta=meta, sha256=cms_sha, **common),
    ]
    # Parsed only when the CMS holds the attribute type at all: a B-B signature has none.
    if _TIME_STAMP_TOKEN in der:
        signed = cms.ContentInfo.load(der)["content"]
        for info in signed["signer_infos"]:
            for attr in unsigned_attributes(info):
                if attr["type"].native == "signature_time_stamp_token":
                    for token in attr["values"]:
                        out.append(
                            rec.Artefact("signature.timestamp", token.dump(), meta=meta, **common)
                        )
    ocsps, crls = _dss_of(signed_pdf)
    out += [rec.Artefact("signature.ocsp", r, meta=meta, **common) for r in ocsps]
    out += [rec.Artefact("signature.crl", c, meta=meta, **common) for c in crls]
    return out


def _dss_of(pdf: bytes) -> tuple[list[bytes], list[bytes]]:
    """The OCSP responses and CRLs of a revision's document security store (B-LT/B-LTA).

    A file without the bytes ``/DSS`` has none: the rendered revision (whose object
    streams could hide a compressed name) never has a DSS, and pyHanko, which writes every
    later revision, writes the catalog that names the DSS uncompressed. Why the test:
    parsing the whole revision to find no DSS was a tenth of a B-B signature's recording.
    """
    if b"/DSS" not in pdf:
        return [], []
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    dss = reader.root.get("/DSS")
    if dss is None:
        return [], []
    dss = dss.get_object()
    return (
        [r.get_object().data for r in dss.get("/OCSPs", [])],
        [c.get_object().data for c in dss.get("/CRLs", [])],
    )


# -- the read side -----------------------------------------------------------------------


def case_ref_of(session: Session, client: Client, case_id: str) -> str:
    """The ``case_ref`` the archive files case ``case_id`` under.

    The one place a case id is resolved: a case made with ``POST /v1/cases`` by its id;
    otherwise the id is taken as the client's own free ``case_ref`` label (documents made
    without a route may carry one that names no case).
    """
    case = session.scalar(select(Case).where(Case.id == case_id, Case.client_id == client.id))
    return case.case_ref if case is not None else case_id


def case_documents(session: Session, client: Client, case_id: str) -> list[Document]:
    """The documents of case ``case_id`` the client may see (every version)."""
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.client_id == client.id,
                Document.case_ref == case_ref_of(session, client, case_id),
            )
            .order_by(Document.created_at, Document.id)
        )
    )


class Archive:
    """One per DocService: keys, the log over the service's engine, tree heads."""

    def __init__(self, settings: Settings, engine: Any, store: Any) -> None:
        self.settings = settings
        self.store = store
        self.log_store = SqlStore(engine)
        self.log = MerkleLog(self.log_store)
        self._index_key: bytes | None = None
        self._seal_key: SealKey | None = None
        self._head_lock = threading.Lock()
        self._appended = rec.AppendMemory()

    @property
    def index_key(self) -> bytes:
        if self._index_key is None:
            self._index_key = load_index_key(self.settings)
        return self._index_key

    @property
    def seal_key(self) -> SealKey:
        if self._seal_key is None:
            self._seal_key = load_seal_key(self.settings)
        return self._seal_key

    def record(self, session: Session, artefacts: Sequence[rec.Artefact]) -> list[rec.Recorded]:
        """Record ``artefacts``; one with its ``sha256`` must have been put in this very
        store (durably) by the caller, and is not put again (``rec.Artefact.sha256``)."""
        return rec.record(
            session, self.store, artefacts, index_key=self.index_key, memory=self._appended
        )

    def record_event(self, session: Session, event: bytes, **fields: Any) -> rec.Recorded:
        """Record a route event (the route's canonical ``event_bytes(event)``)."""
        return rec.record_event(
            session,
            self.store,
            event,
            index_key=self.index_key,
            memory=self._appended,
            **fields,
        )

    def record_read(
        self, session: Session, client: Client, what: str, **params: Any
    ) -> rec.Recorded:
        """Every audit read is itself an entry: who read what, with which parameters."""
        body = rec.canonical({"read": what, "client": client.name, "params": params})
        return rec.record_event(
            session,
            self.store,
            body,
            index_key=self.index_key,
            memory=self._appended,
            client_id=client.id,
            kind="audit.read",
            meta={"read": what},
        )

    # -- tree heads and proofs -------------------------------------------------------

    def make_tree_head(self) -> tuple[SignedTreeHead, bytes | None]:
        """Sign the log's current head (time-stamped when a TSA is configured) and keep it."""
        with self._head_lock:
            size = self.log_store.size()
            sth = sign_tree_head(self.seal_key, size, self.log.root(size))
            token = None
            if self.settings.tsa_url:
                from pyhanko.sign.timestamps import HTTPTimeStamper

                token = asyncio.run(
                    async_timestamp_tree_head(
                        sth, HTTPTimeStamper(self.settings.tsa_url, timeout=10)
                    )
                )
            try:
                self.log_store.add_tree_head(sth, token)
            except IntegrityError:  # another process kept this size in this millisecond
                return next(
                    h
                    for h in self.tree_heads()
                    if (h[0].tree_size, h[0].timestamp_ms) == (sth.tree_size, sth.timestamp_ms)
                )
            return sth, token

    def tree_heads(self) -> list[tuple[SignedTreeHead, bytes | None]]:
        with self.log_store.reader.connect() as conn:
            rows = conn.execute(
                select(
                    tree_head.c.tree_size,
                    tree_head.c.timestamp_ms,
                    tree_head.c.root_hash,
                    tree_head.c.key_id,
                    tree_head.c.signature,
                    tree_head.c.timestamp_token,
                ).order_by(tree_head.c.timestamp_ms, tree_head.c.tree_size)
            ).all()
        return [
            (
                SignedTreeHead(s, t, bytes(r), bytes(k), bytes(g)),
                bytes(tok) if tok is not None else None,
            )
            for s, t, r, k, g, tok in rows
        ]

    def head_covering(self, size: int) -> tuple[SignedTreeHead, bytes | None]:
        """The newest tree head, made now when the newest does not cover ``size`` leaves."""
        heads = self.tree_heads()
        if heads and heads[-1][0].tree_size >= size:
            return heads[-1]
        return self.make_tree_head()

    def inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        size = self.log_store.size() if size is None else size
        return {
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": b64(self.log.leaf(index)),
            "inclusion_path": [b64(h) for h in self.log.inclusion_proof(index, size)],
        }

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        return {
            "tree_size_1": first,
            "tree_size_2": second,
            "consistency_path": [b64(h) for h in self.log.consistency_proof(first, second)],
        }

    # -- search and chain -----------------------------------------------------------

    def search(
        self,
        session: Session,
        client: Client,
        *,
        case_ref: str | None = None,
        iin: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        types: Iterable[str] = CHAIN_TYPES,
        limit: int = 200,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The client's entries by case, by IIN (through its keyed hash) and by period."""
        query = select(artefact).where(
            artefact.c.client_id == client.id, artefact.c.type.in_(list(types))
        )
        if case_ref:
            query = query.where(artefact.c.case_ref == case_ref)
        if iin:
            query = query.where(artefact.c.iin_key == rec.iin_key(self.index_key, iin))
        if since:
            query = query.where(artefact.c.recorded_at >= since)
        if until:
            query = query.where(artefact.c.recorded_at < until)
        rows = session.execute(query.order_by(artefact.c.idx).limit(limit).offset(offset))
        return [self.entry_view(r) for r in rows.mappings()]

    def entry_view(self, row: Any) -> dict[str, Any]:
        recorded = row["recorded_at"]
        recorded = recorded if recorded.tzinfo else recorded.replace(tzinfo=dt.UTC)
        return {
            "index": row["idx"],
            "type": row["type"],
            "sha256": row["sha256"],
            "document_id": row["document_id"],
            "case_ref": row["case_ref"],
            "recorded_at": recorded.isoformat(),
        }

    def chain(self, session: Session, client: Client, case_id: str) -> dict[str, Any]:
        """The case's timeline: every artefact, its log entry and its inclusion proof in
        the newest signed tree head (made now if it does not cover the case yet)."""
        documents = case_documents(session, client, case_id)
        rows = self.case_rows(session, client, case_id, documents)
        head, token = self.head_covering(max((r["idx"] for r in rows), default=-1) + 1)
        items = []
        for row in rows:
            item = self.entry_view(row)
            item["entry"] = b64(self.log_store.entry(row["idx"]))
            item["proof"] = self.inclusion(row["idx"], head.tree_size)
            items.append(item)
        return {
            "case_id": case_id,
            "documents": [d.id for d in documents],
            "tree_head": sth_view(head, token),
            "items": items,
        }

    def case_rows(
        self, session: Session, client: Client, case_id: str, documents: Sequence[Document]
    ) -> list[Any]:
        """The case's entries: its documents' and those recorded under its case_ref."""
        case_ref = case_ref_of(session, client, case_id)
        mine = (artefact.c.client_id == client.id) & (artefact.c.case_ref == case_ref)
        ids = [d.id for d in documents]
        if ids:
            mine = mine | artefact.c.document_id.in_(ids)
        return list(
            session.execute(
                select(artefact)
                .where(mine, artefact.c.type.in_(list(CHAIN_TYPES)))
                .order_by(artefact.c.idx)
            ).mappings()
        )
