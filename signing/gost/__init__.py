"""Kazakh GOST signatures in open Python: GOST 34.10-2015 (512/256) and GOST 34.310-2004.

Layers, each with its own module: ``streebog`` and ``gost94`` (the hashes), ``curves`` (the
parameter sets and the Kazakh OID mapping), ``ec`` (curve arithmetic), ``signature`` (the
GOST R 34.10 scheme and NCA's byte orders). This module names the Kazakh algorithms by OID
and ties them together, so callers (signing, verification) see only:

- :func:`hash_for` / :func:`digest` — the hash of a digest or signature algorithm OID;
- :func:`parse_public_key` — a GOST SubjectPublicKeyInfo as curve + key bytes;
- :func:`verify` / :func:`verify_spki` / :func:`sign_digest` — signature values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from asn1crypto import core

from signing.gost import curves, ec, gost94, signature, streebog
from signing.gost.asn1 import Field

# Re-exported: callers use gost.SIG_2015_512 …
from signing.gost.oids import ARC as ARC
from signing.gost.oids import GOST34311 as GOST34311
from signing.gost.oids import HASH_NAMES as HASH_NAMES
from signing.gost.oids import HASH_OIDS as HASH_OIDS
from signing.gost.oids import KEY_2004 as KEY_2004
from signing.gost.oids import KEY_2015_256 as KEY_2015_256
from signing.gost.oids import KEY_2015_512 as KEY_2015_512
from signing.gost.oids import SIG_2004 as SIG_2004
from signing.gost.oids import SIG_2015_256 as SIG_2015_256
from signing.gost.oids import SIG_2015_512 as SIG_2015_512
from signing.gost.oids import STREEBOG256 as STREEBOG256
from signing.gost.oids import STREEBOG512 as STREEBOG512

HASHES: dict[str, Callable[[bytes], bytes]] = {
    GOST34311: gost94.digest,
    STREEBOG256: lambda data: streebog.digest(data, 256),
    STREEBOG512: lambda data: streebog.digest(data, 512),
}
#: The hash each signature or key algorithm uses.
SIGNATURE_HASH = {
    SIG_2004: GOST34311,
    SIG_2015_256: STREEBOG256,
    SIG_2015_512: STREEBOG512,
    KEY_2004: GOST34311,
    KEY_2015_256: STREEBOG256,
    KEY_2015_512: STREEBOG512,
}
#: The signature algorithm a key of each kind makes.
SIGNATURE_FOR_KEY = {KEY_2004: SIG_2004, KEY_2015_256: SIG_2015_256, KEY_2015_512: SIG_2015_512}


@dataclass(frozen=True)
class Algorithm:
    """What a report says about a GOST signature."""

    standard: str  # "ГОСТ 34.10-2015" or "ГОСТ 34.310-2004"
    bits: int

    @property
    def label(self) -> str:
        return f"{self.standard}, {self.bits} бит"


ALGORITHMS = {
    SIG_2004: Algorithm("ГОСТ 34.310-2004", 256),
    SIG_2015_256: Algorithm("ГОСТ 34.10-2015", 256),
    SIG_2015_512: Algorithm("ГОСТ 34.10-2015", 512),
}
ALGORITHMS.update({k: ALGORITHMS[v] for k, v in SIGNATURE_FOR_KEY.items()})


class GostError(ValueError):
    """A GOST structure this module cannot use (unknown OID, bad key bytes)."""


def is_gost(oid: str) -> bool:
    return oid.startswith(ARC)


def digest(hash_oid: str, data: bytes) -> bytes:
    try:
        return HASHES[hash_oid](data)
    except KeyError:
        raise GostError(f"unknown GOST hash {hash_oid}") from None


def hash_for(algorithm_oid: str) -> str:
    """The hash OID of a GOST signature or key algorithm."""
    try:
        return SIGNATURE_HASH[algorithm_oid]
    except KeyError:
        raise GostError(f"unknown GOST algorithm {algorithm_oid}") from None


class _GostKeyParams(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("curve", core.ObjectIdentifier),
        ("digest", core.ObjectIdentifier, {"optional": True}),
    ]


class _AlgorithmId(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _Spki(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped (Any base)
    _fields: ClassVar[list[Field]] = [
        ("algorithm", _AlgorithmId),
        ("public_key", core.OctetBitString),
    ]


@dataclass(frozen=True)
class PublicKey:
    algorithm: str  # the key algorithm OID
    curve: curves.Curve
    key: bytes  # x||y, little-endian halves


def parse_public_key(spki_der: bytes) -> PublicKey:
    """A Kazakh GOST SubjectPublicKeyInfo (DER) as algorithm, curve and key bytes."""
    try:
        spki = _Spki.load(spki_der)
        oid = spki["algorithm"]["algorithm"].dotted
        params = _GostKeyParams.load(spki["algorithm"]["parameters"].dump())
        curve_oid = params["curve"].dotted
        raw = core.OctetString.load(spki["public_key"].native).native
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise GostError(f"not a GOST public key: {exc}") from None
    if oid not in SIGNATURE_FOR_KEY:
        raise GostError(f"unknown GOST key algorithm {oid}")
    curve = curves.KAZAKH.get(curve_oid) or curves.RUSSIAN.get(curve_oid)
    if curve is None:
        raise GostError(f"unknown GOST parameter set {curve_oid}")
    if len(raw) != 2 * curve.size:
        raise GostError(f"a {curve.bits}-bit GOST key has {2 * curve.size} bytes, not {len(raw)}")
    return PublicKey(oid, curve, raw)


def verify_digest(key: PublicKey, digest_value: bytes, value: bytes) -> bool:
    return signature.verify_digest(key.curve, key.key, digest_value, value)


def verify(key: PublicKey, signature_oid: str, data: bytes, value: bytes) -> bool:
    """Check a Kazakh GOST signature value over ``data`` (hashed with the algorithm's hash)."""
    if hash_for(signature_oid) != hash_for(key.algorithm):
        return False
    return verify_digest(key, digest(hash_for(signature_oid), data), value)


def verify_spki(spki_der: bytes, signature_oid: str, data: bytes, value: bytes) -> bool:
    """Check a GOST signature with the signer's SubjectPublicKeyInfo (certificates, CRLs, OCSP).

    False also when the key is not a GOST key: it cannot have made a GOST signature.
    """
    try:
        key = parse_public_key(spki_der)
    except GostError:
        return False
    return verify(key, signature_oid, data, value)


def sign_digest(curve: curves.Curve, private_key: int, digest_value: bytes) -> bytes:
    return signature.sign_digest(curve, private_key, digest_value)


def backends() -> dict[str, str]:
    """Which implementation runs for the hash and for the curve arithmetic."""
    return {"streebog": streebog.BACKEND, "gost34311": gost94.BACKEND, "curve": ec.ARITHMETIC.name}
