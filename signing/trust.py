"""The signer's status at signing time, against the operator's trust anchors.

The anchors themselves (one type, one trust folder) are
:class:`docservice.pki.anchors.TrustAnchors`, which verification uses as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from asn1crypto import algos, ocsp, x509
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

from docservice.pki.anchors import TrustAnchors
from signing.errors import CertificateRevokedError, CertificateUntrustedError


def _status_key(
    cert: x509.Certificate, chain: Sequence[x509.Certificate], trust: TrustAnchors
) -> tuple[object, ...]:
    return (
        hashlib.sha256(cert.dump()).digest(),
        tuple(hashlib.sha256(c.dump()).digest() for c in chain),
        trust.id,
    )


async def check_status(
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    trust: TrustAnchors,
    *,
    need_evidence: bool = True,
    **kwargs: object,
) -> ValidationContext | None:
    """Validate ``cert`` now, OCSP/CRL included; return the context holding that evidence.

    ``kwargs`` go to :class:`ValidationContext` (e.g. the caller's ``fetcher_backend``).
    Without ``need_evidence`` (a B-B/B-T signature embeds no OCSP/CRL), a good status
    ``trust.revocation`` saw within its TTL is reused and None is returned; the
    certificate's own validity period is checked by the key at every signature anyway.
    """
    revocation = trust.revocation
    key = _status_key(cert, chain, trust) if revocation is not None else None
    if (
        revocation is not None
        and key is not None
        and not need_evidence
        and revocation.good_status(key)
    ):
        return None
    context = trust.validation_context(chain, **kwargs)
    validator = CertificateValidator(
        cert, intermediate_certs=list(chain), validation_context=context
    )
    try:
        await validator.async_validate_usage(set())
    except RevokedError:
        raise CertificateRevokedError() from None
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        raise CertificateUntrustedError(type(exc).__name__) from None
    if revocation is not None and key is not None:
        revocation.put_good_status(key)
    return context


def _signed_by(
    signer: x509.Certificate, tbs: bytes, algorithm: algos.SignedDigestAlgorithm, value: bytes
) -> bool:
    try:
        DefaultSignatureValidator().validate_signature(value, tbs, signer.public_key, algorithm)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def ocsp_revocation(
    cert: x509.Certificate,
    responses: Sequence[ocsp.OCSPResponse],
    issuers: Sequence[x509.Certificate],
) -> dt.datetime | None:
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
            signer = next(
                c
                for c in signer_candidates
                if _signed_by(
                    c, tbs.dump(), basic["signature_algorithm"], basic["signature"].native
                )
            )
            if signer is not issuer and not _signed_by(
                issuer,
                signer["tbs_certificate"].dump(),
                signer["signature_algorithm"],
                signer["signature_value"].native,
            ):
                continue
            for single in tbs["responses"]:
                cert_id = single["cert_id"]
                name_hash = hashlib.new(
                    cert_id["hash_algorithm"]["algorithm"].native, cert.issuer.dump()
                ).digest()
                if (
                    cert_id["serial_number"].native == cert.serial_number
                    and cert_id["issuer_name_hash"].native == name_hash
                    and single["cert_status"].name == "revoked"
                ):
                    revoked: dt.datetime = single["cert_status"].chosen["revocation_time"].native
                    return revoked
        except (StopIteration, ValueError, TypeError, KeyError):
            continue
    return None
