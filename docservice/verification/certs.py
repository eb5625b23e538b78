"""Certificates in a verification: the full chain, validity at the right moment, the report's view.

Why this module exists:

* **Only the configured anchors are trusted** (:class:`docservice.pki.anchors.TrustAnchors`,
  the operator's trust folder, the same for signing); the system CA store is never
  consulted, and a certificate that does not chain to an anchor is
  ``NO_CERTIFICATE_CHAIN_FOUND``, however well-formed it is.
* **Full chains.** Path building goes root -> issuing CA -> signer through every level
  (NCANode only looks one level up).
* **Validity at the right moment.** :class:`ChainValidator` validates at the moment the
  caller gives: the trusted time-stamp's time when there is one, so an expired certificate
  does not break an old time-stamped signature (NCANode judges at *now*).
* **Cached outcomes.** The same certificate validated at the same moment against the same
  trust store and evidence gives the same answer; caching it (bounded, short-lived, never
  longer than the revocation cache's freshness) is what lets a busy page answer fast.
* **Kazakh meaning.** Who the signer is and in what capacity is read by
  :mod:`docservice.pki.person` and :mod:`docservice.pki.roles`, as the stamp reads it;
  this module only arranges it for the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from asn1crypto import crl, ocsp, x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from docservice.identifiers import has_valid_checksum
from docservice.pki.anchors import TrustAnchors, fingerprint
from docservice.pki.key_usage import describe, signing_usage
from docservice.pki.person import person_of
from docservice.pki.roles import eku_label, policy_label
from docservice.ttl_cache import TtlCache
from docservice.verification.report import CertificateFacts, Labelled, SignerFacts
from docservice.verification.revocation import (
    RevinfoSources,
    RevocationCache,
    _ocsp_key_for,
    make_fetchers,
)
from signing import _aio, gost
from signing.gost.validator import GOST_SIGNATURE_VALIDATOR

#: What a report calls each Kazakh GOST algorithm ("ГОСТ 34.10-2015, 512 бит": the same
#: words in Kazakh and Russian).
GOST_NAMES = {
    **{oid: alg.label for oid, alg in gost.ALGORITHMS.items()},
    gost.GOST34311: "ГОСТ 34.311-95",
    gost.STREEBOG256: "ГОСТ 34.11-2015, 256 бит",
    gost.STREEBOG512: "ГОСТ 34.11-2015, 512 бит",
}


def gost_name(oid: str) -> str | None:
    """A readable name when ``oid`` is a Kazakh GOST algorithm, else None."""
    if gost.is_gost(oid):
        return GOST_NAMES.get(oid, f"ГОСТ ({oid})")
    return None


def cert_gost(cert: x509.Certificate) -> str | None:
    """The name of a certificate's GOST key or GOST signature, by OID; None for RSA etc."""
    key_oid = cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"]
    sig_oid = cert["signature_algorithm"]["algorithm"]
    return gost_name(key_oid.dotted) or gost_name(sig_oid.dotted)


def display_name(name: x509.Name) -> str:
    """The common name alone when there is one (what officials recognise)."""
    return _attr(name, "common_name") or name.human_friendly


# -- the report's view of a certificate --------------------------------------------------------


def _attr(name: x509.Name, key: str) -> str:
    values = [
        v
        for rdn in name.chosen
        for atv in rdn
        if atv["type"].native == key
        for v in [atv["value"].native]
    ]
    return str(values[0]) if values else ""


def certificate_facts(cert: x509.Certificate) -> CertificateFacts:
    algo = cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"]
    return CertificateFacts(
        subject=cert.subject.human_friendly,
        issuer=display_name(cert.issuer),
        serial_hex=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before,
        not_after=cert.not_valid_after,
        sha256=fingerprint(cert),
        key_algorithm=gost_name(algo.dotted) or algo.native,
    )


#: :func:`signer_facts` by the certificate's SHA-256. Why: the facts follow from the
#: certificate's bytes alone (the label tables are fixed), the same officials sign again and
#: again, and reading them (the subject's names, EKU and policy labels, checksums) was a
#: sixth of the CPU of verifying a one-signature PDF. Bounded; an entry never goes stale.
_SIGNER_FACTS: TtlCache[bytes, SignerFacts] = TtlCache(max_entries=4096)


