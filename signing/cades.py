"""Detached CAdES (CMS SignedData) per signer, the way SIGEX / NCANode users exchange them.

Each CMS carries: signed attributes content-type, message-digest, signing-time and
signing-certificate-v2 (ESS, RFC 5035); unsigned attributes: an RFC 3161 signature
time-stamp (id-aa-signatureTimeStampToken) and the revocation evidence captured at
signing time as **id-aa-ets-revocationValues** (1.2.840.113549.1.9.16.2.24, RFC 5126:
``ocspVals`` = the BasicOCSPResponse for the signer, ``crlVals`` = CRLs fetched for the
chain). That attribute is unsigned, so the evidence can be added after the signature
exists - which is also what makes the NCALayer path (:func:`complete_external_cms`) work.
Adobe's adbe-revocationInfoArchival would have to be a *signed* attribute, impossible
for a CMS made by NCALayer, so it is not used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from asn1crypto import cms, core, crl, ocsp
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from docservice.pki.anchors import TrustAnchors
from signing import _aio
from signing.cms_util import (
    REVOCATION_VALUES_OID,
    RevocationValues,
    add_unsigned_attribute,
    load_cms,
    unsigned_attributes,
    with_signature_timestamp,
)
from signing.errors import ServiceUnavailableError, SigningError
from signing.gost import cms as gost_cms
from signing.keys import ExternalKey, GostPrivateKey, Pkcs12Key, SigningKey
from signing.trust import check_status


@dataclass(frozen=True)
class CadesOptions:
    """TSA and trust; without ``trust`` no revocation values can be embedded."""

    tsa_url: str | None = None
    trust: TrustAnchors | None = None
    role: str | None = None
    http_timeout: float = 10.0


def revocation_values(
    ocsp_responses: Sequence[ocsp.OCSPResponse], crls: Sequence[crl.CertificateList]
) -> RevocationValues:
    basic = [
        r["response_bytes"]["response"].parsed
        for r in ocsp_responses
        if r["response_status"].native == "successful"
    ]
    value: dict[str, object] = {}
    if crls:
        value["crl_vals"] = list(crls)
    if basic:
        value["ocsp_vals"] = basic
    return RevocationValues(value)


def embedded_ocsp(info: cms.SignerInfo) -> list[ocsp.BasicOCSPResponse]:
    """OCSP responses stored in a SignerInfo's revocation values."""
    found: list[ocsp.BasicOCSPResponse] = []
    for attr in unsigned_attributes(info):
        if attr["type"].dotted == REVOCATION_VALUES_OID:
            values = RevocationValues.load(attr["values"][0].dump())
            if not isinstance(values["ocsp_vals"], core.Void):
                found.extend(values["ocsp_vals"])
    return found


async def _complete(
    content: cms.ContentInfo,
    key: SigningKey,
    options: CadesOptions,
) -> cms.SignedData:
    """Time-stamp the signature and add the signer's OCSP/CRL evidence."""
    timeout = aiohttp.ClientTimeout(total=options.http_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        try:
            if options.tsa_url:
                stamper = HTTPTimeStamper(
                    options.tsa_url, session=http, timeout=int(options.http_timeout)
                )
                content = await with_signature_timestamp(content, stamper)
            signed = cms.ContentInfo.load(content.dump())["content"]
            if options.trust is not None:
                context = await check_status(
                    key.certificate,
                    key.chain,
                    options.trust,
                    fetcher_backend=AIOHttpFetcherBackend(http),
                )
                if context is None or not (context.ocsps or context.crls):
                    raise ServiceUnavailableError(
                        "no OCSP response or CRL for the signer", service="OCSP/CRL"
                    )
                values = revocation_values(list(context.ocsps), list(context.crls))
                for info in signed["signer_infos"]:
                    add_unsigned_attribute(info, REVOCATION_VALUES_OID, values)
        except aiohttp.ClientError as exc:
            raise ServiceUnavailableError(str(exc), service="TSA/OCSP") from None
        except OSError as exc:
            raise ServiceUnavailableError(str(exc), service="TSA") from None
    return signed


async def async_sign_detached(
    data: bytes, key: SigningKey, options: CadesOptions | None = None
) -> cms.SignedData:
    """A detached CMS by ``key`` over ``data``."""
    options = options or CadesOptions()
    if isinstance(key, ExternalKey):
        raise SigningError("external keys produce their CMS elsewhere; use complete_external_cms")
    key.check(dt.datetime.now(dt.UTC), options.role)
    if options.trust is not None:
        # Refuse a revoked signer before signing anything (the evidence is taken again later).
        async with aiohttp.ClientSession() as http:
            await check_status(
                key.certificate,
                key.chain,
                options.trust,
                fetcher_backend=AIOHttpFetcherBackend(http),
            )
    if isinstance(key, Pkcs12Key) and key.is_gost:
        gost_key = key.private_key
        assert isinstance(gost_key, GostPrivateKey)
        content = gost_cms.sign_data(gost_key, key.certificate, list(key.chain), data)
        return await _complete(content, key, options)
    signer: Signer = key.pyhanko_signer()
    content = await signer.async_sign_general_data(data, "sha256", detached=True, use_cades=True)
    return await _complete(content, key, options)


def sign_detached(
    data: bytes, key: SigningKey, options: CadesOptions | None = None
) -> cms.SignedData:
    return _aio.run(async_sign_detached(data, key, options))


async def async_complete_external_cms(
    signature: bytes | str, key: ExternalKey, options: CadesOptions | None = None
) -> cms.SignedData:
    """Part-B hook: a CMS made by NCALayer (PEM or Base64 DER) gets the time-stamp (if it
    has none) and the revocation values, like a server-made one.

    Async so web handlers and the two-phase service can call it on their own loop.
    """
    options = options or CadesOptions()
    signed = load_cms(signature)
    key.check(dt.datetime.now(dt.UTC), options.role)
    content = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return await _complete(content, key, options)


def complete_external_cms(
    signature: bytes | str, key: ExternalKey, options: CadesOptions | None = None
) -> cms.SignedData:
    """Synchronous :func:`async_complete_external_cms` (not from a running event loop)."""
    return _aio.run(async_complete_external_cms(signature, key, options))


def merge(signatures: Sequence[cms.SignedData]) -> cms.SignedData:
    """One SignedData with every SignerInfo (and the union of certificates)."""
    if not signatures:
        raise SigningError("nothing to merge")
    first = signatures[0]
    certs: dict[bytes, cms.CertificateChoices] = {}
    digests: dict[bytes, cms.DigestAlgorithm] = {}
    infos: list[cms.SignerInfo] = []
    for signed in signatures:
        if signed["encap_content_info"]["content_type"].native != (
            first["encap_content_info"]["content_type"].native
        ):
            raise SigningError("CMS of different content types")
        for cert in signed["certificates"]:
            certs.setdefault(cert.dump(), cert)
        for alg in signed["digest_algorithms"]:
            digests.setdefault(alg.dump(), alg)
        infos.extend(signed["signer_infos"])
    return cms.SignedData(
        {
            "version": first["version"],
            "digest_algorithms": list(digests.values()),
            "encap_content_info": {"content_type": first["encap_content_info"]["content_type"]},
            "certificates": list(certs.values()),
            "signer_infos": infos,
        }
    )
