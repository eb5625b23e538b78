"""Key providers: one interface, whoever holds the key.

* :class:`Pkcs12Key` - a password-protected ``.p12`` as NCA RK issues it, loaded (and
  checked) once, then reused for every signature; signing is one RSA operation.
* :class:`ExternalKey` - the key stays with the official (NCALayer in the browser); only
  the certificate is known here and the signature value / CMS comes back from outside.

Both run the same certificate checks, so a bad certificate is refused before anything is
prepared or signed. :func:`load_key` picks the provider from configuration.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from asn1crypto import algos, cms, core, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.attributes import (
    CMSAlgorithmProtectionProvider,
    CMSAttributeProvider,
    SigningCertificateV2Provider,
)
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.signers import ExternalSigner, Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

import signing.gost as gost
from docservice.asn1_shared import parsed_whole
from docservice.pki.anchors import read_certificates
from docservice.pki.key_usage import describe, signing_usage
from docservice.pki.person import Person, person_of
from docservice.pki.roles import Role
from signing import _pkcs12
from signing.cms_template import SignedDataTemplate
from signing.errors import (
    CertificateExpiredError,
    CertificateExpiredRevokedError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    GostKeyError,
    KeyContainerError,
    KeyUsageError,
    RoleError,
    SigningError,
    UnsupportedKeyError,
    WrongPasswordError,
)

PASSWORD_ENV = "DOCSERVICE_KEY_PASSWORD"
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


#: Tells when a certificate was revoked (None: not known to be), e.g. from OCSP responses.
RevocationLookup = Callable[[x509.Certificate], "dt.datetime | None"]


def check_signing_certificate(
    cert: x509.Certificate,
    at: dt.datetime | None = None,
    revocation: RevocationLookup | None = None,
) -> None:
    """Refuse certificates that cannot make a legally valid signature now.

    An unusable GOST key first (the most specific diagnosis), then validity (an expired
    certificate that is also revoked says both), revocation, then key usage: an
    authentication certificate lacks both digitalSignature and nonRepudiation.
    """
    spki = cert["tbs_certificate"]["subject_public_key_info"]
    spki_alg = spki["algorithm"]["algorithm"]
    if gost.is_gost(spki_alg.dotted):
        try:
            gost.parse_public_key(spki.dump())
        except gost.GostError:
            raise GostKeyError(spki_alg.dotted) from None
    elif spki_alg.native != "rsa":
        raise UnsupportedKeyError(algorithm=spki_alg.native)
    now = at or dt.datetime.now(dt.UTC)
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    revoked_at = revocation(cert) if revocation is not None else None
    if now < not_before:
        raise CertificateNotYetValidError(date=not_before.date().isoformat())
    if now > not_after and revoked_at is not None:
        raise CertificateExpiredRevokedError(
            date=not_after.date().isoformat(), revoked=revoked_at.date().isoformat()
        )
    if now > not_after:
        raise CertificateExpiredError(date=not_after.date().isoformat())
    if revoked_at is not None and revoked_at <= now:
        raise CertificateRevokedError(when=revoked_at.date().isoformat())
    usage = signing_usage(cert)
    if not usage.allowed:
        raise KeyUsageError(describe(cert, usage))


class GostPrivateKey:
    """A Kazakh GOST private key (GOST 34.10-2015 or 34.310-2004) and what it signs with."""

    def __init__(self, public: gost.PublicKey, d: int) -> None:
        if (
            gost.signature.encode_public_key(
                public.curve, gost.signature.public_key(public.curve, d)
            )
            != public.key
        ):
            raise ValueError("the private key does not match the certificate")
        self.public, self.d = public, d
        self.signature_oid = gost.SIGNATURE_FOR_KEY[public.algorithm]
        self.hash_oid = gost.hash_for(public.algorithm)

    @classmethod
    def from_pkcs8(cls, der: bytes, certificate: x509.Certificate) -> GostPrivateKey:
        """NCA's PKCS#8: an OCTET STRING holding d, little-endian (checked against the key)."""
        info = _pkcs12.RawPrivateKeyInfo.load(der)
        inner = info["private_key"].native
        value = core.OctetString.load(inner).native if inner[:1] == b"\x04" else inner
        public = gost.parse_public_key(
            certificate["tbs_certificate"]["subject_public_key_info"].dump()
        )
        return cls(public, int.from_bytes(value, "little"))

    def sign_digest(self, digest: bytes) -> bytes:
        return gost.sign_digest(self.public.curve, self.d, digest)

    def sign(self, data: bytes) -> bytes:
        """The signature value over ``data``, hashed with the key's GOST hash."""
        return self.sign_digest(gost.digest(self.hash_oid, data))


