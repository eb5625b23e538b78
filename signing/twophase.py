"""Client signing in two phases, the service side: prepare, let NCALayer sign, complete.

Why two phases: the official's key never leaves NCALayer on their computer. The service
prepares exactly what must be signed, keeps it (keyed by a random session id, with an
expiry), hands the browser ready-made NCALayer messages, and accepts the answer only if
it signs *exactly* what was prepared, by the expected certificate:

* **PDF** - pyHanko interrupted signing (:func:`signing.pdf.async_prepare_pdf`): the
  revision with its stamp and an empty ``/Contents`` placeholder is kept as bytes with its
  ByteRange digest; NCALayer signs the digest (``digested: true`` /
  ``createCAdESFromBase64Hash``); the CMS is checked (certificate, message digest,
  signature), time-stamped for B-T and up, written into the placeholder and extended
  (DSS, document time-stamp) for B-LT/B-LTA.
* **CMS** - detached (or attached) over a file, or one more signer on an existing CMS.
* **XML** - the document; the answer must carry one more enveloped signature that verifies
  (signxml, pinned certificate, never the system store) over the prepared document.

A pending session is plain data (:class:`Pending`, JSON-serialisable) so any store can keep
it; :class:`MemoryStore` is the in-process one. A session completes at most once.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from asn1crypto import cms, x509
from lxml import etree
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from signxml import SignatureConfiguration, SignatureMethod
from signxml.util import namespaces as ds_namespaces

from docservice import xml_signature, xmlsafe
from docservice.pki.anchors import TrustAnchors
from docservice.pki.person import person_of
from signing import _aio, digests
from signing.cms_check import (
    check_signer_info,
    digest_algorithm_for,
    signer_certificate,
)
from signing.cms_util import load_certificate, load_cms
from signing.errors import (
    DocumentError,
    ServiceUnavailableError,
    SignatureValueError,
    SignerCountError,
    SignerMismatchError,
    SigningError,
)
from signing.keys import ExternalKey, check_signing_certificate
from signing.ncalayer import protocol as p
from signing.pdf import Level, PdfOptions, async_complete_prepared, async_prepare_pdf
from signing.trust import check_status

DEFAULT_TTL = 15 * 60


class SessionError(SigningError):
    """No such pending signature: unknown id, already completed, or expired."""

    code = "signing_session_invalid"
    status = 410


class Kind(enum.StrEnum):
    PDF = "pdf"
    CMS = "cms"
    XML = "xml"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Pending:
    """What the service keeps between the phases (plain data: see :meth:`to_json`)."""

    id: str
    kind: Kind
    expires_at: float
    #: PDF: prepared revision with the placeholder; CMS: the data when it must be compared
    #: (attached, or a signer added); XML: the document as prepared.
    payload: bytes
    #: SHA-256 that the new signer must sign (PDF ByteRange digest; CMS data digest).
    digest: bytes = b""
    #: PDF: the reserved ``/Contents`` region (start, end) in :attr:`payload`.
    region: tuple[int, int] = (0, 0)
    #: Expected signer certificate (DER); required for PDF.
    signer: bytes | None = None
    chain: tuple[bytes, ...] = ()
    level: str = Level.B_B.value
    tsa_url: str | None = None
    attach: bool = False
    #: CMS: the CMS that gets one more signer.
    existing: bytes | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "kind": self.kind.value,
                "expires_at": self.expires_at,
                "payload": _b64(self.payload),
                "digest": _b64(self.digest),
                "region": list(self.region),
                "signer": _b64(self.signer) if self.signer else None,
                "chain": [_b64(c) for c in self.chain],
                "level": self.level,
                "tsa_url": self.tsa_url,
                "attach": self.attach,
                "existing": _b64(self.existing) if self.existing else None,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Pending:
        o = json.loads(text)
        dec = base64.b64decode
        return cls(
            id=o["id"],
            kind=Kind(o["kind"]),
            expires_at=float(o["expires_at"]),
            payload=dec(o["payload"]),
            digest=dec(o["digest"]),
            region=(int(o["region"][0]), int(o["region"][1])),
            signer=dec(o["signer"]) if o["signer"] else None,
            chain=tuple(dec(c) for c in o["chain"]),
            level=o["level"],
            tsa_url=o["tsa_url"],
            attach=bool(o["attach"]),
            existing=dec(o["existing"]) if o["existing"] else None,
        )

    @property
    def certificate(self) -> x509.Certificate | None:
        return x509.Certificate.load(self.signer) if self.signer else None


class PendingStore(Protocol):
    """Where pending sessions wait (memory, Redis, a database row...)."""

    def put(self, pending: Pending) -> None: ...

    def take(self, session_id: str) -> Pending | None:
        """Remove and return the session (so it can complete only once)."""
        ...


class MemoryStore:
    """In-process store, thread-safe, bounded; expired sessions are dropped on access."""

    def __init__(self, max_sessions: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._items: dict[str, Pending] = {}
        self._lock = threading.Lock()
        self.max_sessions = max_sessions
        self._clock = clock

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, v in self._items.items() if v.expires_at <= now]:
            del self._items[key]

    def put(self, pending: Pending) -> None:
        with self._lock:
            self._purge()
            if len(self._items) >= self.max_sessions:
                raise SigningError("too many pending signatures")
            self._items[pending.id] = pending

    def take(self, session_id: str) -> Pending | None:
        with self._lock:
            return self._items.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._items)


@dataclass(frozen=True)
class SignRequest:
    """What the official's page needs: the session id and both NCALayer messages."""

    session_id: str
    kind: Kind
    expires_at: float
    #: ``kz.gov.pki.knca.basics`` ``sign`` message (answer: PEM CMS or signed XML).
    basics: dict[str, Any]
    #: The same through ``kz.gov.pki.knca.commonUtils`` (answer: Base64 CMS or XML).
    common_utils: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "sessionId": self.session_id,
            "kind": self.kind.value,
            "expiresAt": self.expires_at,
            "basics": self.basics,
            "commonUtils": self.common_utils,
            **self.extra,
        }


