"""The operator's commands and ``docservice serve`` (gunicorn) over a real socket.

The JSON logs of the served requests are read back: every line parses, carries a request
id, and no IIN or name of the documents made appears in them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from docservice.cli import main
from tests.conftest import example
from tests.pki import TestPki
from tests.service.http import Client


def _env(tmp_path: Path, trust_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, DOCSERVICE_DATA_DIR=str(tmp_path / "var"),
               DOCSERVICE_TRUST_DIR=str(trust_dir), **extra)
    env.pop("DOCSERVICE_DATABASE_URL", None)
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docservice", *args], env=env, text=True,
                          capture_output=True, timeout=120)


def test_db_upgrade_on_postgresql(pg_schema: str, tmp_path: Path, trust_dir: Path) -> None:
    env = _env(tmp_path, trust_dir, DOCSERVICE_DATABASE_URL=pg_schema)
    upgraded = _run(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "revision 0007" in upgraded.stdout
    assert _run(env, "db", "current").returncode == 0


def test_clients_and_keys_commands(tmp_path: Path, trust_dir: Path, pki: TestPki,
                                   password_file: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for name, value in _env(tmp_path, trust_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DOCSERVICE_DATABASE_URL", raising=False)
    assert main(["clients", "add", "portal", "--scopes", "render,sign"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("ds_")
    assert main(["clients", "add", "bad", "--scopes", "render,fly"]) == 2
    assert "fly" in capsys.readouterr().err
    assert main(["keys", "add", "career", "--p12", str(pki.p12("career")),
                 "--password-file", str(password_file), "--clients", "portal"]) == 0
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    capsys.readouterr()
    assert main(["keys", "add", "x", "--p12", str(pki.p12("head")), "--password-file",
                 str(wrong), "--clients", "portal"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["keys", "add", "old", "--p12", str(pki.p12("expired")), "--password-file",
                 str(password_file), "--clients", "portal"]) == 2
    capsys.readouterr()
    assert main(["clients", "rotate", "portal"]) == 0
    assert capsys.readouterr().out.strip() != key
    assert main(["clients", "list"]) == 0
    assert "portal" in capsys.readouterr().out
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'docservice.sqlite3'}")
    with engine.connect() as conn:
        dump = "\n".join(str(r) for r in conn.execute(text("SELECT * FROM server_keys")))
        clients = "\n".join(str(r) for r in conn.execute(text("SELECT * FROM clients")))
    assert pki.password not in dump and str(password_file) in dump
    assert key.split("_", 2)[2] not in clients


def _personal(data: object) -> set[str]:
    """Every IIN and every name-like value in an example input."""
    found: set[str] = set()
    text = json.dumps(data, ensure_ascii=False)
    found.update(re.findall(r"\b\d{12}\b", text))
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("full_name", "name") and isinstance(value, str):
                found.add(value)
            else:
                found |= _personal(value)
    elif isinstance(data, list):
        for item in data:
            found |= _personal(item)
    return found


@pytest.mark.slow
def test_serve_under_gunicorn_with_json_logs_and_no_personal_data(
        tmp_path: Path, trust_dir: Path, pki: TestPki, password_file: Path) -> None:
    env = _env(tmp_path, trust_dir)
    key = _run(env, "clients", "add", "portal", "--scopes", "render,sign").stdout.strip()
    assert _run(env, "keys", "add", "career", "--p12", str(pki.p12("career")),
                "--password-file", str(password_file), "--clients", "portal").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "docservice", "serve", "--port", "0",
                             "--workers", "2"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" ", 1)[-1].strip()
        base = url.removesuffix("/verify")
        api = Client(base, key)
        personal: set[str] = set()
        for kind in ("application", "direction", "e_appeal"):
            data = example(kind)
            personal |= _personal(data)
            created = api.post("/v1/documents", {"kind": kind, "data": data},
                               headers={"X-Request-Id": f"req-{kind}"})
            assert created.status == 201, created.body
            signed = api.post(f"/v1/documents/{created.json['id']}/signatures",
                              {"key": "career"})
            assert signed.status == 201
            assert api.get(f"/v1/documents/{created.json['id']}").status == 200
        bad = dict(example("application"))
        bad["applicant"] = {**bad["applicant"], "iin": "123456789012"}
        personal.add("123456789012")
        assert api.post("/v1/documents", {"kind": "application", "data": bad}).status == 422
        assert Client(base).get("/ready").status == 200
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    requests = [e for e in lines if e["message"] == "request"]
    assert len(requests) >= 11
    assert {"req-application", "req-direction", "req-e_appeal"} <= {
        e["request_id"] for e in requests}
    assert all(e["request_id"] and e["request_id"] != "-" for e in requests)
    assert len(personal) >= 5
    for value in personal:
        assert value not in stderr, "personal data in the log"