class SigningKey(ABC):
    """A signer's certificate (+ chain) and a way to obtain signatures with its key."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @functools.cached_property
    def identity(self) -> Person:
        """Who the certificate names, read once per key (it is read at every signature)."""
        return person_of(self.certificate)

    def check(self, at: dt.datetime | None = None, role: str | None = None) -> None:
        """Certificate checks, plus: the requested role must be in the certificate."""
        check_signing_certificate(self.certificate, at)
        if role is not None:
            wanted = Role.named(role)
            if wanted is None or wanted not in self.identity.held_roles:
                raise RoleError(role=wanted.label.ru if wanted else role)

    def cert_registry(self) -> SimpleCertificateStore:
        store: SimpleCertificateStore = SimpleCertificateStore.from_certs(
            [self.certificate, *self.chain]
        )
        return store

    @abstractmethod
    def pyhanko_signer(self) -> Signer:
        """A pyHanko signer producing CMS for this key."""


class _KeptKeySigner(Signer):
    """pyHanko signer over an already-parsed key.

    Why: pyHanko's ``SimpleSigner`` re-parses the private key on every signature
    (~28 ms of ~76 ms); the RSA operation itself costs ~0.2 ms.
    """

    def __init__(
        self, key: rsa.RSAPrivateKey, cert: x509.Certificate, registry: SimpleCertificateStore
    ) -> None:
        super().__init__(
            signing_cert=cert,
            cert_registry=registry,
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
        )
        self._key = key
        self._constant_attrs: dict[str, bytes] = {}
        # Built here, before any thread shares the signer: immutable bytes afterwards.
        self._template = SignedDataTemplate(
            cert,
            [c for c in registry if self.embed_roots or c.self_signed == "no"],
            algos.DigestAlgorithm({"algorithm": "sha256"}),
            self.get_signature_mechanism_for_digest("sha256"),
        )

    def _signed_attr_providers(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """pyHanko's providers, with signing-certificate-v2 served from a cache.

        Why: asn1crypto re-encodes that attribute (the issuer name inside it) on every
        signature, ~8 ms of a ~20 ms B-B signature here; for a given certificate its DER
        never changes.
        """
        for provider in super()._signed_attr_providers(*args, **kwargs):
            if isinstance(provider, SigningCertificateV2Provider):
                yield _CachedAttribute(provider, self._constant_attrs)
            else:
                yield provider

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type: str = "data",
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        dry_run: bool = False,
        is_pdf_sig: bool = True,
    ) -> cms.CMSAttributes:
        """pyHanko's signed attributes, encoded from cached DER when every provider's
        attribute is constant for this key (signing-certificate-v2, CMS algorithm
        protection): only the content type and message digest are new.

        Why: pyHanko regroups the attributes by type into new asn1crypto objects and
        encodes them again (about a twentieth of a B-B signature). The DER SET OF is the
        sorted encodings of the attributes, each being the one asn1crypto gives (one
        value per type); any other provider goes to pyHanko's own method
        (``tests/signing/test_cms_template.py`` compares the two).
        """
        settings = attr_settings or PdfCMSSignedAttributes()
        providers = list(
            self._signed_attr_providers(
                data_digest=data_digest,
                digest_algorithm=digest_algorithm,
                use_cades=use_pades,
                attr_settings=settings,
                timestamper=timestamper,
                is_pdf_sig=is_pdf_sig,
            )
        )
        encoded = [_simple_attribute("content_type", content_type)]
        encoded.append(_simple_attribute("message_digest", data_digest))
        for provider in providers:
            der = await self._constant_attribute(provider, digest_algorithm, dry_run)
            if der is None:
                encoded = []
                break
            encoded.append(der)
        types = {"content_type", "message_digest", *(p.attribute_type for p in providers)}
        if not encoded or len(types) != len(encoded):
            plain: cms.CMSAttributes = await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
            return plain
        return cms.CMSAttributes.load(_der_set(b"".join(sorted(encoded))))

    async def _constant_attribute(
        self, provider: CMSAttributeProvider, digest_algorithm: str, dry_run: bool
    ) -> bytes | None:
        """The DER of ``provider``'s attribute when it is the same for every signature
        of this key and digest algorithm, else None."""
        if isinstance(provider, _CachedAttribute):
            attr = await provider.get_attribute(dry_run)
            return None if attr is None else attr.dump()
        if not isinstance(provider, CMSAlgorithmProtectionProvider):
            return None
        key = f"{provider.attribute_type}:{digest_algorithm}:{provider.signature_algo.dump().hex()}"
        der = self._constant_attrs.get(key)
        if der is None:
            attr = await provider.get_attribute(dry_run)
            if attr is None:
                return None
            der = self._constant_attrs[key] = attr.dump()
        return der

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), _HASHES[digest_algorithm]())

    async def async_sign_prescribed_attributes(
        self,
        digest_algorithm: str,
        signed_attrs: cms.CMSAttributes,
        cms_version: str = "v1",
        dry_run: bool = False,
        timestamper: TimeStamper | None = None,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        """pyHanko's CMS, assembled around this key's pre-encoded parts when nothing but
        the signed attributes and the signature changes (:mod:`signing.cms_template`):
        SHA-256, detached, v1, no unsigned attribute (no time-stamp), no attribute
        certificate. Anything else is pyHanko's own assembly."""
        if (
            digest_algorithm.lower() != "sha256"
            or cms_version != "v1"
            or timestamper is not None
            or encap_content_info not in (None, _DETACHED)
            or self.unsigned_attr_prov_spec is not None
            or tuple(self.attribute_certs)
        ):
            plain: cms.ContentInfo = await super().async_sign_prescribed_attributes(
                digest_algorithm,
                signed_attrs,
                cms_version=cms_version,
                dry_run=dry_run,
                timestamper=timestamper,
                encap_content_info=encap_content_info,
            )
            return plain
        attrs = signed_attrs.dump()
        signature = await self.async_sign_raw(attrs, "sha256", dry_run)
        return cms.ContentInfo.load(self._template.content_info(attrs, signature))


