"""Revocation data: embedded first, then a shared bounded cache, then OCSP / CRL fetches.

Why our own fetchers instead of pyhanko-certvalidator's defaults:

* **Embedded data first.** A PAdES B-LT file or a SIGEX-style CMS already carries the
  OCSP response captured at signing time; the stock fetchers would still go to the
  network. Here an embedded response for the certificate short-circuits the fetch.
* **CRLs parsed once and cached, with a bounded size.** NCANode re-parses a CRL for every
  check and runs out of memory on the national CRL; here a CRL is downloaded, parsed once
  and kept (LRU, capped in bytes and in age, never past its ``nextUpdate``).
* **OCSP responses cached** per (issuer key, serial) until ``nextUpdate`` or a max age.

The OCSP response's *own* signature and the responder's authorisation are still checked
by pyhanko-certvalidator for every use (a cached response is re-verified each time), so a
forged "good" response is never trusted just because it came from the cache or the file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field

from asn1crypto import cms, crl, ocsp, x509
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError
from pyhanko_certvalidator.fetchers.api import (
    CertificateFetcher,
    CRLFetcher,
    Fetchers,
    OCSPFetcher,
)
from pyhanko_certvalidator.fetchers.common_utils import (
    format_ocsp_request,
    process_ocsp_response_data,
)

from docservice.asn1_shared import parsed_whole
from docservice.ttl_cache import TtlCache

log = logging.getLogger(__name__)


def _ttl(next_update: dt.datetime | None, max_age: float) -> float:
    """Seconds to keep an answer: ``max_age``, never past ``nextUpdate``."""
    if next_update is None:
        return max_age
    return min(max_age, (next_update - dt.datetime.now(dt.UTC)).total_seconds())


@dataclass
class RevocationCache:
    """Process-wide OCSP/CRL cache shared by all verifications (thread-safe, bounded)."""

    max_ocsp_entries: int = 20_000
    max_crl_bytes: int = 128 * 1024 * 1024
    max_age: float = 300.0
    stats: Counter[str] = field(default_factory=Counter)
    _ocsp: TtlCache[tuple[bytes, int], ocsp.OCSPResponse] = field(init=False)
    _crl: TtlCache[str, crl.CertificateList] = field(init=False)
    _status: TtlCache[tuple[object, ...], bool] = field(init=False)

    def __post_init__(self) -> None:
        self._ocsp = TtlCache(max_entries=self.max_ocsp_entries)
        self._crl = TtlCache(max_weight=self.max_crl_bytes)
        self._status = TtlCache(max_entries=self.max_ocsp_entries)

    @property
    def _crl_bytes(self) -> int:
        return self._crl.weight

    def get_ocsp(self, key: tuple[bytes, int]) -> ocsp.OCSPResponse | None:
        found = self._ocsp.get(key)
        self.stats["ocsp_hit" if found is not None else "ocsp_miss"] += 1
        return found

    def put_ocsp(self, key: tuple[bytes, int], response: ocsp.OCSPResponse) -> None:
        next_update = None
        try:
            single = response.basic_ocsp_response["tbs_response_data"]["responses"][0]
            next_update = single["next_update"].native
        except (KeyError, IndexError, TypeError, ValueError):
            return
        self._ocsp.put(key, parsed_whole(response), _ttl(next_update, self.max_age))

    def get_crl(self, url: str) -> crl.CertificateList | None:
        found = self._crl.get(url)
        self.stats["crl_hit" if found is not None else "crl_miss"] += 1
        return found

    def put_crl(self, url: str, data: bytes) -> crl.CertificateList:
        """Parse ``data`` once (fully, so later lookups never re-parse) and keep it."""
        parsed = parsed_whole(crl.CertificateList.load(data))  # shared by every thread
        self.stats["crl_parsed"] += 1
        next_update = parsed["tbs_cert_list"]["next_update"].native
        self._crl.put(url, parsed, _ttl(next_update, self.max_age * 12), weight=len(data))
        return parsed

    def good_status(self, key: tuple[object, ...]) -> bool:
        """Whether a signer's certificate (``key``) was found good within its status TTL."""
        if self._status.get(key) is None:
            self.stats["status_miss"] += 1
            return False
        self.stats["status_hit"] += 1
        return True

    def put_good_status(self, key: tuple[object, ...], ttl: float) -> None:
        """Remember a good status for ``ttl`` seconds (never beyond :attr:`max_age`)."""
        self._status.put(key, True, min(ttl, self.max_age))

    def clear(self) -> None:
        self._ocsp.clear()
        self._crl.clear()
        self._status.clear()


