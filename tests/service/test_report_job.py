"""The verification report of a new revision: made by a job after the signing answer,
archived once in the case's chain, and not lost when the process dies before it runs
(SQLite and PostgreSQL, over HTTP)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from docservice.archive.record import parse_entry
from docservice.archive.store import artefact, log_entry
from docservice.service.app import create_service_app
from docservice.service.audit import check_archive
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from docservice.service.jobs import MAX_ATTEMPTS, Sweeper, ThreadRunner, run_job
from docservice.service.keys import add_key
from docservice.service.models import Document, Job
from tests.conftest import example
from tests.pki import TestPki
from tests.service.http import Client, serving


class LostRunner:
    """A runner whose process dies before any job it was sent runs."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def submit(self, job_id: str) -> None:
        self.sent.append(job_id)

    def check(self) -> str:
        return "ok"


def _reports(service: DocService, doc_id: str) -> list[dict]:
    with service.db.sessions() as session:
        return [
            parse_entry(bytes(e))["meta"]
            for e in session.scalars(
                select(log_entry.c.data)
                .join(artefact, artefact.c.idx == log_entry.c.idx)
                .where(artefact.c.document_id == doc_id, artefact.c.type == "report.verification")
                .order_by(log_entry.c.idx)
            )
        ]


def _jobs(service: DocService) -> list[tuple[str, str]]:
    with service.db.sessions() as session:
        return [(j.task, j.state) for j in session.scalars(select(Job).order_by(Job.created_at))]


def _setup(service: DocService, pki: TestPki, password_file: Path) -> str:
    with service.db.session() as session:
        _, key = add_client(session, "portal", ["render", "sign", "audit"])
        add_key(session, "career", pki.p12("career"), password_file, ["portal"])
    return key


def _signed_case(api: Client, case_ref: str) -> str:
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
    signed = api.post(f"/v1/documents/{doc_id}/signatures", {"key": "career"})
    assert signed.status == 201, signed.body
    return doc_id


def _signed_with_jobs_lost(
    service: DocService, pki: TestPki, password_file: Path, case_ref: str
) -> tuple[str, LostRunner]:
    """A document signed over HTTP by a service whose runner never sends its jobs (the
    process died first): the document's id and that runner, holding the report job."""
    key = _setup(service, pki, password_file)
    lost = LostRunner()
    with serving(create_service_app(service=service, runner=lost)) as base:
        return _signed_case(Client(base, key), case_ref), lost


