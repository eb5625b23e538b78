"""pyHanko's signature-mechanism hook for GOST, for every validator pyHanko builds.

``pyhanko_certvalidator`` checks certificate, CRL and OCSP signatures, and pyHanko checks
CMS signer infos and PDF signatures, through a ``SignatureValidator``. Passing our own one
is not enough: pyhanko-certvalidator builds fresh validation contexts with the default
validator in places (e.g. for an OCSP responder with id-pkix-ocsp-nocheck, as NCA's have).
So the default validator itself learns GOST (:func:`install`, called by
:func:`signing.patches.apply` at start-up): Kazakh GOST signatures
are checked with :mod:`signing.gost`, every other algorithm exactly as before. RSA and GOST
signers, chains and revocation data can then be mixed freely.
"""

from __future__ import annotations

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

import signing.gost as gost

#: digest names as asn1crypto knows them after :mod:`signing.gost.asn1` -> OIDs
_DIGEST_OIDS = gost.HASH_OIDS


def is_gost_signature(
    public_key_info: keys.PublicKeyInfo, signature_algorithm: algos.SignedDigestAlgorithm
) -> bool:
    return gost.is_gost(signature_algorithm["algorithm"].dotted) or gost.is_gost(
        public_key_info["algorithm"]["algorithm"].dotted
    )


def verify_gost(
    signature: bytes,
    signed_data: bytes,
    public_key_info: keys.PublicKeyInfo,
    signature_algorithm: algos.SignedDigestAlgorithm,
    context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
) -> None:
    """Raise ``InvalidSignature`` unless ``signature`` is a valid GOST signature."""
    oid = signature_algorithm["algorithm"].dotted
    try:
        key = gost.parse_public_key(public_key_info.dump())
        # CMS signer infos may name the key algorithm where a signature algorithm belongs
        hash_oid = gost.hash_for(oid if gost.is_gost(oid) else key.algorithm)
    except gost.GostError as exc:
        raise InvalidSignature(str(exc)) from None
    contextual = _DIGEST_OIDS.get(context.contextual_md_algorithm or "")
    if contextual is not None and contextual != hash_oid:
        raise InvalidSignature("digest algorithm does not match the GOST signature")
    if hash_oid != gost.hash_for(key.algorithm):
        raise InvalidSignature("signature algorithm does not match the GOST key")
    digest = signed_data if context.prehashed else gost.digest(hash_oid, signed_data)
    if not gost.verify_digest(key, digest, signature):
        raise InvalidSignature("GOST signature does not verify")


def install() -> None:
    """Make pyhanko-certvalidator's default validator GOST-aware (idempotent)."""
    original = DefaultSignatureValidator.validate_signature
    if getattr(original, "_gost_aware", False):
        return

    def validate_signature(
        self: DefaultSignatureValidator,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        if is_gost_signature(public_key_info, signature_algorithm):
            verify_gost(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        original(self, signature, signed_data, public_key_info, signature_algorithm, context)

    validate_signature._gost_aware = True  # type: ignore[attr-defined]
    DefaultSignatureValidator.validate_signature = validate_signature  # type: ignore[method-assign]


#: A validator to pass explicitly where pyHanko takes one (the default is GOST-aware too).
GOST_SIGNATURE_VALIDATOR = DefaultSignatureValidator()
