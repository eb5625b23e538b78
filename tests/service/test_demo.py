"""``docservice demo``: the README's first command, as a user runs it: a whole case on
the embedded default, its bundle and cards checked by the CLI an auditor runs."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from docservice.forms import all_kinds
from docservice.service.demo_pki import OFFICIALS
from tests import forked_cli


def _byte_range_content(pdf: bytes, index: int) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    fields = [f for f in reader.get_fields().values() if f.get("/FT") == "/Sig" and f.get("/V")]
    ranges = sorted((f["/V"].get_object()["/ByteRange"] for f in fields), key=lambda r: r[1])
    a, b, c, d = (int(x) for x in ranges[index])
    return pdf[a : a + b] + pdf[c : c + d]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docservice", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def _auditor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The auditor's ``docservice verify`` / ``audit verify-bundle``: a process forked from
    one that imported the CLI once (``tests/forked_cli.py``), not a new interpreter each
    time; the demo itself runs as the README's command, a process of its own."""
    return forked_cli.completed(list(args), env=os.environ, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One run of the demo for every test here (it starts the service and a PKI)."""
    cwd = tmp_path_factory.mktemp("demo-run")
    out = cwd / "demo"
    proc = _cli("demo", "--out", str(out), cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


@pytest.mark.slow
def test_demo_runs_the_service_and_signs_every_kind_twice(demo, tmp_path: Path) -> None:
    out, _ = demo
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
            [
                "openssl",
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(out / "documents" / f"direction.signer{n}.p7s"),
                "-content",
                str(content),
                "-CAfile",
                str(out / "trust" / "demo-root.pem"),
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
    log = (out / "service.log").read_text(encoding="utf-8")
    for official in OFFICIALS:
        assert official.iin not in log, official.label
    # A second run into the same folder is refused in one line, before anything starts.
    again = _cli("demo", "--out", str(out), cwd=tmp_path)
    assert again.returncode == 2 and "already holds a demo run" in again.stderr
    assert "Traceback" not in again.stderr


def _case_documents(out: Path) -> list[tuple[str, dict]]:
    case = json.loads((out / "case" / "case.json").read_bytes())
    return [
        (f"{n:02d}-{d['kind']}-v{d['version']}", d)
        for n, d in enumerate(case["documents"], start=1)
    ]


@pytest.mark.slow
def test_demo_case_bundle_verifies_offline_with_the_auditors_cli(demo, tmp_path: Path) -> None:
    out, stdout = demo
    assert "case bundle intact" in stdout
    bundle = out / "case-bundle.zip"
    check = _auditor(
        "audit", "verify-bundle", str(bundle), "--trust", str(out / "audit-trust"), cwd=tmp_path
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "intact:" in check.stdout and "NOT INTACT" not in check.stdout
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        head = json.loads(zf.read(manifest["tree_head"]))
    # The tree head is time-stamped by the demo's TSA; every signed document has a card.
    assert head["timestamp_token"]
    assert all(c["card"] for c in manifest["cards"]), manifest["cards"]
    signed = [(stem, d) for stem, d in _case_documents(out) if d["signature_count"]]
    assert {c["document_id"] for c in manifest["cards"]} == {d["id"] for _, d in signed}
    # One byte changed in a copy of the bundle: the same command says so and exits 1.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == manifest["cards"][0]["card"]:
                data = data[:-100] + bytes([data[-100] ^ 1]) + data[-99:]
            dst.writestr(info, data)
    bad = _auditor(
        "audit", "verify-bundle", str(tampered), "--trust", str(out / "audit-trust"), cwd=tmp_path
    )
    assert bad.returncode == 1 and manifest["cards"][0]["card"] in bad.stdout, bad.stdout


@pytest.mark.slow
def test_demo_case_covers_the_route_plans_roadmap_direction_and_report(demo) -> None:
    out, _ = demo
    kinds = [d["kind"] for _, d in _case_documents(out)]
    assert kinds.count("application") == 2  # the version returned for revision, and its revision
    for kind in ("individual_plan", "roadmap", "direction", "report_a3"):
        assert kind in kinds, kinds
    assert kinds.count("individual_plan") >= 2
    docs = dict(_case_documents(out))
    v1, v2 = docs["01-application-v1"], docs["02-application-v2"]
    assert v2["previous_version"] == v1["id"] and v2["signature_count"] == 5
    # The route events (sign, return, new version) are entries of the case's chain, and each
    # entry's artefact is the event the bundle holds.
    chain = json.loads((out / "case-chain.json").read_bytes())
    with zipfile.ZipFile(out / "case-bundle.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        artefacts = {i["index"]: zf.read(i["artefact"]) for i in manifest["items"]}
    events = []
    for item in chain["items"]:
        if item["type"] != "route.event":
            continue
        event = json.loads(artefacts[item["index"]])
        assert hashlib.sha256(artefacts[item["index"]]).hexdigest() == item["sha256"]
        assert json.loads(base64.b64decode(item["entry"]))["meta"]["action"] == event["action"]
        events.append(event)
    application = [
        (e["action"], e["step"], e["version"])
        for e in events
        if e["document_id"] in (v1["id"], v2["id"])
    ]
    assert application == [
        ("started", None, 1),
        ("signed", "p8", 1),
        ("returned", "p9", 1),
        ("revised", None, 2),
        ("signed", "p8", 2),
        ("signed", "p9", 2),
        ("signed", "p10", 2),
        ("signed", "p13", 2),
        ("signed", "p14", 2),
        ("completed", None, 2),
    ]
    returned = next(e for e in events if e["action"] == "returned")
    assert returned["remarks"] and returned["remarks_cms_sha256"]
    assert returned["actor"]["bin"] == "051140004562"
    roadmap = [
        (e["action"], e["step"])
        for e in events
        if e["document_id"] == docs[next(s for s in docs if "roadmap" in s)]["id"]
    ]
    assert ("signed", "approve") in roadmap and ("completed", None) in roadmap
    readme = " ".join((out / "README.txt").read_text(encoding="utf-8").split())
    for name in (
        "case-bundle.zip",
        "cards/",
        "case-chain.json",
        "audit-trust/",
        "organisations.yaml",
        "returned p9 v1, revised v2",
        "intact:",
    ):
        assert name in readme, name


@pytest.mark.slow
def test_demo_cards_pass_docservice_verify(demo, tmp_path: Path) -> None:
    out, _ = demo
    signed = [(stem, d) for stem, d in _case_documents(out) if d["signature_count"]]
    assert len(signed) >= 7
    for stem, doc in signed:
        card = out / "cards" / f"{stem}.pdf"
        assert card.is_file(), card
        run = _auditor(
            "verify", str(card), "--trust", str(out / "trust"), "--offline", "--json", cwd=tmp_path
        )
        assert run.returncode == 0, (stem, run.stdout[-2000:], run.stderr[-2000:])
        report = json.loads(run.stdout)
        assert report["document"]["format"] == "card" and report["verdict"] == "TOTAL_PASSED"
        assert len(report["signatures"]) == doc["signature_count"]
        for sig in report["signatures"]:
            # Complete cards: a trusted time-stamp and the OCSP answer inside each CMS.
            assert sig["revocation"]["source"] == "embedded-ocsp", (stem, sig["revocation"])
            assert [t["trusted"] for t in sig["timestamps"] if t["kind"] == "signature"] == [True]
