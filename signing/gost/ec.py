"""Elliptic-curve arithmetic for GOST R 34.10: ``k1*G + k2*Q`` and ``k*G`` on a :class:`Curve`.

Two paths give the same results:

- the system's OpenSSL 3 ``libcrypto`` through ctypes (``EC_GROUP_new_curve_GFp`` and
  ``EC_POINT_mul``: curve arithmetic on any prime curve, in C, with the generator's
  multiples precomputed once per curve). Python's own ``ssl`` module links that library, so it
  is present wherever the standard library works, and nothing has to be compiled;
- plain Python integers (Jacobian coordinates), used when that library cannot be loaded.
"""

from __future__ import annotations

import ctypes
import os
import threading

from signing import _libcrypto
from signing.gost.curves import Curve

Point = tuple[int, int]


class PurePython:
    """Jacobian-coordinate arithmetic in Python integers (slow, always available)."""

    name = "python"

    def _double(self, c: Curve, pt: tuple[int, int, int]) -> tuple[int, int, int]:
        x, y, z = pt
        if not y or not z:
            return (1, 1, 0)
        p = c.p
        yy = y * y % p
        s = 4 * x * yy % p
        zz = z * z % p
        m = (3 * x * x + c.a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * y * z % p

    def _add(
        self, c: Curve, p1: tuple[int, int, int], p2: tuple[int, int, int]
    ) -> tuple[int, int, int]:
        x1, y1, z1 = p1
        x2, y2, z2 = p2
        if not z1:
            return p2
        if not z2:
            return p1
        p = c.p
        z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
        u1, u2 = x1 * z2z2 % p, x2 * z1z1 % p
        s1, s2 = y1 * z2 * z2z2 % p, y2 * z1 * z1z1 % p
        if u1 == u2:
            return self._double(c, p1) if s1 == s2 else (1, 1, 0)
        h, r = (u2 - u1) % p, (s2 - s1) % p
        hh = h * h % p
        hhh = h * hh % p
        v = u1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        return x3, (r * (v - x3) - s1 * hhh) % p, h * z1 * z2 % p

    def _affine(self, c: Curve, pt: tuple[int, int, int]) -> Point | None:
        x, y, z = pt
        if not z:
            return None
        zi = pow(z, -1, c.p)
        zi2 = zi * zi % c.p
        return x * zi2 % c.p, y * zi2 * zi % c.p

    def mul_add(self, c: Curve, k1: int, k2: int, q: Point) -> Point | None:
        """k1*G + k2*Q (Shamir's trick), or None for the point at infinity."""
        g = (c.x, c.y, 1)
        qq = (q[0], q[1], 1)
        table = {(0, 1): qq, (1, 0): g, (1, 1): self._add(c, g, qq)}
        acc = (1, 1, 0)
        for i in range(max(k1.bit_length(), k2.bit_length()) - 1, -1, -1):
            acc = self._double(c, acc)
            key = (k1 >> i & 1, k2 >> i & 1)
            if key != (0, 0):
                acc = self._add(c, acc, table[key])
        return self._affine(c, acc)

    def mul_base(self, c: Curve, k: int) -> Point | None:
        return self.mul_add(c, k, 0, (c.x, c.y))


def _load_libcrypto() -> ctypes.CDLL | None:
    if os.environ.get("DOCSERVICE_GOST_PURE_PYTHON"):
        return None
    lib = _libcrypto.load()
    if lib is None:
        return None
    try:
        _declare(lib)
    except AttributeError:
        return None
    return lib


def _declare(lib: ctypes.CDLL) -> None:
    vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    for fname, res, args in (
        ("BN_CTX_new", vp, []),
        ("BN_CTX_free", None, [vp]),
        ("BN_bin2bn", vp, [cp, ci, vp]),
        ("BN_bn2binpad", ci, [vp, cp, ci]),
        ("BN_free", None, [vp]),
        ("EC_GROUP_new_curve_GFp", vp, [vp, vp, vp, vp]),
        ("EC_GROUP_set_generator", ci, [vp, vp, vp, vp]),
        ("EC_GROUP_precompute_mult", ci, [vp, vp]),
        ("EC_POINT_new", vp, [vp]),
        ("EC_POINT_free", None, [vp]),
        ("EC_POINT_set_affine_coordinates", ci, [vp, vp, vp, vp, vp]),
        ("EC_POINT_get_affine_coordinates", ci, [vp, vp, vp, vp, vp]),
        ("EC_POINT_is_at_infinity", ci, [vp, vp]),
        ("EC_POINT_mul", ci, [vp, vp, vp, vp, vp, vp]),
    ):
        fn = getattr(lib, fname)
        fn.restype, fn.argtypes = res, args


class LibCrypto:
    """The same arithmetic in OpenSSL's libcrypto (about 100 times faster)."""

    name = "openssl"

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self._groups: dict[str, int] = {}
        self._lock = threading.Lock()

    def _bn(self, value: int, size: int) -> int:
        raw = value.to_bytes(size, "big")
        bn: int | None = self.lib.BN_bin2bn(raw, len(raw), None)
        if not bn:
            raise MemoryError("BN_bin2bn")
        return bn

    def _group(self, c: Curve) -> int:
        group = self._groups.get(c.name)
        if group:
            return group
        with self._lock:
            if c.name in self._groups:
                return self._groups[c.name]
            lib, n = self.lib, c.size + 1
            ctx = lib.BN_CTX_new()
            bns = [self._bn(v, n) for v in (c.p, c.a, c.b, c.x, c.y, c.q, 1)]
            p, a, b, x, y, q, one = bns
            made: int | None = lib.EC_GROUP_new_curve_GFp(p, a, b, ctx)
            gen = lib.EC_POINT_new(made)
            ok = (
                made
                and gen
                and lib.EC_POINT_set_affine_coordinates(made, gen, x, y, ctx)
                and lib.EC_GROUP_set_generator(made, gen, q, one)
                and lib.EC_GROUP_precompute_mult(made, ctx)
            )
            lib.EC_POINT_free(gen)
            for bn in bns:
                lib.BN_free(bn)
            lib.BN_CTX_free(ctx)
            if not ok or made is None:
                raise RuntimeError(f"libcrypto refused the curve {c.name}")
            self._groups[c.name] = made
            return made

    def _mul(self, c: Curve, k1: int, k2: int, q: Point | None) -> Point | None:
        lib, group = self.lib, self._group(c)
        n = c.size + 1
        ctx = lib.BN_CTX_new()
        res = lib.EC_POINT_new(group)
        qp = lib.EC_POINT_new(group) if q else None
        bns = [self._bn(k1 % c.q, n)]
        try:
            if q:
                bns += [self._bn(q[0], n), self._bn(q[1], n), self._bn(k2 % c.q, n)]
                if not lib.EC_POINT_set_affine_coordinates(group, qp, bns[1], bns[2], ctx):
                    raise ValueError("the public key is not a point of the curve")
            if not lib.EC_POINT_mul(group, res, bns[0], qp, bns[3] if q else None, ctx):
                raise RuntimeError("EC_POINT_mul failed")
            if lib.EC_POINT_is_at_infinity(group, res):
                return None
            x, y = self._bn(0, 1), self._bn(0, 1)
            bns += [x, y]
            lib.EC_POINT_get_affine_coordinates(group, res, x, y, ctx)
            out = ctypes.create_string_buffer(c.size)
            lib.BN_bn2binpad(x, out, c.size)
            rx = int.from_bytes(out.raw, "big")
            lib.BN_bn2binpad(y, out, c.size)
            return rx, int.from_bytes(out.raw, "big")
        finally:
            for bn in bns:
                lib.BN_free(bn)
            lib.EC_POINT_free(res)
            if qp:
                lib.EC_POINT_free(qp)
            lib.BN_CTX_free(ctx)

    def mul_add(self, c: Curve, k1: int, k2: int, q: Point) -> Point | None:
        return self._mul(c, k1, k2, q)

    def mul_base(self, c: Curve, k: int) -> Point | None:
        return self._mul(c, k, 0, None)


PURE = PurePython()
_lib = _load_libcrypto()
#: The arithmetic in use: OpenSSL's where it loads, otherwise pure Python.
ARITHMETIC: LibCrypto | PurePython = LibCrypto(_lib) if _lib is not None else PURE


def on_curve(c: Curve, pt: Point) -> bool:
    x, y = pt
    return 0 <= x < c.p and 0 <= y < c.p and (y * y - x * x * x - c.a * x - c.b) % c.p == 0
