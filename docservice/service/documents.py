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
import json
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from docservice.errors import DocserviceError
from docservice.render import Rendered, check_printable, parse_lang, render
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
from docservice.service.keys import open_key, usable_key
from docservice.service.models import (
    Client,
    Document,
    Job,
    ServerKey,
    Signature,
    SigningSession,
    utcnow,
)
from docservice.service.store import FileStore, LocalFileStore
from signing.cms_util import load_certificate
from signing.errors import SigningError
from signing.identity import identity_of
from signing.keys import load_certificates
from signing.pdf import Level, PdfOptions, sign_pdf
from signing.trust import Trust
from signing.twophase import Pending, TwoPhase

STATUSES = ("ready", "signed")


class PdfaCheckError(DocserviceError):
    """The rendered PDF failed PDF/A-3b validation (twice): nothing is stored (a bug)."""

    code, status = "internal", 500


def render_checked(kind: str, data: Any, lang: str) -> Rendered:
    """``render`` with the PDF/A-3b validation confirmed before a failure is believed.

    Why: pikepdf's validator records *every* warning raised in the process while it parses
    content streams (``warnings.catch_warnings`` is process-wide), so in a threaded server
    a warning from another thread (a garbage-collected connection, say) can fail a good
    document. A real violation is deterministic and fails the second check too.
    """
    from docservice.rendering.pdfa import validate

    rendered = render(kind, data, lang, validate_pdfa=False)
    for _ in range(3):
        if validate(rendered.pdf).passed:
            return rendered
    raise PdfaCheckError(f"the rendered {kind} is not valid PDF/A-3b")


def input_json(data: Any) -> bytes:
    """A document's input as kept beside it (UTF-8 JSON, keys in their order)."""
    return json.dumps(data, ensure_ascii=False).encode()


def signing_trust(trust_dir: str | None) -> Trust | None:
    """Roots (self-signed) and intermediates from the trust folder, if it exists."""
    if not trust_dir or not Path(trust_dir).is_dir():
        return None
    roots: list[asn1_x509.Certificate] = []
    intermediates: list[asn1_x509.Certificate] = []
    for path in sorted(Path(trust_dir).iterdir()):
        if not path.is_file():
            continue
        try:
            certs = load_certificates(path)
        except ValueError:
            continue
        for cert in certs:
            (roots if cert.self_signed else intermediates).append(cert)
    return Trust(tuple(roots), tuple(intermediates)) if roots else None


def _cms_of_last_signature(pdf: bytes) -> tuple[bytes, asn1_x509.Certificate]:
    """The detached CMS (DER, exactly as embedded) of the newest signature and its signer."""
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
            self.session.add(SigningSession(
                id=pending.id, document_id=self.document.id,
                base_count=self.document.signature_count, pending=pending.to_json(),
                expires_at=dt.datetime.fromtimestamp(pending.expires_at, dt.UTC)))
        else:
            row.state = "pending"
        self.session.flush()

    def take(self, session_id: str) -> Pending | None:
        taken = self.session.execute(
            update(SigningSession)
            .where(SigningSession.id == session_id,
                   SigningSession.document_id == self.document.id,
                   SigningSession.state == "pending")
            .values(state="taken"))
        if taken.rowcount != 1:
            return None
        row = self.session.get(SigningSession, session_id)
        assert row is not None
        return Pending.from_json(row.pending)


@dataclass(frozen=True)
class Listing:
    documents: list[Document]
    total: int