def certificate_from_key_info(key_info: dict[str, Any] | str) -> x509.Certificate:
    """The certificate from ``getKeyInfo``'s responseObject (its ``pem``), or a PEM."""
    text = key_info if isinstance(key_info, str) else key_info.get("pem", "")
    return load_certificate(str(text))


class TwoPhase:
    """The service side. One instance per service (it holds the store and the trust).

    ``trust``: roots for revocation/path checks at completion (and B-LT evidence);
    ``ncalayer_chain``: the ``signerParams.chain`` sent to NCALayer (``[]`` lets it offer
    test-CA keys, None lets it offer production keys only).
    """

    def __init__(
        self,
        store: PendingStore | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        trust: TrustAnchors | None = None,
        tsa_url: str | None = None,
        ncalayer_chain: Sequence[str] | None = None,
        locale: str = "kk",
        clock: Callable[[], float] = time.time,
        http_timeout: float = 10.0,
    ) -> None:
        self.store = store if store is not None else MemoryStore(clock=clock)
        self.ttl = ttl
        self.trust = trust
        self.tsa_url = tsa_url
        self.ncalayer_chain = tuple(ncalayer_chain) if ncalayer_chain is not None else None
        self.locale = locale
        self.clock = clock
        self.http_timeout = http_timeout

    # -- shared ---------------------------------------------------------------------

    def _new(self, kind: Kind, **fields: Any) -> Pending:
        pending = Pending(
            id=secrets.token_urlsafe(24), kind=kind, expires_at=self.clock() + self.ttl, **fields
        )
        self.store.put(pending)
        return pending

    def _signer_params(self, cert: x509.Certificate | None) -> p.SignerParams:
        """Filters so NCALayer offers only the expected key (serial number + IIN)."""
        if cert is None:
            return p.SignerParams(chain=self.ncalayer_chain)
        ident = person_of(cert)
        return p.SignerParams(
            iin=ident.iin or None, serial_number=ident.serial_hex, chain=self.ncalayer_chain
        )

    def _take(self, session_id: str, kind: Kind) -> Pending:
        pending = self.store.take(session_id)
        if pending is None:
            raise SessionError("unknown or completed session")
        if pending.expires_at <= self.clock():
            raise SessionError("session expired")
        if pending.kind is not kind:
            raise SessionError(f"session is for {pending.kind.value}, not {kind.value}")
        return pending

    # -- PDF ------------------------------------------------------------------------

    async def async_prepare_pdf(
        self,
        data: bytes,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        options: PdfOptions | None = None,
    ) -> SignRequest:
        """Phase 1: the revision to sign (stamp, placeholder) and its digest.

        The certificate (from ``getKeyInfo``) is checked here already, so an expired or
        authentication-only key is refused before the official is asked to sign.
        """
        options = options or PdfOptions(tsa_url=self.tsa_url, trust=self.trust)
        prepared = await async_prepare_pdf(data, ExternalKey(certificate, chain), options)
        pending = self._new(
            Kind.PDF,
            payload=prepared.prepared_bytes,
            digest=prepared.byte_range_digest,
            region=prepared.reserved_region,
            signer=certificate.dump(),
            chain=tuple(c.dump() for c in chain),
            level=options.level.value,
            tsa_url=options.tsa_url,
        )
        digest_b64 = _b64(pending.digest)
        return SignRequest(
            pending.id,
            Kind.PDF,
            pending.expires_at,
            basics=p.basics_sign_cms(
                digest_b64,
                digested=True,
                signer=self._signer_params(certificate),
                locale=self.locale,
            ).to_message(),
            common_utils=p.create_cades_from_base64_hash(digest_b64).to_message(),
            extra={"digest": digest_b64},
        )

    def prepare_pdf(
        self,
        data: bytes,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        options: PdfOptions | None = None,
    ) -> SignRequest:
        return _aio.run(self.async_prepare_pdf(data, certificate, chain, options))

    async def async_complete_pdf(self, session_id: str, signature: str | bytes) -> bytes:
        """Phase 2: check the CMS and the certificate, embed it, extend it to the prepared
        level (:func:`signing.pdf.async_complete_prepared`, as every client signature)."""
        pending = self._take(session_id, Kind.PDF)
        cert = pending.certificate
        assert cert is not None
        options = PdfOptions(
            level=Level(pending.level),
            tsa_url=pending.tsa_url,
            trust=self.trust,
            http_timeout=self.http_timeout,
        )
        try:
            return await async_complete_prepared(
                pending.payload,
                pending.region,
                pending.digest,
                signature,
                cert,
                [x509.Certificate.load(c) for c in pending.chain],
                options,
            )
        except ServiceUnavailableError:
            # Not the official's fault: keep the session so the same CMS can be resent.
            self.store.put(pending)
            raise

    def complete_pdf(self, session_id: str, signature: str | bytes) -> bytes:
        return _aio.run(self.async_complete_pdf(session_id, signature))

    # -- CMS ------------------------------------------------------------------------

    def prepare_cms(
        self,
        data: bytes,
        *,
        certificate: x509.Certificate | None = None,
        digested: bool = True,
        attach: bool = False,
        tsa: bool = False,
        existing: str | bytes | None = None,
    ) -> SignRequest:
        """Phase 1 for a file: NCALayer gets the data, or only its SHA-256 (``digested``;
        the Streebog digest when ``certificate`` is a GOST one).

        ``existing``: a CMS (with the data encapsulated) that gets one more signer; the
        answer must then keep every existing signer unchanged.
        """
        digest = _data_digest(data, certificate)
        existing_der = p.normalize_cms(existing) if existing is not None else None
        if existing_der is not None:
            inner = load_cms(existing_der)["encap_content_info"]["content"].native
            if inner != data:
                raise SignatureValueError("the existing CMS does not contain this data")
            digested, attach = False, True
        if digested and attach:
            raise SigningError("a hash cannot be encapsulated")
        pending = self._new(
            Kind.CMS,
            payload=data if (attach or existing_der) else b"",
            digest=digest,
            signer=certificate.dump() if certificate else None,
            attach=attach,
            existing=existing_der,
        )
        tbs = _b64(existing_der if existing_der is not None else (digest if digested else data))
        params = self._signer_params(certificate)
        legacy = (
            p.create_cades_from_base64_hash(tbs)
            if digested
            else p.create_cades_from_base64(tbs, attach=attach)
        )
        return SignRequest(
            pending.id,
            Kind.CMS,
            pending.expires_at,
            basics=p.basics_sign_cms(
                tbs,
                digested=digested,
                encapsulate=attach,
                tsa=tsa,
                signer=params,
                locale=self.locale,
            ).to_message(),
            common_utils=legacy.to_message(),
        )

    def complete_cms(self, session_id: str, signature: str | bytes) -> cms.SignedData:
        """Phase 2: the CMS (PEM or Base64 DER) must sign the prepared data, by the
        expected certificate, adding exactly one signer."""
        pending = self._take(session_id, Kind.CMS)
        signed = load_cms(signature)
        before = (
            list(load_cms(pending.existing)["signer_infos"]) if pending.existing is not None else []
        )
        new = _new_signer(list(signed["signer_infos"]), before)
        content = signed["encap_content_info"]["content"]
        present = content.native if content is not None else None
        if pending.attach and present != pending.payload:
            raise SignatureValueError("the CMS does not contain the prepared data")
        if present is not None and _data_digest(present, pending.certificate) != pending.digest:
            raise SignatureValueError("the CMS contains other data")
        cert = signer_certificate(signed, new)
        expected = pending.certificate
        if expected is not None and cert.dump() != expected.dump():
            raise SignerMismatchError("signed by another certificate")
        check_signer_info(new, cert, pending.digest)
        check_signing_certificate(cert)
        if self.trust is not None:
            _aio.run(self._status(cert, signed))
        return signed

    # -- XML ------------------------------------------------------------------------

    def prepare_xml(
        self, xml: bytes | str, *, certificate: x509.Certificate | None = None
    ) -> SignRequest:
        """Phase 1 for XML: the document itself (it may already carry signatures)."""
        raw = xml.encode("utf-8") if isinstance(xml, str) else xml
        _parse_xml(raw)
        if certificate is None and self.trust is None:
            raise SigningError("XML completion needs an expected certificate or trust roots")
        pending = self._new(
            Kind.XML,
            payload=raw,
            digest=hashlib.sha256(raw).digest(),
            signer=certificate.dump() if certificate else None,
        )
        text = raw.decode("utf-8")
        params = self._signer_params(certificate)
        return SignRequest(
            pending.id,
            Kind.XML,
            pending.expires_at,
            basics=p.basics_sign_xml(text, signer=params, locale=self.locale).to_message(),
            common_utils=p.sign_xml(text).to_message(),
        )

    def complete_xml(self, session_id: str, signed_xml: str | bytes) -> bytes:
        """Phase 2: exactly one new enveloped signature (the last child of the root) that
        verifies with the expected / trusted certificate and covers the prepared document.

        "Covers the prepared document" means, whichever transform chain NCALayer chose
        (real NCALayer: inclusive C14N, ``enveloped-signature`` + C14N ``#WithComments``):

        1. the answer without the new signature *is* the prepared document: the same
           inclusive C14N *with* comments (and the same DOCTYPE), so no comment, text or
           declaration can be added, dropped or changed even where the signature does not
           cover comments;
        2. the signature has one Reference, to the whole document (``URI=""``), transformed
           by ``enveloped-signature`` and then one C14N 1.0 or exclusive C14N (with or
           without comments): no XPath, XSLT or Base64 transform;
        3. what that reference signs is the prepared document canonicalised by that C14N.
           For ``URI=""`` XMLDSig drops comments even for ``#WithComments`` (Santuario, and
           so NCALayer, does); other signers keep them: both forms are accepted, as both are
           computed from the prepared document alone.
        """
        pending = self._take(session_id, Kind.XML)
        raw = signed_xml.encode("utf-8") if isinstance(signed_xml, str) else signed_xml
        root = _parse_xml(raw)
        prepared = _parse_xml(pending.payload)
        sigs = xml_signature.root_signatures(root)
        if (
            len(sigs) != len(xml_signature.root_signatures(prepared)) + 1
            or root.index(sigs[-1]) != len(root) - 1
        ):
            raise SignatureValueError("expected one new signature as the last root child")
        transform = _reference_c14n(sigs[-1])
        unsigned = _parse_xml(raw)
        xml_signature.remove_keeping_tail(xml_signature.root_signatures(unsigned)[-1])
        if _document_c14n(unsigned) != _document_c14n(prepared) or _doctype(unsigned) != _doctype(
            prepared
        ):
            raise SignatureValueError("the signed document differs from the prepared one")
        cert_el = sigs[-1].find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", ds_namespaces)
        if cert_el is None or not cert_el.text:
            raise SignatureValueError("the signature carries no certificate")
        cert = certificate_from_key_info("".join(cert_el.text.split()))
        expected = pending.certificate
        if expected is not None and cert.dump() != expected.dump():
            raise SignatureValueError("signed by another certificate")
        check_signing_certificate(cert)
        if self.trust is not None:
            _aio.run(self._status(cert, None))
        signed_data = _signed_data(root, cert)
        if signed_data not in transform.forms(prepared):
            raise SignatureValueError("the signature does not cover the prepared document")
        return raw

    async def _status(self, cert: x509.Certificate, signed: cms.SignedData | None) -> None:
        assert self.trust is not None
        extra = (
            [c.chosen for c in signed["certificates"] if c.name == "certificate"]
            if signed is not None
            else []
        )
        timeout = aiohttp.ClientTimeout(total=self.http_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await check_status(cert, extra, self.trust, fetcher_backend=AIOHttpFetcherBackend(http))


# -- helpers ---------------------------------------------------------------------------


def _data_digest(data: bytes, certificate: x509.Certificate | None) -> bytes:
    """SHA-256, or the key's GOST hash when the expected signer is a GOST certificate."""
    name = digest_algorithm_for(certificate) if certificate is not None else "sha256"
    return digests.digest(data, name)


def _signed_data(root: etree._Element, cert: x509.Certificate) -> bytes:
    """What the last root signature's one reference really signed (RSA or GOST), checked
    by :func:`docservice.xml_signature.check_last`."""
    config = SignatureConfiguration(
        location="./",
        expect_references=1,
        signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
    )
    try:
        parts = xml_signature.check_last(root, cert, config)
    except xml_signature.XmlInvalidError as exc:
        raise SignatureValueError(f"XML signature invalid: {exc}") from None
    return parts[0].data if len(parts) == 1 else b""


def _new_signer(infos: list[cms.SignerInfo], before: list[cms.SignerInfo]) -> cms.SignerInfo:
    """The one SignerInfo in ``infos`` that is not in ``before``; every earlier one kept.

    Why not by position: SignerInfos are a DER ``SET OF``, whose encoding is sorted, so
    the new signer may come back first (or between the earlier ones).
    """
    remaining = [i.dump() for i in infos]
    for earlier in before:
        encoded = earlier.dump()
        if encoded not in remaining:
            raise SignatureValueError("existing signers were changed or removed")
        remaining.remove(encoded)
    if len(remaining) != 1:
        raise SignerCountError(f"expected one new signer, got {len(remaining)}")
    return next(i for i in infos if i.dump() == remaining[0])


def _parse_xml(raw: bytes) -> etree._Element:
    """The hardened parser; a DOCTYPE is kept (never loaded) so that it can be compared."""
    try:
        return xmlsafe.parse(raw, allow_doctype=True)
    except xmlsafe.XmlRefusedError as exc:
        raise DocumentError(f"XML cannot be parsed: {exc.detail}") from None


#: The canonicalisations a reference may end with (lxml implements C14N 1.0 only).
_C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"


@dataclass(frozen=True)
class _Transform:
    """The C14N a whole-document reference ends with."""

    exclusive: bool
    with_comments: bool
    prefixes: tuple[str, ...] = ()

    def forms(self, prepared: etree._Element) -> set[bytes]:
        """What a signature by this transform may sign: see :meth:`TwoPhase.complete_xml`."""
        return {
            etree.tostring(
                prepared,
                method="c14n",
                exclusive=self.exclusive,
                with_comments=comments,
                inclusive_ns_prefixes=list(self.prefixes) or None,
            )
            for comments in {False, self.with_comments}
        }


def _reference_c14n(signature: etree._Element) -> _Transform:
    refs = signature.findall("ds:SignedInfo/ds:Reference", ds_namespaces)
    if len(refs) != 1 or refs[0].get("URI") != "":
        raise SignatureValueError("the signature must have one reference to the whole document")
    algorithms = [
        t.get("Algorithm") for t in refs[0].findall("ds:Transforms/ds:Transform", ds_namespaces)
    ]
    if len(algorithms) != 2 or algorithms[0] != _ENVELOPED or algorithms[1] not in _C14N:
        raise SignatureValueError(
            f"unsupported transforms {algorithms}: expected enveloped-signature and one C14N"
        )
    exclusive, comments = _C14N[algorithms[1]]
    prefix_el = refs[0].find(
        "ds:Transforms/ds:Transform[2]/ec:InclusiveNamespaces",
        {**ds_namespaces, "ec": "http://www.w3.org/2001/10/xml-exc-c14n#"},
    )
    prefixes = tuple((prefix_el.get("PrefixList") or "").split()) if prefix_el is not None else ()
    return _Transform(exclusive, comments, prefixes)


def _document_c14n(root: etree._Element) -> bytes:
    """The whole document (comments and processing instructions included)."""
    return etree.tostring(root.getroottree(), method="c14n", with_comments=True)


def _doctype(root: etree._Element) -> str:
    """The DOCTYPE line (C14N leaves it out, so it is compared on its own)."""
    return str(root.getroottree().docinfo.doctype or "")
