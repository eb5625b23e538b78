"""May this certificate make a document signature? One answer for signing and verification.

The rule, and why:

1. **When KeyUsage is present it must assert digitalSignature or nonRepudiation.** RFC 5280
   section 4.2.1.3 names these two bits as the ones that allow signatures other than on
   certificates and CRLs; nonRepudiation alone is how a content-commitment key is marked
   (ETSI EN 319 412-2 section 4.3.2), so it suffices. keyEncipherment alone does not.
2. **An absent KeyUsage does not restrict the key** (RFC 5280: the extension, when present,
   *limits* the purposes; without it there is no limit). NCA RK does issue such
   certificates: the certificate of its own test TSA (``nca-test/tsp_token.bin``) has none,
   and its tokens are signatures that must verify. Signing used to refuse them while
   verification accepted them; both accept now, since refusing would fail NCA's own
   material. NCA's signing keys always carry the extension (digitalSignature +
   nonRepudiation, critical), so for them nothing changes.
3. **An extended key usage limited to authentication is not a signing key.** RFC 5280
   section 4.2.1.12: when the extension is present the key "MUST only be used for one of
   the purposes indicated". NCA RK marks signing keys with emailProtection and
   authentication keys with clientAuth (NCALayer picks signing keys by emailProtection); a
   certificate whose purposes are clientAuth/serverAuth and nothing that covers signing is
   an authentication key even when it asserts digitalSignature (NCA's do). NCA's role and
   identification OIDs in the same extension are no purpose of their own, and other
   purposes (timeStamping for a TSA's token) are left as they are.
"""

from __future__ import annotations

from enum import StrEnum

from asn1crypto import x509

#: KeyUsage bits that allow a signature over data (asn1crypto's names).
SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})
#: Extended key usages that cover document signatures: emailProtection (NCA RK, S/MIME),
#: documentSigning (RFC 9336), Microsoft and Adobe document signing, anyExtendedKeyUsage.
SIGNING_PURPOSES = frozenset(
    {
        "1.3.6.1.5.5.7.3.4",
        "1.3.6.1.5.5.7.3.36",
        "1.3.6.1.4.1.311.10.3.12",
        "1.2.840.113583.1.1.5",
        "2.5.29.37.0",
    }
)
#: Extended key usages that make a key an authentication key: clientAuth, serverAuth.
AUTHENTICATION_PURPOSES = frozenset({"1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"})


class Usage(StrEnum):
    """The answer, with the reason when it is "no"."""

    MAY_SIGN = "may_sign"
    NO_SIGNING_BIT = "no_signing_bit"  # neither digitalSignature nor nonRepudiation
    AUTHENTICATION_ONLY = "authentication_only"  # EKU restricts the key to authentication

    @property
    def allowed(self) -> bool:
        return self is Usage.MAY_SIGN

    @property
    def authentication_key(self) -> bool:
        """The certificate is for authentication (what an official is told)."""
        return self in (Usage.NO_SIGNING_BIT, Usage.AUTHENTICATION_ONLY)


def signing_usage(cert: x509.Certificate) -> Usage:
    """Whether ``cert`` may sign documents (see the module's rule)."""
    usage = cert.key_usage_value
    if usage is not None and not set(usage.native) & SIGNING_KEY_USAGES:
        return Usage.NO_SIGNING_BIT
    eku = cert.extended_key_usage_value
    if eku is not None:
        purposes = {p.dotted for p in eku}
        if purposes & AUTHENTICATION_PURPOSES and not purposes & SIGNING_PURPOSES:
            return Usage.AUTHENTICATION_ONLY
    return Usage.MAY_SIGN


def describe(cert: x509.Certificate, usage: Usage) -> str:
    """A one-line technical reason for a refusal (logs, reports' detail)."""
    ku = sorted(cert.key_usage_value.native) if cert.key_usage_value is not None else []
    eku = sorted(p.native for p in cert.extended_key_usage_value or [])
    return {
        Usage.MAY_SIGN: "",
        Usage.NO_SIGNING_BIT: f"key usage {', '.join(ku)} does not allow signing",
        Usage.AUTHENTICATION_ONLY: f"extended key usage {', '.join(eku)} is for "
        "authentication only",
    }[usage]
