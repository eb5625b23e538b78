"""Streebog and GOST 34.311-95 against OpenSSL's GOST provider, BouncyCastle and gostcrypto."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import gostcrypto.gosthash
import pytest

from signing.gost import gost94, streebog
from tests.gost.oracles import need_openssl_gost, openssl_streebog

# Lengths around the 64-byte block (and the 32-byte block of GOST R 34.11-94).
LENGTHS = [0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4096 + 7]
SAMPLES = [os.urandom(n) for n in LENGTHS] + [b"\xff" * 64, b"\x00" * 128]


# RFC 6986 section 10 (GOST R 34.11-2012 appendix A), as the RFC prints them: message and
# digests with the most significant byte first, i.e. each reversed from the bytes we hash.
RFC6986 = [
    (
        b"012345678901234567890123456789012345678901234567890123456789012",
        "486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00"
        "fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b",
        "00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d",
    ),
    (
        bytes.fromhex(
            "fbe2e5f0eee3c820fbeafaebef20fffbf0e1e0f0f520e0ed20e8ece0ebe5f0f2f120fff0ee"
            "ec20f120faf2fee5e2202ce8f6f3ede220e8e6eee1e8f0f2d1202ce8f0f2e5e220e5d1"
        )[::-1],
        "28fbc9bada033b1460642bdcddb90c3fb3e56c497ccd0f62b8a2ad4935e85f03"
        "7613966de4ee00531ae60f3b5a47f8dae06915d5f2f194996fcabf2622e6881e",
        "508f7e553c06501d749a66fc28c6cac0b005746d97537fa85d9e40904efed29d",
    ),
]


@pytest.mark.parametrize("force_python", [False, True], ids=["c", "python"])
@pytest.mark.parametrize(("message", "h512", "h256"), RFC6986, ids=["M1", "M2"])
def test_rfc6986_examples(message: bytes, h512: str, h256: str, force_python: bool) -> None:
    assert streebog.digest(message, force_python=force_python)[::-1].hex() == h512
    assert streebog.digest(message, 256, force_python=force_python)[::-1].hex() == h256


def _openssl_streebog_files(paths: list[Path], bits: int) -> list[bytes]:
    """One ``openssl dgst`` run over many files (``-r``: "hex *name" per line)."""
    need_openssl_gost()
    out = subprocess.run(
        ["openssl", "dgst", "-provider", "gostprov", f"-md_gost12_{bits}", "-r", *map(str, paths)],
        capture_output=True,
        check=True,
        text=True,
    )
    return [bytes.fromhex(line.split()[0]) for line in out.stdout.splitlines()]


@pytest.mark.parametrize("bits", [256, 512])
def test_streebog_matches_openssl_on_many_lengths(bits: int, tmp_path: Path) -> None:
    """Every length 0..257 (all tail sizes, 0-4 full blocks), random ones up to 64 kB, and
    multi-megabyte inputs (the 512-bit counters N and Sigma over many blocks), in one run of
    OpenSSL's GOST provider."""
    rng = random.Random(6986 + bits)
    lengths = [
        *range(258),
        *(rng.randrange(258, 1 << 16) for _ in range(40)),
        (3 << 20) + 1,
        (5 << 20) + 63,
        8 << 20,
    ]
    paths = []
    for n in lengths:
        path = tmp_path / f"{n}.bin"
        path.write_bytes(rng.randbytes(n))
        paths.append(path)
    theirs = _openssl_streebog_files(paths, bits)
    assert len(theirs) == len(paths)
    for path, digest in zip(paths, theirs, strict=True):
        assert streebog.digest(path.read_bytes(), bits) == digest, path.name


@pytest.mark.parametrize("bits", [256, 512])
def test_streebog_pure_python_agrees_on_many_lengths(bits: int) -> None:
    """The pure-Python path (DOCSERVICE_GOST_PURE_PYTHON=1) is bit-identical to the C path."""
    rng = random.Random(34112012 + bits)
    for n in [*range(200), 1000, 4096 + 7, 20_000]:
        data = rng.randbytes(n)
        assert streebog.digest(data, bits) == streebog.digest(data, bits, force_python=True), n
    pattern = bytes([0xFF]) * 640  # all-ones blocks: carries through the whole 512-bit Sigma
    assert streebog.digest(pattern, bits) == streebog.digest(pattern, bits, force_python=True)


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
        "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d"
    )
    assert gost94.digest(b"This is message, length=32 bytes").hex() == (
        "b1c466d37519b82e8319819ff32595e047a28cb6f83eff1c6916a815a637fffa"
    )
    assert gost94.digest(b"Suppose the original message has length = 50 bytes").hex() == (
        "471aba57a60a770d3a76130635c1fbea4ef14de51f78b4ae57dd893b62f55208"
    )


def test_gost94_matches_bouncycastle(bc) -> None:  # type: ignore[no-untyped-def]
    for data in SAMPLES:
        assert bc.ask("gost94", data.hex() or "-") == gost94.digest(data).hex(), len(data)


def test_gost94_paths_agree() -> None:
    """The C path (if built) and the pure-Python path are the same function."""
    assert gost94.BACKEND == "c"
    for data in SAMPLES:
        assert gost94.digest(data) == gost94.digest(data, force_python=True), len(data)
