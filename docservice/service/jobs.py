"""Work done outside the request: one interface, a thread pool (embedded) or Celery.

The database is the source of truth. A job row is written (state ``queued``, its input in
the file store) before any message is sent; the message carries only the job's id. Running
a job is idempotent: it renders, stores the files (content-addressed, so a repeat writes
the same names), then in *one* transaction inserts the document under the id the job
reserved and marks the job done - a second run finds it done or loses the insert race, so
a job completes once and makes one document however often its message is delivered.

A message can still be lost (Redis here keeps nothing on disk; a worker killed with its
message unacknowledged). The sweeper re-sends every job that is not finished and has not
moved for ``stale_after`` seconds; running jobs touch their row as they progress.

Two tasks: ``render`` (a large document, answered ``202``) and ``verify`` (the
verification report of a revision a signature just made, archived: see
``DocService.report_revision``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docservice.errors import InputError
from docservice.logsafe import describe
from docservice.service import webhooks
from docservice.service.documents import input_json, subject_iin
from docservice.service.documents import render_checked as render
from docservice.service.models import Client, Document, Job, utcnow

log = logging.getLogger("docservice.jobs")
UNFINISHED = ("queued", "running")
#: A job that has been started this many times without finishing is failed for good.
MAX_ATTEMPTS = 5


class Runner(Protocol):
    def submit(self, job_id: str) -> None: ...

    def check(self) -> str:
        """``"ok"`` or why jobs cannot be sent now (``/ready``)."""
        ...


def create_job(svc: Any, client: Client, request: dict[str, Any]) -> Job:
    """Record a render job (its request in the file store); the caller then submits it."""
    input_sha = svc.store.put(json.dumps(request, ensure_ascii=False, sort_keys=True).encode())
    job = Job(
        id=secrets.token_hex(16),
        client_id=client.id,
        task="render",
        state="queued",
        input_sha=input_sha,
        result_id=secrets.token_hex(16),
    )
    with svc.db.session() as session:
        session.add(job)
    return job


def create_report_job(session: Session, document: Document) -> str:
    """A ``verify`` job for ``document``'s current revision, in the signing transaction.

    It carries ids only: the document's id and the revision's SHA-256 (``input_sha``,
    the signed PDF in the file store); ``created_at`` is the signing's time.
    """
    job_id, now = secrets.token_hex(16), utcnow()
    # One prebuilt Core INSERT of the whole row (the model's defaults written out): the
    # ORM's unit of work for a new object at commit cost several times the statement.
    session.execute(
        _INSERT_REPORT_JOB,
        {
            "id": job_id,
            "client_id": document.client_id,
            "input_sha": document.pdf_sha,
            "result_id": secrets.token_hex(16),
            "document_id": document.id,
            "now": now,
        },
    )
    return job_id


#: The statements every job runs, built once with bound parameters, on the table (Core):
#: building one costs more CPU (a few hundred microseconds) than running it on SQLite, a
#: statement object that is reused keeps its memoised cache key (SQLAlchemy finds its
#: compiled form without walking it again), and a Core statement skips the ORM's bulk
#: update machinery, which no loaded object needs here. Statements are immutable once
#: built, so threads share them.
_JOBS = Job.__table__.c
_INSERT_REPORT_JOB = insert(Job.__table__).values(
    id=bindparam("id"),
    client_id=bindparam("client_id"),
    task="verify",
    state="queued",
    progress=0,
    attempts=0,
    input_sha=bindparam("input_sha"),
    result_id=bindparam("result_id"),
    document_id=bindparam("document_id"),
    created_at=bindparam("now"),
    updated_at=bindparam("now"),
)
_FINISH = (
    update(Job.__table__)
    .where(_JOBS.id == bindparam("job_id"), _JOBS.state.in_(UNFINISHED))
    .values(state=bindparam("state"), progress=100, updated_at=bindparam("now"))
)
_CLAIM = (
    update(Job.__table__)
    .where(
        _JOBS.id == bindparam("job_id"),
        _JOBS.state.in_(UNFINISHED),
        _JOBS.attempts < MAX_ATTEMPTS,
    )
    .values(state="running", attempts=_JOBS.attempts + 1, progress=10, updated_at=bindparam("now"))
    .returning(_JOBS.id, _JOBS.task, _JOBS.input_sha, _JOBS.document_id, _JOBS.client_id)
)


def mark_finished(session: Session, job_id: str, state: str) -> bool:
    """Finish job ``job_id`` in ``session``'s transaction; False when it already was."""
    params = {"job_id": job_id, "state": state, "now": utcnow()}
    return session.execute(_FINISH, params).rowcount == 1


def _claim(svc: Any, job_id: str) -> Row[Any] | None:
    """Start job ``job_id`` (count the attempt, mark it running); None when it cannot be.

    One ``UPDATE ... RETURNING`` reads and starts it at once: a finished job, or one
    started ``MAX_ATTEMPTS`` times already, is not claimed. Twin runs may both claim an
    unfinished job (each attempt is counted); the transaction that finishes it decides.
    The row has what running the job needs: ``id``, ``task``, ``input_sha``,
    ``document_id``, ``client_id``. A transaction on a connection: an ORM session for one
    Core statement cost more than the statement.
    """
    with svc.db.engine.begin() as conn:
        return conn.execute(_CLAIM, {"job_id": job_id, "now": utcnow()}).first()


