"""Certificates made on the spot for cases the test PKI has no user for.

Why: the test PKI holds one user per route official; the concepts under test (roles, key
usage, subject fields) need one certificate per case. They are issued by a throw-away CA
with ``cryptography``, an implementation other than the asn1crypto code that reads them.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC)


@cache
def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Name]:
    key = ec.generate_private_key(ec.SECP256R1())
    return key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Сынақ ҰКО")])


def make_cert(*, ekus: tuple[str, ...] = (), key_usage: set[str] | None = None,
              subject: list[tuple[x509.ObjectIdentifier, str]] | None = None
              ) -> asn1_x509.Certificate:
    """A leaf certificate with the given EKU OIDs, key usage flags and subject."""
    ca_key, ca_name = _ca()
    attrs = subject if subject is not None else [
        (NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"), (NameOID.SURNAME, "ТЕСТОВ"),
        (NameOID.SERIAL_NUMBER, "IIN123456789011"), (NameOID.COUNTRY_NAME, "KZ"),
        (NameOID.GIVEN_NAME, "ТЕСТОВИЧ")]
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(o, v) for o, v in attrs]))
               .issuer_name(ca_name)
               .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW - dt.timedelta(days=1))
               .not_valid_after(NOW + dt.timedelta(days=365)))
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.EMAIL_PROTECTION if o == "email" else
             ExtendedKeyUsageOID.CLIENT_AUTH if o == "client_auth" else
             x509.ObjectIdentifier(o) for o in ekus]), critical=False)
    if key_usage is not None:
        flags = {name: name in key_usage for name in (
            "digital_signature", "content_commitment", "key_encipherment",
            "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")}
        builder = builder.add_extension(x509.KeyUsage(**flags, encipher_only=False,
                                                      decipher_only=False), critical=True)
    cert = builder.sign(ca_key, hashes.SHA256())
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
