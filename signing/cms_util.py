"""CMS plumbing shared by PAdES, CAdES and the external-signer path.

NCALayer returns CMS as PEM (``basics.sign``) or Base64 DER (``commonUtils``); files on
disk are DER. Everything that accepts a CMS goes through :func:`load_cms`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from asn1crypto import cms, core, crl, ocsp, pem, tsp, x509
from pyhanko.sign.timestamps.api import TimeStamper

from signing.errors import SignatureValueError

#: CAdES id-aa-ets-revocationValues (RFC 5126 6.3.4): OCSP/CRL evidence in a CMS.
REVOCATION_VALUES_OID = "1.2.840.113549.1.9.16.2.24"


class _CertificateLists(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _child_spec = crl.CertificateList


class _BasicOcspResponses(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _child_spec = ocsp.BasicOCSPResponse


class RevocationValues(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    """RFC 5126 RevocationValues, the one definition signing and verification share."""

    _fields = [  # noqa: RUF012  (asn1crypto reads this class attribute)
        ("crl_vals", _CertificateLists, {"explicit": 0, "optional": True}),
        ("ocsp_vals", _BasicOcspResponses, {"explicit": 1, "optional": True}),
        ("other_rev_vals", core.Any, {"explicit": 2, "optional": True}),
    ]


def register() -> None:
    """Teach asn1crypto the revocation-values attribute, so every parser of these CMS
    (pyHanko's too) reads it the same way; :func:`signing.patches.apply` calls it."""
    cms.CMSAttributeType._map.setdefault(REVOCATION_VALUES_OID, "revocation_values")
    cms.CMSAttribute._oid_specs.setdefault(
        "revocation_values",
        cms.SetOf.__class__("RevocationValuesSet", (cms.SetOf,), {"_child_spec": RevocationValues}),
    )


def der_bytes(data: bytes | str, what: str = "CMS") -> bytes:
    """DER from DER, PEM or Base64 (with or without line breaks): NCALayer sends all three."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    stripped = raw.strip()
    if raw[:1] == b"\x30":
        return raw  # DER: never strip, its last bytes may look like white space
    try:
        if pem.detect(stripped):
            der: bytes = pem.unarmor(stripped)[2]
            return der
        return base64.b64decode(b"".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureValueError(f"not DER, PEM or Base64 {what}") from None


def load_certificate(data: bytes | str) -> x509.Certificate:
    """An X.509 certificate from DER, PEM or Base64, fully parsed (garbage fails here)."""
    try:
        cert = x509.Certificate.load(der_bytes(data, "certificate"))
        cert.native  # noqa: B018  (full parse)
    except (ValueError, TypeError, KeyError):
        raise SignatureValueError("not a certificate") from None
    return cert


def load_cms(data: bytes | str) -> cms.SignedData:
    """SignedData from DER, PEM or Base64 (with or without line breaks)."""
    der = der_bytes(data, "CMS")
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise SignatureValueError("CMS is not SignedData")
        signed = info["content"]
        signed.native  # noqa: B018  (full parse: a truncated CMS fails here, not later)
    except (ValueError, TypeError, KeyError):
        raise SignatureValueError("CMS cannot be parsed") from None
    return signed


def content_info(signed: cms.SignedData) -> cms.ContentInfo:
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


def copy_signed(signed: cms.SignedData) -> cms.SignedData:
    """A deep, independently editable copy (via the DER of its ContentInfo)."""
    copy: cms.SignedData = cms.ContentInfo.load(content_info(signed).dump())["content"]
    return copy


def to_der(signed: cms.SignedData) -> bytes:
    der: bytes = content_info(signed).dump()
    return der


def to_base64(signed: cms.SignedData) -> str:
    return base64.b64encode(to_der(signed)).decode("ascii")


def to_pem(signed: cms.SignedData) -> bytes:
    armored: bytes = pem.armor("CMS", to_der(signed))
    return armored


def signed_attribute(info: cms.SignerInfo, name: str) -> core.Asn1Value | None:
    for attr in info["signed_attrs"]:
        if attr["type"].native == name:
            return attr["values"][0]
    return None


def signer_info_digest(info: cms.SignerInfo) -> bytes | None:
    """The messageDigest signed attribute (what the signer claims to have hashed)."""
    value = signed_attribute(info, "message_digest")
    return value.native if value is not None else None


def unsigned_attributes(info: cms.SignerInfo) -> list[cms.CMSAttribute]:
    attrs = info["unsigned_attrs"]
    return [] if isinstance(attrs, core.Void) else list(attrs)


def add_unsigned_attribute(info: cms.SignerInfo, attr_type: str, value: object) -> None:
    """Append an unsigned attribute in place (unsigned: the signature stays valid)."""
    existing = unsigned_attributes(info)
    existing.append(cms.CMSAttribute({"type": attr_type, "values": [value]}))
    info["unsigned_attrs"] = cms.CMSAttributes(existing)


async def with_signature_timestamp(
    content: cms.ContentInfo, timestamper: TimeStamper
) -> cms.ContentInfo:
    """Add an RFC 3161 signature time-stamp (over each signature value) to every SignerInfo
    that has none yet; returns a new ContentInfo."""
    signed = cms.ContentInfo.load(content.dump())["content"]
    for info in signed["signer_infos"]:
        present = any(
            a["type"].native == "signature_time_stamp_token" for a in unsigned_attributes(info)
        )
        if present:
            continue
        digest = hashlib.sha256(info["signature"].native).digest()
        token = await timestamper.async_timestamp(digest, "sha256")
        add_unsigned_attribute(info, "signature_time_stamp_token", token)
    return content_info(signed)


def timestamp_info(info: cms.SignerInfo) -> tsp.TSTInfo | None:
    """The TSTInfo of a SignerInfo's signature time-stamp, if any."""
    for attr in unsigned_attributes(info):
        if attr["type"].native == "signature_time_stamp_token":
            token = attr["values"][0]
            return token["content"]["encap_content_info"]["content"].parsed
    return None
