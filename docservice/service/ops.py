"""Operations: ``/health``, ``/ready`` and ``/metrics``.

Request ids and the one access line per request are the web app's
(``docservice.web``), the JSON log is ``docservice.logging_setup``'s: one of each for the
CLI, the verification page and the service alike.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text

from docservice.logsafe import describe
from docservice.service.models import Document, Job, Signature
from docservice.service.route import overdue

bp = Blueprint("ops", __name__)


class Metrics:
    """The app's own registry (tests build many apps; the global one would clash).

    Under ``docservice serve`` (``PROMETHEUS_MULTIPROC_DIR`` set, see
    ``docservice.service.server``) the counters and histograms live in files shared by
    all gunicorn workers, and :attr:`exposed` reads them all: a scrape counts every
    worker's requests, whichever worker answers it.
    """

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "docservice_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "docservice_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.signing_failures = Counter(
            "docservice_signing_failures_total",
            "Refused signing requests",
            ["reason"],
            registry=self.registry,
        )
        self.exposed = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            self.exposed = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.exposed)
        self.exposed.register(_DatabaseCollector(app))


class _DatabaseCollector:
    """Counts from the database at scrape time: right across processes and workers."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        svc = self.app.extensions["docservice"]
        docs = GaugeMetricFamily("docservice_documents", "Documents by kind", labels=["kind"])
        sigs = GaugeMetricFamily("docservice_signatures", "Signatures by method", labels=["method"])
        jobs = GaugeMetricFamily("docservice_jobs", "Jobs by state", labels=["state"])
        late = GaugeMetricFamily(
            "docservice_route_overdue_steps",
            "Route steps past their last working day",
            labels=["route", "step"],
        )
        try:
            with svc.db.sessions() as session:
                for kind, n in session.execute(
                    select(Document.kind, func.count()).group_by(Document.kind)
                ):
                    docs.add_metric([kind], n)
                for method, n in session.execute(
                    select(Signature.method, func.count()).group_by(Signature.method)
                ):
                    sigs.add_metric([method], n)
                for state, n in session.execute(
                    select(Job.state, func.count()).group_by(Job.state)
                ):
                    jobs.add_metric([state], n)
                counts: dict[tuple[str, str], int] = {}
                for found in overdue(session, None):
                    label = (found.definition, found.step or "")
                    counts[label] = counts.get(label, 0) + 1
                for (name, step), n in sorted(counts.items()):
                    late.add_metric([name, step], n)
        except Exception as exc:  # the scrape must answer even when the database does not
            logging.getLogger("docservice.metrics").warning("metrics: %s", describe(exc))
            return
        yield from (docs, sigs, jobs, late)


def install(app: Flask) -> None:
    metrics = Metrics(app)
    app.extensions["docservice_metrics"] = metrics

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed = time.perf_counter() - g.get("metrics_started", time.perf_counter())
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(elapsed)
        if response.status_code in (410, 422, 503) and "/signatures" in route:
            try:
                payload = json.loads(response.get_data(as_text=True))
                reason = (payload.get("errors") or [{}])[0].get("code") or payload.get("code")
            except (ValueError, AttributeError):
                reason = None
            if reason:
                metrics.signing_failures.labels(reason).inc()
        return response

    app.register_blueprint(bp)


@bp.get("/health")
def health() -> Any:
    return {"status": "ok"}


@bp.get("/ready")
def ready() -> Any:
    """Database, file store and (in production) the broker all reachable."""
    svc = current_app.extensions["docservice"]
    checks: dict[str, str] = {}
    try:
        with svc.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = describe(exc).split(" ")[0]
    try:
        svc.store.check()
        checks["store"] = "ok"
    except OSError as exc:
        checks["store"] = type(exc).__name__
    jobs = current_app.extensions.get("docservice_jobs")
    if jobs is not None:
        checks["jobs"] = jobs.check()
    ok = all(v == "ok" for v in checks.values())
    headers = {} if ok else {"Retry-After": "5"}
    return Response(
        json.dumps({"status": "ok" if ok else "unavailable", "checks": checks}),
        status=200 if ok else 503,
        mimetype="application/json",
        headers=headers,
    )


@bp.get("/metrics")
def metrics_view() -> Any:
    metrics: Metrics = current_app.extensions["docservice_metrics"]
    return Response(generate_latest(metrics.exposed), mimetype=CONTENT_TYPE_LATEST)