def _wait(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_the_report_job_puts_the_report_in_the_case_chain(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    key = _setup(service, pki, password_file)
    with serving(create_service_app(service=service)) as base:
        api = Client(base, key)
        doc_id = _signed_case(api, "J-1")
        assert _wait(lambda: _jobs(service) == [("verify", "done")]), _jobs(service)
        chain = api.get("/v1/cases/J-1/chain")
        assert chain.status == 200, chain.body
        reports = [i for i in chain.json["items"] if i["type"] == "report.verification"]
        assert len(reports) == 1
        report = json.loads(api.get(reports[0]["links"]["content"]).body)
        assert report["verdict"] == "TOTAL_PASSED"
        # GET answers the job's summary: no second verification, no second report.
        got = api.get(f"/v1/documents/{doc_id}")
        assert got.json["verification"]["verdict"] == "TOTAL_PASSED"
        current = hashlib.sha256(api.get(f"/v1/documents/{doc_id}/pdf").body).hexdigest()
    (meta,) = _reports(service, doc_id)
    signed_at = dt.datetime.fromisoformat(meta["signed_at"])
    verified_at = dt.datetime.fromisoformat(meta["verified_at"])
    assert meta["signatures"] == 1 and signed_at <= verified_at
    assert meta["revision"] == current
    assert check_archive(service).findings == []


def test_a_report_lost_with_its_process_is_made_after_a_restart(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    doc_id, lost = _signed_with_jobs_lost(service, pki, password_file, "J-2")
    assert len(lost.sent) == 1 and _jobs(service) == [("verify", "queued")]
    assert _reports(service, doc_id) == []  # the process died before the job ran
    runner = ThreadRunner(service)  # the next start sends every unfinished job again
    try:
        assert _wait(lambda: _jobs(service) == [("verify", "done")]), _jobs(service)
    finally:
        runner.shutdown()
    (meta,) = _reports(service, doc_id)
    assert dt.datetime.fromisoformat(meta["signed_at"]) <= dt.datetime.fromisoformat(
        meta["verified_at"]
    )
    # Run again (a redelivered message): still one report.
    assert run_job(service, lost.sent[0]) == "done"
    assert len(_reports(service, doc_id)) == 1
    assert check_archive(service).findings == []


def test_the_sweeper_resends_a_lost_report_job_and_it_runs_once(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    key = _setup(service, pki, password_file)
    lost = LostRunner()
    with serving(create_service_app(service=service, runner=lost)) as base:
        api = Client(base, key)
        doc_id = _signed_case(api, "J-3")
        signed = api.post(f"/v1/documents/{doc_id}/signatures", {"key": "career"})
        assert signed.status == 201, signed.body
    sent: list[str] = []
    assert Sweeper(service, sent.append, stale_after=0).sweep() == 2
    assert sorted(sent) == sorted(lost.sent)
    for job_id in sent + sent:  # each delivered twice
        assert run_job(service, job_id) == "done"
    metas = _reports(service, doc_id)
    # One report per revision, the older revision's too, each naming its signature.
    assert [m["signatures"] for m in metas] == [1, 2]
    assert len({m["revision"] for m in metas}) == 2
    assert check_archive(service).findings == []


def test_a_report_job_that_keeps_failing_is_failed_for_good(
    service: DocService, pki: TestPki, password_file: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _, lost = _signed_with_jobs_lost(service, pki, password_file, "J-5")

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the verifier is broken")

    monkeypatch.setattr(service, "report_revision", broken)
    (job_id,) = lost.sent
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(RuntimeError):
            run_job(service, job_id)
    assert _jobs(service) == [("verify", "running")]
    assert run_job(service, job_id) == "failed"
    assert run_job(service, job_id) == "failed"
    with service.db.sessions() as session:
        assert session.get(Job, job_id).attempts == MAX_ATTEMPTS
    assert _jobs(service) == [("verify", "failed")]


def test_a_report_of_a_revision_no_signature_made_fails_and_archives_nothing(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    doc_id, lost = _signed_with_jobs_lost(service, pki, password_file, "J-6")
    assert service.report_revision(doc_id, "0" * 64) == "failed"
    assert service.report_revision("0" * 32, "0" * 64) == "failed"
    assert _reports(service, doc_id) == []
    assert run_job(service, lost.sent[0]) == "done"
    assert len(_reports(service, doc_id)) == 1


def test_a_read_before_the_job_makes_the_report_and_the_job_adds_none(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    key = _setup(service, pki, password_file)
    lost = LostRunner()
    with serving(create_service_app(service=service, runner=lost)) as base:
        api = Client(base, key)
        doc_id = _signed_case(api, "J-4")
        got = api.get(f"/v1/documents/{doc_id}")
        assert got.json["verification"]["verdict"] == "TOTAL_PASSED"
    assert len(_reports(service, doc_id)) == 1
    assert run_job(service, lost.sent[0]) == "done"
    assert len(_reports(service, doc_id)) == 1
    assert _jobs(service) == [("verify", "done")]


def test_the_report_job_row_is_written_whole_in_the_signing_transaction(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    """The queued job a signing leaves is the complete row (the model's defaults written
    out), naming the signed revision, committed with the signature."""
    doc_id, lost = _signed_with_jobs_lost(service, pki, password_file, "ROW-1")
    with service.db.sessions() as session:
        job = session.scalars(select(Job)).one()
        document = session.get(Document, doc_id)
        assert document is not None
        signed_at = document.signatures[-1].created_at
    assert lost.sent == [job.id] and len(job.id) == 32 and len(job.result_id) == 32
    assert job.result_id != job.id
    assert (job.task, job.state, job.progress, job.attempts, job.error) == (
        "verify",
        "queued",
        0,
        0,
        None,
    )
    assert (job.input_sha, job.document_id, job.client_id) == (
        document.pdf_sha,
        doc_id,
        document.client_id,
    )
    assert job.created_at == job.updated_at

    def utc(value: dt.datetime) -> dt.datetime:  # SQLite hands times back naive (UTC)
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    assert abs(utc(job.created_at) - utc(signed_at)) < dt.timedelta(seconds=5)
