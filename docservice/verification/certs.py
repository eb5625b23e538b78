"""Certificates: the operator's trust store, the full chain, key usage and Kazakh meaning.

Why this module exists:

* **Only the configured anchors are trusted.** The trust store is a directory the operator
  sets (NCA RK roots and issuing CAs in production, the test root in tests); the system CA
  store is never consulted, and a certificate that does not chain to an anchor is
  ``NO_CERTIFICATE_CHAIN_FOUND``, however well-formed it is.
* **Full chains.** Path building goes root -> issuing CA -> signer through every level
  (NCANode only looks one level up).
* **Validity at the right moment.** :class:`ChainValidator` validates at the moment the
  caller gives: the trusted time-stamp's time when there is one, so an expired certificate
  does not break an old time-stamped signature (NCANode judges at *now*).
* **Cached outcomes.** The same certificate validated at the same moment against the same
  trust store and evidence gives the same answer; caching it (bounded, short-lived, never
  longer than the revocation cache's freshness) is what lets a busy page answer fast.
* **Kazakh meaning.** NCA RK encodes the IIN in ``SERIALNUMBER``, the BIN in ``OU``, the
  patronymic in ``GIVENNAME`` and the signer's capacity in extended key usage OIDs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import crl, ocsp, pem, x509
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
from docservice.verification import messages
from docservice.verification.report import CertificateFacts, Labelled, SignerFacts
from docservice.verification.revocation import (
    RevinfoSources,
    RevocationCache,
    _ocsp_key_for,
    make_fetchers,
)
from signing import gost
from signing.gost.validator import GOST_SIGNATURE_VALIDATOR

GOST_PREFIX = "1.2.398.3.10."
#: What a report calls each Kazakh GOST algorithm ("ГОСТ 34.10-2015, 512 бит": the same
#: words in Kazakh and Russian).
GOST_NAMES = {
    **{oid: alg.label for oid, alg in gost.ALGORITHMS.items()},
    gost.GOST34311: "ГОСТ 34.311-95",
    gost.STREEBOG256: "ГОСТ 34.11-2015, 256 бит",
    gost.STREEBOG512: "ГОСТ 34.11-2015, 512 бит",
}
SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})


class TrustStoreError(ValueError):
    """The configured trust directory is missing, empty or holds no CA certificate."""


def gost_name(oid: str) -> str | None:
    """A readable name when ``oid`` is a Kazakh GOST algorithm, else None."""
    if oid.startswith(GOST_PREFIX):
        return GOST_NAMES.get(oid, f"ГОСТ ({oid})")
    return None


def cert_gost(cert: x509.Certificate) -> str | None:
    """The name of a certificate's GOST key or GOST signature, by OID; None for RSA etc."""
    key_oid = cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"]
    sig_oid = cert["signature_algorithm"]["algorithm"]
    return gost_name(key_oid.dotted) or gost_name(sig_oid.dotted)


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle or a single DER file."""
    if pem.detect(data):
        return [x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"]
    return [x509.Certificate.load(data)]


def _is_root(cert: x509.Certificate) -> bool:
    """Self-issued and self-signed (asn1crypto answers "yes"/"maybe"/"no", all truthy)."""
    return cert.self_issued and cert.self_signed in ("yes", "maybe")


def _anchors(certs: list[x509.Certificate]) -> list[x509.Certificate]:
    """Self-signed roots, and CA certificates whose issuer the store does not hold.

    RFC 5280 section 6.1: a trust anchor is whatever CA the relying party trusts; it need
    not be self-signed (NCA publishes its issuing CAs, and an operator may pin one alone).
    An issuing CA stored with its root stays an intermediate, so chains stay complete.
    """
    subjects = {c.subject.dump() for c in certs}
    return [c for c in certs if _is_root(c)
            or (c.ca and c.issuer.dump() not in subjects)]


def display_name(name: x509.Name) -> str:
    """The common name alone when there is one (what officials recognise)."""
    return _attr(name, "common_name") or name.human_friendly


@dataclass
class TrustStore:
    """Trust anchors (roots or pinned issuing CAs) and other known certificates, pinned once."""

    roots: list[x509.Certificate]
    intermediates: list[x509.Certificate] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        if not self.roots:
            raise TrustStoreError(f"no CA certificate in {self.source or 'store'}")
        fps = sorted(fingerprint(c) for c in [*self.roots, *self.intermediates])
        self.id = hashlib.sha256("".join(fps).encode()).hexdigest()[:16]

    @classmethod
    def from_certificates(cls, certs: list[x509.Certificate], source: str = "") -> TrustStore:
        roots = _anchors(certs)
        inter = [c for c in certs if not any(c is r for r in roots)]
        return cls(roots, inter, source)

    @classmethod
    def from_directory(cls, path: str | Path) -> TrustStore:
        """Load ``*.pem``, ``*.crt``, ``*.cer``, ``*.der`` files (bundles allowed)."""
        directory = Path(path)
        if not directory.is_dir():
            raise TrustStoreError(f"trust directory {directory} does not exist")
        certs: list[x509.Certificate] = []
        for file in sorted(directory.iterdir()):
            if file.suffix.lower() in {".pem", ".crt", ".cer", ".der"} and file.is_file():
                try:
                    certs.extend(load_certificates(file.read_bytes()))
                except ValueError as exc:
                    raise TrustStoreError(f"{file}: not a certificate ({exc})") from None
        return cls.from_certificates(certs, str(directory))

    @property
    def labels(self) -> list[str]:
        return [display_name(c.subject) for c in self.roots]


# -- Kazakh meaning of a certificate --------------------------------------------------------


def _attr(name: x509.Name, key: str) -> str:
    values = [v for rdn in name.chosen for atv in rdn
              if atv["type"].native == key for v in [atv["value"].native]]
    return str(values[0]) if values else ""


def _strip_prefix(value: str, prefix: str) -> str:
    return value[len(prefix):] if value.upper().startswith(prefix) else value


def certificate_facts(cert: x509.Certificate) -> CertificateFacts:
    algo = cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"]
    return CertificateFacts(
        subject=cert.subject.human_friendly, issuer=display_name(cert.issuer),
        serial_hex=format(cert.serial_number, "x"), not_before=cert.not_valid_before,
        not_after=cert.not_valid_after, sha256=fingerprint(cert),
        key_algorithm=gost_name(algo.dotted) or algo.native)


def signer_facts(cert: x509.Certificate) -> SignerFacts:
    """Name, IIN, organisation, BIN, roles and policies as NCA RK encodes them."""
    subject = cert.subject
    cn = _attr(subject, "common_name")
    surname = _attr(subject, "surname")
    patronymic = _attr(subject, "given_name")
    given = cn[len(surname):].strip() if surname and cn.startswith(surname) else ""
    full = " ".join(p for p in (surname or cn, given, patronymic) if p)
    iin = _strip_prefix(_attr(subject, "serial_number"), "IIN") or None
    bin_ = _strip_prefix(_attr(subject, "organizational_unit_name"), "BIN") or None
    if bin_ is not None and not bin_.isdigit():
        bin_ = None
    roles: list[Labelled] = []
    for oid in _eku_oids(cert):
        meaning = messages.role(oid)
        if meaning:
            roles.append(Labelled(oid, *meaning))
    policies = []
    for oid in _policy_oids(cert):
        meaning = messages.POLICIES.get(oid)
        policies.append(Labelled(oid, *(meaning or (oid, oid))))
    email = _attr(subject, "email_address") or None
    return SignerFacts(
        common_name=cn, full_name=full, surname=surname, given_name=given,
        patronymic=patronymic, iin=iin,
        iin_valid=has_valid_checksum(iin) if iin and iin.isdigit() else None,
        organisation=_attr(subject, "organization_name") or None, bin=bin_,
        bin_valid=has_valid_checksum(bin_) if bin_ else None, email=email,
        roles=roles, policies=policies, legal_entity=bin_ is not None,
        gost=cert_gost(cert) is not None, certificate=certificate_facts(cert))


def _eku_oids(cert: x509.Certificate) -> list[str]:
    value = cert.extended_key_usage_value
    return [p.dotted for p in value] if value is not None else []


def _policy_oids(cert: x509.Certificate) -> list[str]:
    value = cert.certificate_policies_value
    return [p["policy_identifier"].dotted for p in value] if value is not None else []


def is_authentication_only(cert: x509.Certificate) -> bool:
    """NCA RK authentication keys: clientAuth EKU and no signing key usage."""
    usage = set(cert.key_usage_value.native) if cert.key_usage_value is not None else set()
    return not (usage & SIGNING_KEY_USAGES)


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
    """Path validation against a :class:`TrustStore` with revocation, cached."""

    trust: TrustStore
    revocation: RevocationCache
    fetch: bool = True
    fetch_timeout: float = 5.0
    max_crl_bytes: int = 20 * 1024 * 1024
    cache_entries: int = 4096
    cache_ttl: float = 60.0
    _cache: OrderedDict[tuple[object, ...], tuple[ChainOutcome, float]] = field(
        default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    hits: int = 0

    def validate(self, cert: x509.Certificate, *, moment: dt.datetime,
                 other_certs: list[x509.Certificate] = (),  # type: ignore[assignment]
                 embedded_ocsp: list[ocsp.OCSPResponse] = (),  # type: ignore[assignment]
                 embedded_crl: list[crl.CertificateList] = (),  # type: ignore[assignment]
                 purpose: str = "signing") -> ChainOutcome:
        """Validate ``cert`` for ``purpose`` (``signing`` or ``timestamping``) at ``moment``."""
        key = (fingerprint(cert), self.trust.id, moment.replace(microsecond=0), purpose,
               frozenset(fingerprint(c) for c in other_certs),
               frozenset(hashlib.sha256(r.dump()).digest() for r in embedded_ocsp),
               frozenset(hashlib.sha256(r.dump()).digest() for r in embedded_crl))
        now = time.monotonic()
        with self._lock:
            item = self._cache.get(key)
            if item is not None and item[1] > now:
                self._cache.move_to_end(key)
                self.hits += 1
                return item[0]
        outcome = _run(self._validate(cert, moment, list(other_certs),
                                             list(embedded_ocsp), list(embedded_crl), purpose))
        ttl = min(self.cache_ttl, self.revocation.max_age)
        if outcome.sub in (None, "REVOKED_NO_POE", "NO_CERTIFICATE_CHAIN_FOUND",
                           "CHAIN_CONSTRAINTS_FAILURE", "OUT_OF_BOUNDS_NO_POE", "NOT_YET_VALID"):
            with self._lock:
                self._cache[key] = (outcome, now + ttl)
                while len(self._cache) > self.cache_entries:
                    self._cache.popitem(last=False)
        return outcome

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def revoked_answer_times(self, cert: x509.Certificate,
                             embedded_ocsp: list[ocsp.OCSPResponse]) -> list[dt.datetime]:
        """``thisUpdate`` of each OCSP answer at hand (embedded, cached) saying ``cert`` was
        revoked: moments at which a validation can hear that answer while it is fresh (a
        ``certificateHold`` answer speaks for no later time). Unverified: only a
        :meth:`validate` at such a moment checks the answer's signature."""
        cached = self.revocation.get_ocsp(_ocsp_key_for(cert))
        times = set()
        for response in [*embedded_ocsp, *([cached] if cached is not None else [])]:
            try:
                singles = response.basic_ocsp_response["tbs_response_data"]["responses"]
                times.update(single["this_update"].native for single in singles
                             if single["cert_id"]["serial_number"].native == cert.serial_number
                             and single["cert_status"].name == "revoked")
            except (KeyError, TypeError, ValueError):
                continue
        return sorted(times)

    async def _validate(self, cert: x509.Certificate, moment: dt.datetime,
                        other_certs: list[x509.Certificate],
                        embedded_ocsp: list[ocsp.OCSPResponse],
                        embedded_crl: list[crl.CertificateList], purpose: str) -> ChainOutcome:
        sources = RevinfoSources()
        fetchers = make_fetchers(self.revocation, embedded_ocsp=embedded_ocsp,
                                 embedded_crl=embedded_crl, network=self.fetch,
                                 timeout=self.fetch_timeout, max_crl_bytes=self.max_crl_bytes,
                                 sources=sources)
        policy = CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED),
            retroactive_revinfo=True)
        context = ValidationContext(
            trust_roots=self.trust.roots, other_certs=[*self.trust.intermediates, *other_certs],
            moment=moment, allow_fetching=True, fetchers=fetchers, revinfo_policy=policy,
            ocsps=embedded_ocsp, crls=embedded_crl, time_tolerance=dt.timedelta(seconds=5),
            signature_validator=GOST_SIGNATURE_VALIDATOR)
        declared = bool(cert.ocsp_urls or cert.crl_distribution_points)
        validator = CertificateValidator(cert, validation_context=context)
        try:
            path = await validator.async_validate_path()
        except RevokedError as exc:
            return ChainOutcome("REVOKED_NO_POE" if exc.is_ee_cert else "REVOKED_CA_NO_POE",
                                exc.failure_msg, revoked_at=exc.revocation_dt,
                                revocation_reason=exc.reason.native if exc.reason else None,
                                revinfo_source=sources.used.get(cert.serial_number, "none"))
        except ExpiredError as exc:
            if exc.is_ee_cert:
                return ChainOutcome("OUT_OF_BOUNDS_NO_POE", exc.failure_msg,
                                    expired_at=exc.expired_dt)
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
            return ChainOutcome("CHAIN_CONSTRAINTS_FAILURE", usage_problem, path=names,
                                revinfo_source=source, revocation_declared=declared)
        return ChainOutcome(None, path=names, revinfo_source=source,
                            revocation_declared=declared)


def _run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine on this thread's own event loop (created once, closed with the
    thread: see ``signing._aio``)."""
    from signing import _aio

    return _aio.run(coro)


def _usage_problem(cert: x509.Certificate, purpose: str) -> str:
    usage = set(cert.key_usage_value.native) if cert.key_usage_value is not None else set()
    eku = set(cert.extended_key_usage_value.native) if cert.extended_key_usage_value else set()
    if purpose == "timestamping":
        if "time_stamping" not in eku:
            return "TSA certificate lacks the timeStamping extended key usage"
        return ""
    if usage and not usage & SIGNING_KEY_USAGES:
        return "key usage " + ", ".join(sorted(usage)) + " does not allow signing"
    return ""
