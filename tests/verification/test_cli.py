"""The ``verify`` command: exit codes 0/1/2, JSON and text output, unusable input."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import pem

from docservice.verification.cli import add_cli
from tests.verification.conftest import Docs
from tests.verification.fixtures import incremental_update_attack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trust_dir(tmp_path_factory, pki) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("trust")
    (folder / "root.pem").write_bytes(pem.armor("CERTIFICATE", pki.root.dump()))
    (folder / "ca.cer").write_bytes(pki.ca.dump())
    return folder


def _run(argv: list[str], capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    parser = argparse.ArgumentParser(prog="docservice")
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes(tmp_path: Path, trust_dir: Path, docs: Docs, capsys) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.pdf"
    good.write_bytes(docs.bb())
    code, out, _ = _run(["verify", str(good), "--trust", str(trust_dir), "--lang", "ru"], capsys)
    assert code == 0 and "Действительна" in out and "ӘБІЛҚАСЫМОВА" in out
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(incremental_update_attack(docs.bb()))
    code, out, _ = _run(["verify", str(bad), "--trust", str(trust_dir), "--json"], capsys)
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "TOTAL_FAILED"
    assert report["signatures"][0]["sub_indication"] == "SIG_CONSTRAINTS_FAILURE"


def test_indeterminate_and_detached(
    tmp_path: Path,
    trust_dir: Path,
    signers,  # type: ignore[no-untyped-def]
    capsys,
) -> None:
    cms_file = tmp_path / "sig.cms"
    cms_file.write_bytes(pem.armor("CMS", signers.cms(b"data", ["career"]).dump()))
    original = tmp_path / "data.txt"
    original.write_bytes(b"data")
    code, out, _ = _run(["verify", str(cms_file), "--trust", str(trust_dir)], capsys)
    assert code == 2 and "SIGNED_DATA_NOT_FOUND" in out
    code, _, _ = _run(
        ["verify", str(cms_file), "--original", str(original), "--trust", str(trust_dir)], capsys
    )
    assert code == 0


def test_unusable_input_one_line(tmp_path: Path, trust_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a document at all")
    code, out, err = _run(["verify", str(junk), "--trust", str(trust_dir), "--lang", "ru"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "PDF, XML или CMS" in err
    code, _, err = _run(["verify", str(junk), "--trust", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "trust" in err


def test_module_entry_point(tmp_path: Path, trust_dir: Path, docs: Docs) -> None:
    good = tmp_path / "x.xml"
    good.write_bytes(docs.xml())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "docservice.verification.cli",
            str(good),
            "--trust",
            str(trust_dir),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["document"]["format"] == "xml"
