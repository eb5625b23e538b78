"""CMS SignedData (CAdES-B) with a Kazakh GOST key, over a digest computed by the caller.

pyHanko builds its CMS through ``cryptography``'s hashes, which have no Streebog, so GOST
signer infos are built here with asn1crypto, as Kalkan/NCALayer make them: digest algorithm
Streebog (or GOST 34.311-95), signature algorithm the GOST signature OID, signed attributes
content-type, signing-time, message-digest and signing-certificate-v2 (ESSCertIDv2 with
SHA-256, which every CAdES validator can check). The signature is over the DER SET of the
signed attributes (RFC 5652 section 5.4).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Protocol

from asn1crypto import algos, cms, core, tsp, x509

import signing.gost as gost


class GostSigningKey(Protocol):
    """What this module needs of a key (``signing.keys.GostPrivateKey``)."""

    signature_oid: str
    hash_oid: str

    def sign(self, data: bytes) -> bytes: ...


def _signing_certificate_v2(cert: x509.Certificate) -> tsp.SigningCertificateV2:
    return tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "cert_hash": hashlib.sha256(cert.dump()).digest(),
                    "issuer_serial": {
                        "issuer": [x509.GeneralName(name="directory_name", value=cert.issuer)],
                        "serial_number": cert.serial_number,
                    },
                }
            ]
        }
    )


def signed_attributes(
    digest: bytes, cert: x509.Certificate, signing_time: dt.datetime, content_type: str = "data"
) -> cms.CMSAttributes:
    return cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": [content_type]}),
            cms.CMSAttribute(
                {
                    "type": "signing_time",
                    "values": [
                        cms.Time(
                            name="utc_time",
                            value=signing_time.astimezone(dt.UTC).replace(microsecond=0),
                        )
                    ],
                }
            ),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute(
                {"type": "signing_certificate_v2", "values": [_signing_certificate_v2(cert)]}
            ),
        ]
    )


def signer_info(
    key: GostSigningKey,
    cert: x509.Certificate,
    digest: bytes,
    signing_time: dt.datetime,
    content_type: str = "data",
) -> cms.SignerInfo:
    attrs = signed_attributes(digest, cert, signing_time, content_type)
    value = key.sign(attrs.dump())  # a CMSAttributes dumps as the universal SET it signs
    return cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": cert.issuer, "serial_number": cert.serial_number},
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": key.hash_oid}),
            "signed_attrs": attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": key.signature_oid}),
            "signature": value,
        }
    )


def sign_digest(
    key: GostSigningKey,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    digest: bytes,
    *,
    signing_time: dt.datetime | None = None,
    content: bytes | None = None,
    content_type: str = "data",
) -> cms.ContentInfo:
    """A SignedData with one GOST signer over ``digest`` (of ``content`` when attached);
    ``content_type`` "tst_info" makes a time-stamp token (RFC 3161)."""
    if len(digest) != len(gost.digest(key.hash_oid, b"")):
        raise ValueError("the digest does not have the size of the key's hash")
    info = signer_info(key, cert, digest, signing_time or dt.datetime.now(dt.UTC), content_type)
    encap: dict[str, object] = {"content_type": content_type}
    if content is not None:
        encap["content"] = core.ParsableOctetString(content)
    return cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": "v3" if content_type != "data" else "v1",
                    "digest_algorithms": [algos.DigestAlgorithm({"algorithm": key.hash_oid})],
                    "encap_content_info": encap,
                    "certificates": [
                        cms.CertificateChoices(name="certificate", value=c) for c in [cert, *chain]
                    ],
                    "signer_infos": [info],
                }
            ),
        }
    )


def sign_data(
    key: GostSigningKey,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    data: bytes,
    *,
    detached: bool = True,
    signing_time: dt.datetime | None = None,
) -> cms.ContentInfo:
    """A CAdES-B SignedData over ``data`` (detached by default, as NCALayer makes them)."""
    return sign_digest(
        key,
        cert,
        chain,
        gost.digest(key.hash_oid, data),
        signing_time=signing_time,
        content=None if detached else data,
    )
