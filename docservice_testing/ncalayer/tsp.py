"""RFC 3161 signature time-stamps: from a TSA over HTTP, or from the emulator's own test TSA
(like NCALayer's default TSA, needing no set-up)."""

from __future__ import annotations

import hashlib
import secrets

import aiohttp
from asn1crypto import cms, core, tsp, x509
from asn1crypto import keys as asn1_keys
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from docservice_testing.ncalayer.refusals import RefusedError
from docservice_testing.ncalayer.tls import self_signed
from signing.ncalayer import protocol as p


async def timestamp(
    content: cms.ContentInfo,
    signature: bytes,
    tsa_url: str | None,
    own: TimeStamper,
    timeout: float = 10.0,
) -> cms.ContentInfo:
    """Add an RFC 3161 signature time-stamp to the SignerInfo whose value is ``signature``
    (not "the last": a DER SET OF is sorted, so a new signer may come back first), from
    ``tsa_url`` if given, else from ``own`` (NCALayer's default TSA)."""
    signed = cms.ContentInfo.load(content.dump())["content"]
    info = next(i for i in signed["signer_infos"] if i["signature"].native == signature)
    imprint = hashlib.sha256(signature).digest()
    token = (
        await _http_token(imprint, tsa_url, timeout)
        if tsa_url
        else await own.async_timestamp(imprint, "sha256")
    )
    attrs = [] if isinstance(info["unsigned_attrs"], core.Void) else list(info["unsigned_attrs"])
    attrs.append(cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]}))
    info["unsigned_attrs"] = cms.CMSAttributes(attrs)
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


async def _http_token(imprint: bytes, tsa_url: str, timeout: float) -> cms.ContentInfo:
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": imprint,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    headers = {"Content-Type": "application/timestamp-query"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
        http.post(tsa_url, data=request.dump(), headers=headers) as resp,
    ):
        if resp.status != 200:
            raise RefusedError(
                p.BasicsCode.SIGNING_FAILURE, "TSP request failed", f"HTTP {resp.status}"
            )
        body = await resp.read()
    reply = tsp.TimeStampResp.load(body)
    if reply["status"]["status"].native not in ("granted", "granted_with_mods"):
        raise RefusedError(p.BasicsCode.SIGNING_FAILURE, "TSP request refused")
    token = reply["time_stamp_token"]
    tst = token["content"]["encap_content_info"]["content"].parsed
    if tst["nonce"].native != nonce:
        raise RefusedError(p.BasicsCode.SIGNING_FAILURE, "TSP nonce mismatch")
    return token


def make_test_tsa() -> DummyTimeStamper:
    """A time-stamping authority of the emulator's own: self-signed RSA certificate with
    the critical timeStamping EKU (RFC 3161 2.3), valid one day, signing in process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = pyca_x509.Name(
        [
            pyca_x509.NameAttribute(NameOID.COMMON_NAME, "NCALayer emulator test TSA"),
            pyca_x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        ]
    )
    cert = (
        self_signed(name, key.public_key())
        .add_extension(
            pyca_x509.ExtendedKeyUsage([pyca_x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DummyTimeStamper(
        tsa_cert=x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der_key),
    )
