"""The system's OpenSSL 3 libcrypto through ctypes, for what ``cryptography`` does not offer.

Python's own ``ssl`` module links this library, so it is present wherever the standard
library works, and nothing has to be compiled. Two users: GOST curve arithmetic
(``signing.gost.ec``) and the RC2-40 decryption of NCA's PKCS#12 certificate bags
(``cryptography`` implements RC2 with 128-bit keys only).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import cache


@cache
def load() -> ctypes.CDLL | None:
    """The library (OpenSSL 3.0 or later), or None where it cannot be loaded."""
    for name in ("libcrypto.so.3", ctypes.util.find_library("crypto")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.OpenSSL_version_num.restype = ctypes.c_ulong
            if lib.OpenSSL_version_num() >= 0x30000000:
                return lib
        except (OSError, AttributeError):
            continue
    return None


_legacy_lock = threading.Lock()
_legacy: list[int] = []


def _legacy_context(lib: ctypes.CDLL) -> int:
    """A private library context with OpenSSL's legacy provider (RC2): the global one and
    so Python's ``ssl`` stay untouched."""
    with _legacy_lock:
        if not _legacy:
            vp = ctypes.c_void_p
            lib.OSSL_LIB_CTX_new.restype = vp
            lib.OSSL_PROVIDER_load.restype = vp
            lib.OSSL_PROVIDER_load.argtypes = [vp, ctypes.c_char_p]
            ctx = lib.OSSL_LIB_CTX_new()
            if not ctx or not lib.OSSL_PROVIDER_load(ctx, b"legacy"):
                raise ValueError("OpenSSL's legacy provider (RC2) is not installed")
            _legacy.append(ctx)
        return _legacy[0]


def rc2_40_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """RC2 with a 40-bit key in CBC mode, PKCS#7 padding removed (RFC 7292's RC2-40 PBE)."""
    lib = load()
    if lib is None:
        raise ValueError("RC2-40 needs the system's OpenSSL 3 libcrypto")
    vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    lib.EVP_CIPHER_fetch.restype = vp
    lib.EVP_CIPHER_fetch.argtypes = [vp, cp, cp]
    lib.EVP_CIPHER_CTX_new.restype = vp
    lib.EVP_CIPHER_CTX_free.argtypes = [vp]
    lib.EVP_CIPHER_free.argtypes = [vp]
    lib.EVP_DecryptInit_ex.argtypes = [vp, vp, vp, cp, cp]
    lib.EVP_DecryptUpdate.argtypes = [vp, cp, ctypes.POINTER(ci), cp, ci]
    lib.EVP_DecryptFinal_ex.argtypes = [vp, vp, ctypes.POINTER(ci)]
    cipher = lib.EVP_CIPHER_fetch(_legacy_context(lib), b"RC2-40-CBC", None)
    if not cipher:
        raise ValueError("OpenSSL has no RC2-40-CBC")
    ctx = lib.EVP_CIPHER_CTX_new()
    try:
        out = ctypes.create_string_buffer(len(data) + 16)
        n1, n2 = ci(0), ci(0)
        ok = (
            lib.EVP_DecryptInit_ex(ctx, cipher, None, key, iv)
            and lib.EVP_DecryptUpdate(ctx, out, ctypes.byref(n1), data, len(data))
            and lib.EVP_DecryptFinal_ex(ctx, ctypes.addressof(out) + n1.value, ctypes.byref(n2))
        )
        if not ok:
            raise ValueError("RC2-40 decryption failed (wrong password or damaged data)")
        return out.raw[: n1.value + n2.value]
    finally:
        lib.EVP_CIPHER_CTX_free(ctx)
        lib.EVP_CIPHER_free(cipher)
