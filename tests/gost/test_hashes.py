"""Streebog and GOST 34.311-95 against OpenSSL's GOST provider, BouncyCastle and gostcrypto."""

from __future__ import annotations

import os

import pytest

from signing.gost import gost94, streebog
from tests.gost.oracles import openssl_streebog

# Lengths around the 64-byte block (and the 32-byte block of GOST R 34.11-94).
LENGTHS = [0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4096 + 7]
SAMPLES = [os.urandom(n) for n in LENGTHS] + [b"\xff" * 64, b"\x00" * 128]


def test_rfc6986_example() -> None:
    # RFC 6986 10.1: M1 = the 63 ASCII digits "0123…012" (the RFC prints bytes reversed).
    m1 = b"012345678901234567890123456789012345678901234567890123456789012"
    assert streebog.digest(m1)[::-1].hex().startswith("486f64c1917879417fef082b3381a4e2")
    assert streebog.digest(m1).hex().startswith("1b54d01a4af5b9d5cc3d86d68d285462")


@pytest.mark.parametrize("bits", [256, 512])
def test_streebog_matches_openssl(bits: int) -> None:
    for data in [*SAMPLES, os.urandom(1 << 20)]:
        assert streebog.digest(data, bits) == openssl_streebog(data, bits), len(data)


@pytest.mark.parametrize("bits", [256, 512])
def test_streebog_paths_agree(bits: int) -> None:
    """The C path (if built) and the pure-Python path are the same function."""
    for data in SAMPLES:
        assert streebog.digest(data, bits) == streebog.digest(data, bits, force_python=True)


def test_streebog_speed_path_is_built() -> None:
    """pip install builds the C path on this kind of machine (gcc + Python headers)."""
    assert streebog.BACKEND == "c"


def test_streebog_matches_bouncycastle_and_gostcrypto(bc) -> None:  # type: ignore[no-untyped-def]
    gostcrypto = pytest.importorskip("gostcrypto")
    for data in SAMPLES[:8]:
        for bits in (256, 512):
            ours = streebog.digest(data, bits)
            assert bc.ask("streebog", str(bits), data.hex() or "-") == ours.hex()
            assert bytes(gostcrypto.gosthash.new(f"streebog{bits}", data=data).digest()) == ours


def test_streebog_hash_object() -> None:
    h = streebog.Streebog(512)
    h.update(b"abc")
    h.update(b"def")
    assert h.digest() == streebog.digest(b"abcdef") and h.copy().hexdigest() == h.hexdigest()
    with pytest.raises(ValueError, match="256- and 512"):
        streebog.digest(b"", 384)


def test_gost94_known_answers() -> None:
    # GOST R 34.11-94 with the test parameter set (the standard's examples, RFC 5831 7.3.1).
    assert gost94.digest(b"").hex() == (
        "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d")
    assert gost94.digest(b"This is message, length=32 bytes").hex() == (
        "b1c466d37519b82e8319819ff32595e047a28cb6f83eff1c6916a815a637fffa")
    assert gost94.digest(b"Suppose the original message has length = 50 bytes").hex() == (
        "471aba57a60a770d3a76130635c1fbea4ef14de51f78b4ae57dd893b62f55208")


def test_gost94_matches_bouncycastle(bc) -> None:  # type: ignore[no-untyped-def]
    for data in SAMPLES:
        assert bc.ask("gost94", data.hex() or "-") == gost94.digest(data).hex(), len(data)


def test_gost94_paths_agree() -> None:
    """The C path (if built) and the pure-Python path are the same function."""
    assert gost94.BACKEND == "c"
    for data in SAMPLES:
        assert gost94.digest(data) == gost94.digest(data, force_python=True), len(data)
