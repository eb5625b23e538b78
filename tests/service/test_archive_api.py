"""The archive through the service's real interfaces: HTTP (chain, proofs, tree heads,
search, bundle) and the CLI (audit check, audit verify-bundle), SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, text

from docservice.archive import merkle
from docservice.archive.bundle import head_from_json
from docservice.archive.sth import verify_tree_head
from docservice.archive.store import artefact, log_entry
from docservice.service.app import create_service_app
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice.service.keys import add_key
from tests import forked_cli
from tests.conftest import example
from tests.pki import TestPki
from tests.service.http import Client, serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(
    service: DocService, pki: TestPki, password_file: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    keys = {}
    with service.db.session() as session:
        _, keys["portal"] = add_client(session, "portal", ["render", "sign", "audit"])
        _, keys["reader"] = add_client(session, "reader", ["render", "sign"])
        for label in ("career", "head"):
            add_key(session, label, pki.p12(label), password_file, ["portal"])
    with serving(create_service_app(service=service)) as base:
        yield base, keys


def _case(api: Client, case_ref: str, signers: tuple[str, ...] = ("career", "head")) -> str:
    created = api.post(
        "/v1/documents",
        {
            "kind": "application",
            "lang": "kk+ru",
            "data": example("application"),
            "case_ref": case_ref,
        },
    )
    assert created.status == 201, created.body
    doc_id = created.json["id"]
    for key in signers:
        signed = api.post(f"/v1/documents/{doc_id}/signatures", {"key": key})
        assert signed.status == 201, signed.body
    return doc_id


def _reports_made(service: DocService, count: int) -> None:
    """Wait (bounded) for the signing's report jobs to archive ``count`` reports."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with service.db.sessions() as session:
            made = len(
                session.execute(
                    select(artefact.c.idx).where(artefact.c.type == "report.verification")
                ).all()
            )
        if made >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{made} verification reports archived, not {count}")


def _reads(service: DocService) -> int:
    with service.db.sessions() as session:
        return len(
            session.execute(select(artefact.c.idx).where(artefact.c.type == "audit.read")).all()
        )


def _seal_key(api: Client):  # type: ignore[no-untyped-def]
    pem = api.get("/v1/archive/key")
    assert pem.status == 200
    return serialization.load_pem_public_key(pem.body)


def test_chain_gives_every_artefact_with_proofs_in_a_signed_head(server, service) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    doc_id = _case(api, "C-1")
    _reports_made(service, 2)
    reads = _reads(service)
    chain = api.get("/v1/cases/C-1/chain")
    assert chain.status == 200, chain.body
    assert _reads(service) == reads + 1
    body = chain.json
    types = [i["type"] for i in body["items"]]
    for t in (
        "document.pdf",
        "document.xml",
        "document.input",
        "signature.pdf",
        "signature.cms",
        "report.verification",
    ):
        assert t in types, types
    assert types.count("signature.cms") == 2 and types.count("report.verification") == 2
    assert body["documents"] == [doc_id]
    head, _ = head_from_json(body["tree_head"])
    assert verify_tree_head(head, _seal_key(api))
    for item in body["items"]:
        entry = base64.b64decode(item["entry"])
        assert json.loads(entry)["sha256"] == item["sha256"]
        proof = item["proof"]
        assert proof["tree_size"] == head.tree_size
        path = [base64.b64decode(h) for h in proof["inclusion_path"]]
        assert merkle.verify_inclusion(
            item["index"], head.tree_size, merkle.leaf_hash(entry), path, head.root_hash
        )
        content = api.get(item["links"]["content"])
        assert hashlib.sha256(content.body).hexdigest() == item["sha256"]
    # Each signature's CMS is the one the document API serves.
    cms = api.get(f"/v1/documents/{doc_id}/signatures/1").body
    assert hashlib.sha256(cms).hexdigest() in {
        i["sha256"] for i in body["items"] if i["type"] == "signature.cms"
    }
    # Another client's case is not found; an unknown case neither.
    assert api.get("/v1/cases/NOPE/chain").status == 404


