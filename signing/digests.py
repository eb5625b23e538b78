"""Digest algorithms by the name asn1crypto gives them: the one table from a name (or a
Kazakh GOST hash OID) to the hash function.

Why one: CMS message digests, time-stamp imprints, PDF ByteRanges and XML references all
name their hash, and GOST hashes (registered with asn1crypto by :mod:`signing.gost.asn1`
as ``gost34311``, ``streebog256``, ``streebog512``) must be found the same way everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from signing import gost

#: hashlib's algorithms, by asn1crypto's names.
_HASHLIB: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
    "sha224": hashlib.sha224,
    "sha1": hashlib.sha1,
    "md5": hashlib.md5,
    "sha3_256": hashlib.sha3_256,
    "sha3_512": hashlib.sha3_512,
}
#: GOST hash name -> OID (the inverse of :data:`signing.gost.HASH_NAMES`).
GOST_HASH_OIDS = gost.HASH_OIDS


def is_gost_digest(algorithm: str) -> bool:
    """Whether ``algorithm`` (an asn1crypto digest name) is a Kazakh GOST hash."""
    return algorithm in GOST_HASH_OIDS


def digest_of(data: bytes, algorithm: str) -> bytes | None:
    """``data`` hashed with ``algorithm`` (an asn1crypto name or a GOST hash OID), or None
    when the algorithm is unknown."""
    fn = _HASHLIB.get(algorithm)
    if fn is not None:
        return fn(data).digest()
    oid = GOST_HASH_OIDS.get(algorithm, algorithm)
    return gost.digest(oid, data) if oid in gost.HASHES else None


def digest(data: bytes, algorithm: str) -> bytes:
    """:func:`digest_of` for an algorithm the caller chose itself (unknown: ValueError)."""
    value = digest_of(data, algorithm)
    if value is None:
        raise ValueError(f"unknown digest algorithm {algorithm}")
    return value
