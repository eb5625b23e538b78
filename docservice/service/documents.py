"""The domain functions the HTTP API and the CLI share: create, sign, verify, look up.

Signing is sequential per document: every signing transaction first locks the
document's row - ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite an ``UPDATE`` of the
row's ``lock_version`` as the transaction's first statement, which takes SQLite's single
writer lock until commit (WAL keeps readers free). The signature is then made from the
revision read *under* the lock, so two requests can never both sign the same base; the
unique ``(document_id, seq)`` constraint backs this up. A server-key signature is computed
before the lock and kept only if its base is still current under the lock (else it is made
again there), so the writer lock is held for milliseconds, not for a signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from sqlalchemy import Connection, Select, bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from docservice.errors import DocserviceError
from docservice.pki.anchors import RevocationSource, TrustAnchors, TrustAnchorsError
from docservice.pki.person import person_of
from docservice.render import Rendered, check_printable, parse_lang, render
from docservice.resources import data_dir
from docservice.service import route as routing
from docservice.service import webhooks
from docservice.service.config import Settings
from docservice.service.db import Database
from docservice.service.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    UnprocessableError,
)
from docservice.service.keys import (
    USABLE_KEYS,
    KeyFiles,
    key_files,
    open_key,
    usable_key,
    usable_keys_params,
)
from docservice.service.models import (
    Case,
    Client,
    Document,
    Job,
    Signature,
    SigningSession,
    utcnow,
)
from docservice.service.store import FileStore, LocalFileStore
from docservice.ttl_cache import TtlCache
from docservice.verification.revocation import CachedRevocation, RevocationCache
from signing.cades import CadesOptions, sign_detached
from signing.cms_check import signer_certificate
from signing.cms_util import load_certificate, to_der
from signing.errors import SigningError
from signing.pdf import Level, PdfOptions, sign_pdf
from signing.twophase import Pending, TwoPhase, _data_digest

log = logging.getLogger(__name__)
STATUSES = ("ready", "signed")


class PdfaCheckError(DocserviceError):
    """The rendered PDF failed PDF/A-3b validation (twice): nothing is stored (a bug)."""

    code, status = "internal", 500


def render_checked(kind: str, data: Any, lang: str) -> Rendered:
    """``render`` with its PDF/A-3b conformance confirmed before anything is stored.

    :func:`docservice.rendering.pdfa.conforms` runs pikepdf's full validator once per
    document shape (and again, up to three times, before a failure is believed: see
    there) and compares the structure of later documents of a known shape.
    """
    from docservice.rendering.pdfa import conforms

    rendered = render(kind, data, lang, validate_pdfa=False)
    if conforms(rendered.pdf):
        return rendered
    raise PdfaCheckError(f"the rendered {kind} is not valid PDF/A-3b")


def input_json(data: Any) -> bytes:
    """A document's input as kept beside it (UTF-8 JSON, keys in their order)."""
    return json.dumps(data, ensure_ascii=False).encode()


def signing_trust(
    trust_dir: str | None, revocation: RevocationSource | None = None
) -> TrustAnchors | None:
    """The operator's trust folder as signing reads it (the same anchors verification
    uses); None when there is no folder or no CA in it. ``revocation``: where signing
    takes CRLs/OCSP answers and recent good statuses."""
    if not trust_dir or not Path(trust_dir).is_dir():
        return None
    try:
        anchors = TrustAnchors.from_directory(trust_dir)
    except TrustAnchorsError as exc:
        log.warning("signing without trust anchors: %s", exc)
        return None
    return replace(anchors, revocation=revocation)


_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _cms_of_last_signature(pdf: bytes) -> tuple[bytes, asn1_x509.Certificate]:
    """The detached CMS (DER, exactly as embedded) of the newest signature and its signer.

    Why not pyHanko's reader: parsing the whole signed file again to find what was just
    written cost about a tenth of a server-key signature. A signature's ``/Contents`` is
    the hex gap its ``/ByteRange`` leaves, and incremental updates append, so the last
    ``/ByteRange`` whose CMS is not a document time-stamp (``TSTInfo``) is the newest
    signature; anything unexpected falls back to the reader.
    """
    for match in reversed(list(_BYTE_RANGE.finditer(pdf))):
        try:
            start, length, resume, _ = (int(v) for v in match.groups())
            gap = pdf[start + length : resume]
            if not (gap.startswith(b"<") and gap.endswith(b">")):
                break
            info = cms.ContentInfo.load(bytes.fromhex(gap[1:-1].decode("ascii")))
            signed = info["content"]
            if signed["encap_content_info"]["content_type"].native == "tst_info":
                continue
            return info.dump(), _signer_certificate(signed)
        except (ValueError, KeyError, TypeError, StopIteration):
            break
    return _cms_of_last_signature_read(pdf)


def _signer_certificate(signed: cms.SignedData) -> asn1_x509.Certificate:
    """The certificate the (single) SignerInfo names, from the CMS's own certificates."""
    sid = signed["signer_infos"][0]["sid"]
    certs = [c.chosen for c in signed["certificates"] if c.name == "certificate"]
    if sid.name == "issuer_and_serial_number":
        want = sid.chosen
        serial, issuer = want["serial_number"].native, want["issuer"]
        der = issuer.dump()
        return next(
            c
            for c in certs
            if c.serial_number == serial  # cheap tests first: the serial, the same DER
            and (c.issuer.dump() == der or c.issuer == issuer)  # RFC 5280 comparison last
        )
    return next(c for c in certs if c.key_identifier == sid.chosen.native)


def _cms_of_last_signature_read(pdf: bytes) -> tuple[bytes, asn1_x509.Certificate]:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    sig = reader.embedded_regular_signatures[-1]
    der = cms.ContentInfo.load(bytes(sig.sig_object["/Contents"])).dump()
    return der, sig.signer_cert


