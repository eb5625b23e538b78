"""The test PKI's per-case variant: certificates made on the spot for cases the test PKI
has no user for.

Why: the test PKI holds one user per route official; the concepts under test (roles, key
usage, subject fields, a key without a subject key identifier) need one certificate per
case. They are issued by a throw-away CA with ``cryptography``, an implementation other
than the asn1crypto code that reads them (and than certomancer, which builds the rest).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC)


_KEYS: dict[int, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] = {}


@cache
def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Name]:
    key = ec.generate_private_key(ec.SECP256R1())
    return key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Сынақ ҰКО")])


@cache
def ca_certificate() -> asn1_x509.Certificate:
    """The throw-away CA, self-signed: a trust anchor for what :func:`make_cert` issues."""
    key, name = _ca()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=2))
        .not_valid_after(NOW + dt.timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@cache
def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_of(cert: asn1_x509.Certificate) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """The private key of a certificate :func:`make_cert` issued."""
    return _KEYS[cert.serial_number]


def make_cert(
    *,
    ekus: tuple[str, ...] = (),
    key_usage: set[str] | None = None,
    subject: list[tuple[x509.ObjectIdentifier, str]] | None = None,
    use_rsa: bool = False,
) -> asn1_x509.Certificate:
    """A leaf certificate with the given EKU OIDs (``email``, ``client_auth`` or dotted),
    key usage flags (``cryptography``'s names: ``content_commitment`` = nonRepudiation)
    and subject; an EC key unless ``use_rsa`` (RSA is what the signing side accepts)."""
    ca_key, ca_name = _ca()
    attrs = (
        subject
        if subject is not None
        else [
            (NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"),
            (NameOID.SURNAME, "ТЕСТОВ"),
            (NameOID.SERIAL_NUMBER, "IIN123456789011"),
            (NameOID.COUNTRY_NAME, "KZ"),
            (NameOID.GIVEN_NAME, "ТЕСТОВИЧ"),
        ]
    )
    leaf_key = _rsa_key() if use_rsa else ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(o, v) for o, v in attrs]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
    )
    if ekus:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [
                    ExtendedKeyUsageOID.EMAIL_PROTECTION
                    if o == "email"
                    else ExtendedKeyUsageOID.CLIENT_AUTH
                    if o == "client_auth"
                    else x509.ObjectIdentifier(o)
                    for o in ekus
                ]
            ),
            critical=False,
        )
    if key_usage is not None:
        flags = {
            name: name in key_usage
            for name in (
                "digital_signature",
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "key_cert_sign",
                "crl_sign",
            )
        }
        builder = builder.add_extension(
            x509.KeyUsage(**flags, encipher_only=False, decipher_only=False), critical=True
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    _KEYS[cert.serial_number] = leaf_key
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
