"""Explicit trust: which roots, and the signer's status at signing time.

Never the system CA store: NCA RK roots are not in it, and a signature must only chain
to the roots the service is configured with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from asn1crypto import ocsp, x509
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

from signing.errors import CertificateRevokedError, CertificateUntrustedError
from signing.gost import validator as _gost_validator  # noqa: F401  (GOST-aware validator)
from signing.keys import load_certificates


class RevocationSource(Protocol):
    """Where signing gets revocation data and keeps signers' recent good status.

    The service passes ``docservice.verification.revocation.CachedRevocation`` (its one
    process-wide OCSP/CRL cache); the adapter itself knows no cache.
    """

    def fetchers(self) -> Fetchers: ...

    def good_status(self, key: tuple[object, ...]) -> bool: ...

    def put_good_status(self, key: tuple[object, ...]) -> None: ...


@dataclass(frozen=True)
class Trust:
    """Trust anchors and extra intermediates; revocation data is fetched over HTTP
    (through ``revocation`` when given: cached CRLs/OCSP and recent good statuses)."""

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    allow_fetching: bool = True
    revocation: RevocationSource | None = field(default=None, compare=False)

    @classmethod
    def from_files(cls, roots: Iterable[str | os.PathLike[str]],
                   intermediates: Iterable[str | os.PathLike[str]] = ()) -> Trust:
        return cls(tuple(c for p in roots for c in load_certificates(p)),
                   tuple(c for p in intermediates for c in load_certificates(p)))

    def validation_context(self, extra_certs: Sequence[x509.Certificate] = (),
                           **kwargs: object) -> ValidationContext:
        """A fresh context (it collects OCSP/CRL data, so one per signature)."""
        if self.revocation is not None:
            kwargs.pop("fetcher_backend", None)
            kwargs.setdefault("fetchers", self.revocation.fetchers())
        return ValidationContext(trust_roots=list(self.roots),
                                 other_certs=[*self.intermediates, *extra_certs],
                                 allow_fetching=self.allow_fetching,
                                 revocation_mode="hard-fail", **kwargs)


def _status_key(cert: x509.Certificate, chain: Sequence[x509.Certificate],
                trust: Trust) -> tuple[object, ...]:
    return (hashlib.sha256(cert.dump()).digest(),
            tuple(hashlib.sha256(c.dump()).digest() for c in chain),
            tuple(hashlib.sha256(c.dump()).digest() for c in (*trust.roots,
                                                               *trust.intermediates)))


async def check_status(cert: x509.Certificate, chain: Sequence[x509.Certificate],
                       trust: Trust, *, need_evidence: bool = True,
                       **kwargs: object) -> ValidationContext | None:
    """Validate ``cert`` now, OCSP/CRL included; return the context holding that evidence.

    ``kwargs`` go to :class:`ValidationContext` (e.g. the caller's ``fetcher_backend``).
    Without ``need_evidence`` (a B-B/B-T signature embeds no OCSP/CRL), a good status
    ``trust.revocation`` saw within its TTL is reused and None is returned; the
    certificate's own validity period is checked by the key at every signature anyway.
    """
    key = _status_key(cert, chain, trust) if trust.revocation is not None else None
    if key is not None and not need_evidence and trust.revocation.good_status(key):
        return None
    context = trust.validation_context(chain, **kwargs)
    validator = CertificateValidator(cert, intermediate_certs=list(chain),
                                     validation_context=context)
    try:
        await validator.async_validate_usage(set())
    except RevokedError:
        raise CertificateRevokedError() from None
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        raise CertificateUntrustedError(type(exc).__name__) from None
    if key is not None:
        trust.revocation.put_good_status(key)
    return context


def _signed_by(signer: x509.Certificate, tbs: bytes, algorithm: object, value: bytes) -> bool:
    try:
        DefaultSignatureValidator().validate_signature(value, tbs, signer.public_key,
                                                       algorithm)  # type: ignore[arg-type]
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def ocsp_revocation(cert: x509.Certificate, responses: Sequence[ocsp.OCSPResponse],
                    issuers: Sequence[x509.Certificate]) -> dt.datetime | None:
    """When a verified OCSP response says ``cert`` was revoked: its revocation time.

    A response counts only if it is about this certificate (serial and issuer name hash)
    and is signed by the issuer or by a responder certificate the issuer signed; RSA and
    GOST alike (NCA's responders sign with the CA's algorithm).
    """
    issuer = next((c for c in issuers if c.subject == cert.issuer), None)
    if issuer is None:
        return None
    for response in responses:
        try:
            basic = response["response_bytes"]["response"].parsed
            tbs = basic["tbs_response_data"]
            signer_candidates = [issuer, *(c for c in basic["certs"] or [])]
            signer = next(c for c in signer_candidates if _signed_by(
                c, tbs.dump(), basic["signature_algorithm"], basic["signature"].native))
            if signer is not issuer and not _signed_by(
                    issuer, signer["tbs_certificate"].dump(), signer["signature_algorithm"],
                    signer["signature_value"].native):
                continue
            for single in tbs["responses"]:
                cert_id = single["cert_id"]
                name_hash = hashlib.new(cert_id["hash_algorithm"]["algorithm"].native,
                                        cert.issuer.dump()).digest()
                if (cert_id["serial_number"].native == cert.serial_number
                        and cert_id["issuer_name_hash"].native == name_hash
                        and single["cert_status"].name == "revoked"):
                    return single["cert_status"].chosen["revocation_time"].native
        except (StopIteration, ValueError, TypeError, KeyError):
            continue
    return None
