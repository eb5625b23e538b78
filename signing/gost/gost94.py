"""GOST R 34.11-94 with the test S-box: Kazakhstan's GOST 34.311-95 (OID 1.2.398.3.10.1.3.1).

NCA's 2004-era signatures (GOST 34.310-2004) hash with it. Which S-box it uses was measured
on NCA's real time-stamp token (``nca-test/tsp_token.bin``, see FIELD-NOTES "GOST in
practice"): the test parameter set of GOST R 34.11-94 (RFC 4357 id-GostR3411-94-TestParamSet,
BouncyCastle's "D-TEST"), not CryptoPro's. Byte order as BouncyCastle's GOST3411Digest: the
message and the digest are little-endian 256-bit numbers.

Two paths compute the same function: the C extension ``signing.gost._gostc`` (built at
install, fed the tables computed here) and the pure-Python code below.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

#: The test S-box of GOST R 34.11-94 (the standard's appendix A; RFC 4357 section 11.2).
TEST_SBOX = (
    (4, 10, 9, 2, 13, 8, 0, 14, 6, 11, 1, 12, 7, 15, 5, 3),
    (14, 11, 4, 12, 6, 13, 15, 10, 2, 3, 8, 1, 0, 7, 5, 9),
    (5, 8, 1, 13, 10, 3, 4, 2, 14, 15, 12, 7, 6, 0, 9, 11),
    (7, 13, 10, 1, 0, 8, 9, 15, 14, 4, 6, 12, 11, 2, 5, 3),
    (6, 12, 7, 1, 5, 15, 13, 8, 4, 10, 9, 14, 0, 3, 11, 2),
    (4, 11, 10, 0, 7, 2, 1, 13, 3, 6, 8, 5, 9, 12, 15, 14),
    (13, 11, 4, 1, 3, 15, 5, 9, 0, 10, 14, 7, 6, 8, 2, 12),
    (1, 15, 13, 0, 5, 7, 10, 4, 9, 2, 3, 14, 6, 11, 8, 12),
)

_M32 = 0xFFFFFFFF
_M256 = (1 << 256) - 1
#: C_3 of the key generation (C_2 = C_4 = 0).
_C3 = int.from_bytes(
    bytes.fromhex("ff00ffff000000ffff0000ff00ffff0000ff00ff00ff00ffff00ff00ff00ff00"), "big"
)


def _byte_tables(sbox: tuple[tuple[int, ...], ...]) -> list[list[int]]:
    """Substitution of a whole byte (two S-boxes) at each of the four byte positions."""
    return [
        [(sbox[2 * j + 1][x >> 4] << 4 | sbox[2 * j][x & 15]) << (8 * j) for x in range(256)]
        for j in range(4)
    ]


_SB = _byte_tables(TEST_SBOX)


def _f(x: int) -> int:
    """GOST 28147-89 round function: S-boxes, then rotate left by 11."""
    y = _SB[0][x & 255] | _SB[1][x >> 8 & 255] | _SB[2][x >> 16 & 255] | _SB[3][x >> 24]
    return (y << 11 | y >> 21) & _M32


def _encrypt(key: int, block: int) -> int:
    """GOST 28147-89 simple substitution mode, one 64-bit block (little-endian halves)."""
    k = [(key >> (32 * i)) & _M32 for i in range(8)]
    n1, n2 = block & _M32, block >> 32
    for i in (*range(8), *range(8), *range(8), *range(7, -1, -1)):
        n1, n2 = n2 ^ _f((n1 + k[i]) & _M32), n1
    return n1 << 32 | n2


def _a(y: int) -> int:
    """A(y4||y3||y2||y1) = (y1 xor y2)||y4||y3||y2, on 64-bit words."""
    m = (1 << 64) - 1
    y1, y2 = y & m, y >> 64 & m
    return (y >> 64) | ((y1 ^ y2) << 192)


def _p(y: int) -> int:
    """The byte permutation phi(i + 1 + 4(k - 1)) = 8i + k."""
    b = y.to_bytes(32, "little")
    out = bytearray(32)
    for i in range(4):
        for k in range(1, 9):
            out[i + 4 * (k - 1)] = b[8 * i + k - 1]
    return int.from_bytes(out, "little")


def _psi(y: int) -> int:
    """One step of the shuffling: the 16-bit words shift down, y1^y2^y3^y4^y13^y16 enters."""
    w = [(y >> (16 * i)) & 0xFFFF for i in (0, 1, 2, 3, 12, 15)]
    top = w[0] ^ w[1] ^ w[2] ^ w[3] ^ w[4] ^ w[5]
    return (y >> 16) | (top << 240)


def _psi_n(y: int, n: int) -> int:
    for _ in range(n):
        y = _psi(y)
    return y


def _step(h: int, m: int) -> int:
    """The step function f(H, M) of GOST R 34.11-94."""
    u, v = h, m
    keys = [_p(u ^ v)]
    for c in (0, _C3, 0):
        u = _a(u) ^ c
        v = _a(_a(v))
        keys.append(_p(u ^ v))
    s = 0
    for j, key in enumerate(keys):
        s |= _encrypt(key, (h >> (64 * j)) & ((1 << 64) - 1)) << (64 * j)
    return _psi_n(h ^ _psi(m ^ _psi_n(s, 12)), 61)


def digest(data: bytes, *, force_python: bool = False) -> bytes:
    """GOST 34.311-95 (= GOST R 34.11-94, test S-box) of ``data``, 32 bytes."""
    if _c_digest is not None and not force_python:
        return _c_digest(data)
    return _python_digest(bytes(data))


def _python_digest(data: bytes) -> bytes:
    h = sigma = 0
    full = len(data) - len(data) % 32
    for off in range(0, full, 32):
        m = int.from_bytes(data[off : off + 32], "little")
        h = _step(h, m)
        sigma = (sigma + m) & _M256
    if full < len(data):
        m = int.from_bytes(data[full:], "little")
        h = _step(h, m)
        sigma = (sigma + m) & _M256
    h = _step(h, (8 * len(data)) & _M256)
    h = _step(h, sigma)
    return h.to_bytes(32, "little")


#: The C extension's digest, or None where it is not built (or pure Python is requested).
_c_digest: Callable[[bytes], bytes] | None = None
try:
    if os.environ.get("DOCSERVICE_GOST_PURE_PYTHON"):
        raise ImportError("pure Python requested")
    from signing.gost import _gostc
except ImportError:
    pass
else:
    _gostc.gost94_setup(
        b"".join(struct.pack("<256I", *row) for row in _SB), _C3.to_bytes(32, "little")
    )
    _c_digest = _gostc.gost94

#: Which implementation runs ("c" or "python").
BACKEND = "c" if _c_digest is not None else "python"
