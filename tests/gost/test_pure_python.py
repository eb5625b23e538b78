"""Where the speed paths cannot be had (no compiler at install, no libcrypto), the pure-Python
code does the same work: NCA's real certificate signatures verify with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import signing.gost as gost
from tests.gost.nca import cert
assert set(gost.backends().values()) == {"python"}, gost.backends()
for leaf, ca in (("gost2015_individual_Aa123456.p12", "nca_gost2015_test.cer"),
                 ("ceo_valid_sign_2004_gost.cer", "nca_gost_test.crt")):
    c, issuer = cert(leaf), cert(ca)
    spki = issuer["tbs_certificate"]["subject_public_key_info"].dump()
    alg = c["signature_algorithm"]["algorithm"].dotted
    tbs, value = c["tbs_certificate"].dump(), c["signature_value"].native
    assert gost.verify_spki(spki, alg, tbs, value), leaf
    assert not gost.verify_spki(spki, alg, tbs + b"x", value), leaf
print("ok")
"""


def test_pure_python_paths_verify_real_nca_signatures() -> None:
    env = {**os.environ, "DOCSERVICE_GOST_PURE_PYTHON": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
