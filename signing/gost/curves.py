"""GOST R 34.10 curve parameter sets, and which one each Kazakh OID names.

The numbers are the Weierstrass forms published in RFC 4357 section 11.4 (CryptoPro-A) and
RFC 7836 / R 1323565.1.024-2019 (TC26 sets); tests/gost checks every one of them against
BouncyCastle's and gostcrypto's tables.

NCA RK names its parameter sets with its own OIDs and does not publish the mapping. The
mapping below comes from verifying NCA's real signatures (``../shared/nca-test``, pinned by
tests/gost/test_nca_material.py):

- 1.2.398.3.10.1.1.2.2.1 (GOST 34.10-2015, 512 bits) = id-tc26-gost-3410-12-512-paramSetA:
  the GOST 2015 CA's signature over the leaf certificate in ``gost2015_individual_…p12``,
  the CA's own self-issued certificate, its OCSP responses and CRL verify on this curve only.
- 1.2.398.3.10.1.1.1.1.1 (GOST 34.310-2004) = id-GostR3410-2001-CryptoPro-A-ParamSet: the
  test TSA's ``tsp_token.bin``, the 2004 GOST CA's certificates and CRL verify on it.
- 1.2.398.3.10.1.1.2.1.1 (GOST 34.10-2015, 256 bits) = id-tc26-gost-3410-2012-256-paramSetA,
  as the public open-source Kazakh verifiers map it. NCA's public test material has no
  256-bit signature, so this one is NOT proven on real material; signatures on it verify
  against our own and BouncyCastle's only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Curve:
    """y^2 = x^3 + ax + b over GF(p), base point (x, y) of prime order q."""

    name: str
    russian_oid: str
    bouncycastle: str
    size: int  # bytes of a coordinate, of r, of s: 32 or 64
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int

    @property
    def bits(self) -> int:
        return self.size * 8


CRYPTOPRO_A = Curve(
    name="id-GostR3410-2001-CryptoPro-A-ParamSet",
    russian_oid="1.2.643.2.2.35.1",
    bouncycastle="GostR3410-2001-CryptoPro-A",
    size=32,
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97,
    a=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94,
    b=0xA6,
    q=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893,
    x=0x1,
    y=0x8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14,
)

TC26_512_A = Curve(
    name="id-tc26-gost-3410-12-512-paramSetA",
    russian_oid="1.2.643.7.1.2.1.2.1",
    bouncycastle="Tc26-Gost-3410-12-512-paramSetA",
    size=64,
    p=int(
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdc7",
        16,
    ),
    a=int(
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdc4",
        16,
    ),
    b=int(
        "e8c2505dedfc86ddc1bd0b2b6667f1da34b82574761cb0e879bd081cfd0b6265"
        "ee3cb090f30d27614cb4574010da90dd862ef9d4ebee4761503190785a71c760",
        16,
    ),
    q=int(
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "27e69532f48d89116ff22b8d4e0560609b4b38abfad2b85dcacdb1411f10b275",
        16,
    ),
    x=0x3,
    y=int(
        "7503cfe87a836ae3a61b8816e25450e6ce5e1c93acf1abc1778064fdcbefa921"
        "df1626be4fd036e93d75e6a50e3a41e98028fe5fc235f5b889a589cb5215f2a4",
        16,
    ),
)

TC26_256_A = Curve(
    name="id-tc26-gost-3410-2012-256-paramSetA",
    russian_oid="1.2.643.7.1.2.1.1.1",
    bouncycastle="Tc26-Gost-3410-12-256-paramSetA",
    size=32,
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97,
    a=0xC2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335,
    b=0x295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513,
    q=0x400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67,
    x=0x91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28,
    y=0x32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C,
)

TC26_512_B = Curve(
    name="id-tc26-gost-3410-12-512-paramSetB",
    russian_oid="1.2.643.7.1.2.1.2.2",
    bouncycastle="Tc26-Gost-3410-12-512-paramSetB",
    size=64,
    p=int(
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006f",
        16,
    ),
    a=int(
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006c",
        16,
    ),
    b=int(
        "687d1b459dc841457e3e06cf6f5e2517b97c7d614af138bcbf85dc806c4b289f"
        "3e965d2db1416d217f8b276fad1ab69c50f78bee1fa3106efb8ccbc7c5140116",
        16,
    ),
    q=int(
        "8000000000000000000000000000000000000000000000000000000000000001"
        "49a1ec142565a545acfdb77bd9d40cfa8b996712101bea0ec6346c54374f25bd",
        16,
    ),
    x=0x2,
    y=int(
        "1a8f7eda389b094c2c071e3647a8940f3c123b697578c213be6dd9e6c8ec7335"
        "dcb228fd1edf4a39152cbcaaf8c0398828041055f94ceeec7e21340780fe41bd",
        16,
    ),
)


#: Every curve by its RFC name.
BY_NAME = {c.name: c for c in (CRYPTOPRO_A, TC26_512_A, TC26_256_A, TC26_512_B)}

#: Kazakh parameter-set OID -> curve (see the module docstring for where each comes from).
KAZAKH = {
    "1.2.398.3.10.1.1.2.2.1": TC26_512_A,
    "1.2.398.3.10.1.1.2.1.1": TC26_256_A,
    "1.2.398.3.10.1.1.1.1.1": CRYPTOPRO_A,
}

#: Russian parameter-set OID -> curve (keys made by OpenSSL's GOST provider in tests).
RUSSIAN = {c.russian_oid: c for c in BY_NAME.values()}