def test_tree_heads_inclusion_and_consistency_proofs(server, service) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    _case(api, "C-2", signers=("career",))
    first = api.post("/v1/archive/tree-heads")
    assert first.status == 201, first.body
    h1, _ = head_from_json(first.json)
    _case(api, "C-3", signers=())
    h2, _ = head_from_json(api.post("/v1/archive/tree-heads").json)
    assert h2.tree_size > h1.tree_size
    proof = api.get(f"/v1/archive/consistency?first={h1.tree_size}&second={h2.tree_size}")
    assert proof.status == 200, proof.body
    path = [base64.b64decode(h) for h in proof.json["consistency_path"]]
    assert merkle.verify_consistency(h1.tree_size, h2.tree_size, h1.root_hash, h2.root_hash, path)
    assert not merkle.verify_consistency(
        h1.tree_size, h2.tree_size, h1.root_hash, hashlib.sha256(b"x").digest(), path
    )
    got = api.get(f"/v1/archive/entries/3?tree_size={h2.tree_size}")
    assert got.status == 200
    entry = base64.b64decode(got.json["entry"])
    path = [base64.b64decode(h) for h in got.json["proof"]["inclusion_path"]]
    assert merkle.verify_inclusion(3, h2.tree_size, merkle.leaf_hash(entry), path, h2.root_hash)
    heads = api.get("/v1/archive/tree-heads").json["items"]
    assert [h["tree_size"] for h in heads][-2:] == [h1.tree_size, h2.tree_size]
    assert api.get(f"/v1/archive/entries/{h2.tree_size + 999}/proof").status in (404, 422)
    bad = api.get("/v1/archive/consistency?first=5&second=2")
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "first"


def test_only_the_audit_scope_reads_the_archive(server) -> None:
    base, keys = server
    _case(Client(base, keys["portal"]), "C-4", signers=())
    other = Client(base, keys["reader"])
    for path in (
        "/v1/cases/C-4/chain",
        "/v1/cases/C-4/bundle",
        "/v1/archive/tree-heads",
        "/v1/archive/entries/0/proof",
        "/v1/archive/key",
    ):
        assert other.get(path).status == 403, path
    assert other.post("/v1/archive/search", {"case_ref": "C-4"}).status == 403
    assert Client(base).get("/v1/cases/C-4/chain").status == 401


def test_search_by_case_iin_and_period_never_keeps_an_iin(server, service) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    doc_id = _case(api, "C-5", signers=("career",))
    _case(api, "C-6", signers=())
    iin = example("application")["applicant"]["iin"]
    reads = _reads(service)
    by_case = api.post("/v1/archive/search", {"case_ref": "C-5"}).json["items"]
    assert by_case and {i["document_id"] for i in by_case} == {doc_id}
    by_iin = api.post("/v1/archive/search", {"iin": iin}).json["items"]
    assert {i["case_ref"] for i in by_iin} == {"C-5", "C-6"}
    assert api.post("/v1/archive/search", {"iin": "000000000000"}).json["items"] == []
    when = by_case[0]["recorded_at"]
    assert api.post("/v1/archive/search", {"case_ref": "C-5", "to": when}).json["items"] == []
    assert api.post("/v1/archive/search", {"case_ref": "C-5", "from": when}).json["items"]
    bad = api.post("/v1/archive/search", {"iin": "12"})
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "iin"
    assert _reads(service) == reads + 5
    # The IIN is in no index row and no log entry in clear (only its keyed hash).
    with service.db.sessions() as session:
        rows = [str(tuple(r)) for r in session.execute(select(artefact)).all()]
        entries = [bytes(d) for d in session.scalars(select(log_entry.c.data))]
    assert rows and not any(iin in r for r in rows)
    assert not any(iin.encode() in e for e in entries)


def _cli(service: DocService, *args: str) -> subprocess.CompletedProcess[str]:
    """``docservice audit ARGS`` on the service's database: a process forked from one that
    imported the service once (``tests/forked_cli.py``; a new interpreter importing it was
    ~2 s of CPU per run, 17 runs per database)."""
    env = dict(
        os.environ,
        DOCSERVICE_DATA_DIR=str(service.settings.data_dir),
        DOCSERVICE_TRUST_DIR=str(service.settings.trust_dir),
    )
    env.pop("DOCSERVICE_DATABASE_URL", None)
    if service.settings.database_url:
        env["DOCSERVICE_DATABASE_URL"] = service.settings.database_url
    return forked_cli.completed(["audit", *args], env=env, cwd=ROOT, timeout=300)