class _DbPendingStore:
    """``signing.twophase.PendingStore`` over ``signing_sessions`` in the caller's session.

    ``take`` marks the row taken with a conditional ``UPDATE``: of two concurrent
    completions one gets the row, the other nothing (and is refused).
    """

    def __init__(self, session: Session, document: Document) -> None:
        self.session = session
        self.document = document

    def put(self, pending: Pending) -> None:
        row = self.session.get(SigningSession, pending.id)
        if row is None:
            self.session.add(
                SigningSession(
                    id=pending.id,
                    document_id=self.document.id,
                    base_count=self.document.signature_count,
                    pending=pending.to_json(),
                    expires_at=dt.datetime.fromtimestamp(pending.expires_at, dt.UTC),
                )
            )
        else:
            row.state = "pending"
        self.session.flush()

    def take(self, session_id: str) -> Pending | None:
        taken = self.session.execute(
            update(SigningSession)
            .where(
                SigningSession.id == session_id,
                SigningSession.document_id == self.document.id,
                SigningSession.state == "pending",
            )
            .values(state="taken")
        )
        if taken.rowcount != 1:
            return None
        row = self.session.get(SigningSession, session_id)
        assert row is not None
        return Pending.from_json(row.pending)


@dataclass(frozen=True)
class _Signed:
    """A signed revision, its newest signature's CMS and signer, both already stored."""

    pdf: bytes
    cms: bytes
    cert: asn1_x509.Certificate
    cms_sha: str
    pdf_sha: str


@dataclass(frozen=True)
class Listing:
    documents: list[Document]
    total: int


def _granted(row: KeyFiles | None, key_name: str) -> KeyFiles:
    """``row``, the usable key named ``key_name``; refused (403) when there is none."""
    if row is None:
        raise ForbiddenError(f"key {key_name!r} is not available to this client", field="key")
    return row


# The statements of every signature, built once with bound parameters (``:doc``, ``:client``,
# ``:key_name``): building one and its cache key cost up to 0.3 ms, more than running it.
_DOCUMENTS, _SIGNATURES = Document.__table__.c, Signature.__table__.c


def revision_and_key_statement() -> Select[Any]:
    """The document's current revision and case, and the usable key's files (NULL: none),
    in one query on the tables (``sign_with_key``, before signing): loading the two
    objects in a session cost about 0.4 ms more than the query.

    Built by a function so that a test can give threads a new one at once: a worker's
    threads share it from their first signatures on. Its earlier ORM form (the document
    and an aliased subquery of the usable keys), first used by several threads at once,
    derived its columns twice and left a fresh gunicorn worker answering every signature
    with ``NoSuchColumnError`` for its lifetime; this Core form derives them here
    (``tests/service/test_shared_statements.py``).
    """
    key = USABLE_KEYS.subquery()
    return (
        select(_DOCUMENTS.pdf_sha, _DOCUMENTS.case_id, *key.c)
        .select_from(Document.__table__)
        .outerjoin(key, true())
        .where(_DOCUMENTS.id == bindparam("doc"), _DOCUMENTS.client_id == bindparam("client"))
        .limit(1)
    )


_REVISION_AND_KEY = revision_and_key_statement()
#: The caller's own document, on the table's columns: an ORM attribute in a ``WHERE`` makes
#: the whole statement an ORM one, whose compiling and loading cost more than running it.
_OWN_DOCUMENT = (_DOCUMENTS.id == bindparam("doc"), _DOCUMENTS.client_id == bindparam("client"))
#: The statements that take a document's lock (``_locked``), on the table (Core), each
#: handing back the row it locked: the ORM's forms of them (a bulk ``UPDATE ... RETURNING``
#: of the entity, an entity ``SELECT``) cost about twice the statement in loading and
#: cache-key work.
#: SQLite: the write that takes the writer lock.
_LOCK_SQLITE = (
    update(Document.__table__)
    .where(*_OWN_DOCUMENT)
    .values(lock_version=_DOCUMENTS.lock_version + 1)
    .returning(*Document.__table__.c)
)
#: PostgreSQL: the row lock.
_LOCK_FOR_UPDATE = select(*Document.__table__.c).where(*_OWN_DOCUMENT).with_for_update()
_CURRENT_PDF = select(_DOCUMENTS.pdf_sha).where(*_OWN_DOCUMENT)


def _row_values(row: Any) -> dict[str, Any]:
    """``row``'s columns for a Core ``INSERT``: every value set; a column left unset (None)
    that has a default, or is the generated primary key, gets it, as the ORM would."""
    values = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        generated = column.default is not None or column.server_default is not None
        if value is not None or not (generated or column.primary_key):
            values[column.key] = value
    return values


#: A new document's row (``create_document``), a new signature's and the document's state
#: after it (``_write_signature``), built once: building each, and walking it for its cache
#: key, cost more than running it.
_INSERT_DOCUMENT = insert(Document.__table__)
_INSERT_SIGNATURE = insert(Signature.__table__).returning(_SIGNATURES.id)
_SIGNED = (
    update(Document.__table__)
    .where(_DOCUMENTS.id == bindparam("doc"))
    .values(
        signature_count=bindparam("count"),
        pdf_sha=bindparam("revision"),
        status="signed",
        updated_at=bindparam("now"),
    )
)

#: A document's row, and its signatures' (``get_document``).
_DOCUMENT_ROW = select(*Document.__table__.c).where(*_OWN_DOCUMENT)
_SIGNATURE_ROWS = (
    select(*Signature.__table__.c)
    .where(_SIGNATURES.document_id == bindparam("doc"))
    .order_by(_SIGNATURES.seq)
)


_Model = TypeVar("_Model", Document, Signature)


def _detached(model: type[_Model], row: Any) -> _Model:
    """``row`` (every column of ``model``'s table) as the object a session would have
    loaded, once that session is closed: no change pending, relationships unloaded."""
    obj = model(**row._mapping)
    make_transient_to_detached(obj)
    return obj


def _own(client: Client, doc_id: str) -> dict[str, object]:
    """The parameters of the statements above for ``client``'s document ``doc_id``."""
    return {"doc": doc_id, "client": client.id}