def signer_facts(cert: x509.Certificate) -> SignerFacts:
    """The report's view of the signer: :func:`docservice.pki.person.person_of` plus the
    labels of every extended key usage and policy, checksums and the certificate.

    Each call returns its own object (its lists too), so a caller that changes one report
    changes no other; the labels and certificate facts inside are frozen and shared."""
    key = hashlib.sha256(cert.dump()).digest()
    facts = _SIGNER_FACTS.get(key)
    if facts is None:
        facts = read_signer_facts(cert)
        _SIGNER_FACTS.put(key, facts, ttl=math.inf)
    return replace(facts, roles=list(facts.roles), policies=list(facts.policies))


def read_signer_facts(cert: x509.Certificate) -> SignerFacts:
    """:func:`signer_facts` read from ``cert`` itself, uncached."""
    person = person_of(cert)
    roles = [
        Labelled(oid, label.kk, label.ru)
        for oid in _eku_oids(cert)
        if (label := eku_label(oid)) is not None
    ]
    policies = []
    for oid in _policy_oids(cert):
        label = policy_label(oid)
        policies.append(Labelled(oid, *(label or (oid, oid))))
    iin, bin_ = person.iin or None, person.bin or None
    return SignerFacts(
        common_name=person.common_name,
        full_name=person.full_name,
        surname=person.surname,
        given_name=person.given_name,
        patronymic=person.patronymic,
        iin=iin,
        iin_valid=has_valid_checksum(iin) if iin else None,
        organisation=person.organisation or None,
        bin=bin_,
        bin_valid=has_valid_checksum(bin_) if bin_ else None,
        email=person.email or None,
        roles=roles,
        policies=policies,
        legal_entity=bin_ is not None,
        gost=cert_gost(cert) is not None,
        certificate=certificate_facts(cert),
    )


def _eku_oids(cert: x509.Certificate) -> list[str]:
    value = cert.extended_key_usage_value
    return [p.dotted for p in value] if value is not None else []


def _policy_oids(cert: x509.Certificate) -> list[str]:
    value = cert.certificate_policies_value
    return [p["policy_identifier"].dotted for p in value] if value is not None else []


# -- chain validation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainOutcome:
    """Result of one path validation, already mapped to ETSI terms."""

    sub: str | None
    detail: str = ""
    path: tuple[str, ...] = ()
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    expired_at: dt.datetime | None = None
    not_before: dt.datetime | None = None
    revinfo_source: str = "none"
    revocation_declared: bool = True


