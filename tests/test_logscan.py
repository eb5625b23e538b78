"""The end-of-run search of the logs (tests/logscan.py) finds what it must, and fails a run."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from docservice import logging_setup
from tests.conftest import need
from tests.logscan import collect_secrets, is_iin, scan

ROOT = Path(__file__).resolve().parent.parent


def test_collects_the_iins_and_names_of_every_source() -> None:
    secrets = collect_secrets()
    assert "870912450239" in secrets.iins  # examples/e_appeal.json
    assert "850301300121" in secrets.iins  # the test PKI's SERIALNUMBER (nca-test.yml)
    assert "700101300675" in secrets.iins  # tests/pki/gost.py
    assert "123456789011" in secrets.iins  # NCA's own test certificates (../shared/nca-test)
    assert "120340001230" not in secrets.iins and not is_iin("120340001230")  # a BIN
    for name in (
        "Жақсыбекова Әйгерім Серікқызы",  # surname / name / patronymic members
        "Жақсыбеков Ерболат Мұратұлы",  # in running text
        "Оспанов Бауыржан Жұмабайұлы",  # head_full_name
        "ӘБІЛҚАСЫМОВА ГҮЛНАР",
        "ӘБІЛҚАСЫМОВА ГҮЛНАР СЕРІКҚЫЗЫ",  # CN, CN + GIVENNAME
        "ТЕСТОВ ТЕСТ ТЕСТОВИЧ",
    ):
        assert name in secrets.names, name


def test_finds_planted_iins_and_names_and_passes_masked_ones(tmp_path: Path) -> None:
    lines = [
        '{"message": "verified, signer IIN 85********21"}',  # masked: fine
        '{"message": "job 7 done", "bin": "120340001230"}',  # a BIN: not personal
        '{"message": "signer IIN850301300121"}',  # planted
        '{"message": "serial 99870912450239"}',  # glued to other digits
        json.dumps({"message": "signed by ӘБІЛҚАСЫМОВА ГҮЛНАР"}),  # \\u-escaped
        '{"message": "applicant жақсыбекова   ӘЙГЕРІМ"}',  # another case, other spaces
    ]
    (tmp_path / "server-1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    hits = scan(tmp_path, collect_secrets())
    assert [(h.line, h.what.split()[0]) for h in hits] == [
        (3, "IIN"),
        (4, "IIN"),
        (5, "name"),
        (6, "name"),
    ]
    assert str(hits[0]).startswith(f"{tmp_path / 'server-1.jsonl'}:3: unmasked IIN 850301300121")


def test_the_service_log_writes_its_copy(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``$DOCSERVICE_LOG_COPY_DIR`` gets each line the log writes, already masked."""
    monkeypatch.setenv(logging_setup.LOG_COPY_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(logging_setup.LOG_FILE_ENV, raising=False)
    monkeypatch.delenv(logging_setup.LOG_LEVEL_ENV, raising=False)
    logging_setup.configure("server", stream=io.StringIO())
    logging.getLogger("docservice.test").info("signer %s", "850301300121")
    copy = tmp_path / f"server-{os.getpid()}.jsonl"
    [line] = copy.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["message"] == "signer 85********21"
    assert scan(tmp_path, collect_secrets()) == []


INNER = """
import json, logging, os, subprocess, sys

def test_a_leaking_server_and_a_leaking_logger():
    # A process the tests start whose log is not masked (here: written by hand) ...
    folder = os.environ["DOCSERVICE_LOG_COPY_DIR"]
    code = ("import json, os; open(os.path.join(%r, 'server-9.jsonl'), 'a').write("
            "json.dumps({'message': 'signer IIN 850301300121'}) + chr(10))" % folder)
    subprocess.run([sys.executable, "-c", code], check=True)
    # ... and a record of our own logger that names a person (names are not masked).
    logging.getLogger("docservice.leak").warning("signed by ӘБІЛҚАСЫМОВА ГҮЛНАР")
"""


@pytest.mark.parametrize(
    "xdist", [[], ["-p", "xdist", "-n", "2"]], ids=["one process", "xdist workers"]
)
def test_a_leak_fails_the_run_naming_file_and_line(tmp_path: Path, xdist: list[str]) -> None:
    """Under pytest-xdist the leak is in a worker's logs and the controller still finds it."""
    if xdist:
        need(importlib.util.find_spec("xdist") is not None, "pytest-xdist (the test extra)")
    (tmp_path / "test_inner.py").write_text(INNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != logging_setup.LOG_COPY_DIR_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env[logging_setup.LOG_COPY_DIR_ENV] = str(tmp_path / "logs")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.logscan",
            "-p",
            "no:cacheprovider",
            *xdist,
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout  # the test passed; the log search failed the run
    assert f"{tmp_path / 'logs' / 'server-9.jsonl'}:1: unmasked IIN 850301300121" in run.stdout
    assert "unmasked name ӘБІЛҚАСЫМОВА ГҮЛНАР" in run.stdout and "pytest-" in run.stdout
