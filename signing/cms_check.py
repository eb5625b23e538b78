"""Checks of a CMS made elsewhere (NCALayer) before the service accepts or embeds it.

Why one module: the PDF completion (:func:`signing.pdf.async_finish_pdf`) and the
two-phase service (:mod:`signing.twophase`) must refuse exactly the same things. Comparing
a serial number and the messageDigest is not enough: the signature value is not covered
by either, so a forged value would be embedded and only fail at verification, and a
serial number alone is not unique across CAs. Here the signer is identified as RFC 5652
does (issuer + serial, or subject key identifier) and the signature value is verified
over the signed attributes with the expected certificate's public key.
"""

from __future__ import annotations

import logging

from asn1crypto import cms, x509
from pyhanko.sign.general import CMSExtractionError, CMSStructuralError
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

import signing.gost as gost
from docservice.identifiers import mask
from docservice.pki.person import person_of
from signing.errors import (
    DigestMismatchError,
    InvalidSignatureValueError,
    SignatureValueError,
    SignerCountError,
    SignerMismatchError,
)

log = logging.getLogger(__name__)

#: The prepared digests (PDF ByteRange, data digest) are SHA-256 for RSA signers ...
DIGEST_ALGORITHM = "sha256"


def digest_algorithm_for(cert: x509.Certificate) -> str:
    """... and the key's own hash (Streebog, GOST 34.311-95) for a GOST certificate."""
    key_oid = cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"]
    if gost.is_gost(key_oid.dotted):
        return gost.HASH_NAMES[gost.hash_for(key_oid.dotted)]
    return DIGEST_ALGORITHM


def identifies(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    """Whether a SignerIdentifier names ``cert`` (issuer + serial, or its SKI)."""
    if sid.name == "issuer_and_serial_number":
        ias = sid.chosen
        same: bool = (
            ias["serial_number"].native == cert.serial_number and ias["issuer"] == cert.issuer
        )
        return same
    if sid.name == "subject_key_identifier":
        ski = cert.key_identifier
        return ski is not None and sid.chosen.native == ski
    return False


def signer_certificate(signed: cms.SignedData, info: cms.SignerInfo) -> x509.Certificate:
    """The certificate in the CMS that the SignerInfo names."""
    for choice in signed["certificates"]:
        if choice.name == "certificate" and identifies(info["sid"], choice.chosen):
            return choice.chosen
    raise SignerMismatchError("the signer's certificate is not in the CMS")


def check_signer_info(info: cms.SignerInfo, cert: x509.Certificate, digest: bytes) -> None:
    """One SignerInfo: by ``cert``, over ``digest`` (SHA-256; GOST: the key's hash), valid.

    Raises a :class:`SignatureValueError` subclass naming what is wrong.
    """
    if not identifies(info["sid"], cert):
        raise SignerMismatchError("the SignerInfo names another certificate")
    if info["signed_attrs"].native is None:
        raise SignatureValueError("no signed attributes")
    expected = digest_algorithm_for(cert)
    if info["digest_algorithm"]["algorithm"].native != expected:
        raise DigestMismatchError(f"digest algorithm is not {expected}")
    try:
        intact, valid = validate_sig_integrity(info, cert, "data", digest)
    except (SignatureValidationError, CMSStructuralError, CMSExtractionError, ValueError) as exc:
        raise SignatureValueError(f"CMS rejected: {exc}") from None
    if not valid:
        raise InvalidSignatureValueError("signature value does not verify")
    if not intact:
        raise DigestMismatchError("CMS does not sign the prepared digest")
    ident = person_of(cert)
    # Masked identifiers only: logs never hold a full IIN or a name.
    log.info("external CMS accepted: iin=%s serial=%s", mask(ident.iin), ident.serial_hex)


def check_single_signer(
    signed: cms.SignedData, cert: x509.Certificate, digest: bytes
) -> cms.SignerInfo:
    """Exactly one SignerInfo that passes :func:`check_signer_info`; returns it.

    The CMS must also carry ``cert`` itself: a validator of the embedded PDF signature
    finds the signer's certificate only there.
    """
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise SignerCountError(f"expected one signer, got {len(infos)}")
    check_signer_info(infos[0], cert, digest)
    if signer_certificate(signed, infos[0]).dump() != cert.dump():
        raise SignerMismatchError("the CMS carries another certificate for its signer")
    return infos[0]
