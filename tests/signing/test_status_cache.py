"""Signing with the service's revocation source: CRLs/OCSP answers from the one process
cache, a signer's good status reused within its TTL, a revoked signer refused every time."""

from __future__ import annotations

import dataclasses

import pytest

from docservice.verification.revocation import CachedRevocation, RevocationCache
from signing.errors import CertificateRevokedError
from signing.keys import Pkcs12Key
from signing.pdf import Level, PdfOptions, sign_pdf
from tests.pki import TestPki
from tests.pyhanko_oracle import all_valid, pyhanko_pdf_statuses


def _fetches(cache: RevocationCache) -> int:
    return cache.stats["crl_fetch"] + cache.stats["ocsp_fetch"]


def test_good_status_is_reused_within_its_ttl(trust, officials, rendered) -> None:  # type: ignore[no-untyped-def]
    cache = RevocationCache()
    cached = dataclasses.replace(trust, revocation=CachedRevocation(cache, status_ttl=60))
    data = sign_pdf(rendered.pdf, officials["career"], PdfOptions(trust=cached))
    first = _fetches(cache)
    assert first >= 1  # the signer's OCSP answer and/or the CA's CRL
    for _ in range(2):
        data = sign_pdf(data, officials["career"], PdfOptions(trust=cached))
    assert _fetches(cache) == first
    assert cache.stats["status_hit"] == 2
    statuses = pyhanko_pdf_statuses(data, trust)
    assert len(statuses) == 3 and all_valid(statuses)


def test_without_a_status_ttl_every_signature_validates_from_cached_revocation_data(
    trust, officials, rendered
) -> None:  # type: ignore[no-untyped-def]
    cache = RevocationCache()
    cached = dataclasses.replace(trust, revocation=CachedRevocation(cache, status_ttl=0))
    sign_pdf(rendered.pdf, officials["career"], PdfOptions(trust=cached))
    first = _fetches(cache)
    for _ in range(2):
        sign_pdf(rendered.pdf, officials["career"], PdfOptions(trust=cached))
    assert cache.stats["status_hit"] == 0 and cache.stats["status_miss"] == 0
    assert _fetches(cache) == first


def test_a_revoked_signer_is_refused_every_time(pki: TestPki, trust, rendered) -> None:  # type: ignore[no-untyped-def]
    cache = RevocationCache()
    cached = dataclasses.replace(trust, revocation=CachedRevocation(cache, status_ttl=60))
    key = Pkcs12Key.load(pki.p12("revoked"), pki.password)
    for _ in range(2):
        with pytest.raises(CertificateRevokedError):
            sign_pdf(rendered.pdf, key, PdfOptions(trust=cached))
    assert cache.stats["status_hit"] == 0


def test_b_lt_always_collects_fresh_evidence(trust, officials, rendered, pki: TestPki) -> None:  # type: ignore[no-untyped-def]
    cache = RevocationCache()
    cached = dataclasses.replace(trust, revocation=CachedRevocation(cache, status_ttl=60))
    options = PdfOptions(trust=cached)
    sign_pdf(rendered.pdf, officials["career"], options)
    signed = sign_pdf(
        rendered.pdf,
        officials["career"],
        dataclasses.replace(options, level=Level.B_LT, tsa_url=pki.tsa_url),
    )
    assert b"/DSS" in signed
    assert cache.stats["status_hit"] == 0
