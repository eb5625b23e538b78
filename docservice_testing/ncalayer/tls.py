"""The emulator's TLS: a fresh self-signed loopback certificate, like NCALayer's own."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID


def self_signed(
    name: pyca_x509.Name, public_key: CertificatePublicKeyTypes
) -> pyca_x509.CertificateBuilder:
    """A builder for a self-signed certificate of the emulator's, valid for one day (from
    five minutes ago, for clocks slightly apart); the caller adds extensions and signs."""
    now = dt.datetime.now(dt.UTC)
    return (
        pyca_x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(pyca_x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def make_tls_certificate(directory: Path) -> tuple[Path, Path]:
    """A fresh self-signed ``127.0.0.1``/``localhost`` certificate and key (P-256, 1 day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = pyca_x509.Name([pyca_x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        self_signed(name, key.public_key())
        .add_extension(
            pyca_x509.SubjectAlternativeName(
                [
                    pyca_x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    pyca_x509.IPAddress(ipaddress.ip_address("::1")),
                    pyca_x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(pyca_x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            pyca_x509.ExtendedKeyUsage([pyca_x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "ncalayer-tls.pem", directory / "ncalayer-tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path
