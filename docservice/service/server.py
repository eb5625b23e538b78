"""``docservice serve``: the app under gunicorn (a production WSGI server) in both modes.

Why gunicorn: pre-fork workers with threads (``gthread``), graceful restarts on SIGHUP,
worker timeouts, and the de-facto standard on Linux. The app is built in each worker
after the fork (``preload_app`` off), so every worker has its own database pool.
``--port 0`` binds a free port; the first line on stdout names the URL.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from docservice.service.config import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        assert self.cfg is not None
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from docservice import logging_setup
        from docservice.service import gc_tuning
        from docservice.service.app import create_service_app
        from docservice.service.webhooks import Deliverer

        logging_setup.configure("server")
        app = create_service_app(self.settings)
        svc = app.extensions["docservice"]
        svc.warm_up()
        gc_tuning.settle(self.settings.gc_threshold)
        Deliverer(svc).start()
        if self.settings.scheduler and not self.settings.broker_url:
            from docservice.service.scheduler import Scheduler

            Scheduler(svc).start()  # production: Celery beat (docservice worker --beat)
        return app


def _when_ready(server: Any) -> None:
    host, port = server.LISTENERS[0].sock.getsockname()[:2]
    print(f"docservice: verification page on http://{host}:{port}/verify", flush=True)
    print(f"docservice: API on http://{host}:{port}/v1 (docs: /docs)", flush=True)


METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _metrics_dir() -> tuple[Path, bool]:
    """prometheus_client's multiprocess mode for the workers: each worker writes its
    counters and histograms to files in one directory and ``/metrics`` (whichever worker
    answers) adds them all up. The operator's ``PROMETHEUS_MULTIPROC_DIR`` is emptied at
    start (stale files from an earlier run would count again); without one, a fresh
    temporary directory is used and removed at exit. Returns it and whether it is ours.
    """
    configured = os.environ.get(METRICS_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        ours = False
    else:
        path = Path(tempfile.mkdtemp(prefix="docservice-metrics-"))
        os.environ[METRICS_ENV] = str(path)
        ours = True
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported before the variable was set: switch it now
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return path, ours


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    workers: int | None = None,
    threads: int | None = None,
) -> int:
    """Run until SIGTERM/SIGINT. Workers/threads: arguments, else environment, else 1/8."""
    from docservice.service.db import Database

    Database(settings).dispose()  # migrate the embedded database once, before any fork
    workers = workers or int(os.environ.get("DOCSERVICE_WORKERS") or 1)
    threads = threads or int(os.environ.get("DOCSERVICE_THREADS") or 8)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 120,
        "graceful_timeout": 20,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "when_ready": _when_ready,
        "child_exit": _child_exit,
        "proc_name": "docservice",
        "limit_request_line": 8190,
    }
    sys.argv = sys.argv[:1]  # gunicorn must not parse docservice's own arguments
    metrics_dir, ours = _metrics_dir()
    try:
        _Gunicorn(settings, options).run()
    finally:
        if ours:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0
