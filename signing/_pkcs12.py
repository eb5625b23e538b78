"""Just enough of PKCS#12 (RFC 7292) to tell *why* a key container cannot be used.

OpenSSL (behind ``cryptography``) answers "invalid password or PKCS12 data" for a wrong
password, a damaged file and a GOST container alike. An official needs to know which one it
is, so the MAC is checked here first (wrong password), and when OpenSSL still refuses a
container whose MAC is right, its readable parts are searched for GOST algorithm OIDs.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar

from asn1crypto import algos, cms, core, x509

from signing import _libcrypto
from signing.gost.asn1 import Field
from signing.gost.oids import ARC

_KEY_BAG = "1.2.840.113549.1.12.10.1.1"
_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
_CERT_BAG = "1.2.840.113549.1.12.10.1.3"


class SafeBag(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("bag_id", core.ObjectIdentifier),
        ("bag_value", core.Any, {"explicit": 0}),
        ("bag_attributes", core.Any, {"optional": True}),
    ]


class SafeContents(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _child_spec = SafeBag


class AuthenticatedSafe(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _child_spec = cms.ContentInfo


class CertBag(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("cert_id", core.ObjectIdentifier),
        ("cert_value", core.OctetString, {"explicit": 0}),
    ]


class MacData(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("mac", algos.DigestInfo),
        ("mac_salt", core.OctetString),
        ("iterations", core.Integer, {"default": 1}),
    ]


class AnyAlgorithm(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    """AlgorithmIdentifier that accepts any OID (asn1crypto's own refuse unknown GOST ones)."""

    _fields: ClassVar[list[Field]] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class RawPrivateKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("version", core.Integer),
        ("private_key_algorithm", AnyAlgorithm),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
    ]


class RawEncryptedPrivateKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("encryption_algorithm", AnyAlgorithm),
        ("encrypted_data", core.OctetString),
    ]


class Pfx(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("version", core.Integer),
        ("auth_safe", cms.ContentInfo),
        ("mac_data", MacData, {"optional": True}),
    ]


