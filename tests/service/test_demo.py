"""``docservice demo``: the README's first command, as a user runs it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from docservice.forms import all_kinds


def _byte_range_content(pdf: bytes, index: int) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    fields = [f for f in reader.get_fields().values()
              if f.get("/FT") == "/Sig" and f.get("/V")]
    ranges = sorted((f["/V"].get_object()["/ByteRange"] for f in fields), key=lambda r: r[1])
    a, b, c, d = (int(x) for x in ranges[index])
    return pdf[a:a + b] + pdf[c:c + d]


@pytest.mark.slow
def test_demo_runs_the_service_and_signs_every_kind_twice(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "docservice", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    readme = (out / "README.txt").read_text(encoding="utf-8")
    for kind in all_kinds():
        assert f"{kind}" in readme
        pdf = (out / "documents" / f"{kind}.pdf").read_bytes()
        report = json.loads((out / "documents" / f"{kind}.verification.json").read_bytes())
        assert report["verdict"] == "TOTAL_PASSED"
        assert len([s for s in report["signatures"] if s["kind"] == "pdf_signature"]) == 2
        assert (out / "documents" / f"{kind}.xml").read_bytes().startswith(b"<?xml")
        doc = json.loads((out / "documents" / f"{kind}.document.json").read_bytes())
        assert doc["signature_count"] == 2 and doc["verification"]["verdict"] == "TOTAL_PASSED"
    # OpenSSL (not our code) agrees that each official's CMS signs its byte range.
    pdf = (out / "documents" / "direction.pdf").read_bytes()
    for n in (1, 2):
        content = tmp_path / f"content{n}.bin"
        content.write_bytes(_byte_range_content(pdf, n - 1))
        check = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
             str(out / "documents" / f"direction.signer{n}.p7s"), "-content", str(content),
             "-CAfile", str(out / "trust" / "demo-root.pem"), "-purpose", "any",
             "-out", "/dev/null"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    log = (out / "service.log").read_text(encoding="utf-8")
    assert "850301300121" not in log and "781122300344" not in log
