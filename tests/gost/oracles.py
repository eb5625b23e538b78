"""Independent GOST implementations the tests compare ours with.

- OpenSSL with Debian's ``libengine-gost-openssl`` (provider ``gostprov`` for digests, engine
  ``gost`` for keys and signatures): Streebog and GOST R 34.10-2012/2001 under Russian OIDs;
- BouncyCastle (Debian ``libbcprov-java``) through ``BcOracle.java``: Streebog, GOST R
  34.11-94 with the test S-box, ECGOST3410 on the CryptoPro and TC26 curves;
- ``gostcrypto`` (pure Python, PyPI, a ``[test]`` dependency): Streebog and GOST R 34.10-2012,
  imported plainly, so a missing or changed package fails.

Each external-tool helper calls ``need()``: missing here -> skip; in CI
(DOCSERVICE_REQUIRE_SERVICES=1) -> fail, so the cross-checks always run in CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from functools import cache
from pathlib import Path
from typing import ClassVar

from tests.conftest import need

BCPROV = Path("/usr/share/java/bcprov.jar")
HERE = Path(__file__).parent


@cache
def _openssl_gost() -> bool:
    if not shutil.which("openssl"):
        return False
    run = subprocess.run(
        ["openssl", "dgst", "-provider", "gostprov", "-md_gost12_512"],
        input=b"",
        capture_output=True,
    )
    return run.returncode == 0


def need_openssl_gost() -> None:
    need(_openssl_gost(), "openssl with the GOST provider (Debian libengine-gost-openssl)")


def openssl_streebog(data: bytes, bits: int = 512) -> bytes:
    need_openssl_gost()
    out = subprocess.run(
        ["openssl", "dgst", "-provider", "gostprov", f"-md_gost12_{bits}", "-binary"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    return out


class OpenSSLKey:
    """A GOST key made by OpenSSL's engine: its private number, point and files."""

    ALGORITHMS: ClassVar[dict[str, tuple[str, str]]] = {
        "id-tc26-gost-3410-12-512-paramSetA": ("gost2012_512", "A"),
        "id-tc26-gost-3410-12-512-paramSetB": ("gost2012_512", "B"),
        "id-tc26-gost-3410-2012-256-paramSetA": ("gost2012_256", "TCA"),
        "id-GostR3410-2001-CryptoPro-A-ParamSet": ("gost2001", "A"),
    }

    def __init__(self, curve_name: str, directory: Path) -> None:
        need_openssl_gost()
        alg, paramset = self.ALGORITHMS[curve_name]
        self.pem = directory / f"{alg}-{paramset}.pem"
        self.pub = directory / f"{alg}-{paramset}.pub.der"
        eng = ["-engine", "gost"]
        subprocess.run(
            [
                "openssl",
                "genpkey",
                *eng,
                "-algorithm",
                alg,
                "-pkeyopt",
                f"paramset:{paramset}",
                "-out",
                str(self.pem),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "openssl",
                "pkey",
                *eng,
                "-in",
                str(self.pem),
                "-pubout",
                "-outform",
                "DER",
                "-out",
                str(self.pub),
            ],
            check=True,
            capture_output=True,
        )
        text = subprocess.run(
            ["openssl", "pkey", *eng, "-in", str(self.pem), "-text", "-noout"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        fields = dict(re.findall(r"(Private key|X|Y):\s*([0-9A-F]+)", text))
        self.d = int(fields["Private key"], 16)
        self.point = (int(fields["X"], 16), int(fields["Y"], 16))
        self.size = 64 if alg == "gost2012_512" else 32

    def sign_digest(self, digest: bytes) -> tuple[int, int]:
        """OpenSSL's signature over a digest, as (r, s) (it writes s||r big-endian)."""
        sig = subprocess.run(
            ["openssl", "pkeyutl", "-engine", "gost", "-sign", "-inkey", str(self.pem)],
            input=digest,
            capture_output=True,
            check=True,
        ).stdout
        return int.from_bytes(sig[self.size :], "big"), int.from_bytes(sig[: self.size], "big")

    def verify_digest(self, digest: bytes, r: int, s: int, tmp: Path) -> bool:
        sig = tmp / "sig.bin"
        sig.write_bytes(s.to_bytes(self.size, "big") + r.to_bytes(self.size, "big"))
        run = subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-engine",
                "gost",
                "-verify",
                "-pubin",
                "-keyform",
                "DER",
                "-inkey",
                str(self.pub),
                "-sigfile",
                str(sig),
            ],
            input=digest,
            capture_output=True,
        )
        return b"Signature Verified Successfully" in run.stdout


class BouncyCastle:
    """One JVM running BcOracle.java for the whole session; one line per question."""

    def __init__(self) -> None:
        need(
            bool(shutil.which("java")) and BCPROV.exists(),
            "java and BouncyCastle (Debian default-jre-headless, libbcprov-java)",
        )
        self._proc = subprocess.Popen(
            ["java", "-cp", str(BCPROV), str(HERE / "BcOracle.java")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()

    def ask(self, *words: str) -> str:
        with self._lock:
            assert self._proc.stdin and self._proc.stdout
            self._proc.stdin.write(" ".join(words) + "\n")
            self._proc.stdin.flush()
            answer = self._proc.stdout.readline().strip()
        assert answer and not answer.startswith("error"), answer
        return answer

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)


def bc_verifies(
    bc: BouncyCastle, spki_key: bytes, curve_name: str, size: int, digest: bytes, value: bytes
) -> bool:
    """BouncyCastle's verdict on a Kazakh-encoded signature value over ``digest``.

    ``spki_key``: x||y little-endian halves; ``value``: r||s little-endian halves; the
    digest as OpenSSL prints it (read as a little-endian number).
    """
    x, y = (int.from_bytes(spki_key[i * size : (i + 1) * size], "little") for i in (0, 1))
    r, s = (int.from_bytes(value[i * size : (i + 1) * size], "little") for i in (0, 1))
    e = format(int.from_bytes(digest, "little"), f"0{2 * size}x")
    return bc.ask("verify", curve_name, e, f"{r:x}", f"{s:x}", f"{x:x}", f"{y:x}") == "true"


def check_gost_signer_info(bc: BouncyCastle, info, cert, content: bytes) -> None:  # type: ignore[no-untyped-def]
    """A GOST SignerInfo checked without our code: OpenSSL hashes, BouncyCastle verifies."""
    import signing.gost as gost

    bits = 512 if info["digest_algorithm"]["algorithm"].dotted == gost.STREEBOG512 else 256
    md = next(
        a["values"][0].native for a in info["signed_attrs"] if a["type"].native == "message_digest"
    )
    assert md == openssl_streebog(content, bits), "messageDigest is not OpenSSL's Streebog"
    key = gost.parse_public_key(cert["tbs_certificate"]["subject_public_key_info"].dump())
    attrs = b"\x31" + info["signed_attrs"].dump()[1:]
    assert bc_verifies(
        bc,
        key.key,
        key.curve.bouncycastle,
        key.curve.size,
        openssl_streebog(attrs, bits),
        info["signature"].native,
    ), "BouncyCastle does not verify the signature value"
