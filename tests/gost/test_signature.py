"""GOST R 34.10 curves and signatures against OpenSSL's GOST engine, BouncyCastle, gostcrypto.

These implementations know the Russian OIDs only, so the comparison is at the level of the
primitives: the same curve, the same digest, the same (r, s).
"""

from __future__ import annotations

import os

import gostcrypto.gostsignature as gs
import pytest

from signing.gost import curves, ec, signature
from tests.gost.oracles import OpenSSLKey

ARITHMETICS = [ec.PURE, ec.ARITHMETIC]
ALL = list(curves.BY_NAME.values())


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_curve_parameters_match_bouncycastle(bc, curve: curves.Curve) -> None:  # type: ignore[no-untyped-def]
    got = [int(v, 16) for v in bc.ask("params", curve.bouncycastle).split()]
    assert got == [curve.p, curve.a, curve.b, curve.q, curve.x, curve.y]


def test_curve_parameters_match_gostcrypto() -> None:
    table = gs.CURVES_R_1323565_1_024_2019
    for name, ours in (
        ("id-tc26-gost-3410-12-512-paramSetA", curves.TC26_512_A),
        ("id-tc26-gost-3410-12-512-paramSetB", curves.TC26_512_B),
        ("id-tc26-gost-3410-2012-256-paramSetA", curves.TC26_256_A),
    ):
        theirs = table[name]
        assert [theirs[k] for k in "pabqxy"] == [getattr(ours, k) for k in "pabqxy"], name


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_arithmetic_paths_agree(curve: curves.Curve) -> None:
    assert ec.on_curve(curve, (curve.x, curve.y))
    assert ec.ARITHMETIC.mul_base(curve, curve.q) is None  # q*G is the point at infinity
    q = ec.PURE.mul_base(curve, int.from_bytes(os.urandom(curve.size), "big") % curve.q)
    assert q is not None
    for _ in range(3):
        k1, k2 = (int.from_bytes(os.urandom(curve.size), "big") for _ in range(2))
        assert ec.PURE.mul_add(curve, k1 % curve.q, k2 % curve.q, q) == ec.ARITHMETIC.mul_add(
            curve, k1, k2, q
        )


def test_openssl_arithmetic_is_loaded() -> None:
    """Python's own libcrypto is OpenSSL 3 here: the fast path runs without a build step."""
    assert ec.ARITHMETIC.name == "openssl"


@pytest.mark.parametrize("curve_name", list(OpenSSLKey.ALGORITHMS))
def test_openssl_signs_we_verify_and_back(curve_name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    curve = curves.BY_NAME[curve_name]
    key = OpenSSLKey(curve_name, tmp_path)
    assert signature.public_key(curve, key.d) == key.point
    digest = os.urandom(curve.size)
    e = signature.digest_number(digest, curve)
    r, s = key.sign_digest(digest)
    for arithmetic in ARITHMETICS:
        assert signature.verify_number(curve, key.point, e, r, s, arithmetic)
        assert not signature.verify_number(curve, key.point, e ^ 1, r, s, arithmetic)
        assert not signature.verify_number(curve, key.point, e, r, (s + 1) % curve.q, arithmetic)
    ours = signature.sign_number(curve, key.d, e)
    assert key.verify_digest(digest, *ours, tmp_path)
    assert not key.verify_digest(digest, ours[0], (ours[1] + 1) % curve.q, tmp_path)


@pytest.mark.parametrize(
    "curve", [curves.CRYPTOPRO_A, curves.TC26_512_A, curves.TC26_256_A], ids=lambda c: c.name
)
def test_bouncycastle_signs_we_verify_and_back(bc, curve: curves.Curve) -> None:  # type: ignore[no-untyped-def]
    d = int.from_bytes(os.urandom(curve.size), "big") % curve.q
    x, y = signature.public_key(curve, d)
    digest = os.urandom(curve.size)
    e = signature.digest_number(digest, curve)
    e_hex = format(int.from_bytes(digest, "little"), f"0{2 * curve.size}x")
    r, s = signature.sign_number(curve, d, e)
    assert (
        bc.ask("verify", curve.bouncycastle, e_hex, f"{r:x}", f"{s:x}", f"{x:x}", f"{y:x}")
        == "true"
    )
    assert (
        bc.ask("verify", curve.bouncycastle, e_hex, f"{r:x}", f"{s ^ 1:x}", f"{x:x}", f"{y:x}")
        == "false"
    )
    r2, s2 = (int(v, 16) for v in bc.ask("sign", curve.bouncycastle, e_hex, f"{d:x}").split())
    for arithmetic in ARITHMETICS:
        assert signature.verify_number(curve, (x, y), e, r2, s2, arithmetic)


def test_gostcrypto_verifies_ours_in_nca_byte_order() -> None:
    """The Kazakh byte order (FIELD-NOTES): gostcrypto's format is each half reversed."""
    curve = curves.TC26_512_A
    d = int.from_bytes(os.urandom(64), "big") % curve.q
    key = signature.encode_public_key(curve, signature.public_key(curve, d))
    digest = os.urandom(64)
    value = signature.sign_digest(curve, d, digest)
    theirs = gs.new(
        gs.MODE_512, gs.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-12-512-paramSetA"]
    )
    swap = lambda b: b[::-1][len(b) // 2 :] + b[::-1][: len(b) // 2]  # noqa: E731
    assert theirs.verify(bytearray(swap(key)), bytearray(digest[::-1]), bytearray(swap(value)))
    assert signature.verify_digest(curve, key, digest, value)
    bad = bytearray(value)
    bad[5] ^= 1
    assert not signature.verify_digest(curve, key, digest, bytes(bad))
    assert not signature.verify_digest(curve, key[:-1], digest, value)


def test_key_and_signature_decoding_refuse_bad_input() -> None:
    c = curves.TC26_512_A
    with pytest.raises(ValueError, match="128 bytes"):
        signature.decode_public_key(c, b"\x01" * 64)
    with pytest.raises(ValueError, match="not a point"):
        signature.decode_public_key(c, b"\x01" * 128)
    assert signature.decode_signature(c, b"\x00" * 127) is None
    assert not signature.verify_number(c, (c.x, c.y), 5, 0, 1)