class DocService:
    """One per process: the database, the file store and the signing/verification setup."""

    def __init__(
        self, settings: Settings, db: Database | None = None, store: FileStore | None = None
    ) -> None:
        self.settings = settings
        self.db = db or Database(settings)
        self.store = store or LocalFileStore(settings.files_dir)
        # One OCSP/CRL cache per process, for signing and verification alike.
        self.revocation = RevocationCache()
        self.trust = signing_trust(
            settings.trust_dir,
            CachedRevocation(
                self.revocation,
                network=settings.fetch_revocation,
                status_ttl=settings.key_status_ttl,
            ),
        )
        from docservice.service.archive import Archive

        self.archive = Archive(settings, self.db.engine, self.store)
        self.db.sessions.configure(info={routing.ARCHIVE_HOOK: self._archive_route_event})
        self._verifier: Any = None
        self._verifier_lock = threading.Lock()
        #: Where a signing sends the job that makes the new revision's verification report
        #: (``jobs.Runner``; the app sets it). None (a library or CLI user): the report is
        #: made right after the signing transaction, as before.
        self.jobs: Any = None
        self._auth_cache: TtlCache[bytes, Client] = TtlCache(max_entries=1024)

    def warm_up(self, kind: str = "direction") -> None:
        """Pay this process's one-time costs before its first request, not during it.

        Why: a fresh worker's first document cost ~0.4 s of CPU (font registration, the
        XSD schemas, ReportLab and pikepdf set-up, the first full PDF/A validation of a
        document shape, the stamp font's subset): a request that paid it stalled every
        other thread of the worker behind the GIL. ``docservice serve`` calls this in
        each gunicorn worker before it accepts connections; nothing is stored.
        """
        from docservice.forms import all_kinds
        from docservice.rendering.xsd import schema_for
        from signing import stamp
        from signing.stamp_font import stamp_font_program

        for item in all_kinds().values():
            schema_for(item)
        stamp_font_program(stamp.stamp_font())
        example = data_dir("examples") / f"{kind}.json"
        if example.is_file():
            render_checked(kind, json.loads(example.read_text(encoding="utf-8")), "kk")

    # -- clients -------------------------------------------------------------------

    def authenticate(self, token: str) -> Client | None:
        """The active client whose API key is ``token`` (``clients.authenticate``).

        A successful lookup is reused for ``auth_cache_ttl`` seconds (default 2), keyed by
        the SHA-256 of the whole key: why, it was one more session and query on every
        request. Revocation and rotation are done by ``docservice clients`` in another
        process, which cannot reach this cache, so a revoked or rotated key keeps working
        here for at most that long. Failed lookups are never cached.
        """
        from docservice.service.clients import authenticate

        ttl = self.settings.auth_cache_ttl
        digest = hashlib.sha256(token.encode()).digest()
        if ttl > 0:
            cached = self._auth_cache.get(digest)
            if cached is not None:
                return cached
        with self.db.sessions() as session:
            client = authenticate(session, token)
        if client is not None and ttl > 0:
            self._auth_cache.put(digest, client, ttl)
        return client

    # -- documents -----------------------------------------------------------------

    def check_kind(self, client: Client, kind: str) -> None:
        allowed = client.kind_set()
        if allowed is not None and kind not in allowed:
            raise ForbiddenError(f"client may not request {kind!r}", field="kind")

    def _rows(self, data: Any) -> int:
        rows = data.get("rows") if isinstance(data, dict) else None
        return len(rows) if isinstance(rows, list) else 0

    def _check_request(self, client: Client, kind: str, data: Any) -> None:
        self.check_kind(client, kind)
        if self._rows(data) > self.settings.max_report_rows:
            raise UnprocessableError(
                f"at most {self.settings.max_report_rows} rows per document", field="data.rows"
            )

    def needs_job(self, data: Any) -> bool:
        """Large inputs (a report of thousands of rows) are rendered as a job (202)."""
        return self._rows(data) > self.settings.async_rows

    def start_render_job(
        self,
        client: Client,
        kind: str,
        lang: str,
        data: Any,
        *,
        case_ref: str | None = None,
        callback_url: str | None = None,
    ) -> Job:
        """Validate now (bad input is a 422, not a failed job), render later."""
        from docservice.forms import get_kind
        from docservice.service.jobs import create_job

        self._check_request(client, kind, data)
        check_lang(lang)
        check_printable(get_kind(kind), get_kind(kind).validate(data))
        return create_job(
            self,
            client,
            {
                "kind": kind,
                "lang": lang,
                "data": data,
                "case_ref": case_ref,
                "callback_url": callback_url,
            },
        )

    def get_job(self, client: Client, job_id: str) -> Job:
        with self.db.sessions() as session:
            job = session.scalar(select(Job).where(Job.id == job_id, Job.client_id == client.id))
        if job is None:
            raise NotFoundError("no such job", field="id")
        return job

    def create_document(
        self,
        client: Client,
        kind: str,
        lang: str,
        data: Any,
        *,
        case_ref: str | None = None,
        callback_url: str | None = None,
        route: str | None = None,
    ) -> Document:
        """Validate and render (``InputError`` names every bad field), store, record.

        A ``case_ref`` naming one of the client's cases makes the document join it (any
        other ``case_ref`` stays a free label, as before cases existed). ``route`` puts the
        document on that route definition at its first step; a route needs the case's
        regions, so then ``case_ref`` must name a case (else 422 ``unknown_case``).
        """
        self._check_request(client, kind, data)
        if route is not None:
            with self.db.sessions() as session:
                self._case_for_route(session, client, case_ref)
        rendered = render_checked(kind, data, lang)
        given = input_json(data)
        pdf_sha, xml_sha, input_sha = self.store.put_many([rendered.pdf, rendered.xml, given])
        now = utcnow()
        document = Document(
            id=secrets.token_hex(16),
            client_id=client.id,
            kind=kind,
            lang=lang,
            case_ref=case_ref,
            callback_url=callback_url,
            status="ready",
            sha256=pdf_sha,
            pdf_sha=pdf_sha,
            xml_sha=xml_sha,
            input_sha=input_sha,
            signature_count=0,
            lock_version=0,
            created_at=now,
            updated_at=now,
            signatures=[],
            version=1,
        )
        with self.db.session() as session:
            case = routing.case_by_ref(session, client, case_ref)
            document.case_id = case.id if case else None
            # One Core INSERT of the row as built: the ORM's unit of work for one new row
            # cost about 0.45 ms more. The returned document stays outside the session.
            session.execute(_INSERT_DOCUMENT, _row_values(document))
            if route is not None:
                routing.start(
                    session, document, self._case_for_route(session, client, case_ref), route
                )
            self.record_document(
                session,
                document,
                rendered.pdf,
                rendered.xml,
                given,
                iin=subject_iin(data),
            )
        return document

    def _archive_route_event(
        self, session: Session, document: Document, event: routing.RouteEvent
    ) -> None:
        """Every route event is an archive entry of its document's case (same transaction)."""
        self.archive.record_event(
            session,
            routing.event_bytes(event),
            document_id=document.id,
            case_ref=document.case_ref,
            client_id=document.client_id,
            meta={"action": event.action, "step": event.step},
        )

    def record_document(
        self,
        session: Session,
        document: Document,
        pdf: bytes,
        xml: bytes,
        data: bytes | None,
        *,
        iin: str | None,
    ) -> None:
        """A new document's PDF, XML and input as archive entries (same transaction).

        The caller has put them in the store already, under the row's ``pdf_sha``,
        ``xml_sha`` and ``input_sha``: the entries take those (``Artefact.sha256``), and
        so name exactly what the row names."""
        from docservice.archive.record import Artefact

        common = {
            "document_id": document.id,
            "case_ref": document.case_ref,
            "client_id": document.client_id,
            "iin": iin,
        }
        meta = {"kind": document.kind, "lang": document.lang}
        arts = [
            Artefact("document.pdf", pdf, meta=meta, sha256=document.pdf_sha, **common),
            Artefact("document.xml", xml, meta=meta, sha256=document.xml_sha, **common),
        ]
        if data is not None:
            arts.append(
                Artefact("document.input", data, meta=meta, sha256=document.input_sha, **common)
            )
        self.archive.record(session, arts)

    def _case_for_route(self, session: Session, client: Client, case_ref: str | None) -> Case:
        case = routing.case_by_ref(session, client, case_ref)
        if case is None:
            raise routing.CaseNeededError(
                "unknown_case",
                field="case_ref",
                kk="Бағыт істің өңірлерін қажет етеді: case_ref сіздің істеріңіздің бірін "
                "атауы керек (алдымен POST /v1/cases).",
                ru="Маршруту нужны регионы дела: case_ref должен называть одно из ваших дел "
                "(сначала POST /v1/cases).",
                en="a route needs the case's regions: case_ref must name one of your cases "
                "(create it first with POST /v1/cases)",
            ) from None
        return case

    def revise(
        self, client: Client, doc_id: str, data: Any, *, lang: str | None = None
    ) -> Document:
        """A new version of a document returned for revision: a new row (``version + 1``,
        ``previous_id``) that takes the old one's place on the route, at the step the
        return named. The old version keeps its PDF, signatures and events."""
        old = self.get_document(client, doc_id)
        self._check_request(client, old.kind, data)
        with self.db.sessions() as session:
            found = routing.route_of(session, old.id)
            if found is None or found.document_id != old.id or found.state != "returned":
                routing.revised(session, old, old)  # raises the refusal
        rendered = render_checked(old.kind, data, lang or old.lang)
        given = input_json(data)
        pdf_sha, xml_sha, input_sha = self.store.put_many([rendered.pdf, rendered.xml, given])
        new = Document(
            id=secrets.token_hex(16),
            client_id=client.id,
            kind=old.kind,
            lang=lang or old.lang,
            case_ref=old.case_ref,
            case_id=old.case_id,
            callback_url=old.callback_url,
            status="ready",
            sha256=pdf_sha,
            pdf_sha=pdf_sha,
            xml_sha=xml_sha,
            input_sha=input_sha,
            signature_count=0,
            signatures=[],
            version=old.version + 1,
            previous_id=old.id,
        )
        with self._locked(client, doc_id) as (session, locked):
            session.add(new)
            session.flush()
            routing.revised(session, locked, new)
            self.record_document(
                session,
                new,
                rendered.pdf,
                rendered.xml,
                given,
                iin=subject_iin(data),
            )
        return new

    # -- routes --------------------------------------------------------------------

    def create_case(
        self, client: Client, case_ref: Any, departure_region: Any, settlement_region: Any
    ) -> Case:
        with self.db.session() as session:
            case = routing.create_case(
                session, client, case_ref, departure_region, settlement_region
            )
        return case

    def case_view(self, client: Client, case_id: str, lang: str = "kk") -> dict[str, Any]:
        """The case, its documents (every version) and their routes."""
        with self.db.sessions() as session:
            case = routing.get_case(session, client, case_id)
            documents = list(
                session.scalars(
                    select(Document)
                    .options(selectinload(Document.signatures))
                    .where(Document.client_id == client.id, Document.case_id == case.id)
                    .order_by(Document.created_at, Document.id)
                )
            )
            routes = [
                routing.route_dict(session, r, lang)
                for r in session.scalars(
                    select(routing.Route)
                    .where(routing.Route.case_id == case.id)
                    .order_by(routing.Route.created_at)
                )
            ]
        return {"case": case, "documents": documents, "routes": routes}

    def route_view(self, client: Client, doc_id: str, lang: str = "kk") -> dict[str, Any]:
        document = self.get_document(client, doc_id)
        with self.db.sessions() as session:
            found = routing.route_of(session, document.id)
            if found is None:
                raise NotFoundError("the document is on no route", field="id")
            return routing.route_dict(session, found, lang)

    def overdue(self, client: Client, lang: str = "kk") -> list[dict[str, Any]]:
        with self.db.sessions() as session:
            return [
                routing.route_dict(session, r, lang) for r in routing.overdue(session, client.id)
            ]

    def return_with_key(
        self, client: Client, doc_id: str, key_name: str, remarks: Any
    ) -> routing.RouteEvent:
        """Return for revision by the holder of a server key: the service signs the
        remarks (bound to the document's revision, ``route.return_payload``) with it."""
        remarks = routing.check_remarks(remarks)
        with self.db.sessions() as session:
            row = self._usable_key(session, client, key_name)
        key = open_key(row)
        with self._locked(client, doc_id) as (session, document):
            _, step = routing.returnable_step(session, document)
            routing.authorise(session, document, key.certificate)
            payload = routing.return_payload(document, step.id, remarks)
            signed = sign_detached(
                payload, key, CadesOptions(tsa_url=self.settings.tsa_url, trust=self.trust)
            )
            cms_sha = self.store.put(to_der(signed))
            return routing.returned(session, document, key.certificate, remarks, cms_sha)

    def prepare_return(
        self, client: Client, doc_id: str, certificate: str, remarks: Any
    ) -> dict[str, Any]:
        """Phase 1 of a return with NCALayer: the official signs the remarks (a CMS over
        ``route.return_payload``), after the same check of who may act."""
        remarks = routing.check_remarks(remarks)
        cert = self._certificate_arg(certificate)
        with self._locked(client, doc_id) as (session, document):
            _, step = routing.returnable_step(session, document)
            routing.authorise(session, document, cert)
            request = self._twophase(session, document).prepare_cms(
                routing.return_payload(document, step.id, remarks), certificate=cert
            )
        return {
            "id": request.session_id,
            "expires_at": dt.datetime.fromtimestamp(request.expires_at, dt.UTC).isoformat(),
            "ncalayer_request": {"basics": request.basics, "commonUtils": request.common_utils},
        }

    def complete_return(
        self, client: Client, doc_id: str, session_id: str, signature: str, remarks: Any
    ) -> routing.RouteEvent:
        """Phase 2: the CMS must sign exactly the remarks prepared, by the certificate
        prepared (``signing.twophase.complete_cms``), and its signer may act here."""
        remarks = routing.check_remarks(remarks)
        with self._locked(client, doc_id) as (session, document):
            row = self._pending_row(session, document, session_id)
            _, step = routing.returnable_step(session, document)
            pending = Pending.from_json(row.pending)
            payload = routing.return_payload(document, step.id, remarks)
            if _data_digest(payload, pending.certificate) != pending.digest:
                raise UnprocessableError("the remarks differ from those prepared", field="remarks")
            signed = self._twophase(session, document).complete_cms(session_id, signature)
            cert = signer_certificate(signed, signed["signer_infos"][-1])
            cms_sha = self.store.put(to_der(signed))
            return routing.returned(session, document, cert, remarks, cms_sha)

    def create_report_a3(
        self,
        client: Client,
        *,
        region: str,
        month: str,
        prepared_by: Any,
        issue_date: str,
        career_center: str | None = None,
        lang: str = "kk",
        case_ref: str | None = None,
        callback_url: str | None = None,
    ) -> Document:
        """The month's Appendix 3 report of ``region`` from the activity reports ``client``
        created, built by :func:`docservice.a3_from_activities.build` (as ``docservice
        report-a3`` does from a folder) and stored like any created document.

        Only the caller's own reports count: another system's reports are not its to
        aggregate. Raises ``AggregationError`` (with ``field``) when none or several centres'
        reports match, ``InputError`` for a bad ``prepared_by``/``issue_date``.
        """
        from docservice import a3_from_activities as a3

        self.check_kind(client, "report_a3")
        with self.db.sessions() as session:
            found = session.execute(
                select(Document.id, Document.input_sha)
                .where(
                    Document.client_id == client.id,
                    Document.kind == "activity_report",
                    Document.input_sha.is_not(None),
                )
                .order_by(Document.created_at, Document.id)
            ).all()
        reports = (
            (f"activity_report {doc_id}", json.loads(self.store.get(sha))) for doc_id, sha in found
        )
        data = a3.build(
            reports,
            region=region,
            month=month,
            prepared_by=prepared_by,
            issue_date=issue_date,
            career_center=career_center,
        )
        return self.create_document(
            client, "report_a3", lang, data, case_ref=case_ref, callback_url=callback_url
        )

    def get_document(self, client: Client, doc_id: str) -> Document:
        """The caller's document and its signatures; another client's id is not found.

        Two Core queries on a connection, the objects made from their rows, detached (as a
        closed session leaves loaded ones): the ORM's select with ``selectinload`` of the
        signatures cost about 1.4 ms more (``GET /v1/documents/{id}``)."""
        with self.db.engine.connect() as conn:
            row = conn.execute(_DOCUMENT_ROW, _own(client, doc_id)).first()
            if row is None:
                raise NotFoundError("no such document", field="id")
            count = row.signature_count
            rows = conn.execute(_SIGNATURE_ROWS, {"doc": doc_id}).all() if count else []
        document = _detached(Document, row)
        signatures = [_detached(Signature, r) for r in rows]
        for signature in signatures:
            set_committed_value(signature, "document", document)
        set_committed_value(document, "signatures", signatures)
        return document

    def list_documents(
        self,
        client: Client,
        *,
        kind: str | None = None,
        status: str | None = None,
        case_ref: str | None = None,
        created_from: dt.datetime | None = None,
        created_to: dt.datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Listing:
        query = select(Document).where(Document.client_id == client.id)
        if kind:
            query = query.where(Document.kind == kind)
        if status:
            query = query.where(Document.status == status)
        if case_ref:
            query = query.where(Document.case_ref == case_ref)
        if created_from:
            query = query.where(Document.created_at >= created_from)
        if created_to:
            query = query.where(Document.created_at < created_to)
        with self.db.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            found = session.scalars(
                query.options(selectinload(Document.signatures))
                .order_by(Document.created_at.desc(), Document.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return Listing(list(found), total)

    def current_pdf(self, client: Client, doc_id: str) -> str:
        """The SHA-256 of the caller's document's current revision (one small query, on a
        connection: an ORM session for one column cost more than the query)."""
        with self.db.engine.connect() as conn:
            pdf_sha = conn.execute(_CURRENT_PDF, _own(client, doc_id)).scalar()
        if pdf_sha is None:
            raise NotFoundError("no such document", field="id")
        return str(pdf_sha)

    def content(self, sha256: str) -> bytes:
        return self.store.get(sha256)

    def signature_cms(self, client: Client, doc_id: str, seq: int) -> bytes:
        document = self.get_document(client, doc_id)
        for sig in document.signatures:
            if sig.seq == seq:
                return self.store.get(sig.cms_sha)
        raise NotFoundError(f"document has no signature {seq}", field="n")

    def archived_pdf(self, sha256: str) -> bytes | None:
        """The current revision of the document a stamp's QR code names (``?doc=``)."""
        with self.db.sessions() as session:
            document = session.scalar(
                select(Document)
                .where(Document.sha256 == sha256)
                .order_by(Document.created_at.desc())
                .limit(1)
            )
        return None if document is None else self.store.get(document.pdf_sha)

    # -- signing -------------------------------------------------------------------

    @contextmanager
    def _locked(self, client: Client, doc_id: str) -> Iterator[tuple[Session, Document]]:
        """A transaction holding the document's lock (see the module docstring)."""
        with self.db.session() as session:
            lock = _LOCK_SQLITE if self.db.sqlite else _LOCK_FOR_UPDATE
            row = session.connection().execute(lock, _own(client, doc_id)).first()
            if row is None:
                raise NotFoundError("no such document", field="id")
            # The locked row as the loaded object, attached to this fresh session (which
            # holds no other copy of it): changes made to it are flushed as usual.
            document = _detached(Document, row)
            if document.signature_count == 0:  # counted with every row, under this lock
                set_committed_value(document, "signatures", [])  # no query for nothing
            session.add(document)
            yield session, document

    def _pdf_options(self, role: str | None, certify: bool) -> PdfOptions:
        level = (
            Level(self.settings.pades_level)
            if self.settings.pades_level
            else (Level.B_T if self.settings.tsa_url else Level.B_B)
        )
        return PdfOptions(
            level=level,
            tsa_url=self.settings.tsa_url,
            trust=self.trust,
            role=role,
            certify=certify,
            verify_base_url=self.settings.public_url,
        )

    def _stored(self, signed: bytes) -> _Signed:
        """A new revision's CMS found and both written to the store (durably, together).

        Done before the signing transaction where the signature is made before it (server
        keys): on SQLite that transaction holds the database's single writer lock, and
        two fsyncs inside it queued every other write behind them. A revision whose
        transaction then fails leaves files nothing names (harmless, content-addressed).
        """
        der, cert = _cms_of_last_signature(signed)
        cms_sha, pdf_sha = self.store.put_many([der, signed])
        return _Signed(signed, der, cert, cms_sha, pdf_sha)

    def _record(
        self,
        session: Session,
        document: Document,
        signed: bytes | _Signed,
        *,
        method: str,
        key_name: str | None,
    ) -> Signature:
        made = signed if isinstance(signed, _Signed) else self._stored(signed)
        signed, der, cert = made.pdf, made.cms, made.cert
        routing.authorise(session, document, cert)  # every signing path ends here
        ident = person_of(cert)
        now = utcnow()
        signature = Signature(
            document_id=document.id,
            seq=document.signature_count + 1,
            method=method,
            key_name=key_name,
            signer_name=ident.full_name,
            signer_iin=ident.iin or None,
            signer_serial=ident.serial_hex,
            cms_sha=made.cms_sha,
            pdf_sha=made.pdf_sha,
            created_at=now,
        )
        self._write_signature(session, document, signature)
        from docservice.service.archive import signature_artefacts

        self.archive.record(
            session,
            signature_artefacts(
                document,
                signature.seq,
                signed,
                der,
                ident.iin or None,
                method,
                pdf_sha=made.pdf_sha,
                cms_sha=made.cms_sha,
            ),
        )
        webhooks.enqueue(
            session,
            document.client_id,
            document.callback_url,
            "document.signed",
            {
                "document_id": document.id,
                "signature": signature.seq,
                "signature_count": document.signature_count,
                "status": document.status,
                "method": method,
            },
            document_id=document.id,
        )
        session.flush()
        routing.signed(session, document, cert, signature.seq)
        return signature

    def _write_signature(self, session: Session, document: Document, signature: Signature) -> None:
        """The new signature's row and the document's new state, as two Core statements.

        Why not the ORM's unit of work: flushing one new row and one changed row cost about
        0.5 ms more than the statements. The loaded objects are brought in step as committed
        values - ``document`` (locked in this transaction) with its new count, revision,
        status and the signature in its list, ``signature`` with its id and document - so
        the answer is made from them with no second read, and the ORM writes neither again.
        """
        # Loaded under the lock (or known to be []) before the new row exists.
        signatures = [*document.signatures, signature]
        signature.id = session.execute(_INSERT_SIGNATURE, _row_values(signature)).scalar_one()
        changes = {
            "signature_count": signature.seq,
            "pdf_sha": signature.pdf_sha,
            "status": "signed",
            "updated_at": signature.created_at,
        }
        session.execute(
            _SIGNED,
            {
                "doc": document.id,
                "count": signature.seq,
                "revision": signature.pdf_sha,
                "now": signature.created_at,
            },
        )
        for name, value in changes.items():
            set_committed_value(document, name, value)
        set_committed_value(document, "signatures", signatures)
        set_committed_value(signature, "document", document)

    def _usable_key(self, session: Session, client: Client, key_name: str) -> KeyFiles:
        return _granted(usable_key(session, client, key_name), key_name)

    def _sign_revision(self, pdf_sha: str, row: KeyFiles) -> bytes:
        return sign_pdf(
            self.store.get(pdf_sha), open_key(row), self._pdf_options(row.role, certify=False)
        )

    def sign_with_key(self, client: Client, doc_id: str, key_name: str) -> Signature:
        """One more signature with a server-held key the client may use.

        The signature is made *before* the lock, from the revision current then, and
        recorded under the lock only if that revision is still the current one; if
        another signature came first, this one is made again under the lock (the old way).
        Why: on SQLite the lock is the whole database's writer lock, and holding it for a
        signature (tens of ms, far more when the process's threads share the GIL) queued
        every other request's write behind it (p99 of seconds under load).
        """
        with self.db.engine.connect() as conn:  # one query for the revision and the key
            found = conn.execute(
                _REVISION_AND_KEY, {**_own(client, doc_id), **usable_keys_params(client, key_name)}
            ).first()
        if found is None:
            raise NotFoundError("no such document", field="id")
        pdf_sha, case_id, *key = found
        row = _granted(key_files(key), key_name)
        if case_id is not None:  # on a route, perhaps: refused before signing, not after
            with self.db.sessions() as session:
                document = session.get_one(Document, doc_id)
                routing.authorise(session, document, open_key(row).certificate)
        base = (pdf_sha, row.p12_path, row.role)
        signed = self._stored(self._sign_revision(pdf_sha, row))
        with self._locked(client, doc_id) as (session, document):
            row = self._usable_key(session, client, key_name)
            if (document.pdf_sha, row.p12_path, row.role) != base:
                signed = self._stored(self._sign_revision(document.pdf_sha, row))
            signature = self._record(
                session, document, signed, method="server_key", key_name=row.name
            )
            job_id = self._report_job(session, document)
        self._report_at_signing(document, job_id)
        return signature

    def _twophase(self, session: Session, document: Document) -> TwoPhase:
        chain: Sequence[str] | None = [] if self.settings.extra.get("ncalayer_test_keys") else None
        return TwoPhase(
            _DbPendingStore(session, document),
            ttl=self.settings.prepare_ttl,
            trust=self.trust,
            tsa_url=self.settings.tsa_url,
            ncalayer_chain=chain,
        )

    def _certificate_arg(self, certificate: str) -> asn1_x509.Certificate:
        try:
            return load_certificate(certificate)
        except (ValueError, TypeError, SigningError):
            raise UnprocessableError(
                "not a certificate (PEM or Base64 DER)", field="certificate"
            ) from None

    def prepare_signature(
        self, client: Client, doc_id: str, certificate: str, *, ttl: float | None = None
    ) -> dict[str, Any]:
        """Phase 1 of NCALayer signing: what the official's NCALayer must sign."""
        cert = self._certificate_arg(certificate)
        with self._locked(client, doc_id) as (session, document):
            routing.authorise(session, document, cert)
            pdf = self.store.get(document.pdf_sha)
            chain = self.trust.intermediates if self.trust else ()
            twophase = self._twophase(session, document)
            if ttl is not None:
                twophase.ttl = ttl
            request = twophase.prepare_pdf(pdf, cert, chain, self._pdf_options(None, certify=False))
        return {
            "id": request.session_id,
            "data_to_sign": request.extra["digest"],
            "expires_at": dt.datetime.fromtimestamp(request.expires_at, dt.UTC).isoformat(),
            "ncalayer_request": {"basics": request.basics, "commonUtils": request.common_utils},
        }

    def _pending_row(self, session: Session, document: Document, session_id: str) -> SigningSession:
        row = session.get(SigningSession, session_id)
        if row is None or row.document_id != document.id:
            raise NotFoundError("no such prepared signature", field="sid")
        if row.state != "pending":
            raise GoneError("this prepared signature was already completed", field="sid")
        if row.expires_at.replace(tzinfo=row.expires_at.tzinfo or dt.UTC) <= utcnow():
            raise GoneError("this prepared signature has expired", field="sid")
        if row.base_count != document.signature_count:
            raise ConflictError(
                "the document was signed since it was prepared: prepare again", field="sid"
            )
        return row

    def complete_signature(
        self,
        client: Client,
        doc_id: str,
        session_id: str,
        signature: str,
        *,
        method: str = "ncalayer",
        also: Callable[[Session, Document], None] | None = None,
    ) -> Signature:
        """Phase 2: the CMS from NCALayer, checked by ``signing.twophase``, embedded.

        ``also`` runs in the same locked transaction first (eGov ``MIX_SIGN`` completes
        the XML there): if either fails, nothing is stored.
        """
        with self._locked(client, doc_id) as (session, document):
            self._pending_row(session, document, session_id)
            if also is not None:
                also(session, document)
            signed = self._twophase(session, document).complete_pdf(session_id, signature)
            recorded = self._record(session, document, signed, method=method, key_name=None)
            job_id = self._report_job(session, document)
        self._report_at_signing(document, job_id)
        return recorded

    def _report_job(self, session: Session, document: Document) -> str | None:
        """The job that will verify the new revision, recorded in the signing transaction
        (so a signature never lacks one, whatever dies after the commit); None without a
        job runner."""
        if self.jobs is None:
            return None
        from docservice.service.jobs import create_report_job

        return create_report_job(session, document)

    def _report_at_signing(self, document: Document, job_id: str | None) -> None:
        """The verification report of the new revision, archived.

        Why a job: verifying the new revision cost about a fifth of a signing request's
        CPU, and its caller does not need it (``GET`` of the document answers it, making it
        if the job has not run yet). The job's row was committed with the signature; if
        sending it fails, or the process dies before it runs, the sweeper (production) or
        the next start of the pool (embedded) sends it again. Without a runner the report
        is made here, after the signing transaction: the signature is kept even if
        verifying fails (the report is then made on the next read).
        """
        try:
            if job_id is not None:
                self.jobs.submit(job_id)
            else:
                self.verification_summary(document)
        except Exception as exc:  # the signature is already committed
            from docservice.logsafe import describe

            logging.getLogger("docservice.archive").warning(
                "verification report at signing not made now: %s", describe(exc)
            )

    def report_revision(self, doc_id: str, revision: str, job_id: str | None = None) -> str:
        """Verify revision ``revision`` of document ``doc_id`` and archive the report once.

        The report job's body (``jobs.run_job``); safe to run any number of times. The
        archived entry names the revision, the signature that made it, when that signature
        was made (``signed_at``) and when this verification ran (``verified_at``): the
        report is made after the signing, and says so. When the revision is still the
        current one its summary is also what ``GET /v1/documents/{id}`` answers. Returns
        the job's final state.
        """
        from docservice.service.jobs import mark_finished

        # A read on a connection: an ORM session for a Core query cost more than the query.
        with self.db.engine.connect() as conn:
            # The document and the signature that made the revision, in one query.
            found = conn.execute(
                _REVISION_AND_SIGNATURE, {"doc_id": doc_id, "revision": revision}
            ).first()
            # The current revision's report is archived in the transaction that sets
            # ``verified_sha``; only an older revision's needs the archive searched.
            done = found is not None and (
                found.verified_sha == revision
                or (found.pdf_sha != revision and self._reported(conn, doc_id, revision))
            )
        if found is None or found.seq is None or done:
            state = "done" if done else "failed"
            if job_id is not None:
                with self.db.session() as session:
                    mark_finished(session, job_id, state)
            return state
        report = self.verifier().verify(self.store.get(revision), file_name=f"{doc_id}.pdf")
        summary = _summary(report)
        body = report_json(report)
        body_sha = self.store.put(body)  # its fsync before the writer lock, not in it
        with self.db.session() as session:
            # First statement: it takes the job's row (PostgreSQL) or the writer (SQLite).
            if job_id is not None and not mark_finished(session, job_id, "done"):
                return "done"  # a twin run finished it
            current = session.execute(
                _RECORD_VERIFICATION,
                {"doc_id": doc_id, "revision": revision, "summary": json.dumps(summary)},
            ).rowcount
            if current == 1 or (
                not self._is_current(session, doc_id, revision)
                and not self._reported(session, doc_id, revision)
            ):
                self._archive_report(
                    session,
                    report,
                    body,
                    revision,
                    body_sha=body_sha,
                    document_id=doc_id,
                    case_ref=found.case_ref,
                    client_id=found.client_id,
                    signatures=found.seq,
                    signed_at=found.signed_at,
                )
        return "done"

    def _is_current(self, session: Session, doc_id: str, revision: str) -> bool:
        return session.scalar(select(Document.pdf_sha).where(Document.id == doc_id)) == revision

    def _reported(self, session: Session | Connection, doc_id: str, revision: str) -> bool:
        """Whether the archive already holds a verification report of ``revision``."""
        from docservice.archive.record import parse_entry
        from docservice.archive.store import artefact, log_entry

        entries = session.scalars(
            select(log_entry.c.data)
            .join(artefact, artefact.c.idx == log_entry.c.idx)
            .where(artefact.c.document_id == doc_id, artefact.c.type == "report.verification")
        )
        return any(parse_entry(bytes(e))["meta"].get("revision") == revision for e in entries)

    def _archive_report(
        self,
        session: Session,
        report: Any,
        body: bytes,
        revision: str,
        *,
        document_id: str,
        case_ref: str | None,
        client_id: int,
        signatures: int,
        signed_at: dt.datetime | None = None,
        body_sha: str | None = None,
    ) -> None:
        """Archive ``body``, the report of ``revision`` (the revision that carries
        ``signatures`` signatures); ``signed_at``: when the last of them was made, if known;
        ``body_sha``: the SHA-256 of ``body`` when just put in the store (``Artefact.sha256``)."""
        from docservice.archive.record import Artefact

        meta: dict[str, Any] = {"revision": revision, "signatures": signatures}
        if signed_at is not None:
            meta["signed_at"] = (
                signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=dt.UTC)
            ).isoformat()
            meta["verified_at"] = report.verified_at.isoformat()
        self.archive.record(
            session,
            [
                Artefact(
                    "report.verification",
                    body,
                    document_id=document_id,
                    case_ref=case_ref,
                    client_id=client_id,
                    meta=meta,
                    sha256=body_sha,
                )
            ],
        )

    # -- verification --------------------------------------------------------------

    def verifier(self) -> Any:
        with self._verifier_lock:
            if self._verifier is None:
                from docservice.verification import Verifier, VerifierConfig

                self._verifier = Verifier(
                    VerifierConfig(
                        trust_dir=self.settings.trust_dir,
                        fetch_revocation=self.settings.fetch_revocation,
                        revocation_cache=self.revocation,
                    )
                )
            return self._verifier

    def verification_summary(self, document: Document) -> dict[str, Any] | None:
        """The current revision's verdict, computed once per revision and kept."""
        if document.signature_count == 0:
            return None
        if document.verified_sha == document.pdf_sha and document.verification:
            return json.loads(document.verification)
        report = self.verifier().verify(
            self.store.get(document.pdf_sha), file_name=f"{document.id}.pdf"
        )
        summary = _summary(report)
        body = report_json(report)
        body_sha = self.store.put(body)  # its fsync before the writer lock, not in it
        with self.db.session() as session:
            done = session.execute(
                update(Document)
                .where(
                    Document.id == document.id,
                    Document.pdf_sha == document.pdf_sha,
                    (Document.verified_sha.is_(None)) | (Document.verified_sha != document.pdf_sha),
                )
                .values(verification=json.dumps(summary), verified_sha=document.pdf_sha)
            )
            if done.rowcount == 1:  # the first report of this revision is archived
                self._archive_report(
                    session,
                    report,
                    body,
                    document.pdf_sha,
                    document_id=document.id,
                    case_ref=document.case_ref,
                    client_id=document.client_id,
                    signatures=document.signature_count,
                    body_sha=body_sha,
                )
        return summary


#: The report job's statements, built once (as ``jobs._FINISH``): building one costs more
#: CPU than running it, and a reused statement keeps its memoised cache key. Both are on
#: the tables (Core): the report job loads no object, so it needs neither the ORM's
#: loading nor its bulk update machinery.
#: What the report job needs of document ``doc_id`` and of the signature that made
#: revision ``revision`` (``seq`` None: no signature made it), in one query.
_REVISION_AND_SIGNATURE = (
    select(
        _DOCUMENTS.pdf_sha,
        _DOCUMENTS.verified_sha,
        _DOCUMENTS.case_ref,
        _DOCUMENTS.client_id,
        _SIGNATURES.seq,
        _SIGNATURES.created_at.label("signed_at"),
    )
    .outerjoin_from(
        Document.__table__,
        Signature.__table__,
        (_SIGNATURES.document_id == _DOCUMENTS.id) & (_SIGNATURES.pdf_sha == bindparam("revision")),
    )
    .where(_DOCUMENTS.id == bindparam("doc_id"))
    .limit(1)
)
#: The summary of revision ``revision``, kept while it is the current one and not yet kept.
_RECORD_VERIFICATION = (
    update(Document.__table__)
    .where(
        _DOCUMENTS.id == bindparam("doc_id"),
        _DOCUMENTS.pdf_sha == bindparam("revision"),
        _DOCUMENTS.verified_sha.is_(None) | (_DOCUMENTS.verified_sha != bindparam("revision")),
    )
    .values(verification=bindparam("summary"), verified_sha=bindparam("revision"))
)


def _summary(report: Any) -> dict[str, Any]:
    """A report as ``GET /v1/documents/{id}`` gives it (``verification``)."""
    return {
        "verdict": report.verdict.value,
        "reason": {
            "code": report.verdict_reason.code,
            "kk": report.verdict_reason.kk,
            "ru": report.verdict_reason.ru,
        },
        "verified_at": report.verified_at.isoformat(),
        "signatures": [
            {
                "index": s.index,
                "kind": s.kind,
                "indication": s.indication.value,
                "sub_indication": s.sub_indication,
            }
            for s in report.signatures
        ],
    }


def subject_iin(data: Any) -> str | None:
    """The IIN of a document's subject, for the archive's keyed index: the first ``iin``
    met breadth-first (the applicant's, the candidate's, the kandas's come before any
    family member's in every form's input)."""
    level = [data]
    for _ in range(4):
        nested = []
        for node in level:
            items = (
                node.items()
                if isinstance(node, dict)
                else enumerate(node if isinstance(node, list) else [])
            )
            for key, value in items:
                if key == "iin" and isinstance(value, str) and len(value) == 12 and value.isdigit():
                    return value
                if isinstance(value, dict | list):
                    nested.append(value)
        level = nested
    return None


def report_json(report: Any) -> bytes:
    """A verification report as archived (the report's own JSON form)."""
    to_dict = getattr(report, "to_dict", None)
    return json.dumps(
        to_dict() if to_dict else report, ensure_ascii=False, sort_keys=True, default=str
    ).encode()


def check_lang(lang: str) -> None:
    from docservice.render import BadLanguageError

    try:
        parse_lang(lang)
    except BadLanguageError as exc:
        raise UnprocessableError(str(exc), field="lang") from None