@dataclass
class ChainValidator:
    """Path validation against :class:`TrustAnchors` with revocation, cached."""

    trust: TrustAnchors
    revocation: RevocationCache
    fetch: bool = True
    fetch_timeout: float = 5.0
    max_crl_bytes: int = 20 * 1024 * 1024
    cache_entries: int = 4096
    cache_ttl: float = 60.0
    _cache: TtlCache[tuple[object, ...], ChainOutcome] = field(init=False)
    hits: int = 0

    def __post_init__(self) -> None:
        self._cache = TtlCache(max_entries=self.cache_entries)

    def validate(
        self,
        cert: x509.Certificate,
        *,
        moment: dt.datetime,
        other_certs: Sequence[x509.Certificate] = (),
        embedded_ocsp: Sequence[ocsp.OCSPResponse] = (),
        embedded_crl: Sequence[crl.CertificateList] = (),
        purpose: str = "signing",
    ) -> ChainOutcome:
        """Validate ``cert`` for ``purpose`` (``signing`` or ``timestamping``) at ``moment``."""
        key = (
            fingerprint(cert),
            self.trust.id,
            moment.replace(microsecond=0),
            purpose,
            frozenset(fingerprint(c) for c in other_certs),
            frozenset(hashlib.sha256(r.dump()).digest() for r in embedded_ocsp),
            frozenset(hashlib.sha256(r.dump()).digest() for r in embedded_crl),
        )
        cached = self._cache.get(key)
        if cached is not None:
            self.hits += 1
            return cached
        outcome = _aio.run(
            self._validate(
                cert, moment, list(other_certs), list(embedded_ocsp), list(embedded_crl), purpose
            )
        )
        ttl = min(self.cache_ttl, self.revocation.max_age)
        if outcome.sub in (
            None,
            "REVOKED_NO_POE",
            "NO_CERTIFICATE_CHAIN_FOUND",
            "CHAIN_CONSTRAINTS_FAILURE",
            "OUT_OF_BOUNDS_NO_POE",
            "NOT_YET_VALID",
        ):
            self._cache.put(key, outcome, ttl)
        return outcome

    def clear(self) -> None:
        self._cache.clear()

    def revoked_answer_times(
        self, cert: x509.Certificate, embedded_ocsp: list[ocsp.OCSPResponse]
    ) -> list[dt.datetime]:
        """``thisUpdate`` of each OCSP answer at hand (embedded, cached) saying ``cert`` was
        revoked: moments at which a validation can hear that answer while it is fresh (a
        ``certificateHold`` answer speaks for no later time). Unverified: only a
        :meth:`validate` at such a moment checks the answer's signature."""
        cached = self.revocation.get_ocsp(_ocsp_key_for(cert))
        times: set[dt.datetime] = set()
        for response in [*embedded_ocsp, *([cached] if cached is not None else [])]:
            try:
                singles = response.basic_ocsp_response["tbs_response_data"]["responses"]
                times.update(
                    single["this_update"].native
                    for single in singles
                    if single["cert_id"]["serial_number"].native == cert.serial_number
                    and single["cert_status"].name == "revoked"
                )
            except (KeyError, TypeError, ValueError):
                continue
        return sorted(times)

    async def _validate(
        self,
        cert: x509.Certificate,
        moment: dt.datetime,
        other_certs: list[x509.Certificate],
        embedded_ocsp: list[ocsp.OCSPResponse],
        embedded_crl: list[crl.CertificateList],
        purpose: str,
    ) -> ChainOutcome:
        sources = RevinfoSources()
        fetchers = make_fetchers(
            self.revocation,
            embedded_ocsp=embedded_ocsp,
            embedded_crl=embedded_crl,
            network=self.fetch,
            timeout=self.fetch_timeout,
            max_crl_bytes=self.max_crl_bytes,
            sources=sources,
        )
        policy = CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
            ),
            retroactive_revinfo=True,
        )
        context = ValidationContext(
            trust_roots=self.trust.roots,
            other_certs=[*self.trust.intermediates, *other_certs],
            moment=moment,
            allow_fetching=True,
            fetchers=fetchers,
            revinfo_policy=policy,
            ocsps=embedded_ocsp,
            crls=embedded_crl,
            time_tolerance=dt.timedelta(seconds=5),
            signature_validator=GOST_SIGNATURE_VALIDATOR,
        )
        declared = bool(cert.ocsp_urls or cert.crl_distribution_points)
        validator = CertificateValidator(cert, validation_context=context)
        try:
            path = await validator.async_validate_path()
        except RevokedError as exc:
            return ChainOutcome(
                "REVOKED_NO_POE" if exc.is_ee_cert else "REVOKED_CA_NO_POE",
                exc.failure_msg,
                revoked_at=exc.revocation_dt,
                revocation_reason=exc.reason.native if exc.reason else None,
                revinfo_source=sources.used.get(cert.serial_number, "none"),
            )
        except ExpiredError as exc:
            if exc.is_ee_cert:
                return ChainOutcome(
                    "OUT_OF_BOUNDS_NO_POE", exc.failure_msg, expired_at=exc.expired_dt
                )
            return ChainOutcome("CERTIFICATE_CHAIN_GENERAL_FAILURE", exc.failure_msg)
        except NotYetValidError as exc:
            return ChainOutcome("NOT_YET_VALID", exc.failure_msg, not_before=exc.valid_from)
        except InsufficientRevinfoError as exc:
            return ChainOutcome("TRY_LATER", exc.failure_msg)
        except DisallowedAlgorithmError as exc:
            return ChainOutcome("CRYPTO_CONSTRAINTS_FAILURE", exc.failure_msg)
        except PathBuildingError as exc:
            return ChainOutcome("NO_CERTIFICATE_CHAIN_FOUND", str(exc))
        except InvalidCertificateError as exc:
            return ChainOutcome("CHAIN_CONSTRAINTS_FAILURE", exc.failure_msg)
        except (PathValidationError, ValidationError) as exc:
            return ChainOutcome("CERTIFICATE_CHAIN_GENERAL_FAILURE", exc.failure_msg)
        names = tuple(display_name(c.subject) for c in path.iter_certs(include_root=True))
        usage_problem = _usage_problem(cert, purpose)
        source = sources.used.get(cert.serial_number, "none")
        if usage_problem:
            return ChainOutcome(
                "CHAIN_CONSTRAINTS_FAILURE",
                usage_problem,
                path=names,
                revinfo_source=source,
                revocation_declared=declared,
            )
        return ChainOutcome(None, path=names, revinfo_source=source, revocation_declared=declared)


def _usage_problem(cert: x509.Certificate, purpose: str) -> str:
    if purpose == "timestamping":
        eku = cert.extended_key_usage_value
        if eku is None or "time_stamping" not in set(eku.native):
            return "TSA certificate lacks the timeStamping extended key usage"
        return ""
    return describe(cert, signing_usage(cert))
