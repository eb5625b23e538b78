"""Production jobs: Celery over ``DOCSERVICE_BROKER_URL`` (Redis by default, RabbitMQ too).

Tasks carry a job id, never bytes; ``acks_late`` + ``task_reject_on_worker_lost`` put a
message back when the worker dies in the middle, and the job itself is idempotent
(``jobs.run_job``), so a redelivery cannot make a second document. ``docservice worker``
runs the Celery worker and the sweeper that re-sends jobs whose message was lost.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from celery import Celery

from docservice.service.config import from_env

QUEUE = "docservice"
_service: Any = None
_service_pid = 0
_service_lock = threading.Lock()


def make_celery(broker_url: str) -> Celery:
    from signing import patches

    patches.apply()  # the worker's start-up (and the web process's, which sends the tasks)
    app = Celery("docservice", broker=broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        broker_transport_options={
            # Unacknowledged Redis messages come back after this; the sweeper is faster.
            "visibility_timeout": int(os.environ.get("DOCSERVICE_VISIBILITY_TIMEOUT") or 3600),
            "max_retries": 3,
        },
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    app.task(name="docservice.run_job", acks_late=True, reject_on_worker_lost=True, bind=False)(
        _run_job_task
    )
    app.task(name="docservice.tree_head", ignore_result=True)(_tree_head_task)
    app.task(name="docservice.retimestamp", ignore_result=True)(_retimestamp_task)
    settings = from_env()
    # Celery beat (``docservice worker --beat``): the embedded Scheduler's two tasks.
    app.conf.beat_schedule = {
        "tree-head": {
            "task": "docservice.tree_head",
            "schedule": settings.tree_head_interval,
            "options": {"queue": QUEUE},
        },
        "retimestamp": {
            "task": "docservice.retimestamp",
            "schedule": settings.retimestamp_interval,
            "options": {"queue": QUEUE},
        },
    }
    return app


def _tree_head_task() -> bool:
    from docservice.service.scheduler import tree_head_if_grown

    return tree_head_if_grown(_svc())


def _retimestamp_task() -> list[str]:
    from docservice.service.ltv import retimestamp_due

    return retimestamp_due(_svc())


def _svc() -> Any:
    """This process's DocService: built once per process, so a forked pool child never
    shares the parent's database connections."""
    global _service, _service_pid
    with _service_lock:
        if _service is None or _service_pid != os.getpid():
            from docservice.service.documents import DocService

            if _service is not None:
                _service.db.engine.dispose(close=False)
            _service, _service_pid = DocService(from_env()), os.getpid()
        return _service


def _run_job_task(job_id: str) -> str:
    from docservice.service.jobs import run_job

    return run_job(_svc(), job_id)


class CeleryRunner:
    """The service side: sends job ids to the broker."""

    def __init__(self, broker_url: str) -> None:
        self.app = make_celery(broker_url)

    def submit(self, job_id: str) -> None:
        self.app.send_task("docservice.run_job", args=[job_id], queue=QUEUE)

    def check(self) -> str:
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            return "ok"
        except Exception as exc:
            return type(exc).__name__


def run_worker(
    concurrency: int, *, sweep_interval: float, stale_after: float, beat: bool = False
) -> int:
    """``docservice worker``: the Celery worker plus the sweeper thread."""
    from docservice import logging_setup
    from docservice.service.jobs import Sweeper

    logging_setup.configure("worker")
    broker = os.environ.get("DOCSERVICE_BROKER_URL") or "redis://127.0.0.1:6379/0"
    app = make_celery(broker)
    runner = CeleryRunner(broker)
    from docservice.service.webhooks import Deliverer

    sweeper = Sweeper(
        _svc(), runner.submit, interval=sweep_interval, stale_after=stale_after
    ).start()
    Deliverer(_svc()).start()
    from docservice.service import gc_tuning

    gc_tuning.settle(from_env().gc_threshold)  # before the pool's children fork
    try:
        app.worker_main(
            [
                "worker",
                "--loglevel=WARNING",
                f"--concurrency={concurrency}",
                "-Q",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"docservice-{os.getpid()}@%h",
                *(
                    ["--beat", "--schedule", str(from_env().data_dir / "celerybeat-schedule")]
                    if beat
                    else []
                ),
            ]
        )
    finally:
        sweeper.stop()
    return 0
