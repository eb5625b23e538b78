"""A throw-away PKI for ``docservice demo``: a root, two officials, a CRL served locally.

Why here and not tests/pki: the demo runs from an installed package, so it builds what it
needs with ``cryptography`` alone. The certificates look like NCA RK's where the service
reads them (IIN in serialNumber, BIN in OU, organisation, the role OIDs in the extended
key usage, digitalSignature + nonRepudiation) and name a CRL on a loopback port that the
demo serves while it runs, so signing and verification check revocation for real.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

#: (file label, surname, given name, patronymic, IIN, organisation, BIN, role OID)
OFFICIALS = (
    ("official1", "ДЕМОВА", "АЙГҮЛ", "СЕРІКҚЫЗЫ", "850301300121",
     "«ДЕМО МАНСАП ОРТАЛЫҒЫ» КММ", "120340001230", "1.2.398.3.3.4.1.2.5"),
    ("official2", "ДЕМОВ", "ДӘУРЕН", "ҒАЛЫМҰЛЫ", "781122300344",
     "«ДЕМО ЕҢБЕК ҰТҚЫРЛЫҒЫ ОРТАЛЫҒЫ» КММ", "051140004562", "1.2.398.3.3.4.1.2.1"),
)
LEGAL_ENTITY = "1.2.398.3.3.4.1.2"


@dataclass(frozen=True)
class DemoPki:
    root_pem: Path
    p12: dict[str, Path]
    password_file: Path
    crl_url: str


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*pairs: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def build(folder: Path, crl_url: str, password: str) -> DemoPki:
    """Root, two officials (.p12 with ``password``) and the root's empty CRL in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key = _key()
    root_name = _name((NameOID.COUNTRY_NAME, "KZ"),
                      (NameOID.COMMON_NAME, "DOCSERVICE DEMO ROOT (RSA)"))
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()),
                           critical=False)
            .sign(root_key, hashes.SHA256()))
    root_pem = folder / "demo-root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root_name)
           .last_update(now).next_update(now + dt.timedelta(days=7))
           .add_extension(x509.CRLNumber(1), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
               root_key.public_key()), critical=False)
           .sign(root_key, hashes.SHA256()))
    (folder / "demo-root.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    password_file = folder / "password.txt"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    p12s = {}
    for label, surname, given, patronymic, iin, org, bin_, role in OFFICIALS:
        key = _key()
        subject = _name((NameOID.COMMON_NAME, f"{surname} {given}"),
                        (NameOID.SURNAME, surname), (NameOID.SERIAL_NUMBER, f"IIN{iin}"),
                        (NameOID.COUNTRY_NAME, "KZ"), (NameOID.ORGANIZATION_NAME, org),
                        (NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"),
                        (NameOID.GIVEN_NAME, patronymic))
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(root_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, True, False, False, False, False, False,
                                             False, False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([
                    ExtendedKeyUsageOID.EMAIL_PROTECTION, ObjectIdentifier(LEGAL_ENTITY),
                    ObjectIdentifier(role)]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    root_key.public_key()), critical=False)
                .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(crl_url)], None, None, None)]),
                    critical=False)
                .sign(root_key, hashes.SHA256()))
        data = pkcs12.serialize_key_and_certificates(
            label.encode(), key, cert, [root],
            serialization.BestAvailableEncryption(password.encode()))
        path = folder / f"{label}.p12"
        path.write_bytes(data)
        path.chmod(0o600)
        p12s[label] = path
    return DemoPki(root_pem, p12s, password_file, crl_url)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def serving_crl(folder: Path) -> Iterator[int]:
    """Serve ``folder`` (the CRL) on 127.0.0.1:<free port>; yields the port."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
