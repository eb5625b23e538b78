"""The database schema (SQLAlchemy 2 declarative); Alembic migrations create it.

Bytes never live here: PDFs, XMLs, CMSs and inputs are in the file store, named by their
SHA-256, and rows hold those names. The database is the source of truth for state
(documents, signatures, jobs, sessions) and the file store for content.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Constraint names fixed by convention so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Client(Base):
    """A calling system: its hashed API key, scopes and the kinds it may request."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: Public part of the key (``ds_<key_id>_<secret>``), to find the row without a scan.
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: SHA-256 of the secret part (a 256-bit random secret needs no slow hash).
    key_hash: Mapped[str] = mapped_column(String(64))
    #: Comma-separated: render, sign, verify, audit.
    scopes: Mapped[str] = mapped_column(String(200))
    #: Comma-separated kinds, or None for every kind.
    kinds: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Shared secret the client checks webhook signatures with (HMAC needs it in clear;
    #: it grants nothing on this service).
    webhook_secret: Mapped[str | None] = mapped_column(String(80))

    def scope_set(self) -> set[str]:
        return {s for s in self.scopes.split(",") if s}

    def kind_set(self) -> set[str] | None:
        return None if self.kinds is None else {k for k in self.kinds.split(",") if k}


class ServerKey(Base):
    """A PKCS#12 key the service signs with, registered by an operator.

    The container and its password stay in the operator's files: the row keeps their
    paths only, so the database never holds a password (in clear or otherwise).
    """

    __tablename__ = "server_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    p12_path: Mapped[str] = mapped_column(Text)
    password_file: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(50))
    #: Subject of the certificate as registered (for listings; no IIN).
    subject: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    grants: Mapped[list[KeyGrant]] = relationship(cascade="all, delete-orphan")


