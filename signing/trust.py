"""Explicit trust: which roots, and the signer's status at signing time.

Never the system CA store: NCA RK roots are not in it, and a signature must only chain
to the roots the service is configured with.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asn1crypto import x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

from signing.errors import CertificateRevokedError, CertificateUntrustedError
from signing.keys import load_certificates


@dataclass(frozen=True)
class Trust:
    """Trust anchors and extra intermediates; revocation data is fetched over HTTP."""

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    allow_fetching: bool = True

    @classmethod
    def from_files(cls, roots: Iterable[str | os.PathLike[str]],
                   intermediates: Iterable[str | os.PathLike[str]] = ()) -> Trust:
        return cls(tuple(c for p in roots for c in load_certificates(p)),
                   tuple(c for p in intermediates for c in load_certificates(p)))

    def validation_context(self, extra_certs: Sequence[x509.Certificate] = (),
                           **kwargs: object) -> ValidationContext:
        """A fresh context (it collects OCSP/CRL data, so one per signature)."""
        return ValidationContext(trust_roots=list(self.roots),
                                 other_certs=[*self.intermediates, *extra_certs],
                                 allow_fetching=self.allow_fetching,
                                 revocation_mode="hard-fail", **kwargs)


async def check_status(cert: x509.Certificate, chain: Sequence[x509.Certificate],
                       trust: Trust, **kwargs: object) -> ValidationContext:
    """Validate ``cert`` now, OCSP/CRL included; return the context holding that evidence.

    ``kwargs`` go to :class:`ValidationContext` (e.g. the caller's ``fetcher_backend``).
    """
    context = trust.validation_context(chain, **kwargs)
    validator = CertificateValidator(cert, intermediate_certs=list(chain),
                                     validation_context=context)
    try:
        await validator.async_validate_usage(set())
    except RevokedError:
        raise CertificateRevokedError() from None
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        raise CertificateUntrustedError(type(exc).__name__) from None
    return context