def _unclaimed(svc: Any, job_id: str) -> str:
    """The answer for a job ``_claim`` refused: missing, finished, or failed for good now."""
    with svc.db.sessions() as session:
        job = session.get(Job, job_id)
    if job is None:
        log.warning("job %s: no such job", job_id)
        return "missing"
    if job.state not in UNFINISHED or job.attempts < MAX_ATTEMPTS:
        return job.state
    if job.task == "verify":
        with svc.db.session() as session:
            mark_finished(session, job.id, "failed")
        return "failed"
    request = json.loads(svc.store.get(job.input_sha))
    _finish(
        svc,
        job_id,
        "failed",
        error=json.dumps({"code": "internal"}),
        client_id=job.client_id,
        callback_url=request.get("callback_url"),
    )
    return "failed"


def _touch(svc: Any, job_id: str, **values: Any) -> None:
    with svc.db.session() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state.in_(UNFINISHED))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )


def run_job(svc: Any, job_id: str) -> str:
    """Run (or re-run) job ``job_id``; returns its final state. Safe to call any number of
    times, concurrently too."""
    job = _claim(svc, job_id)
    if job is None:
        return _unclaimed(svc, job_id)
    if job.task == "verify":  # the verification report of a new revision, archived once
        assert job.document_id is not None
        return svc.report_revision(job.document_id, job.input_sha, job.id)
    request = json.loads(svc.store.get(job.input_sha))
    try:
        rendered = render(request["kind"], request["data"], request["lang"])
    except InputError as exc:
        error = {"code": "invalid_input", "errors": exc.messages("ru")}
        _finish(
            svc,
            job_id,
            "failed",
            error=json.dumps(error, ensure_ascii=False),
            client_id=job.client_id,
            callback_url=request.get("callback_url"),
        )
        return "failed"
    _touch(svc, job_id, progress=80)
    pdf_sha, xml_sha = svc.store.put(rendered.pdf), svc.store.put(rendered.xml)
    try:
        with svc.db.session() as session:
            current = session.get(Job, job_id, with_for_update=not svc.db.sqlite)
            if current is None or current.state not in UNFINISHED:
                return current.state if current else "missing"
            document = Document(
                id=current.result_id,
                client_id=current.client_id,
                kind=request["kind"],
                lang=request["lang"],
                case_ref=request.get("case_ref"),
                callback_url=request.get("callback_url"),
                status="ready",
                sha256=pdf_sha,
                pdf_sha=pdf_sha,
                xml_sha=xml_sha,
                signature_count=0,
                input_sha=svc.store.put(input_json(request["data"])),
            )
            session.add(document)
            svc.record_document(
                session,
                document,
                rendered.pdf,
                rendered.xml,
                input_json(request["data"]),
                iin=subject_iin(request["data"]),
            )
            current.state, current.progress = "done", 100
            current.document_id, current.updated_at = current.result_id, utcnow()
            webhooks.enqueue(
                session,
                current.client_id,
                request.get("callback_url"),
                "job.completed",
                {"job_id": job_id, "state": "done", "document_id": current.result_id},
                document_id=current.result_id,
            )
    except IntegrityError:  # a twin run inserted the document first: it is done
        return "done"
    return "done"


def _finish(
    svc: Any,
    job_id: str,
    state: str,
    *,
    error: str | None = None,
    client_id: int,
    callback_url: str | None,
) -> None:
    with svc.db.session() as session:
        changed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state.in_(UNFINISHED))
            .values(state=state, error=error, updated_at=utcnow())
        )
        if changed.rowcount == 1:
            webhooks.enqueue(
                session,
                client_id,
                callback_url,
                "job.completed",
                {"job_id": job_id, "state": state},
            )


def stale_jobs(svc: Any, stale_after: float) -> list[str]:
    """Unfinished jobs that have not moved for ``stale_after`` seconds (their message may be
    lost); their clock is reset so one sweep re-sends each once."""
    cutoff = utcnow() - dt.timedelta(seconds=stale_after)
    with svc.db.session() as session:
        ids = list(
            session.scalars(
                select(Job.id).where(Job.state.in_(UNFINISHED), or_(Job.updated_at < cutoff))
            )
        )
        if ids:
            session.execute(update(Job).where(Job.id.in_(ids)).values(updated_at=utcnow()))
    return ids


class Sweeper:
    """Re-sends stale jobs every ``interval`` seconds until stopped."""

    def __init__(
        self,
        svc: Any,
        submit: Callable[[str], None],
        *,
        interval: float = 10.0,
        stale_after: float = 60.0,
    ) -> None:
        self.svc, self.submit = svc, submit
        self.interval, self.stale_after = interval, stale_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sweep(self) -> int:
        ids = stale_jobs(self.svc, self.stale_after)
        for job_id in ids:
            try:
                self.submit(job_id)
            except Exception as exc:  # broker down: the next sweep tries again
                log.warning("sweeper: re-send failed: %s", describe(exc))
        if ids:
            log.info("sweeper: re-sent %d job(s)", len(ids))
        return len(ids)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
            except Exception as exc:  # the database may be away for a moment
                log.warning("sweeper: %s", describe(exc))


class ThreadRunner:
    """Embedded mode: jobs run on a small pool inside the service process.

    At start every unfinished job is submitted again (the process that had them died).
    """

    def __init__(self, svc: Any, threads: int = 2) -> None:
        self.svc = svc
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job")
        with svc.db.sessions() as session:
            pending = list(session.scalars(select(Job.id).where(Job.state.in_(UNFINISHED))))
        for job_id in pending:
            self.submit(job_id)

    def submit(self, job_id: str) -> None:
        self.pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        try:
            run_job(self.svc, job_id)
        except Exception as exc:
            # Left unfinished and tried again shortly (``run_job`` gives up after
            # MAX_ATTEMPTS starts), as the sweeper would in production.
            log.error("job failed unexpectedly: %s", describe(exc))
            _touch(self.svc, job_id)
            timer = threading.Timer(1.0, self.submit, args=(job_id,))
            timer.daemon = True
            timer.start()

    def check(self) -> str:
        return "ok"

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)