def _simple_attribute(kind: str, value: object) -> bytes:
    """The DER of a one-value attribute as pyHanko's ``simple_cms_attribute`` makes it."""
    der: bytes = simple_cms_attribute(kind, value).dump()
    return der


def _der_set(content: bytes) -> bytes:
    """A DER SET around ``content`` (its elements already sorted)."""
    size = len(content)
    if size < 0x80:
        return bytes((0x31, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x31, 0x80 | len(length))) + length + content


#: What pyHanko passes for a detached signature (``pdf_cms._ensure_content_type``).
_DETACHED = {"content_type": "data"}


class _CachedAttribute(CMSAttributeProvider):
    """A signed-attribute provider whose encoded attribute is computed once."""

    def __init__(self, inner: CMSAttributeProvider, cache: dict[str, bytes]) -> None:
        self.inner, self.cache = inner, cache
        self.attribute_type = inner.attribute_type

    async def build_attr_value(self, dry_run: bool = False) -> Any:
        return await self.inner.build_attr_value(dry_run)

    async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute | None:
        der = self.cache.get(self.attribute_type)
        if der is None:
            attr = await self.inner.get_attribute(dry_run)
            if attr is None:
                return None
            der = self.cache[self.attribute_type] = attr.dump()
        return cms.CMSAttribute.load(der)


class Pkcs12Key(SigningKey):
    """A key from an NCA RK style PKCS#12 container, parsed once."""

    def __init__(
        self,
        key: rsa.RSAPrivateKey | GostPrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
    ) -> None:
        self._key = key
        self.certificate = certificate
        self.chain = tuple(chain)
        self._signer: Signer
        if isinstance(key, GostPrivateKey):
            # pyHanko only prepares GOST PDF revisions (placeholder, stamp); the CMS is
            # built by signing.gost.cms, whose hash pyHanko does not have.
            self._signer = ExternalSigner(
                certificate,
                self.cert_registry(),
                signature_value=2 * key.public.curve.size,
                signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": key.signature_oid}),
            )
        else:
            self._signer = _KeptKeySigner(key, certificate, self.cert_registry())

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        password: str,
        *,
        at: dt.datetime | None = None,
        revocation: RevocationLookup | None = None,
    ) -> Pkcs12Key:
        """Open and check a container; every refusal is a :class:`SigningError`."""
        mac_ok = _pkcs12.mac_matches(data, password)
        if mac_ok is False:
            raise WrongPasswordError()
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode())
        except ValueError as exc:
            if mac_ok and gost.is_gost(_pkcs12.key_algorithm(data, password)):
                return cls._from_gost_container(data, password, at, revocation)
            gost_oids = _pkcs12.gost_oids(data)
            if gost_oids:
                raise GostKeyError(sorted(gost_oids)[0]) from None
            if mac_ok is None:
                raise WrongPasswordError() from None
            raise KeyContainerError(str(exc)) from None
        if cert is None or key is None:
            raise KeyContainerError("no key or certificate")
        certificate = x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        check_signing_certificate(certificate, at, revocation)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise UnsupportedKeyError(algorithm=type(key).__name__)
        chain = [x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in extra]
        return cls(key, certificate, chain)

    @classmethod
    def _from_gost_container(
        cls, data: bytes, password: str, at: dt.datetime | None, revocation: RevocationLookup | None
    ) -> Pkcs12Key:
        """A container OpenSSL refuses because its key is GOST (as NCA issues them)."""
        try:
            key_der, cert_ders = _pkcs12.read_container(data, password)
            certs = [x509.Certificate.load(der) for der in cert_ders]
            for c in certs:
                c["tbs_certificate"]["subject_public_key_info"].dump()
        except ValueError as exc:
            raise KeyContainerError(str(exc)) from None
        if key_der is None or not certs:
            raise KeyContainerError("no key or certificate")
        for certificate in certs:
            try:
                key = GostPrivateKey.from_pkcs8(key_der, certificate)
            except (ValueError, gost.GostError):
                continue
            check_signing_certificate(certificate, at, revocation)
            return cls(key, certificate, [c for c in certs if c is not certificate])
        raise GostKeyError(_pkcs12.key_algorithm(data, password))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        password: str,
        *,
        at: dt.datetime | None = None,
        revocation: RevocationLookup | None = None,
    ) -> Pkcs12Key:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeyContainerError(exc.strerror or "cannot read") from None
        return cls.from_bytes(data, password, at=at, revocation=revocation)

    def pyhanko_signer(self) -> Signer:
        return self._signer

    def sign_raw(self, data: bytes, digest_algorithm: str = "sha256") -> bytes:
        """PKCS#1 v1.5 signature over ``data`` (used by the XML signer); GOST: its own hash."""
        if isinstance(self._key, GostPrivateKey):
            return self._key.sign(data)
        return self._key.sign(data, padding.PKCS1v15(), _HASHES[digest_algorithm]())

    @property
    def private_key(self) -> rsa.RSAPrivateKey | GostPrivateKey:
        return self._key

    @property
    def is_gost(self) -> bool:
        return isinstance(self._key, GostPrivateKey)