class DocService:
    """One per process: the database, the file store and the signing/verification setup."""

    def __init__(self, settings: Settings, db: Database | None = None,
                 store: FileStore | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings)
        self.store = store or LocalFileStore(settings.files_dir)
        self.trust = signing_trust(settings.trust_dir)
        self._verifier: Any = None
        self._verifier_lock = threading.Lock()

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
                f"at most {self.settings.max_report_rows} rows per document", field="data.rows")

    def needs_job(self, data: Any) -> bool:
        """Large inputs (a report of thousands of rows) are rendered as a job (202)."""
        return self._rows(data) > self.settings.async_rows

    def start_render_job(self, client: Client, kind: str, lang: str, data: Any, *,
                         case_ref: str | None = None, callback_url: str | None = None) -> Job:
        """Validate now (bad input is a 422, not a failed job), render later."""
        from docservice.forms import get_kind
        from docservice.service.jobs import create_job

        self._check_request(client, kind, data)
        check_lang(lang)
        check_printable(get_kind(kind), get_kind(kind).validate(data))
        return create_job(self, client, {"kind": kind, "lang": lang, "data": data,
                                         "case_ref": case_ref, "callback_url": callback_url})

    def get_job(self, client: Client, job_id: str) -> Job:
        with self.db.sessions() as session:
            job = session.scalar(select(Job).where(Job.id == job_id,
                                                   Job.client_id == client.id))
        if job is None:
            raise NotFoundError("no such job", field="id")
        return job

    def create_document(self, client: Client, kind: str, lang: str, data: Any, *,
                        case_ref: str | None = None,
                        callback_url: str | None = None) -> Document:
        """Validate and render (``InputError`` names every bad field), store, record."""
        self._check_request(client, kind, data)
        rendered = render_checked(kind, data, lang)
        pdf_sha = self.store.put(rendered.pdf)
        xml_sha = self.store.put(rendered.xml)
        document = Document(
            id=secrets.token_hex(16), client_id=client.id, kind=kind, lang=lang,
            case_ref=case_ref, callback_url=callback_url, status="ready", sha256=pdf_sha,
            pdf_sha=pdf_sha, xml_sha=xml_sha, input_sha=self.store.put(input_json(data)),
            signature_count=0, signatures=[])
        with self.db.session() as session:
            session.add(document)
        return document

    def create_report_a3(self, client: Client, *, region: str, month: str,
                         prepared_by: Any, issue_date: str, career_center: str | None = None,
                         lang: str = "kk", case_ref: str | None = None,
                         callback_url: str | None = None) -> Document:
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
                .where(Document.client_id == client.id, Document.kind == "activity_report",
                       Document.input_sha.is_not(None))
                .order_by(Document.created_at, Document.id)).all()
        reports = ((f"activity_report {doc_id}", json.loads(self.store.get(sha)))
                   for doc_id, sha in found)
        data = a3.build(reports, region=region, month=month, prepared_by=prepared_by,
                        issue_date=issue_date, career_center=career_center)
        return self.create_document(client, "report_a3", lang, data, case_ref=case_ref,
                                    callback_url=callback_url)

    def get_document(self, client: Client, doc_id: str) -> Document:
        """The caller's document; another client's id is simply not found."""
        with self.db.sessions() as session:
            document = session.scalar(
                select(Document).options(selectinload(Document.signatures))
                .where(Document.id == doc_id, Document.client_id == client.id))
        if document is None:
            raise NotFoundError("no such document", field="id")
        return document

    def list_documents(self, client: Client, *, kind: str | None = None,
                       status: str | None = None, case_ref: str | None = None,
                       created_from: dt.datetime | None = None,
                       created_to: dt.datetime | None = None,
                       limit: int = 50, offset: int = 0) -> Listing:
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
                .limit(limit).offset(offset)).all()
        return Listing(list(found), total)

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
                select(Document).where(Document.sha256 == sha256)
                .order_by(Document.created_at.desc()).limit(1))
        return None if document is None else self.store.get(document.pdf_sha)

    # -- signing -------------------------------------------------------------------

    @contextmanager
    def _locked(self, client: Client, doc_id: str) -> Iterator[tuple[Session, Document]]:
        """A transaction holding the document's lock (see the module docstring)."""
        with self.db.session() as session:
            if self.db.sqlite:
                touched = session.execute(
                    update(Document)
                    .where(Document.id == doc_id, Document.client_id == client.id)
                    .values(lock_version=Document.lock_version + 1))
                if touched.rowcount != 1:
                    raise NotFoundError("no such document", field="id")
                document = session.get(Document, doc_id, populate_existing=True)
            else:
                document = session.scalar(
                    select(Document)
                    .where(Document.id == doc_id, Document.client_id == client.id)
                    .with_for_update())
            if document is None:
                raise NotFoundError("no such document", field="id")
            yield session, document

    def _pdf_options(self, role: str | None, certify: bool) -> PdfOptions:
        level = Level.B_T if self.settings.tsa_url else Level.B_B
        return PdfOptions(level=level, tsa_url=self.settings.tsa_url, trust=self.trust,
                          role=role, certify=certify, verify_base_url=self.settings.public_url)

    def _record(self, session: Session, document: Document, signed: bytes, *, method: str,
                key_name: str | None) -> Signature:
        der, cert = _cms_of_last_signature(signed)
        ident = identity_of(cert)
        document.signature_count += 1
        signature = Signature(
            document_id=document.id, seq=document.signature_count, method=method,
            key_name=key_name, signer_name=ident.full_name, signer_iin=ident.iin or None,
            signer_serial=ident.serial_hex, cms_sha=self.store.put(der),
            pdf_sha=self.store.put(signed))
        document.pdf_sha = signature.pdf_sha
        document.status = "signed"
        document.updated_at = utcnow()
        session.add(signature)
        webhooks.enqueue(session, document.client_id, document.callback_url,
                         "document.signed",
                         {"document_id": document.id, "signature": signature.seq,
                          "signature_count": document.signature_count,
                          "status": document.status, "method": method},
                         document_id=document.id)
        session.flush()
        return signature

    def _usable_key(self, session: Session, client: Client, key_name: str) -> ServerKey:
        row = usable_key(session, client, key_name)
        if row is None:
            raise ForbiddenError(f"key {key_name!r} is not available to this client",
                                 field="key")
        return row

    def _sign_revision(self, pdf_sha: str, row: ServerKey) -> bytes:
        return sign_pdf(self.store.get(pdf_sha), open_key(row),
                        self._pdf_options(row.role, certify=False))

    def sign_with_key(self, client: Client, doc_id: str, key_name: str) -> Signature:
        """One more signature with a server-held key the client may use.

        The signature is made *before* the lock, from the revision current then, and
        recorded under the lock only if that revision is still the current one; if
        another signature came first, this one is made again under the lock (the old way).
        Why: on SQLite the lock is the whole database's writer lock, and holding it for a
        signature (tens of ms, far more when the process's threads share the GIL) queued
        every other request's write behind it (p99 of seconds under load).
        """
        document = self.get_document(client, doc_id)
        with self.db.sessions() as session:
            row = self._usable_key(session, client, key_name)
        base = (document.pdf_sha, row.p12_path, row.role)
        signed = self._sign_revision(document.pdf_sha, row)
        with self._locked(client, doc_id) as (session, document):
            row = self._usable_key(session, client, key_name)
            if (document.pdf_sha, row.p12_path, row.role) != base:
                signed = self._sign_revision(document.pdf_sha, row)
            return self._record(session, document, signed, method="server_key",
                                key_name=row.name)

    def _twophase(self, session: Session, document: Document) -> TwoPhase:
        chain: Sequence[str] | None = [] if self.settings.extra.get("ncalayer_test_keys") \
            else None
        return TwoPhase(_DbPendingStore(session, document), ttl=self.settings.prepare_ttl,
                        trust=self.trust, tsa_url=self.settings.tsa_url, ncalayer_chain=chain)

    def prepare_signature(self, client: Client, doc_id: str, certificate: str, *,
                          ttl: float | None = None) -> dict[str, Any]:
        """Phase 1 of NCALayer signing: what the official's NCALayer must sign."""
        try:
            cert = load_certificate(certificate)
        except (ValueError, TypeError, SigningError):
            raise UnprocessableError("not a certificate (PEM or Base64 DER)",
                                     field="certificate") from None
        with self._locked(client, doc_id) as (session, document):
            pdf = self.store.get(document.pdf_sha)
            chain = self.trust.intermediates if self.trust else ()
            twophase = self._twophase(session, document)
            if ttl is not None:
                twophase.ttl = ttl
            request = twophase.prepare_pdf(
                pdf, cert, chain, self._pdf_options(None, certify=False))
        return {"id": request.session_id, "data_to_sign": request.extra["digest"],
                "expires_at": dt.datetime.fromtimestamp(request.expires_at, dt.UTC)
                .isoformat(),
                "ncalayer_request": {"basics": request.basics,
                                     "commonUtils": request.common_utils}}

    def complete_signature(self, client: Client, doc_id: str, session_id: str,
                           signature: str, *, method: str = "ncalayer",
                           also: Callable[[Session, Document], None] | None = None
                           ) -> Signature:
        """Phase 2: the CMS from NCALayer, checked by ``signing.twophase``, embedded.

        ``also`` runs in the same locked transaction first (eGov ``MIX_SIGN`` completes
        the XML there): if either fails, nothing is stored.
        """
        with self._locked(client, doc_id) as (session, document):
            row = session.get(SigningSession, session_id)
            if row is None or row.document_id != document.id:
                raise NotFoundError("no such prepared signature", field="sid")
            if row.state != "pending":
                raise GoneError("this prepared signature was already completed", field="sid")
            if row.expires_at.replace(tzinfo=row.expires_at.tzinfo or dt.UTC) <= utcnow():
                raise GoneError("this prepared signature has expired", field="sid")
            if row.base_count != document.signature_count:
                raise ConflictError("the document was signed since it was prepared: "
                                    "prepare again", field="sid")
            if also is not None:
                also(session, document)
            signed = self._twophase(session, document).complete_pdf(session_id, signature)
            return self._record(session, document, signed, method=method, key_name=None)

    # -- verification --------------------------------------------------------------

    def verifier(self) -> Any:
        with self._verifier_lock:
            if self._verifier is None:
                from docservice.verification import Verifier, VerifierConfig

                self._verifier = Verifier(VerifierConfig(
                    trust_dir=self.settings.trust_dir,
                    fetch_revocation=self.settings.fetch_revocation))
            return self._verifier

    def verification_summary(self, document: Document) -> dict[str, Any] | None:
        """The current revision's verdict, computed once per revision and kept."""
        if document.signature_count == 0:
            return None
        if document.verified_sha == document.pdf_sha and document.verification:
            return json.loads(document.verification)
        report = self.verifier().verify(self.store.get(document.pdf_sha),
                                        file_name=f"{document.id}.pdf")
        summary = {
            "verdict": report.verdict.value,
            "reason": {"code": report.verdict_reason.code, "kk": report.verdict_reason.kk,
                       "ru": report.verdict_reason.ru},
            "verified_at": report.verified_at.isoformat(),
            "signatures": [{"index": s.index, "kind": s.kind, "indication": s.indication.value,
                            "sub_indication": s.sub_indication} for s in report.signatures],
        }
        with self.db.session() as session:
            session.execute(update(Document).where(Document.id == document.id,
                                                   Document.pdf_sha == document.pdf_sha)
                            .values(verification=json.dumps(summary),
                                    verified_sha=document.pdf_sha))
        return summary


def check_lang(lang: str) -> None:
    from docservice.render import BadLanguageError

    try:
        parse_lang(lang)
    except BadLanguageError as exc:
        raise UnprocessableError(str(exc), field="lang") from None