def _ocsp_key_for(cert: x509.Certificate) -> tuple[bytes, int]:
    """Cache key: hash of the issuer's name and the serial (issuer key is unknown here)."""
    return hashlib.sha256(cert.issuer.dump()).digest(), cert.serial_number


def _response_serials(resp: ocsp.OCSPResponse) -> set[int]:
    try:
        tbs = resp.basic_ocsp_response["tbs_response_data"]
        return {single["cert_id"]["serial_number"].native for single in tbs["responses"]}
    except (KeyError, TypeError, ValueError):
        return set()


def _http(
    url: str, data: bytes | None, content_type: str | None, timeout: float, max_bytes: int
) -> bytes:
    if not url.lower().startswith(("http://", "https://")):
        raise OSError(f"unsupported URL scheme: {url}")
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        body: bytes = resp.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise OSError(f"response from {url} exceeds {max_bytes} bytes")
    return body


@dataclass
class RevinfoSources:
    """What revocation evidence was offered for which certificate (for the report)."""

    used: dict[int, str] = field(default_factory=dict)


class _OcspFetcher(OCSPFetcher):
    def __init__(
        self,
        cache: RevocationCache,
        embedded: list[ocsp.OCSPResponse],
        network: bool,
        timeout: float,
        sources: RevinfoSources,
    ) -> None:
        self._cache = cache
        self._embedded = embedded
        self._network = network
        self._timeout = timeout
        self._fetched: list[ocsp.OCSPResponse] = []
        self._sources = sources

    async def fetch(
        self, cert: x509.Certificate | cms.AttributeCertificateV2, authority: Authority
    ) -> ocsp.OCSPResponse:
        if not self._network or not isinstance(cert, x509.Certificate):
            raise OCSPFetchError("fetching disabled")
        urls = cert.ocsp_urls
        if not urls:
            raise OCSPFetchError("no OCSP URL")
        request = format_ocsp_request(
            cert, authority, certid_hash_algo="sha1", request_nonces=False
        )
        errors = []
        for url in urls:
            try:
                body = await asyncio.to_thread(
                    _http,
                    url,
                    request.dump(),
                    "application/ocsp-request",
                    self._timeout,
                    1024 * 1024,
                )
                response = process_ocsp_response_data(body, ocsp_request=request, ocsp_url=url)
            except (OSError, urllib.error.URLError, OCSPFetchError, ValueError) as exc:
                errors.append(f"{url}: {exc}")
                continue
            self._cache.stats["ocsp_fetch"] += 1
            self._cache.put_ocsp(_ocsp_key_for(cert), response)
            self._fetched.append(response)
            self._sources.used.setdefault(cert.serial_number, "ocsp")
            return response
        raise OCSPFetchError("; ".join(errors) or "no OCSP response")

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return [*self._embedded, *self._fetched]

    def fetched_responses_for_cert(
        self, cert: x509.Certificate | cms.AttributeCertificateV2
    ) -> Iterable[ocsp.OCSPResponse]:
        if not isinstance(cert, x509.Certificate):
            return []
        serial = cert.serial_number
        embedded = [r for r in self._embedded if serial in _response_serials(r)]
        if embedded:
            self._sources.used.setdefault(serial, "embedded-ocsp")
            return embedded
        cached = self._cache.get_ocsp(_ocsp_key_for(cert))
        if cached is not None:
            self._sources.used.setdefault(serial, "ocsp")
            if all(r is not cached for r in self._fetched):  # evidence a signer embeds
                self._fetched.append(cached)
            return [cached]
        return [r for r in self._fetched if serial in _response_serials(r)]