class ExternalKey(SigningKey):
    """The key is elsewhere (NCALayer); signatures arrive as CMS / signature values.

    Used with :func:`signing.pdf.prepare_pdf` / :func:`signing.pdf.finish_pdf` and
    :func:`signing.cades.async_complete_external_cms`.
    """

    #: Room for a CMS built elsewhere (NCALayer adds its chain and maybe a time-stamp).
    PLACEHOLDER_SIZE = 256

    def __init__(
        self, certificate: x509.Certificate, chain: Sequence[x509.Certificate] = ()
    ) -> None:
        self.certificate = certificate
        self.chain = tuple(chain)

    def pyhanko_signer(self) -> Signer:
        return ExternalSigner(
            self.certificate,
            self.cert_registry(),
            signature_value=self.PLACEHOLDER_SIZE,
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
        )


def read_password(password_file: str | os.PathLike[str] | None = None) -> str:
    """The container password: from a file (first line) or ``$DOCSERVICE_KEY_PASSWORD``.

    Never from the command line, where other local users could read it.
    """
    if password_file is not None:
        try:
            return Path(password_file).read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError):
            raise KeyContainerError("password file unreadable") from None
    value = os.environ.get(PASSWORD_ENV)
    if value is None:
        raise WrongPasswordError(f"set {PASSWORD_ENV} or give a password file")
    return value


_CACHE: dict[tuple[str, int, int, str], Pkcs12Key] = {}
_CACHE_LOCK = threading.Lock()


def load_key(config: Mapping[str, Any]) -> SigningKey:
    """Provider chosen by configuration.

    ``{"provider": "pkcs12", "path": ..., "password_file": ...}`` (password from the
    file or the environment) or ``{"provider": "external", "certificate": ...}``.
    PKCS#12 keys are cached per file version and password, so a long-running worker
    parses each container once.
    """
    provider = config.get("provider", "pkcs12")
    if provider == "external":
        certs = read_certificates(config["certificate"])
        return ExternalKey(certs[0], certs[1:])
    if provider != "pkcs12":
        raise SigningError(f"unknown key provider {provider!r}")
    path = Path(config["path"]).resolve()
    password = config.get("password") or read_password(config.get("password_file"))
    try:
        stat = path.stat()
    except OSError as exc:
        raise KeyContainerError(exc.strerror or "cannot read") from None
    cache_key = (
        str(path),
        stat.st_mtime_ns,
        stat.st_size,
        hashlib.sha256(password.encode()).hexdigest(),
    )
    with _CACHE_LOCK:
        key = _CACHE.get(cache_key)
    if key is not None:
        key.check()
        return key
    key = Pkcs12Key.load(path, password)
    for certificate in (key.certificate, *key.chain):  # the cache is read by every thread
        parsed_whole(certificate)
    with _CACHE_LOCK:
        _CACHE[cache_key] = key
    return key
