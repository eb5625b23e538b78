"""GOST R 34.10-2012 / 34.10-2001 signatures (Kazakh GOST 34.10-2015 and 34.310-2004).

The arithmetic is the standard's (sections 6.1 and 6.2). The Kazakh encodings, measured on
NCA's real signatures (FIELD-NOTES "GOST in practice") and the same for both generations:

- public key: the SPKI's OCTET STRING holds x then y, each little-endian;
- signature value: r then s, each little-endian (the byte reversal of RFC 4491's s||r);
- the digest is read as a little-endian number, the way OpenSSL's and BouncyCastle's
  Streebog and GOST R 34.11-94 print it.
"""

from __future__ import annotations

import secrets

from signing.gost import ec
from signing.gost.curves import Curve

Point = tuple[int, int]


def digest_number(digest: bytes, c: Curve) -> int:
    """e of the standard: the digest as a number, mod q; 0 becomes 1."""
    e = int.from_bytes(digest, "little") % c.q
    return e or 1


def public_key(c: Curve, d: int) -> Point:
    pt = ec.ARITHMETIC.mul_base(c, d)
    if pt is None or not 0 < d < c.q:
        raise ValueError("the private key is out of range")
    return pt


def sign_number(c: Curve, d: int, e: int, k: int | None = None) -> tuple[int, int]:
    """(r, s) over e with private key d; k is random unless a test fixes it."""
    while True:
        kk = k if k is not None else secrets.randbelow(c.q - 1) + 1
        pt = ec.ARITHMETIC.mul_base(c, kk)
        r = pt[0] % c.q if pt else 0
        s = (r * d + kk * e) % c.q
        if r and s:
            return r, s
        if k is not None:
            raise ValueError("this k gives r = 0 or s = 0")


def verify_number(
    c: Curve,
    q: Point,
    e: int,
    r: int,
    s: int,
    arithmetic: ec.LibCrypto | ec.PurePython | None = None,
) -> bool:
    """True if (r, s) is a signature over e for the public key q."""
    if not (0 < r < c.q and 0 < s < c.q) or not ec.on_curve(c, q):
        return False
    v = pow(e % c.q or 1, -1, c.q)
    z1, z2 = s * v % c.q, (c.q - r) * v % c.q
    pt = (arithmetic or ec.ARITHMETIC).mul_add(c, z1, z2, q)
    return pt is not None and pt[0] % c.q == r


def decode_public_key(c: Curve, raw: bytes) -> Point:
    """The Kazakh key bytes (x||y, little-endian halves) as a point, checked on the curve."""
    if len(raw) != 2 * c.size:
        raise ValueError(f"a {c.bits}-bit GOST key has {2 * c.size} bytes, not {len(raw)}")
    pt = (int.from_bytes(raw[: c.size], "little"), int.from_bytes(raw[c.size :], "little"))
    if not ec.on_curve(c, pt):
        raise ValueError("the public key is not a point of its curve")
    return pt


def encode_public_key(c: Curve, pt: Point) -> bytes:
    return pt[0].to_bytes(c.size, "little") + pt[1].to_bytes(c.size, "little")


def decode_signature(c: Curve, raw: bytes) -> tuple[int, int] | None:
    """(r, s) from the Kazakh r||s value, or None if it has the wrong length."""
    if len(raw) != 2 * c.size:
        return None
    return int.from_bytes(raw[: c.size], "little"), int.from_bytes(raw[c.size :], "little")


def encode_signature(c: Curve, r: int, s: int) -> bytes:
    return r.to_bytes(c.size, "little") + s.to_bytes(c.size, "little")


def sign_digest(c: Curve, d: int, digest: bytes) -> bytes:
    """The Kazakh signature value over a digest (Streebog or GOST 34.311-95)."""
    return encode_signature(c, *sign_number(c, d, digest_number(digest, c)))


def verify_digest(c: Curve, key: bytes, digest: bytes, value: bytes) -> bool:
    """Check a Kazakh signature value over a digest with Kazakh public key bytes."""
    try:
        q = decode_public_key(c, key)
    except ValueError:
        return False
    rs = decode_signature(c, value)
    return rs is not None and verify_number(c, q, digest_number(digest, c), *rs)
