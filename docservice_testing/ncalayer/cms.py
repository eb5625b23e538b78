"""CMS SignedData as NCALayer makes it: one new SignerInfo (RSA, or GOST as Kalkan makes it),
an existing CMS keeping its signers and certificates."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from asn1crypto import algos, cms, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from docservice_testing.ncalayer.keystore import EmulatorKey
from signing.gost import cms as gost_cms
from signing.keys import GostPrivateKey


def _signed_attrs(key: EmulatorKey, digest: bytes, when: dt.datetime) -> cms.CMSAttributes:
    """content-type, signing-time, message-digest and ESS signing-certificate-v2."""
    cert_hash = hashlib.sha256(key.certificate.dump()).digest()
    ess = {
        "certs": [
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "cert_hash": cert_hash,
                "issuer_serial": {
                    "issuer": [x509.GeneralName({"directory_name": key.certificate.issuer})],
                    "serial_number": key.certificate.serial_number,
                },
            }
        ]
    }
    return cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
        ]
    )


def signer_info(key: EmulatorKey, digest: bytes) -> cms.SignerInfo:
    """One SignerInfo by ``key`` over a SHA-256 ``digest`` (RSA PKCS#1 v1.5), or over the
    key's Streebog digest for a GOST key (as Kalkan makes it: :mod:`signing.gost.cms`)."""
    if isinstance(key.private_key, GostPrivateKey):
        return gost_cms.signer_info(
            key.private_key, key.certificate, digest, dt.datetime.now(dt.UTC)
        )
    attrs = _signed_attrs(key, digest, dt.datetime.now(dt.UTC).replace(microsecond=0))
    # The signature covers the attributes DER-encoded as a SET (tag 0x31), not [0].
    signature = key.private_key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    return cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": key.certificate.issuer,
                        "serial_number": key.certificate.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature": signature,
        }
    )


def build_cms(
    key: EmulatorKey,
    *,
    digest: bytes,
    content: bytes | None = None,
    existing: cms.SignedData | None = None,
) -> cms.ContentInfo:
    """SignedData with one new signer; ``existing`` keeps its signers and certificates."""
    certs: dict[bytes, x509.Certificate] = {}
    infos: list[cms.SignerInfo] = []
    if existing is not None:
        for choice in existing["certificates"]:
            certs.setdefault(choice.chosen.dump(), choice.chosen)
        infos.extend(cms.SignerInfo.load(i.dump()) for i in existing["signer_infos"])
    for cert in (key.certificate, *(c for c in key.chain if c.subject != c.issuer)):
        certs.setdefault(cert.dump(), cert)
    infos.append(signer_info(key, digest))
    encap: dict[str, Any] = {"content_type": "data"}
    if content is not None:
        encap["content"] = content
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": key.digest_name})],
            "encap_content_info": encap,
            "certificates": [cms.CertificateChoices({"certificate": c}) for c in certs.values()],
            "signer_infos": infos,
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


def existing_cms(data: bytes) -> cms.SignedData | None:
    """``data`` if it is a CMS SignedData (then a signer is added instead of a new CMS)."""
    if data[:1] != b"\x30":
        return None
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            return None
        signed = info["content"]
        signed.native  # noqa: B018  (full parse)
    except (ValueError, TypeError, KeyError):
        return None
    return signed
