"""Every verification case of the suite through the real ``docservice verify`` (a process).

What an official sees must be the verdict or one clear line, never a library's record or
a traceback; what the service logs must be JSON lines without a stack and without
unmasked personal data. The cases are in ``tests/verification/cases.py``. Each run writes
its log at DEBUG to a file of its own, so the strictest setting is the one checked.

Each case is a process of its own forked from one that imported the CLI once
(``tests/forked_cli.py``): a hundred interpreter starts and imports of pyHanko were nearly
all of this test's time. The last test executes the console script itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import pem

from tests import forked_cli
from tests.pki import TestPki, stranger_root
from tests.verification.cases import Case, all_cases
from tests.verification.conftest import Docs
from tests.verification.fixtures import Signers, incremental_update_attack

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ("career", "head", "akimat", "hr", "expired", "revoked", "authonly")
UNMASKED_NUMBER = re.compile(r"(?<!\d)\d{12}(?!\d)")
#: ``docservice verify`` processes at a time: each is CPU-bound, the CI machine has 2 cores
#: (more would only add memory and contention, whatever ``os.cpu_count()`` says).
WORKERS = 2


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    log: list[str]


def _cli() -> list[str]:
    """The installed ``docservice`` command (the console script next to this Python)."""
    script = Path(sys.executable).with_name("docservice")
    return [str(script)] if script.exists() else [sys.executable, "-m", "docservice"]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()  # the run's log copy (tests/logscan.py) stays
        if not k.startswith("DOCSERVICE_LOG") or k == "DOCSERVICE_LOG_COPY_DIR"
    }
    return env | extra


@pytest.fixture(scope="module")
def trust_dirs(tmp_path_factory, pki: TestPki) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    dirs = {}
    for name, certs in {
        "pki": [pki.root, pki.ca],
        "stranger": [stranger_root()],
        "ca_only": [pki.ca],
        "leaf_only": [pki.cert("career")],
    }.items():
        folder = dirs[name] = tmp_path_factory.mktemp(f"trust-{name}")
        for i, cert in enumerate(certs):
            (folder / f"{i}.pem").write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    return dirs


def _verify(case: Case, folder: Path, trust: dict[str, Path]) -> Run:
    file = folder / f"{case.name}.bin"
    file.write_bytes(case.data)
    argv = ["verify", str(file), "--trust", str(trust[case.trust]), *case.options]
    if case.original is not None:
        original = folder / f"{case.name}.original"
        original.write_bytes(case.original)
        argv += ["--original", str(original)]
    if case.offline:
        argv.append("--offline")
    log = folder / f"{case.name}.log"
    done = forked_cli.run(
        argv,
        env=_clean_env(DOCSERVICE_LOG_FILE=str(log), DOCSERVICE_LOG_LEVEL="DEBUG"),
        cwd=ROOT,
        timeout=300,
    )
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return Run(
        done.code,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        lines,
    )


def _personal_data(pki: TestPki) -> list[str]:
    """Names and IINs of the test PKI's people, and of the sample XML's applicant."""
    found = ["ТӨЛЕГЕНОВ", "900715400236"]
    for label in PEOPLE:
        subject = pki.cert(label).subject.native
        found += [
            subject["surname"],
            subject["given_name"],
            subject["serial_number"].removeprefix("IIN"),
        ]
    return found


def _problems(case: Case, run: Run, personal: list[str]) -> list[str]:
    said = []
    for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        if "Traceback" in text:
            said.append(f"a traceback on {stream}: {text[-1500:]}")
    if run.code not in case.exits:
        said.append(
            f"exit {run.code}, expected one of {sorted(case.exits)}; stderr: {run.stderr[-500:]}"
        )
    if run.stdout.strip():
        if run.stderr:
            said.append(f"a report and something on stderr: {run.stderr[-500:]}")
        if case.unusable:
            said.append("a report for input that should have been refused")
    elif len(run.stderr.strip().splitlines()) != 1:
        said.append(f"refused without exactly one line on stderr: {run.stderr[-500:]}")
    for line in run.log:
        try:
            entry = json.loads(line)
        except ValueError:
            said.append(f"a log line that is not JSON: {line[:300]}")
            continue
        if {"ts", "level", "logger", "message"} - set(entry):
            said.append(f"a log record without the usual fields: {line[:300]}")
        if "Traceback" in line or 'File "' in line:
            said.append(f"a stack in the log: {line[:300]}")
        if UNMASKED_NUMBER.search(line) or any(p in line for p in personal):
            said.append(f"personal data in the log: {line[:300]}")
    return [f"{case.name}: {p}" for p in said]


def test_every_verification_case_through_the_cli(
    tmp_path: Path, docs: Docs, signers: Signers, pki: TestPki, trust_dirs: dict[str, Path]
) -> None:
    cases = all_cases(docs, signers, pki)
    assert len(cases) > 80
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        runs = list(pool.map(lambda c: _verify(c, tmp_path, trust_dirs), cases))
    personal = _personal_data(pki)
    problems = [
        p for case, run in zip(cases, runs, strict=True) for p in _problems(case, run, personal)
    ]
    assert problems == [], "\n".join(problems)
    # Not vacuous: the runs logged, libraries included, and every exit status occurred.
    by_name = dict(zip((c.name for c in cases), runs, strict=True))
    assert {run.code for run in runs} == {0, 1, 2}
    assert any('"logger": "pyhanko' in line for run in runs for line in run.log)
    # The case of the issue: pyHanko's SuspiciousModification, now one WARNING line.
    records = [json.loads(line) for line in by_name["pdf.incremental_update_attack"].log]
    (diff,) = [r for r in records if r["message"].startswith("Error in diff operation")]
    assert diff["level"] == "WARNING" and diff["logger"].startswith("pyhanko.")
    assert diff["error"].startswith("SuspiciousModification at ")


def test_the_issue_case_on_a_terminal(
    tmp_path: Path, docs: Docs, trust_dirs: dict[str, Path]
) -> None:
    """No log file: by default nothing but the report; asked for, one JSON line."""
    bad = tmp_path / "changed-after-signing.pdf"
    bad.write_bytes(incremental_update_attack(docs.bb()))
    argv = [*_cli(), "verify", str(bad), "--trust", str(trust_dirs["pki"])]
    quiet = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=_clean_env()
    )
    assert quiet.returncode == 1 and "SIG_CONSTRAINTS_FAILURE" in quiet.stdout
    assert quiet.stderr == ""
    told = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=_clean_env(DOCSERVICE_LOG_LEVEL="WARNING"),
    )
    assert told.returncode == 1 and "Traceback" not in told.stderr
    (line,) = told.stderr.splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING" and record["logger"].startswith("pyhanko.")
    assert record["message"] == "Error in diff operation between revision 1 and 2"
