"""The emulator's key store: test ``.p12`` containers and NCALayer's key selection.

Why separate from the service's :class:`signing.keys.Pkcs12Key`: NCALayer offers *every*
key the official has (expired, authentication-only, another organisation's...) and lets
``signerParams`` filter them; the service is the one that refuses. So containers are
opened here without the service's certificate checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

import signing.gost as gost
from docservice.pki.person import person_of
from signing import _pkcs12
from signing.cms_util import load_certificate
from signing.errors import SignatureValueError
from signing.keys import GostPrivateKey
from signing.ncalayer.protocol import EKU_AUTH, EKU_SIGN, KeyType, SignerParams


@dataclass(frozen=True)
class EmulatorKey:
    """One key pair with its certificate, as NCALayer lists it after opening a storage."""

    alias: str
    private_key: rsa.RSAPrivateKey | GostPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    storage: str = "PKCS12"
    #: Issued by NCA RK's production CA: offered without ``signerParams.chain`` (test-CA
    #: keys need ``chain: []``, as in NCALayer).
    production: bool = False
    #: Revoked (NCALayer learns it by OCSP): offered only with ``allowRevoked``.
    revoked: bool = False

    @classmethod
    def from_p12(
        cls,
        path: str | os.PathLike[str],
        password: str,
        *,
        alias: str | None = None,
        storage: str = "PKCS12",
        production: bool = False,
    ) -> EmulatorKey:
        """Open a container: RSA, or GOST as NCA issues them (no certificate checks)."""
        data = Path(path).read_bytes()
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode())
        except ValueError:
            return cls._from_gost_p12(data, password, alias or Path(path).stem, storage, production)
        if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
            raise ValueError(f"{path}: no RSA key and certificate")
        der = serialization.Encoding.DER
        return cls(
            alias=alias or Path(path).stem,
            private_key=key,
            certificate=x509.Certificate.load(cert.public_bytes(der)),
            chain=tuple(x509.Certificate.load(c.public_bytes(der)) for c in extra),
            storage=storage,
            production=production,
        )

    @classmethod
    def _from_gost_p12(
        cls, data: bytes, password: str, alias: str, storage: str, production: bool
    ) -> EmulatorKey:
        key_der, cert_ders = _pkcs12.read_container(data, password)
        certs = [x509.Certificate.load(der) for der in cert_ders]
        for cert in certs:
            try:
                key = GostPrivateKey.from_pkcs8(key_der or b"", cert)
            except (ValueError, gost.GostError):
                continue
            return cls(
                alias=alias,
                private_key=key,
                certificate=cert,
                chain=tuple(c for c in certs if c is not cert),
                storage=storage,
                production=production,
            )
        raise ValueError("no usable RSA or GOST key in the container")

    @property
    def is_gost(self) -> bool:
        return isinstance(self.private_key, GostPrivateKey)

    @property
    def digest_name(self) -> str:
        """The hash this key signs with: SHA-256 (RSA) or its GOST hash (Streebog)."""
        if isinstance(self.private_key, GostPrivateKey):
            return gost.HASH_NAMES[self.private_key.hash_oid]
        return "sha256"

    def digest(self, data: bytes) -> bytes:
        if isinstance(self.private_key, GostPrivateKey):
            return gost.digest(self.private_key.hash_oid, data)
        return hashlib.sha256(data).digest()

    @property
    def ekus(self) -> frozenset[str]:
        value = self.certificate.extended_key_usage_value
        return frozenset(o.dotted for o in value) if value is not None else frozenset()

    @property
    def iin(self) -> str:
        return person_of(self.certificate).iin

    @property
    def bin(self) -> str:
        return person_of(self.certificate).bin

    @property
    def serial_hex(self) -> str:
        return format(self.certificate.serial_number, "x")

    def fits(self, key_type: KeyType | None) -> bool:
        """commonUtils ``keyType``: signing keys carry emailProtection, auth keys clientAuth."""
        if key_type is None:
            return True
        wanted = EKU_SIGN if key_type is KeyType.SIGNATURE else EKU_AUTH
        return wanted in self.ekus

    def matches(self, params: SignerParams) -> bool:
        """All of ``signerParams``' filters, as NCALayer applies them before the dialog."""
        if not set(params.ext_key_usage_oids) <= self.ekus:
            return False
        if params.iin and params.iin != self.iin:
            return False
        if params.bin and params.bin != self.bin:
            return False
        if params.serial_number and _norm_serial(params.serial_number) != self.serial_hex:
            return False
        if params.chain is None:
            return self.production
        return not params.chain or self._chains_to(params.chain)

    def expired(self, now: dt.datetime | None = None) -> bool:
        moment = now or dt.datetime.now(dt.UTC)
        validity = self.certificate["tbs_certificate"]["validity"]
        return not validity["not_before"].native <= moment <= validity["not_after"].native

    def _chains_to(self, chain: Sequence[str]) -> bool:
        """``chain`` lists trusted CA certificates: the key's issuer must be one of them."""
        issuer = self.certificate.issuer
        for text in chain:
            cert = _load_cert(text)
            if cert is not None and cert.subject == issuer:
                return True
        return False

    def key_info(self) -> dict[str, Any]:
        """``getKeyInfo``'s responseObject (field names as the public clients read them)."""
        tbs = self.certificate["tbs_certificate"]
        validity = tbs["validity"]
        # No SKI extension: the key identifier of RFC 5280 4.2.1.2 method 1 (SHA-1 of the key).
        ski = self.certificate.key_identifier or self.certificate.public_key.sha1
        aki = self.certificate.authority_key_identifier
        return {
            "alias": self.alias,
            "keyId": ski.hex(),
            "algorithm": "ECGOST34310" if self.is_gost else "RSA",
            "subjectCn": self.certificate.subject.native.get("common_name", ""),
            "subjectDn": self.certificate.subject.human_friendly,
            "issuerCn": self.certificate.issuer.native.get("common_name", ""),
            "issuerDn": self.certificate.issuer.human_friendly,
            "serialNumber": self.serial_hex,
            "certNotAfter": _epoch_ms(validity["not_after"].native),
            "certNotBefore": _epoch_ms(validity["not_before"].native),
            "authorityKeyIdentifier": aki.hex() if aki else "",
            "pem": pem.armor("CERTIFICATE", self.certificate.dump()).decode("ascii"),
        }


def select(
    keys: Sequence[EmulatorKey],
    *,
    params: SignerParams | None = None,
    key_type: KeyType | None = None,
    storages: Sequence[str] | None = None,
    allow_expired: bool = True,
    allow_revoked: bool = True,
) -> list[EmulatorKey]:
    """The keys NCALayer would offer for this request, in store order."""
    return [
        k
        for k in keys
        if (storages is None or k.storage in storages)
        and k.fits(key_type)
        and (params is None or k.matches(params))
        and (allow_expired or not k.expired())
        and (allow_revoked or not k.revoked)
    ]


def _norm_serial(value: str) -> str:
    return value.strip().lower().lstrip("0") or "0"


def _epoch_ms(moment: dt.datetime) -> str:
    """Milliseconds since 1970 as a string: pages do ``new Date(Number(certNotAfter))``."""
    return str(int(moment.timestamp()) * 1000)


def _load_cert(text: str) -> x509.Certificate | None:
    try:
        return load_certificate(text)
    except SignatureValueError:
        return None