class KeyGrant(Base):
    """Client ``client_id`` may sign with server key ``key_id``."""

    __tablename__ = "key_grants"

    key_id: Mapped[int] = mapped_column(ForeignKey("server_keys.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)


class Document(Base):
    """A rendered document and where its signed chain stands."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    case_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    callback_url: Mapped[str | None] = mapped_column(Text)
    #: ``ready`` (rendered, unsigned), ``signed`` (one signature or more).
    status: Mapped[str] = mapped_column(String(20), default="ready", index=True)
    #: SHA-256 of the PDF as rendered: what every stamp's QR code (``?doc=``) names.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: The current revision of the PDF (the rendered one, then after each signature).
    pdf_sha: Mapped[str] = mapped_column(String(64))
    xml_sha: Mapped[str] = mapped_column(String(64))
    #: The input (JSON, as received) in the file store: what a report built from
    #: documents reads (``POST /v1/reports/a3``); none for documents made before 0005.
    input_sha: Mapped[str | None] = mapped_column(String(64))
    signature_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Bumped by every signing transaction: the row lock on SQLite (see documents.py).
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    verification: Mapped[str | None] = mapped_column(Text)
    verified_sha: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    signatures: Mapped[list[Signature]] = relationship(
        order_by="Signature.seq", back_populates="document"
    )
    #: The case the document joined (its ``case_ref`` names one of the client's cases).
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    #: 1 for a new document; a revision after a return is a new row, ``version + 1``,
    #: naming the version it revises (which keeps its PDF and signatures).
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))


class Signature(Base):
    """Signature number ``seq`` (1, 2, ...) of a document: one PDF revision each.

    ``(document_id, seq)`` is unique, so two revisions from the same base cannot both be
    recorded even if locking were bypassed.
    """

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("document_id", "seq", name="uq_signatures_doc_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    #: ``server_key`` or ``ncalayer``.
    method: Mapped[str] = mapped_column(String(20))
    key_name: Mapped[str | None] = mapped_column(String(100))
    signer_name: Mapped[str] = mapped_column(Text, default="")
    signer_iin: Mapped[str | None] = mapped_column(String(12))
    signer_serial: Mapped[str] = mapped_column(String(80), default="")
    cms_sha: Mapped[str] = mapped_column(String(64))
    pdf_sha: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    document: Mapped[Document] = relationship(back_populates="signatures")


class SigningSession(Base):
    """A prepared NCALayer signature waiting for its CMS (``signing.twophase.Pending``)."""

    __tablename__ = "signing_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    #: The document's signature count when prepared: completion needs it unchanged.
    base_count: Mapped[int] = mapped_column(Integer)
    #: ``Pending.to_json()`` minus nothing: the prepared revision travels in it.
    pending: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: ``pending``, ``taken`` (completion started or done).
    state: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """Work done outside the request (a large report, a verification report): its state
    lives here only."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    #: ``render``; ``verify`` (the report of revision ``input_sha`` of ``document_id``).
    task: Mapped[str] = mapped_column(String(30))
    #: ``queued``, ``running``, ``done``, ``failed``.
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The request (JSON) in the file store.
    input_sha: Mapped[str] = mapped_column(String(64))
    #: The id the document will have: reserved up front so a repeated run cannot make two.
    result_id: Mapped[str] = mapped_column(String(32), unique=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    #: Problem document (JSON) when failed.
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyRecord(Base):
    """The first answer to a POST with an ``Idempotency-Key``, replayed to retries."""

    __tablename__ = "idempotency"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_idempotency_client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    key: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    #: None while the first request is still being processed.
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """One event for a ``callback_url``: an outbox row written in the transaction of the
    event itself, then sent (and re-sent with backoff) until the receiver says 2xx."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    document_id: Mapped[str | None] = mapped_column(String(32), index=True)
    #: ``document.signed``, ``job.completed``.
    event: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    #: ``pending``, ``delivered``, ``failed`` (gave up after the last attempt).
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SigningLink(Base):
    """A one-time URL an official opens to sign a document with NCALayer.

    Only the SHA-256 of the link's token is kept; ``expected_iin`` (optional) is the IIN
    the signing certificate must carry.
    """

    __tablename__ = "signing_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    expected_iin: Mapped[str | None] = mapped_column(String(12))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EgovRequest(Base):
    """A QR / cross-signing request for eGov mobile or eGov Business (``egov.py``).

    The id is the secret in the QR code's URLs (API №1 is public by design: whoever scans
    the code may read it, and the token it returns). The PDF to sign is the NCALayer-style
    prepared revision in ``signing_sessions`` (``session_id``), so completion runs the very
    same checks.
    """

    __tablename__ = "egov_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    #: The prepared PDF revision (``CMS_SIGN_ONLY``, ``MIX_SIGN``).
    session_id: Mapped[str | None] = mapped_column(ForeignKey("signing_sessions.id"))
    #: The prepared XML (``XML``, ``MIX_SIGN``) and, once signed, the signed XML's SHA-256.
    xml_session_id: Mapped[str | None] = mapped_column(ForeignKey("signing_sessions.id"))
    xml_sha: Mapped[str | None] = mapped_column(String(64))
    #: ``egov_mobile`` or ``egov_business``.
    app: Mapped[str] = mapped_column(String(20))
    sign_method: Mapped[str] = mapped_column(String(20))
    #: ``Token`` or ``Eds`` (the specification's spelling).
    auth_type: Mapped[str] = mapped_column(String(10))
    #: The short-lived Bearer token API №1 hands the app (``Token``); bound to this row.
    auth_token: Mapped[str | None] = mapped_column(String(64))
    #: IIN of the expected signer (from the certificate the caller named).
    expected_iin: Mapped[str | None] = mapped_column(String(12))
    #: IIN of the authentication certificate that logged in (``Eds``).
    auth_iin: Mapped[str | None] = mapped_column(String(12))
    #: ``pending``, ``authenticated`` (Eds login done), ``taken`` (a PUT is being checked),
    #: ``signed``.
    state: Mapped[str] = mapped_column(String(20), default="pending")
    signature_seq: Mapped[int | None] = mapped_column(Integer)
    #: Where the signature's time-stamp came from: ``service_tsa`` or ``none``.
    timestamp: Mapped[str | None] = mapped_column(String(20))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Case(Base):
    """A family's case: the caller's ``case_ref`` and the regions its route runs through."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("client_id", "case_ref", name="uq_cases_client_ref"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    case_ref: Mapped[str] = mapped_column(String(200))
    departure_region: Mapped[str] = mapped_column(String(100))
    settlement_region: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Organisation(Base):
    """The operator's directory: organisation ``bin`` acts for ``body`` of ``region``."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("bin", "body", "region", name="uq_organisations_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bin: Mapped[str] = mapped_column(String(12), index=True)
    body: Mapped[str] = mapped_column(String(50))
    region: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Route(Base):
    """A document (all its versions) on its way along a route definition.

    ``document_id`` is the current version; ``step`` the step waiting for an action
    (None once done); ``state``: ``active``, ``returned`` (waiting for a revision),
    ``done``. ``due_on`` is the step's last working day (Kazakhstan's local date).
    """

    __tablename__ = "routes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    definition: Mapped[str] = mapped_column(String(50))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), unique=True)
    step: Mapped[str | None] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20), default="active", index=True)
    step_since: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RouteEvent(Base):
    """One event of a route: started, signed, returned, revised, completed.

    Who acted is the certificate's subject facts (in clear here, as in ``signatures``;
    masked wherever logged) and the certificate's SHA-256. ``cms_sha`` is the signed
    remarks of a return (a CMS in the file store); ``signature_seq`` the document's
    signature of a ``signed`` event. ``event_bytes`` in ``route.py`` is its canonical form.
    """

    __tablename__ = "route_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[str] = mapped_column(ForeignKey("routes.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    step: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(20))
    to_step: Mapped[str | None] = mapped_column(String(30))
    actor_iin: Mapped[str | None] = mapped_column(String(12))
    actor_bin: Mapped[str | None] = mapped_column(String(12))
    actor_name: Mapped[str] = mapped_column(Text, default="")
    actor_roles: Mapped[str] = mapped_column(String(200), default="")
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_seq: Mapped[int | None] = mapped_column(Integer)
    cms_sha: Mapped[str | None] = mapped_column(String(64))
    remarks: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
