"""``docservice demo --out DIR``: the whole service, end to end, on the embedded default.

It generates a demo PKI (two officials), registers a client system and the officials'
keys as an operator would, starts ``docservice serve`` (gunicorn) on a free loopback port,
and then acts as the client system over real HTTP: every kind is created, signed by the
two officials in turn, verified and fetched. Everything made is written into DIR with a
README.txt saying what each file is; the service is stopped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from docservice.forms import all_kinds
from docservice.resources import data_dir
from docservice.service.demo_pki import OFFICIALS, build, serving_crl

LANG = "kk+ru"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Http:
    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key

    def call(self, method: str, path: str, payload: Any = None, *, raw: bytes | None = None,
             content_type: str | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.key}", "Accept-Language": "en"}
        data = raw
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = secrets.token_hex(8)
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def json(self, method: str, path: str, payload: Any = None, expect: int = 200) -> Any:
        status, body = self.call(method, path, payload)
        if status != expect:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {body[:500]!r}")
        return json.loads(body)


def _multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n").encode() + data \
        + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _wait_for_url(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the service stopped during start-up (see its log above)")
        if "verification page on" in line:
            return line.rsplit(" ", 1)[-1].strip().removesuffix("/verify")
    raise RuntimeError("the service did not start in time")


def run_demo(out: Path) -> int:
    started = time.monotonic()
    out = out.resolve()
    docs = out / "documents"
    docs.mkdir(parents=True, exist_ok=True)
    pki_dir, trust_dir = out / "pki", out / "trust"
    trust_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DOCSERVICE_DATA_DIR=str(out / "var"),
               DOCSERVICE_TRUST_DIR=str(trust_dir), DOCSERVICE_PUBLIC_URL=base_url)
    env.pop("DOCSERVICE_DATABASE_URL", None)
    env.pop("DOCSERVICE_BROKER_URL", None)
    with serving_crl(pki_dir) as crl_port:
        pki = build(pki_dir, f"http://127.0.0.1:{crl_port}/demo-root.crl",
                    secrets.token_urlsafe(12))
        (trust_dir / "demo-root.pem").write_bytes(pki.root_pem.read_bytes())
        key = _register(env, pki)
        print(f"demo: starting the service on {base_url}", flush=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", "docservice", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1", "--threads", "8"],
            env=env, stdout=subprocess.PIPE, stderr=open(out / "service.log", "w"),  # noqa: SIM115
            text=True)
        try:
            base = _wait_for_url(proc)
            rows = _act_as_client(_Http(base, key), docs)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    elapsed = time.monotonic() - started
    _write_readme(out, rows, base_url, elapsed)
    for kind, verdict, _ in rows:
        print(f"demo: {kind:22} signed twice, {verdict}")
    print(f"demo: done in {elapsed:.1f} s; see {out / 'README.txt'}")
    return 0 if all(v == "TOTAL_PASSED" for _, v, _ in rows) else 1


def _register(env: dict[str, str], pki: Any) -> str:
    """Operator steps (what `docservice clients add` / `keys add` do), in this process."""
    from docservice.service.clients import add_client
    from docservice.service.config import from_env
    from docservice.service.db import Database
    from docservice.service.keys import add_key

    db = Database(from_env(env))
    with db.session() as session:
        _, key = add_client(session, "demo-portal", ["render", "sign", "verify"])
        for label, *_ in OFFICIALS:
            add_key(session, label, pki.p12[label], pki.password_file, ["demo-portal"])
    db.dispose()
    return key


def _act_as_client(http: _Http, docs: Path) -> list[tuple[str, str, str]]:
    examples = data_dir("examples")
    rows = []
    for kind in all_kinds():
        data = json.loads((examples / f"{kind}.json").read_text(encoding="utf-8"))
        doc = http.json("POST", "/v1/documents",
                        {"kind": kind, "lang": LANG, "data": data, "case_ref": "DEMO-1"}, 201)
        for label, *_ in OFFICIALS:
            http.json("POST", f"/v1/documents/{doc['id']}/signatures", {"key": label}, 201)
        final = http.json("GET", f"/v1/documents/{doc['id']}")
        _, pdf = http.call("GET", f"/v1/documents/{doc['id']}/pdf")
        _, xml = http.call("GET", f"/v1/documents/{doc['id']}/xml")
        (docs / f"{kind}.pdf").write_bytes(pdf)
        (docs / f"{kind}.xml").write_bytes(xml)
        for n in (1, 2):
            _, cms = http.call("GET", f"/v1/documents/{doc['id']}/signatures/{n}")
            (docs / f"{kind}.signer{n}.p7s").write_bytes(cms)
        body, ctype = _multipart("file", f"{kind}.pdf", pdf)
        status, report = http.call("POST", "/v1/verify", raw=body, content_type=ctype)
        if status != 200:
            raise RuntimeError(f"POST /v1/verify: HTTP {status}")
        (docs / f"{kind}.verification.json").write_bytes(report)
        (docs / f"{kind}.document.json").write_text(
            json.dumps(final, ensure_ascii=False, indent=2), encoding="utf-8")
        rows.append((kind, json.loads(report)["verdict"], final["links"]["verify"]))
    return rows


def _write_readme(out: Path, rows: list[tuple[str, str, str]], base_url: str,
                  elapsed: float) -> None:
    lines = [
        "docservice demo",
        "===============",
        "",
        f"The service ran on {base_url} (embedded default: SQLite, local files, jobs in",
        "process) and this demo acted as a client system over HTTP. For each document kind",
        f"it created a document ({LANG}: Kazakh then Russian), had it signed by two officials",
        "in turn with server-held keys, verified it and fetched it. It took "
        f"{elapsed:.0f} s.",
        "",
        "documents/KIND.pdf                the PDF/A-3b with the XML inside and both signatures",
        "documents/KIND.xml                the document's XML (checked against xsd/KIND.vN.xsd)",
        "documents/KIND.signer1.p7s        the detached CMS of the first official's signature",
        "documents/KIND.signer2.p7s        ... and of the second",
        "documents/KIND.verification.json  the report of POST /v1/verify for the PDF",
        "documents/KIND.document.json      GET /v1/documents/{id}: status, signatures, summary",
        "pki/                              the demo PKI: root, officials' .p12, their password,",
        "                                  the CRL (served only while the demo ran)",
        "trust/demo-root.pem               the trust anchor the service verified against",
        "var/                              the service's database and content-addressed files",
        "service.log                       the service's JSON log (request ids, no personal data)",
        "",
        "Results:",
    ]
    lines += [f"  {kind:22} {verdict}" for kind, verdict, _ in rows]
    lines += [
        "",
        "Start the service again on the same data (the CRL is then unreachable, so fresh",
        "verifications say INDETERMINATE for revocation):",
        f"  DOCSERVICE_DATA_DIR={out / 'var'} DOCSERVICE_TRUST_DIR={out / 'trust'} "
        "docservice serve",
        "",
    ]
    (out / "README.txt").write_text("\n".join(lines), encoding="utf-8")
