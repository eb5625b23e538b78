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
from docservice.service.db import head_revision
from tests.conftest import example
from tests.pki import TestPki
from tests.service.http import Client


def _env(tmp_path: Path, trust_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(
        os.environ,
        DOCSERVICE_DATA_DIR=str(tmp_path / "var"),
        DOCSERVICE_TRUST_DIR=str(trust_dir),
        **extra,
    )
    env.pop("DOCSERVICE_DATABASE_URL", None)
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docservice", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )


def test_db_upgrade_on_postgresql(pg_schema: str, tmp_path: Path, trust_dir: Path) -> None:
    env = _env(tmp_path, trust_dir, DOCSERVICE_DATABASE_URL=pg_schema)
    upgraded = _run(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    # The newest migration, whichever it is: the upgrade went all the way.
    assert f"revision {head_revision()}" in upgraded.stdout
    assert _run(env, "db", "current").returncode == 0


def test_clients_and_keys_commands(
    tmp_path: Path, trust_dir: Path, pki: TestPki, password_file: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    for name, value in _env(tmp_path, trust_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DOCSERVICE_DATABASE_URL", raising=False)
    assert main(["clients", "add", "portal", "--scopes", "render,sign"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("ds_")
    assert main(["clients", "add", "bad", "--scopes", "render,fly"]) == 2
    assert "fly" in capsys.readouterr().err
    assert (
        main(
            [
                "keys",
                "add",
                "career",
                "--p12",
                str(pki.p12("career")),
                "--password-file",
                str(password_file),
                "--clients",
                "portal",
            ]
        )
        == 0
    )
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    capsys.readouterr()
    assert (
        main(
            [
                "keys",
                "add",
                "x",
                "--p12",
                str(pki.p12("head")),
                "--password-file",
                str(wrong),
                "--clients",
                "portal",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (
        main(
            [
                "keys",
                "add",
                "old",
                "--p12",
                str(pki.p12("expired")),
                "--password-file",
                str(password_file),
                "--clients",
                "portal",
            ]
        )
        == 2
    )
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
    tmp_path: Path, trust_dir: Path, pki: TestPki, password_file: Path
) -> None:
    env = _env(tmp_path, trust_dir)
    key = _run(env, "clients", "add", "portal", "--scopes", "render,sign").stdout.strip()
    assert (
        _run(
            env,
            "keys",
            "add",
            "career",
            "--p12",
            str(pki.p12("career")),
            "--password-file",
            str(password_file),
            "--clients",
            "portal",
        ).returncode
        == 0
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "docservice", "serve", "--port", "0", "--workers", "2"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" ", 1)[-1].strip()
        base = url.removesuffix("/verify")
        api = Client(base, key)
        personal: set[str] = set()
        for kind in ("application", "direction", "e_appeal"):
            data = example(kind)
            personal |= _personal(data)
            created = api.post(
                "/v1/documents",
                {"kind": kind, "data": data},
                headers={"X-Request-Id": f"req-{kind}"},
            )
            assert created.status == 201, created.body
            signed = api.post(f"/v1/documents/{created.json['id']}/signatures", {"key": "career"})
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
        e["request_id"] for e in requests
    }
    assert all(e["request_id"] and e["request_id"] != "-" for e in requests)
    assert len(personal) >= 5
    for value in personal:
        assert value not in stderr, "personal data in the log"


@pytest.mark.slow
def test_metrics_count_the_requests_of_every_worker(tmp_path: Path, trust_dir: Path) -> None:
    """``/metrics`` under two gunicorn workers: prometheus_client's multiprocess mode adds
    up both workers' counters, whichever worker answers the scrape. Which worker served
    a request is read from the JSON access log (``pid``)."""
    import concurrent.futures
    import threading
    import time

    env = _env(tmp_path, trust_dir)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "docservice",
            "serve",
            "--port",
            "0",
            "--workers",
            "2",
            "--threads",
            "2",
        ],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    served: list[dict] = []

    def read_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("message") == "request" and entry.get("route") == "/health":
                    served.append(entry)

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().rsplit(" ", 1)[-1].strip().removesuffix("/verify")
        health = 0
        for _ in range(30):  # bounded: until the log shows both workers serving
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda _: Client(base).get("/health"), range(16)))
            assert all(a.status == 200 for a in answers)
            health += len(answers)
            time.sleep(0.2)
            if len({e["pid"] for e in served}) >= 2:
                break
        assert len({e["pid"] for e in served}) == 2, "both workers should have served"
        expected = (
            f'docservice_http_requests_total{{method="GET",route="/health",'
            f'status="200"}} {float(health)}'
        )
        for _ in range(12):  # scrapes answered by either worker all count every request
            text = Client(base).get("/metrics").body.decode()
            assert expected in text, text[:3000]
        time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert proc.returncode == 0


def test_orgs_commands(tmp_path: Path, trust_dir: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for name, value in _env(tmp_path, trust_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DOCSERVICE_DATABASE_URL", raising=False)
    assert (
        main(
            [
                "orgs",
                "add",
                "120340001230",
                "--body",
                "career_centre",
                "--region",
                "Түркістан облысы",
                "--name",
                "Мансап орталығы",
            ]
        )
        == 0
    )
    assert "acts for career_centre of Түркістан облысы" in capsys.readouterr().out
    assert main(["orgs", "add", "120340001231", "--body", "career_centre", "--region", "X"]) == 2
    assert "check digit" in capsys.readouterr().err
    assert main(["orgs", "add", "120340001230", "--body", "career_centre"]) == 2
    directory = tmp_path / "orgs.yaml"
    directory.write_text(
        "organisations:\n"
        "  - {bin: '051140004562', body: labour_mobility_centre, "
        "region: Түркістан облысы}\n"
        "  - {bin: '991240007893', body: local_executive_body, "
        "region: Павлодар облысы, name: Әкімдік}\n",
        encoding="utf-8",
    )
    assert main(["orgs", "load", str(directory)]) == 0
    assert "2 organisation entries" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "organisations:\n  - {bin: '051140004562', body: Bad Body, region: R}\n", encoding="utf-8"
    )
    assert main(["orgs", "load", str(bad)]) == 2
    assert "organisations[0]" in capsys.readouterr().err
    assert main(["orgs", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 3 and any(
        "991240007893" in line and "Әкімдік" in line for line in listing
    )


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_route_end_to_end_under_gunicorn(
    database: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    trust_dir: Path,
    pki: TestPki,
    password_file: Path,
) -> None:
    """The operator's commands, then the route over `docservice serve`: a refusal naming
    the step, a signature, a signed return, a revision; no IIN in the logs."""
    import secrets

    extra = {}
    if database == "postgresql":
        extra["DOCSERVICE_DATABASE_URL"] = request.getfixturevalue("pg_schema")
    env = _env(tmp_path, trust_dir, **extra)
    assert _run(env, "db", "upgrade").returncode == 0
    name = f"portal-{secrets.token_hex(3)}"
    key = _run(env, "clients", "add", name, "--scopes", "render,sign").stdout.strip()
    for label in ("career", "head"):
        added = _run(
            env,
            "keys",
            "add",
            f"{name}-{label}",
            "--p12",
            str(pki.p12(label)),
            "--password-file",
            str(password_file),
            "--clients",
            name,
        )
        assert added.returncode == 0, added.stderr
    for bin_, body in (
        ("120340001230", "career_centre"),
        ("051140004562", "labour_mobility_centre"),
    ):
        added = _run(env, "orgs", "add", bin_, "--body", body, "--region", "Түркістан облысы")
        assert added.returncode == 0, added.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "docservice", "serve", "--port", "0", "--workers", "2"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().rsplit(" ", 1)[-1].strip().removesuffix("/verify")
        api = Client(base, key, "kk")
        assert (
            api.post(
                "/v1/cases",
                {
                    "case_ref": "G-1",
                    "departure_region": "Түркістан облысы",
                    "settlement_region": "Павлодар облысы",
                },
            ).status
            == 201
        )
        doc = api.post(
            "/v1/documents",
            {
                "kind": "application",
                "data": example("application"),
                "case_ref": "G-1",
                "route": "application",
            },
        ).json
        refused = api.post(f"/v1/documents/{doc['id']}/signatures", {"key": f"{name}-head"})
        assert refused.status == 403 and "8-т." in refused.json["detail"]
        assert (
            api.post(f"/v1/documents/{doc['id']}/signatures", {"key": f"{name}-career"}).status
            == 201
        )
        back = api.post(
            f"/v1/documents/{doc['id']}/route/return",
            {"key": f"{name}-head", "remarks": "Толықтырыңыз"},
        )
        assert back.status == 201, back.body
        v2 = api.post(f"/v1/documents/{doc['id']}/revisions", {"data": example("application")})
        assert v2.status == 201 and v2.json["version"] == 2
        assert api.get(f"/v1/documents/{v2.json['id']}/route").json["step"]["id"] == "p8"
        assert "docservice_route_overdue_steps" in Client(base).get("/metrics").body.decode()
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0
    for iin in ("850301300121", "781122300344"):  # the two officials' IINs
        assert iin not in stderr, "an IIN in the log"


_LOADED_WORKER = """
import gc, json
from docservice.service.config import from_env
from docservice.service.server import _Gunicorn
before = gc.get_threshold()[0]
_Gunicorn(from_env(), {}).load()  # what each gunicorn worker runs before its first request
after, frozen = gc.get_threshold()[0], gc.get_freeze_count()
print(json.dumps({"before": before, "after": after, "frozen": frozen}))
"""


@pytest.mark.parametrize(("setting", "threshold"), [("", 10_000), ("25000", 25_000), ("0", 700)])
def test_a_served_worker_settles_the_collector_after_its_warm_up(
    tmp_path: Path, trust_dir: Path, setting: str, threshold: int
) -> None:
    env = _env(tmp_path, trust_dir, DOCSERVICE_GC_THRESHOLD=setting, DOCSERVICE_SCHEDULER="0")
    run = subprocess.run(
        [sys.executable, "-c", _LOADED_WORKER],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["before"] == 700  # CPython's default until the warm-up is over
    assert found["after"] == threshold
    assert found["frozen"] > 10_000  # the modules, fonts and schemas loaded by then
