"""NCA RK's real test material (../shared/nca-test) loaded for the GOST tests."""

from __future__ import annotations

from functools import cache

import pytest
from asn1crypto import pem, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_der_public_key

import signing.gost as gost
from signing import _pkcs12
from tests.conftest import SHARED

NCA = SHARED / "nca-test"
PASSWORDS = {
    "gost2015_individual_Aa123456.p12": "Aa123456",
    "gost2015_ceo_revoked_Aa123456.p12": "Aa123456",
    "rsa2004_individual_Qwerty12.p12": "Qwerty12",
    "rsa2004_individual_sign_revoked_Qwerty12.p12": "Qwerty12",
}


def raw(name: str) -> bytes:
    path = NCA / name
    if not path.exists():
        pytest.fail(f"NCA test material missing: {path} (set DOCSERVICE_SHARED)")
    data = path.read_bytes()
    return pem.unarmor(data)[2] if pem.detect(data) else data


@cache
def cert(name: str) -> x509.Certificate:
    """A certificate file, or the certificate inside one of the test containers."""
    if name.endswith(".p12"):
        _key, certs = _pkcs12.read_container(raw(name), PASSWORDS[name])
        return x509.Certificate.load(certs[0])
    return x509.Certificate.load(raw(name))


def signed_by(spki: x509.Certificate, algorithm: str, data: bytes, value: bytes) -> bool:
    """Does ``spki``'s key sign ``value`` over ``data``: GOST here, RSA by ``cryptography``."""
    info = spki["tbs_certificate"]["subject_public_key_info"]
    if gost.is_gost(algorithm):
        return gost.verify_spki(info.dump(), algorithm, data, value)
    assert algorithm == "1.2.840.113549.1.1.11", algorithm
    try:
        load_der_public_key(info.dump()).verify(
            value,
            data,
            padding.PKCS1v15(),  # type: ignore[union-attr,call-arg]
            hashes.SHA256(),
        )  # type: ignore[arg-type]
    except Exception:
        return False
    return True


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)