def test_audit_check_names_each_kind_of_tampering(server, service) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    doc_id = _case(api, "C-7", signers=("career",))
    assert api.post("/v1/archive/tree-heads").status == 201
    _case(api, "C-8", signers=())
    ok = _cli(service, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout

    with service.db.sessions() as session:
        doc_pdf = session.execute(
            text(f"SELECT pdf_sha FROM documents WHERE id='{doc_id}'")
        ).scalar()
    # 1. one byte changed in a stored file
    path = service.store._path(doc_pdf)  # type: ignore[attr-defined]
    original = path.read_bytes()
    path.write_bytes(original[:100] + bytes([original[100] ^ 1]) + original[101:])
    bad = _cli(service, "check")
    assert bad.returncode == 1 and f"file {doc_pdf}: changed" in bad.stdout, bad.stdout
    path.write_bytes(original)
    assert _cli(service, "check").returncode == 0

    # 2. one database row edited (a document names other content; an index row lies)
    with service.db.session() as session:
        session.execute(
            text("UPDATE documents SET xml_sha = :s WHERE id = :d"), {"s": "0" * 64, "d": doc_id}
        )
        session.execute(text("UPDATE archive_artefact SET case_ref = 'C-X' WHERE idx = 1"))
    bad = _cli(service, "check")
    assert bad.returncode == 1
    assert f"documents row {doc_id}: xml_sha" in bad.stdout, bad.stdout
    assert "archive_artefact row 1: edited (case_ref" in bad.stdout, bad.stdout
    with service.db.session() as session:
        session.execute(text("UPDATE archive_artefact SET case_ref = 'C-7' WHERE idx = 1"))
    with service.db.session() as session:
        xml_sha = session.execute(
            text("SELECT sha256 FROM archive_artefact WHERE idx = 1")
        ).scalar()
        session.execute(
            text("UPDATE documents SET xml_sha = :s WHERE id = :d"), {"s": xml_sha, "d": doc_id}
        )
    assert _cli(service, "check").returncode == 0

    # 3. one entry dropped
    with service.db.session() as session:
        kept = session.execute(text("SELECT data FROM archive_log_entry WHERE idx = 2")).scalar()
        session.execute(text("DELETE FROM archive_log_entry WHERE idx = 2"))
    bad = _cli(service, "check")
    assert bad.returncode == 1 and "entries 2..2 dropped" in bad.stdout, bad.stdout
    with service.db.session() as session:
        session.execute(log_entry.insert().values(idx=2, data=kept))
    assert _cli(service, "check").returncode == 0

    # 3b. the log's size in its lock row edited (the next append would leave a gap)
    with service.db.session() as session:
        logged = session.execute(text("SELECT count(*) FROM archive_log_entry")).scalar()
        session.execute(text("UPDATE archive_log_lock SET size = size + 1"))
    bad = _cli(service, "check")
    assert bad.returncode == 1, bad.stdout
    assert f"archive_log_lock: size {logged + 1}, but the log has {logged} " in bad.stdout
    with service.db.session() as session:
        session.execute(text("UPDATE archive_log_lock SET size = size - 1"))
    assert _cli(service, "check").returncode == 0

    # 4. history rewritten behind a published tree head: entry 0 replaced, and every node
    # and index row rewritten to agree with it; only the signed head can tell.
    with service.db.sessions() as session:
        datas = [
            bytes(d) for d in session.scalars(select(log_entry.c.data).order_by(log_entry.c.idx))
        ]
    forged = json.loads(datas[0])
    forged["time"] = "2020-01-01T00:00:00.000Z"
    from docservice.archive.record import canonical, index_row
    from docservice.archive.store import log_node, node_key

    datas[0] = canonical(forged)
    mem = merkle.MemoryStore()
    merkle.MerkleLog(mem).append_many(datas)
    with service.db.session() as session:
        session.execute(log_entry.update().where(log_entry.c.idx == 0).values(data=datas[0]))
        session.execute(log_node.delete())
        session.execute(
            log_node.insert(), [{"node": node_key(n), "hash": h} for n, h in mem.nodes.items()]
        )
        session.execute(
            artefact.update()
            .where(artefact.c.idx == 0)
            .values(recorded_at=index_row(0, forged)["recorded_at"])
        )
    bad = _cli(service, "check")
    assert bad.returncode == 1, bad.stdout
    findings = [line for line in bad.stdout.splitlines() if line.startswith("FINDING")]
    assert len(findings) == 1 and "history rewritten" in findings[0], bad.stdout


def _bundle(api: Client, tmp_path: Path, case: str) -> Path:
    got = api.get(f"/v1/cases/{case}/bundle")
    assert got.status == 200, got.body
    assert got.headers["Content-Type"] == "application/zip"
    path = tmp_path / f"{case}.zip"
    path.write_bytes(got.body)
    return path


def _rewrite(
    src: Path,
    dst: Path,
    *,
    change: str | None = None,
    drop: str | None = None,
    add: str | None = None,
) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == drop:
                continue
            if info.filename == change:
                data = data[:50] + bytes([data[50] ^ 1]) + data[51:]
            zout.writestr(info.filename, data)
        if add:
            zout.writestr(add, b"not part of the case")
    return dst


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_bundle_verifies_offline_and_names_a_member_changed_removed_added(
    server, service, tmp_path: Path, trust_dir: Path
) -> None:
    base, keys = server
    api = Client(base, keys["portal"])
    doc_id = _case(api, "C-9")
    bundle = _bundle(api, tmp_path, "C-9")
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert {"manifest.json", "manifest.sig", "seal-key.pem"} <= set(names)
    assert manifest["case_id"] == "C-9" and manifest["cards"][0]["document_id"] == doc_id
    assert any(n.startswith("artefacts/") and n.endswith("signature.cms.p7s") for n in names)
    assert any(n.startswith("proofs/") for n in names)
    pinned = tmp_path / "trust"
    pinned.mkdir()
    for f in trust_dir.iterdir():
        (pinned / f.name).write_bytes(f.read_bytes())
    (pinned / "seal.pem").write_bytes(api.get("/v1/archive/key").body)

    ok = _cli(service, "verify-bundle", str(bundle), "--trust", str(pinned))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout
    unpinned = _cli(service, "verify-bundle", str(bundle))
    assert unpinned.returncode == 0 and "not pinned" in unpinned.stdout

    artefact_name = next(n for n in names if n.endswith("signature.pdf.pdf"))
    cases = {
        "changed": _rewrite(bundle, tmp_path / "c.zip", change=artefact_name),
        "removed": _rewrite(bundle, tmp_path / "r.zip", drop=artefact_name),
        "added": _rewrite(bundle, tmp_path / "a.zip", add="artefacts/extra.pdf"),
    }
    for how, path in cases.items():
        bad = _cli(service, "verify-bundle", str(path), "--trust", str(pinned))
        assert bad.returncode == 1, (how, bad.stdout)
        name = "artefacts/extra.pdf" if how == "added" else artefact_name
        assert f"NOT INTACT: {name}: {how}" in bad.stdout, (how, bad.stdout)
    # A proof altered (and the manifest re-listed, but then unsigned) is caught too.
    proof_name = next(n for n in names if n.startswith("proofs/"))
    bad = _cli(
        service,
        "verify-bundle",
        str(_rewrite(bundle, tmp_path / "p.zip", change=proof_name)),
        "--trust",
        str(pinned),
    )
    assert bad.returncode == 1 and proof_name in bad.stdout
    # A seal key the auditor did not pin is refused.
    (pinned / "seal.pem").unlink()
    bad = _cli(service, "verify-bundle", str(bundle), "--trust", str(pinned))
    assert bad.returncode == 1 and "seal-key.pem: not a seal key trusted" in bad.stdout
    assert _cli(service, "verify-bundle", str(tmp_path / "none.zip")).returncode == 2


@pytest.mark.parametrize("backend_url", ["postgresql"], indirect=True)
def test_concurrent_requests_never_fork_the_log(server, service) -> None:
    base, keys = server
    errors: list[str] = []

    def worker(n: int) -> None:
        api = Client(base, keys["portal"])
        for k in range(2):
            created = api.post(
                "/v1/documents",
                {
                    "kind": "application",
                    "lang": "kk",
                    "data": example("application"),
                    "case_ref": f"P-{n}-{k}",
                },
            )
            if created.status != 201:
                errors.append(created.body.decode()[:200])
            if api.get(f"/v1/cases/P-{n}-{k}/chain").status != 200:
                errors.append("chain")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    with service.db.sessions() as session:
        idx = [i for (i,) in session.execute(select(log_entry.c.idx).order_by(log_entry.c.idx))]
    # 12 documents x 3 entries + 12 chain reads, contiguous, one tree.
    assert idx == list(range(len(idx))) and len(idx) == 12 * 3 + 12
    ok = _cli(service, "check")
    assert ok.returncode == 0, ok.stdout
