"""pyHanko's own validator as the tests' second opinion on what :mod:`signing` produced.

Test-only (the service verifies with :func:`docservice.verification.pdf.verify_pdf`, whose
report is a different contract): PAdES through pyHanko's validator (with the difference
analysis that catches changes a certification forbids), detached CMS one SignerInfo at a
time, and the long-term (B-LT/B-LTA) check that needs no network because the evidence is
inside the file. Always against explicit trust roots.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import aiohttp
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_detached_cms, async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import PdfSignatureStatus, StandardCMSSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from docservice.pki.anchors import TrustAnchors
from signing import _aio
from signing.cms_util import copy_signed, load_cms


async def async_pyhanko_pdf_statuses(
    data: bytes, trust: TrustAnchors, *, long_term: bool = False
) -> list[PdfSignatureStatus]:
    """Status of every signature (document time-stamps excluded), in file order.

    ``long_term``: validate from the DSS only (no fetching), as an archive would years
    later; the signature must then be B-LT or B-LTA.
    """
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    results: list[PdfSignatureStatus] = []
    async with aiohttp.ClientSession() as http:
        backend = AIOHttpFetcherBackend(http)
        for sig in reader.embedded_regular_signatures:
            if long_term:
                # Only what the DSS holds: no fetching, revocation data required.
                kwargs = {
                    "trust_roots": list(trust.roots),
                    "other_certs": list(trust.intermediates),
                    "allow_fetching": False,
                    "revocation_mode": "hard-fail",
                }
                try:
                    dss = DocumentSecurityStore.read_dss(reader)
                    contexts = (
                        dss.as_validation_context(kwargs),
                        dss.as_validation_context(kwargs),
                    )
                except NoDSSFoundError:
                    empty = {**kwargs, "crls": [], "ocsps": []}
                    contexts = (ValidationContext(**empty), ValidationContext(**empty))
                status = await async_validate_pdf_signature(
                    sig, contexts[0], ts_validation_context=contexts[1]
                )
            else:
                context = trust.validation_context(fetcher_backend=backend)
                status = await async_validate_pdf_signature(
                    sig,
                    context,
                    ts_validation_context=trust.validation_context(fetcher_backend=backend),
                )
            results.append(status)
    return results


def pyhanko_pdf_statuses(
    data: bytes, trust: TrustAnchors, *, long_term: bool = False
) -> list[PdfSignatureStatus]:
    return _aio.run(async_pyhanko_pdf_statuses(data, trust, long_term=long_term))


def split_signers(signed: cms.SignedData) -> list[cms.SignedData]:
    """One SignedData per SignerInfo (a merged CMS is checked signer by signer)."""
    parts = []
    for info in signed["signer_infos"]:
        copy = copy_signed(signed)
        copy["signer_infos"] = cms.SignerInfos([cms.SignerInfo.load(info.dump())])
        parts.append(copy)
    return parts


async def async_pyhanko_cms_statuses(
    data: bytes, signature: bytes | str | cms.SignedData, trust: TrustAnchors
) -> list[StandardCMSSignatureStatus]:
    signed = signature if isinstance(signature, cms.SignedData) else load_cms(signature)
    results = []
    async with aiohttp.ClientSession() as http:
        backend = AIOHttpFetcherBackend(http)
        for part in split_signers(signed):
            results.append(
                await async_validate_detached_cms(
                    data,
                    part,
                    signer_validation_context=trust.validation_context(fetcher_backend=backend),
                    ts_validation_context=trust.validation_context(fetcher_backend=backend),
                )
            )
    return results


def pyhanko_cms_statuses(
    data: bytes, signature: bytes | str | cms.SignedData, trust: TrustAnchors
) -> list[StandardCMSSignatureStatus]:
    return _aio.run(async_pyhanko_cms_statuses(data, signature, trust))


def all_valid(statuses: Sequence[PdfSignatureStatus | StandardCMSSignatureStatus]) -> bool:
    return bool(statuses) and all(s.bottom_line for s in statuses)
