"""``sign`` command: real files, a real subprocess, one-line errors, no partial output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from docservice.pki.anchors import TrustAnchors
from signing.cli import main
from signing.xmldsig import verify_xml
from tests.pyhanko_oracle import all_valid, pyhanko_cms_statuses, pyhanko_pdf_statuses

ROOT = Path(__file__).resolve().parents[2]


def test_pdf_b_lt_through_a_subprocess(pki, rendered, password_file, tmp_path, trust) -> None:
    src, out = tmp_path / "doc.pdf", tmp_path / "signed.pdf"
    src.write_bytes(rendered.pdf)
    env = {k: v for k, v in os.environ.items() if k != "DOCSERVICE_KEY_PASSWORD"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "signing.cli",
            "sign",
            str(src),
            "--key",
            str(pki.p12("head")),
            "--password-file",
            str(password_file),
            "--level",
            "B-LT",
            "--certify",
            "--role",
            "first_head",
            "--tsa-url",
            pki.tsa_url,
            "--trust",
            str(pki.root_pem),
            "--intermediate",
            str(pki.ca_pem),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert all_valid(pyhanko_pdf_statuses(out.read_bytes(), trust, long_term=True))


def test_xml_and_detached_cms_with_env_password(
    pki, rendered, tmp_path, monkeypatch, trust
) -> None:
    monkeypatch.setenv("DOCSERVICE_KEY_PASSWORD", pki.password)
    xml, xml_out = tmp_path / "doc.xml", tmp_path / "doc.signed.xml"
    xml.write_bytes(rendered.xml)
    assert main(["sign", str(xml), "--key", str(pki.p12("hr")), "--out", str(xml_out)]) == 0
    assert len(verify_xml(xml_out.read_bytes(), trust)) == 1
    cms_out = tmp_path / "doc.xml.cms"
    assert (
        main(
            [
                "sign",
                str(xml),
                "--key",
                str(pki.p12("hr")),
                "--detached",
                "--level",
                "B-T",
                "--tsa-url",
                pki.tsa_url,
                "--trust",
                str(pki.root_pem),
                "--cms-format",
                "base64",
                "--out",
                str(cms_out),
            ]
        )
        == 0
    )
    assert all_valid(pyhanko_cms_statuses(xml.read_bytes(), cms_out.read_text(), trust))


@pytest.mark.parametrize(
    ("label", "extra", "needle"),
    [
        ("career", ["--password-file", "{wrong}"], "Неверный пароль"),
        ("expired", [], "истёк"),
        ("authonly", [], "не предназначен"),
        ("revoked", ["--trust", "{root}"], "отозван"),
        ("career", ["--role", "hr"], "нет роли"),
    ],
)
def test_refusals_are_one_line_exit_2_and_no_file(
    pki, rendered, tmp_path, monkeypatch, capsys, label, extra, needle
) -> None:
    monkeypatch.setenv("DOCSERVICE_KEY_PASSWORD", pki.password)
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("nope\n")
    src, out = tmp_path / "doc.pdf", tmp_path / "out.pdf"
    src.write_bytes(rendered.pdf)
    args = [a.format(wrong=wrong, root=pki.root_pem) for a in extra]
    code = main(["sign", str(src), "--key", str(pki.p12(label)), *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".partial")] == []


def test_missing_password_and_unknown_file_type(pki, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("DOCSERVICE_KEY_PASSWORD", raising=False)
    src = tmp_path / "doc.bin"
    src.write_bytes(b"\x00\x01binary")
    assert main(["sign", str(src), "--key", str(pki.p12("hr")), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_trust_loads_pem_files(pki) -> None:
    assert TrustAnchors.from_files([pki.root_pem], [pki.ca_pem]).roots[0].dump() == pki.root.dump()
