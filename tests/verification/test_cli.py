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


#: What neither ``--help`` nor building ``docservice``'s parser may load: a second of CPU
#: per process before any work (the suite starts ~100 ``docservice`` processes).
HEAVY = (
    "pyhanko",
    "pyhanko_certvalidator",
    "asn1crypto",
    "aiohttp",
    "fontTools",
    "lxml",
    "signxml",
    "pikepdf",
    "sqlalchemy",
    "flask",
    "signing.patches",
    "signing.pdf",
    "docservice.forms",
    "docservice.render",
    "docservice.rendering",
    "docservice.verification.certs",
)
#: What verifying a file never needs: the signing side, the stamp's fonts, the renderer.
NOT_FOR_VERIFY = (
    "signing.pdf",
    "signing.stamp",
    "fontTools",
    "docservice.forms",
    "docservice.render",
    "docservice.rendering",
    "sqlalchemy",
    "flask",
)


def _cli_imports(argv: list[str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``python -X importtime -m docservice ARGV``, and the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "docservice", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return done, names


def _loaded(names: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in packages))


@pytest.mark.parametrize("argv", [["--help"], ["verify", "--help"], ["sign", "--help"]])
def test_help_loads_no_library(argv: list[str]) -> None:
    done, names = _cli_imports(argv)
    assert done.returncode == 0 and done.stdout.startswith("usage: docservice")
    assert "docservice.cli" in names  # the listing is the one of this run
    assert _loaded(names, HEAVY) == []


def test_verify_loads_only_its_format(tmp_path: Path, trust_dir: Path, docs: Docs) -> None:
    """A PDF is verified without the XML verifier, an XML without pikepdf and the PDF
    verifier, and neither with the signing side or the renderer; patches applied first."""
    for name, data, needed, unneeded in (
        (
            "x.pdf",
            docs.bb(),
            "docservice.verification.pdf",
            ("docservice.verification.xml", "signxml"),
        ),
        (
            "x.xml",
            docs.xml(),
            "docservice.verification.xml",
            ("docservice.verification.pdf", "pikepdf"),
        ),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        done, names = _cli_imports(["verify", str(path), "--trust", str(trust_dir)])
        assert done.returncode == 0, done.stderr[-2000:]
        assert "ӘБІЛҚАСЫМОВА" in done.stdout
        assert {needed, "signing.patches"} <= names
        assert _loaded(names, (*NOT_FOR_VERIFY, *unneeded)) == [], name
