"""GOST R 34.11-2012 "Streebog" (= GOST 34.11-2015 in Kazakhstan), 256 and 512 bits.

Byte order is the one OpenSSL's GOST provider and NCA use: the message is hashed as given and
the digest is the state's bytes, least significant first (RFC 6986 prints both reversed).

Two paths compute the same function: the C extension ``signing.gost._gostc`` (built at install,
see ``hatch_build.py``; about 250 MB/s) and the pure-Python code below (slow but always there).
Both use the tables computed here from the constants of the standard, so the C code holds no
constants of its own.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

from signing.gost._streebog_constants import PI, A, C

BLOCK = 64


def _tables() -> list[list[int]]:
    """The combined S, P and L transformation as 8 tables of 256 64-bit words.

    ``T[k][x]`` is l() of the word whose byte k is PI[x]: one LPS step is then 64 look-ups.
    """
    rows = []
    for k in range(8):
        row = []
        for x in range(256):
            acc, y = 0, PI[x]
            for j in range(8):
                if y >> j & 1:
                    acc ^= A[63 - (8 * k + j)]
            row.append(acc)
        rows.append(row)
    return rows


T = _tables()
# Pure-Python path: the state is one 512-bit integer; byte j = 8k + i of the state feeds
# output word i through T[k], so each byte has its own table of 512-bit contributions.
_TT = [[T[j >> 3][x] << (64 * (j & 7)) for x in range(256)] for j in range(64)]
_CI = [int.from_bytes(c, "little") for c in C]
_M512 = (1 << 512) - 1


def _lps(x: int) -> int:
    r = 0
    for table, byte in zip(_TT, x.to_bytes(64, "little"), strict=True):
        r ^= table[byte]
    return r


def _g(h: int, n: int, m: int) -> int:
    """The compression function g_N(h, m) of RFC 6986 section 7."""
    k = _lps(h ^ n)
    state = k ^ m
    for c in _CI:
        state = _lps(state)
        k = _lps(k ^ c)
        state ^= k
    return state ^ h ^ m


def _python_digest(data: bytes, bits: int) -> bytes:
    h = 0 if bits == 512 else int.from_bytes(b"\x01" * 64, "little")
    n = sigma = 0
    full = len(data) - len(data) % BLOCK
    for off in range(0, full, BLOCK):
        m = int.from_bytes(data[off : off + BLOCK], "little")
        h = _g(h, n, m)
        n = (n + 512) & _M512
        sigma = (sigma + m) & _M512
    rest = data[full:]
    m = int.from_bytes(rest + b"\x01" + bytes(BLOCK - 1 - len(rest)), "little")
    h = _g(h, n, m)
    n = (n + 8 * len(rest)) & _M512
    sigma = (sigma + m) & _M512
    h = _g(_g(h, 0, n), 0, sigma)
    out = h.to_bytes(64, "little")
    return out if bits == 512 else out[32:]


#: The C extension's digest, or None where it is not built (or pure Python is requested).
_c_digest: Callable[[bytes, int], bytes] | None = None
try:
    if os.environ.get("DOCSERVICE_GOST_PURE_PYTHON"):
        raise ImportError("pure Python requested")
    from signing.gost import _gostc
except ImportError:  # no compiler at install time: the pure-Python path stays correct
    pass
else:
    _gostc.streebog_setup(b"".join(struct.pack("<256Q", *row) for row in T), b"".join(C))
    _c_digest = _gostc.streebog

#: Which implementation runs ("c" or "python"); the benchmark prints it.
BACKEND = "c" if _c_digest is not None else "python"


def digest(data: bytes, bits: int = 512, *, force_python: bool = False) -> bytes:
    """Streebog-512 (default) or Streebog-256 of ``data``."""
    if bits not in (256, 512):
        raise ValueError("Streebog has 256- and 512-bit variants only")
    if _c_digest is not None and not force_python:
        return _c_digest(data, bits)
    return _python_digest(bytes(data), bits)


class Streebog:
    """A hashlib-like object (``update``/``digest``) for callers that hash in pieces."""

    def __init__(self, bits: int = 512, data: bytes = b"") -> None:
        if bits not in (256, 512):
            raise ValueError("Streebog has 256- and 512-bit variants only")
        self.bits = bits
        self.digest_size = bits // 8
        self.name = f"streebog{bits}"
        self._parts: list[bytes] = [bytes(data)] if data else []

    def update(self, data: bytes) -> None:
        self._parts.append(bytes(data))

    def copy(self) -> Streebog:
        other = Streebog(self.bits)
        other._parts = list(self._parts)
        return other

    def digest(self) -> bytes:
        return digest(b"".join(self._parts), self.bits)

    def hexdigest(self) -> str:
        return self.digest().hex()