class _CrlFetcher(CRLFetcher):
    def __init__(
        self,
        cache: RevocationCache,
        embedded: list[crl.CertificateList],
        network: bool,
        timeout: float,
        max_bytes: int,
        sources: RevinfoSources,
    ) -> None:
        self._cache = cache
        self._embedded = embedded
        self._network = network
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._obtained: list[crl.CertificateList] = []
        self._sources = sources

    @staticmethod
    def _urls(cert: x509.Certificate) -> list[str]:
        urls = []
        for point in cert.crl_distribution_points:
            for name in point["distribution_point"].chosen:
                if name.name == "uniform_resource_identifier":
                    urls.append(name.native)
        return urls

    async def fetch(
        self, cert: x509.Certificate | cms.AttributeCertificateV2, *, use_deltas: bool | None = None
    ) -> Iterable[crl.CertificateList]:
        if not isinstance(cert, x509.Certificate):
            raise CRLFetchError("not a certificate")
        result = []
        for url in self._urls(cert):
            cached = self._cache.get_crl(url)
            if cached is None:
                if not self._network:
                    continue
                try:
                    body = await asyncio.to_thread(
                        _http, url, None, None, self._timeout, self._max_bytes
                    )
                    self._cache.stats["crl_fetch"] += 1
                    cached = self._cache.put_crl(url, body)
                except (OSError, urllib.error.URLError, ValueError) as exc:
                    log.info("CRL %s unavailable: %s", url, exc)
                    continue
            result.append(cached)
        if not result:
            raise CRLFetchError("no CRL available")
        self._obtained.extend(result)
        self._sources.used.setdefault(cert.serial_number, "crl")
        return result

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        return [*self._embedded, *self._obtained]

    def fetched_crls_for_cert(
        self, cert: x509.Certificate | cms.AttributeCertificateV2
    ) -> Iterable[crl.CertificateList]:
        if not isinstance(cert, x509.Certificate):
            raise KeyError("not a certificate")
        issuer = cert.issuer
        embedded = [c for c in self._embedded if c.issuer == issuer]
        if embedded:
            self._sources.used.setdefault(cert.serial_number, "embedded-crl")
            return embedded
        cached = [c for c in (self._cache.get_crl(u) for u in self._urls(cert)) if c]
        if cached:
            self._sources.used.setdefault(cert.serial_number, "crl")
            self._obtained.extend(
                c
                for c in cached  # evidence a signer embeds
                if all(o is not c for o in self._obtained)
            )
            return cached
        raise KeyError("nothing fetched yet")


class _NoCertFetcher(CertificateFetcher):
    """Issuer certificates come from the trust store and the signature, never the network."""

    async def fetch_cert_issuers(
        self, cert: x509.Certificate | cms.AttributeCertificateV2
    ) -> AsyncGenerator[x509.Certificate, None]:
        for _ in ():
            yield _

    async def fetch_crl_issuers(
        self, certificate_list: crl.CertificateList
    ) -> AsyncGenerator[x509.Certificate, None]:
        for _ in ():
            yield _

    def fetched_certs(self) -> Iterable[x509.Certificate]:
        return []


def make_fetchers(
    cache: RevocationCache,
    *,
    embedded_ocsp: list[ocsp.OCSPResponse],
    embedded_crl: list[crl.CertificateList],
    network: bool,
    timeout: float,
    max_crl_bytes: int,
    sources: RevinfoSources,
) -> Fetchers:
    """Fetchers for one validation: embedded data, then the cache, then (maybe) network."""
    return Fetchers(
        ocsp_fetcher=_OcspFetcher(cache, embedded_ocsp, network, timeout, sources),
        crl_fetcher=_CrlFetcher(cache, embedded_crl, network, timeout, max_crl_bytes, sources),
        cert_fetcher=_NoCertFetcher(),
    )


@dataclass
class CachedRevocation:
    """The cache as a signer's revocation source (``signing.trust.RevocationSource``).

    Why: a signature checks its signer's status first (validity, chain, CRL/OCSP); with
    pyhanko-certvalidator's stock fetchers every signature downloads and parses the CRL
    again. Here the CRLs and OCSP answers come from the process's one
    :class:`RevocationCache` (until ``nextUpdate``, bounded), and a good status is reused
    for ``status_ttl`` seconds (``DOCSERVICE_KEY_STATUS_TTL``, 0 = check every time).
    """

    cache: RevocationCache
    network: bool = True
    timeout: float = 5.0
    max_crl_bytes: int = 20 * 1024 * 1024
    status_ttl: float = 0.0

    def fetchers(self) -> Fetchers:
        return make_fetchers(
            self.cache,
            embedded_ocsp=[],
            embedded_crl=[],
            network=self.network,
            timeout=self.timeout,
            max_crl_bytes=self.max_crl_bytes,
            sources=RevinfoSources(),
        )

    def good_status(self, key: tuple[object, ...]) -> bool:
        return self.status_ttl > 0 and self.cache.good_status(key)

    def put_good_status(self, key: tuple[object, ...]) -> None:
        if self.status_ttl > 0:
            self.cache.put_good_status(key, self.status_ttl)