def pkcs12_kdf(
    password: str, salt: bytes, purpose: int, iterations: int, hash_name: str, size: int
) -> bytes:
    """RFC 7292 appendix B.2 key derivation (purpose 3 = MAC key)."""
    h = hashlib.new(hash_name)
    v = h.block_size
    pw = password.encode("utf-16-be") + b"\0\0" if password else b""
    d = bytes([purpose]) * v

    def fill(data: bytes) -> bytes:
        if not data:
            return b""
        n = v * ((len(data) + v - 1) // v)
        return (data * (n // len(data) + 1))[:n]

    i = bytearray(fill(salt) + fill(pw))
    out = b""
    while len(out) < size:
        a = d + bytes(i)
        for _ in range(iterations):
            a = hashlib.new(hash_name, a).digest()
        out += a
        b = int.from_bytes(fill(a)[:v], "big")
        for j in range(0, len(i), v):
            block = (int.from_bytes(i[j : j + v], "big") + b + 1) % (1 << (8 * v))
            i[j : j + v] = block.to_bytes(v, "big")
    return out[:size]


def _load_pfx(data: bytes) -> Pfx | None:
    try:
        pfx: Pfx = Pfx.load(data)
        pfx.native  # noqa: B018  (forces a full parse: damaged files fail here)
    except (ValueError, TypeError):
        return None
    return pfx


def mac_matches(data: bytes, password: str) -> bool | None:
    """True/False when the container's MAC is/isn't right for ``password``; None if unknown."""
    pfx = _load_pfx(data)
    if pfx is None or pfx["mac_data"].native is None:
        return None
    mac_data = pfx["mac_data"]
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in hashlib.algorithms_available:
        return None
    content = pfx["auth_safe"]["content"].native
    key = pkcs12_kdf(
        password,
        mac_data["mac_salt"].native,
        3,
        mac_data["iterations"].native,
        hash_name,
        hashlib.new(hash_name).digest_size,
    )
    expected = hmac.new(key, content, hash_name).digest()
    return hmac.compare_digest(expected, mac_data["mac"]["digest"].native)


def gost_oids(data: bytes) -> set[str]:
    """GOST OIDs found in the readable (not encrypted) parts of a container."""
    pfx = _load_pfx(data)
    found: set[str] = set()
    if pfx is None:
        return found
    try:
        safe = AuthenticatedSafe.load(pfx["auth_safe"]["content"].native)
        for info in safe:
            if info["content_type"].native != "data":
                # An encrypted bag: its algorithm may itself be a GOST PBE.
                alg = info["content"]["encrypted_content_info"]["content_encryption_algorithm"][
                    "algorithm"
                ].dotted
                found.update({alg} if alg.startswith(ARC) else set())
                continue
            for bag in SafeContents.load(info["content"].native):
                found.update(_bag_oids(bag))
    except (ValueError, TypeError, KeyError):
        return found
    return {oid for oid in found if oid.startswith(ARC)}


def _bag_oids(bag: SafeBag) -> set[str]:
    bag_id = bag["bag_id"].dotted
    value = bag["bag_value"]
    if bag_id == _KEY_BAG:
        return {value.parse(RawPrivateKeyInfo)["private_key_algorithm"]["algorithm"].dotted}
    if bag_id == _SHROUDED_KEY_BAG:
        return {value.parse(RawEncryptedPrivateKeyInfo)["encryption_algorithm"]["algorithm"].dotted}
    if bag_id == _CERT_BAG:
        cert = x509.Certificate.load(value.parse(CertBag)["cert_value"].native)
        return {
            cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]["algorithm"].dotted,
            cert["signature_algorithm"]["algorithm"].dotted,
        }
    return set()


# --- Reading a container OpenSSL refuses (a GOST key): RFC 7292's legacy PBEs ---------------

_PBE_3DES = "1.2.840.113549.1.12.1.3"  # pbeWithSHAAnd3-KeyTripleDES-CBC
_PBE_RC2_40 = "1.2.840.113549.1.12.1.6"  # pbeWithSHAAnd40BitRC2-CBC
_PBE_RC2_128 = "1.2.840.113549.1.12.1.5"  # pbeWithSHAAnd128BitRC2-CBC


class _PbeParams(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [("salt", core.OctetString), ("iterations", core.Integer)]


def _pbe_decrypt(algorithm: AnyAlgorithm, data: bytes, password: str) -> bytes:
    """Decrypt with one of the PKCS#12 PBEs NCA's containers use (3DES, RC2)."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import RC2, TripleDES
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    oid = algorithm["algorithm"].dotted
    sizes = {_PBE_3DES: 24, _PBE_RC2_40: 5, _PBE_RC2_128: 16}
    if oid not in sizes:
        raise ValueError(f"unsupported PKCS#12 encryption {oid}")
    params = _PbeParams.load(algorithm["parameters"].dump())
    salt, rounds = params["salt"].native, params["iterations"].native
    key = pkcs12_kdf(password, salt, 1, rounds, "sha1", sizes[oid])
    iv = pkcs12_kdf(password, salt, 2, rounds, "sha1", 8)
    if oid == _PBE_RC2_40:
        return _libcrypto.rc2_40_cbc_decrypt(key, iv, data)
    cipher = TripleDES(key) if oid == _PBE_3DES else RC2(key)
    decryptor = Cipher(cipher, modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(64).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def read_container(data: bytes, password: str) -> tuple[bytes | None, list[bytes]]:
    """(PKCS#8 PrivateKeyInfo DER, certificate DERs) of a container with legacy PBEs.

    For the containers OpenSSL cannot load because the key is GOST; the caller has already
    checked the MAC (so the password is right). Raises ValueError if a part cannot be read.
    """
    pfx = _load_pfx(data)
    if pfx is None:
        raise ValueError("not a PKCS#12 container")
    key: bytes | None = None
    certs: list[bytes] = []
    for info in AuthenticatedSafe.load(pfx["auth_safe"]["content"].native):
        if info["content_type"].native == "data":
            contents = info["content"].native
        elif info["content_type"].native == "encrypted_data":
            eci = info["content"]["encrypted_content_info"]
            alg = AnyAlgorithm.load(eci["content_encryption_algorithm"].dump())
            contents = _pbe_decrypt(alg, eci["encrypted_content"].native, password)
        else:
            continue
        for bag in SafeContents.load(contents):
            bag_id = bag["bag_id"].dotted
            if bag_id == _KEY_BAG:
                key = bag["bag_value"].dump()[_header_len(bag["bag_value"]) :]
            elif bag_id == _SHROUDED_KEY_BAG:
                enc = bag["bag_value"].parse(RawEncryptedPrivateKeyInfo)
                key = _pbe_decrypt(
                    enc["encryption_algorithm"], enc["encrypted_data"].native, password
                )
            elif bag_id == _CERT_BAG:
                certs.append(bag["bag_value"].parse(CertBag)["cert_value"].native)
    return key, certs


def key_algorithm(data: bytes, password: str) -> str:
    """The OID of the container's private key algorithm ("" if it cannot be read)."""
    try:
        key, _certs = read_container(data, password)
        if key is None:
            return ""
        oid: str = RawPrivateKeyInfo.load(key)["private_key_algorithm"]["algorithm"].dotted
        return oid
    except (ValueError, TypeError, KeyError):
        return ""


def _header_len(value: core.Any) -> int:
    """Length of the explicit [0] wrapper around a bag value."""
    return len(value.dump()) - len(value.contents)
