"""PAdES signatures (B-B, B-T, B-LT, B-LTA), one incremental update per signer.

Why incremental and last: the catalogue's PDF/A-3b file must stay byte-identical up to
each signature, so every signer only appends (signature field, stamp, DSS, document
time-stamp). The first signer may *certify* (DocMDP, form filling and signing allowed) so
later signatures are permitted and any other change shows up in validation.

Two paths share the same preparation:

* :func:`sign_pdf` - the key is here (:class:`signing.keys.Pkcs12Key`).
* :func:`prepare_pdf` / :func:`finish_pdf` - pyHanko "interrupted signing": the service
  prepares the revision and its ByteRange digest, the CMS is made elsewhere (NCALayer,
  ``createCAdESFromBase64Hash``) and embedded afterwards, then time-stamped/extended.
  :func:`async_complete_prepared` is that second phase from plain data, for
  :mod:`signing.twophase`; both re-check the certificate and its revocation.

Every path ends in the same completion (:func:`_finish`: time-stamp, embed, B-LT/B-LTA).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import aiohttp
from asn1crypto import cms, x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.dss import async_add_validation_info
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from docservice.pki.anchors import TrustAnchors
from signing import _aio, digests, gost
from signing import stamp as stamps
from signing.cms_check import check_single_signer, digest_algorithm_for
from signing.cms_util import load_cms, with_signature_timestamp
from signing.errors import (
    DocumentError,
    ServiceUnavailableError,
    SigningError,
)
from signing.gost import cms as gost_cms
from signing.keys import (
    ExternalKey,
    GostPrivateKey,
    Pkcs12Key,
    SigningKey,
    check_signing_certificate,
)
from signing.levels import Level as Level  # re-exported: its home before signing/levels.py
from signing.trust import check_status

#: The service's public base URL, the target of the stamps' QR codes (``/verify?doc=``).
PUBLIC_URL_ENV = "DOCSERVICE_PUBLIC_URL"


def configured_public_url() -> str | None:
    """``$DOCSERVICE_PUBLIC_URL``, or None: then the stamps carry no QR code.

    Why no default: a QR code must lead an official to this service's verification page;
    a placeholder address would send them to somebody else's site.
    """
    return os.environ.get(PUBLIC_URL_ENV, "").strip() or None


@dataclass(frozen=True)
class PdfOptions:
    """Per document kind: level, certification, services and the stamp."""

    level: Level = Level.B_B
    certify: bool = False
    role: str | None = None
    tsa_url: str | None = None
    trust: TrustAnchors | None = None
    visible: bool = True
    #: Base of the QR code's verification URL; None: a stamp without a QR code.
    verify_base_url: str | None = field(default_factory=configured_public_url)
    reason: str | None = None
    location: str | None = None
    font_path: str | None = None
    #: Signature placeholder size; None = computed from the certificates (no dummy run).
    bytes_reserved: int | None = None
    http_timeout: float = 10.0


def document_id(data: bytes, reader: PdfFileReader | None = None) -> str:
    """SHA-256 of the document as it was before its first signature (hex).

    Stable across signers, so every stamp's QR code points at the same record; for an
    unsigned file it is the hash of the file itself. ``reader``: one already parsing
    ``data`` (the signer's), to save parsing the file a second time.
    """
    reader = reader or _reader(data)
    sigs = reader.embedded_signatures
    if not sigs:
        return hashlib.sha256(data).hexdigest()
    first = min(sigs, key=lambda s: s.byte_range[1])
    end = data.rfind(b"%%EOF", 0, first.byte_range[1])
    end += 5
    while end < len(data) and data[end : end + 1] in b"\r\n":
        end += 1
    return hashlib.sha256(data[:end]).hexdigest()


def verify_url(base: str, doc_id: str) -> str:
    return f"{base.rstrip('/')}/verify?doc={doc_id}"


def _reader(data: bytes) -> PdfFileReader:
    try:
        return PdfFileReader(io.BytesIO(data), strict=False)
    except (PdfError, ValueError) as exc:
        raise DocumentError(f"not a readable PDF: {exc}") from None


def _check_options(options: PdfOptions) -> None:
    if options.level.rank >= Level.B_T.rank and not options.tsa_url:
        raise SigningError(f"{options.level} needs a TSA URL")
    if options.level.rank >= Level.B_LT.rank and options.trust is None:
        raise SigningError(f"{options.level} needs trust roots (OCSP/CRL evidence)")


def _reserve(key: SigningKey, options: PdfOptions) -> int:
    """Placeholder size from the certificates: avoids pyHanko's dummy sizing signature."""
    if options.bytes_reserved:
        return options.bytes_reserved
    certs = sum(len(c.dump()) for c in (key.certificate, *key.chain))
    size = certs + 3072
    if options.level.rank >= Level.B_T.rank:
        size += 6144 + certs
    if isinstance(key, ExternalKey):
        size += 8192  # NCALayer's CMS: its own attributes, chain, maybe its own time-stamp
    return 2 * size  # pyHanko counts hex digits


@dataclass
class _Session:
    http: aiohttp.ClientSession | None = None
    timestamper: HTTPTimeStamper | None = None
    fetchers: AIOHttpFetcherBackend | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def _network(options: PdfOptions) -> AsyncIterator[_Session]:
    """One HTTP session per signature for the TSA, OCSP and CRL fetches (none when there
    is no TSA and revocation data comes from the trust's own cached source)."""
    own_fetchers = options.trust is not None and options.trust.revocation is not None
    if options.tsa_url is None and (options.trust is None or own_fetchers):
        yield _Session()
        return
    timeout = aiohttp.ClientTimeout(total=options.http_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        session = _Session(http=http, fetchers=AIOHttpFetcherBackend(http))
        if options.tsa_url and options.level.rank >= Level.B_T.rank:
            session.timestamper = HTTPTimeStamper(
                options.tsa_url, session=http, timeout=int(options.http_timeout)
            )
        yield session


class _SigningWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, minus the metadata rewrite on every write.

    Why: pyHanko sets /Info ModDate and parses and re-serialises the XMP packet (from an
    object stream) for every signature, about a quarter of a B-B signature here, and
    each signer appended one more copy of the XMP. A signature revision changes no
    content; leaving /Info and the catalogue's PDF/A XMP untouched keeps them identical,
    hence consistent as PDF/A requires, and the signing time is in the CMS itself.
    """

    def _update_meta(self) -> None:
        return None


def _existing_signatures(writer: IncrementalPdfFileWriter) -> int:
    return len(writer.prev.embedded_regular_signatures)


def _is_certified(writer: IncrementalPdfFileWriter) -> bool:
    perms = writer.root.get("/Perms")
    return perms is not None and "/DocMDP" in perms


def _choose_field(
    writer: IncrementalPdfFileWriter, existing: int, options: PdfOptions
) -> tuple[str, fields.SigFieldSpec | None, stamps.Placement | None]:
    """The field this signer fills, its spec if it is new, and the stamp placement.

    A certification (DocMDP P=2) allows *filling* signature fields but not adding
    visible ones, so the certifying signer also creates the empty fields for the other
    slots of the signature area; later signers fill them. With no empty field left in a
    certified file, a further signature is invisible (still valid and listed).
    """
    empty = sorted(name for name, _, _ in fields.enumerate_sig_fields(writer, False))
    if empty:
        slot = stamps.placement(writer, existing)
        return empty[0], None, (slot if options.visible else None)
    name = _new_field_name(writer)
    if not options.visible or _is_certified(writer):
        return name, fields.SigFieldSpec(name), None
    place = stamps.placement(writer, existing)
    spec = fields.SigFieldSpec(name, on_page=place.page, box=_whole_points(place.box))
    if options.certify:
        for later in range(existing + 1, stamps.SLOTS):
            slot = stamps.placement(writer, later)
            fields.append_signature_field(
                writer,
                fields.SigFieldSpec(
                    f"Signature{later + 1}", on_page=slot.page, box=_whole_points(slot.box)
                ),
            )
    return name, spec, place


def _whole_points(box: stamps.Rect) -> tuple[int, int, int, int]:
    """A stamp's rectangle in whole points, as a signature field's /Rect."""
    x1, y1, x2, y2 = box
    return round(x1), round(y1), round(x2), round(y2)


def _written(out: IO[bytes]) -> io.BytesIO:
    """pyHanko's output stream: a BytesIO it made, since no output stream is passed to it."""
    if not isinstance(out, io.BytesIO):
        raise TypeError(f"pyHanko wrote to a {type(out).__name__}, not to memory")
    return out


def _new_field_name(writer: IncrementalPdfFileWriter) -> str:
    taken = {name for name, _, _ in fields.enumerate_sig_fields(writer)}
    n = 1
    while f"Signature{n}" in taken:
        n += 1
    return f"Signature{n}"


async def _pdf_signer(
    data: bytes, key: SigningKey, options: PdfOptions, session: _Session, now: dt.datetime
) -> tuple[signers.PdfSigner, IncrementalPdfFileWriter, dict[str, str]]:
    """Checks, signing-time status, field placement and pyHanko signer for one signer."""
    _check_options(options)
    key.check(now, options.role)
    try:
        writer = _SigningWriter(io.BytesIO(data), strict=False)
    except (PdfError, ValueError) as exc:
        raise DocumentError(f"not a readable PDF: {exc}") from None
    existing = _existing_signatures(writer)
    if options.certify and existing:
        raise DocumentError("only the first signature may certify")
    context = None
    if options.trust is not None:
        context = await check_status(
            key.certificate,
            key.chain,
            options.trust,
            need_evidence=options.level.rank >= Level.B_LT.rank,
            fetcher_backend=session.fetchers,
        )
    field_name, spec, place = _choose_field(writer, existing, options)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=options.certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        embed_validation_info=options.level.rank >= Level.B_LT.rank,
        use_pades_lta=options.level is Level.B_LTA,
        validation_context=context if options.level.rank >= Level.B_LT.rank else None,
        reason=options.reason,
        location=options.location,
        name=key.identity.common_name or None,
    )
    params: dict[str, str] = {}
    style = None
    if place is not None:
        base = options.verify_base_url
        style = stamps.stamp_style(
            options.font_path or stamps.stamp_font(), place.compact, qr=base is not None
        )
        params = {"signer": stamps.stamp_text(key.identity, options.role, now, place.compact)}
        if base is not None:
            params["url"] = verify_url(base, document_id(data, writer.prev))
    signer = signers.PdfSigner(
        meta,
        key.pyhanko_signer(),
        timestamper=session.timestamper,
        stamp_style=style,
        new_field_spec=spec,
    )
    return signer, writer, params


async def async_sign_pdf(
    data: bytes,
    key: SigningKey,
    options: PdfOptions | None = None,
    *,
    now: dt.datetime | None = None,
) -> bytes:
    """Sign ``data`` with a key held here; returns the new file (input + one update)."""
    options = options or PdfOptions()
    if isinstance(key, ExternalKey):
        raise SigningError("external keys sign through prepare_pdf/finish_pdf")
    now = now or dt.datetime.now(dt.UTC)
    if isinstance(key, Pkcs12Key) and key.is_gost:
        return await _sign_pdf_gost(data, key, options, now)
    async with _network(options) as session:
        signer, writer, params = await _pdf_signer(data, key, options, session, now)
        try:
            out = await signer.async_sign_pdf(
                writer, bytes_reserved=_reserve(key, options), appearance_text_params=params or None
            )
        except PyhankoSigningError as exc:
            raise _classify(exc) from None
        except aiohttp.ClientError as exc:
            raise ServiceUnavailableError(str(exc), service="TSA/OCSP") from None
    return _written(out).getvalue()


async def _sign_pdf_gost(
    data: bytes, key: Pkcs12Key, options: PdfOptions, now: dt.datetime
) -> bytes:
    """PAdES with a GOST key held here: pyHanko prepares the revision (placeholder, stamp,
    field), the ByteRange is hashed with the key's GOST hash and the CMS is built by
    :mod:`signing.gost.cms`; a time-stamp and B-LT/B-LTA follow as for RSA."""
    gost_key = key.private_key
    assert isinstance(gost_key, GostPrivateKey)
    async with _network(options) as session:
        signer, writer, params = await _pdf_signer(data, key, options, session, now)
        try:
            prep, _tbs, output = await signer.async_digest_doc_for_signing(
                writer, bytes_reserved=_reserve(key, options), appearance_text_params=params or None
            )
        except PyhankoSigningError as exc:
            raise _classify(exc) from None
        prepared = _written(output).getvalue()
        start, end = prep.reserved_region_start, prep.reserved_region_end
        digest = gost.digest(gost_key.hash_oid, prepared[:start] + prepared[end:])
        content = gost_cms.sign_digest(
            gost_key, key.certificate, list(key.chain), digest, signing_time=now
        )
        try:
            result = await _finish(prepared, (start, end), content, options, session)
        except aiohttp.ClientError as exc:
            raise ServiceUnavailableError(str(exc), service="TSA/OCSP") from None
    return result


def sign_pdf(
    data: bytes,
    key: SigningKey,
    options: PdfOptions | None = None,
    *,
    now: dt.datetime | None = None,
) -> bytes:
    """Synchronous :func:`async_sign_pdf`."""
    return _aio.run(async_sign_pdf(data, key, options, now=now))


def _classify(exc: Exception) -> SigningError:
    text = str(exc)
    if "imestamp" in text or "TSA" in text:
        return ServiceUnavailableError(text, service="TSA")
    return DocumentError(text)


@dataclass
class PreparedPdf:
    """A revision waiting for an external CMS over :attr:`digest` (SHA-256; GOST: Streebog).

    Keep this object (or the whole worker) between the two phases; the digest is what
    NCALayer's ``createCAdESFromBase64Hash`` / ``sign`` with ``digested`` signs.
    """

    digest: bytes
    key: ExternalKey
    options: PdfOptions
    _prep: Any = field(repr=False)
    _tbs: PdfTBSDocument = field(repr=False)
    _output: io.BytesIO = field(repr=False)

    @property
    def digest_b64(self) -> str:
        return base64.b64encode(self.digest).decode()

    @property
    def byte_range_digest(self) -> bytes:
        """The digest over the ``/ByteRange`` of :attr:`prepared_bytes` (what is signed):
        SHA-256, or for a GOST certificate the key's GOST hash (Streebog)."""
        return self.digest

    @property
    def prepared_bytes(self) -> bytes:
        """The prepared revision, ``/Contents`` still an empty placeholder (a copy).

        What a service keeps between the phases instead of this object.
        """
        return self._output.getvalue()

    @property
    def reserved_region(self) -> tuple[int, int]:
        """Byte offsets (start, end) of the ``/Contents`` placeholder in the revision."""
        return self._prep.reserved_region_start, self._prep.reserved_region_end


async def async_prepare_pdf(
    data: bytes,
    key: ExternalKey,
    options: PdfOptions | None = None,
    *,
    now: dt.datetime | None = None,
) -> PreparedPdf:
    """Phase 1 of client signing: placeholder, stamp and the digest to be signed."""
    options = options or PdfOptions()
    now = now or dt.datetime.now(dt.UTC)
    async with _network(options) as session:
        signer, writer, params = await _pdf_signer(
            data, key, options, _Session(http=session.http, fetchers=session.fetchers), now
        )
        try:
            prep, tbs, output = await signer.async_digest_doc_for_signing(
                writer, bytes_reserved=_reserve(key, options), appearance_text_params=params or None
            )
        except PyhankoSigningError as exc:
            raise _classify(exc) from None
    digest = bytes(prep.document_digest)
    hash_name = digest_algorithm_for(key.certificate)
    if hash_name != "sha256":  # a GOST signer: NCALayer signs the Streebog digest
        prepared = _written(output).getvalue()
        start, end = prep.reserved_region_start, prep.reserved_region_end
        digest = digests.digest(prepared[:start] + prepared[end:], hash_name)
    return PreparedPdf(digest, key, options, prep, tbs, _written(output))


def prepare_pdf(
    data: bytes,
    key: ExternalKey,
    options: PdfOptions | None = None,
    *,
    now: dt.datetime | None = None,
) -> PreparedPdf:
    return _aio.run(async_prepare_pdf(data, key, options, now=now))


async def async_finish_pdf(prepared: PreparedPdf, signature: bytes | str) -> bytes:
    """Phase 2: embed the CMS from outside (DER, Base64 or PEM) and extend to the level.

    The same completion as :class:`signing.twophase.TwoPhase` uses
    (:func:`async_complete_prepared`). The prepared revision itself is never modified, so
    a refused CMS can be followed by a good one.
    """
    key = prepared.key
    return await async_complete_prepared(
        prepared.prepared_bytes,
        prepared.reserved_region,
        prepared.digest,
        signature,
        key.certificate,
        key.chain,
        prepared.options,
    )


async def async_complete_prepared(
    revision: bytes,
    region: tuple[int, int],
    digest: bytes,
    signature: bytes | str,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    options: PdfOptions,
) -> bytes:
    """Phase 2 of client signing from plain data (what a service keeps between phases).

    ``revision``: the prepared revision with its empty ``/Contents`` at ``region``;
    ``digest``: its ByteRange digest, which the CMS (DER, Base64 or PEM) must sign.
    Before anything is written the CMS is checked (:func:`signing.cms_check.
    check_single_signer`: one SignerInfo, naming ``certificate``, over ``digest``, with a
    signature value that verifies) and so is the certificate, *again*: it may have expired
    or been revoked since the revision was prepared, and the signature is made now. Then
    the completion every PAdES path shares (:func:`_finish`). A TSA, OCSP or CRL that
    cannot be reached is a :class:`ServiceUnavailableError` (not the signer's fault: the
    same CMS may be sent again).
    """
    _check_options(options)
    signed = load_cms(signature)
    check_single_signer(signed, certificate, digest)
    check_signing_certificate(certificate)
    try:
        async with _network(options) as session:
            if options.trust is not None:
                await check_status(
                    certificate, list(chain), options.trust, fetcher_backend=session.fetchers
                )
            content = cms.ContentInfo({"content_type": "signed_data", "content": signed})
            return await _finish(revision, region, content, options, session)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ServiceUnavailableError(str(exc) or type(exc).__name__, service="TSA/OCSP") from None


async def _finish(
    revision: bytes,
    region: tuple[int, int],
    content: cms.ContentInfo,
    options: PdfOptions,
    session: _Session,
) -> bytes:
    """The one completion of a prepared revision, whoever made its CMS (a key here, a GOST
    key here, NCALayer, eGov mobile): the signature time-stamp for B-T and up, the CMS into
    the placeholder, then the B-LT/B-LTA extension (:func:`_extend`)."""
    if session.timestamper is not None:
        content = await with_signature_timestamp(content, session.timestamper)
    der = content.dump()
    start, end = region
    if 2 * len(der) + 2 > end - start:
        raise DocumentError(f"CMS of {len(der)} bytes does not fit the placeholder")
    out = io.BytesIO(revision)
    PreparedByteRangeDigest(b"", start, end).fill_with_cms(out, der)
    result = out.getvalue()
    if options.level.rank >= Level.B_LT.rank and options.trust is not None:
        result = await _extend(result, options, session)
    return result


def finish_pdf(prepared: PreparedPdf, signature: bytes | str) -> bytes:
    return _aio.run(async_finish_pdf(prepared, signature))


async def _extend(data: bytes, options: PdfOptions, session: _Session) -> bytes:
    """B-LT (DSS with the signer's OCSP/CRL) and B-LTA (document time-stamp)."""
    assert options.trust is not None
    reader = _reader(data)
    sig = reader.embedded_regular_signatures[-1]
    context = options.trust.validation_context(fetcher_backend=session.fetchers)
    out = await async_add_validation_info(sig, context, in_place=False)
    if options.level is Level.B_LTA and session.timestamper is not None:
        writer = IncrementalPdfFileWriter(out, strict=False)
        ts = signers.PdfTimeStamper(session.timestamper)
        out = await ts.async_timestamp_pdf(
            writer, "sha256", options.trust.validation_context(fetcher_backend=session.fetchers)
        )
    return _written(out).getvalue()
