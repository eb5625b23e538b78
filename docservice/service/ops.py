"""Operations: ``/health``, ``/ready``, ``/metrics``, request ids and JSON logs.

Every log line is one JSON object with the request id of the request it belongs to
(``X-Request-Id`` from the caller, else a new one, echoed in the answer). Request logs
carry the method, route *pattern*, status, duration and client name: never the body,
the query or an id in the path, so no IIN or name can reach the log from here; failures
are logged by type and place only (``docservice.logsafe``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text

from docservice.logsafe import describe
from docservice.service.models import Document, Job, Signature

bp = Blueprint("ops", __name__)
_RID = re.compile(r"[A-Za-z0-9._-]+")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
log = logging.getLogger("docservice.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for name in ("method", "route", "status", "ms", "client"):
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False)


_OWN_LOGGERS = ("docservice", "signing", "gunicorn")
_TWELVE_DIGITS = re.compile(r"(?<!\d)(\d{2})\d{8}(\d{2})(?!\d)")


class RequestIdFilter(logging.Filter):
    """Adds the request id; keeps personal data out of what other libraries log.

    Libraries (pyHanko's validator, for one) log certificate subjects - names and IINs -
    in their messages; only the fact that they logged is kept. Any 12-digit number (IIN,
    BIN) left in our own messages is masked as a last line of defence.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        if not record.name.startswith(_OWN_LOGGERS):
            record.msg, record.args = "message withheld (may quote certificate subjects)", ()
            return True
        message = record.getMessage()
        masked = _TWELVE_DIGITS.sub(r"\1********\2", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the whole process (``docservice serve`` / ``worker``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("pyhanko", "pyhanko_certvalidator", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Metrics:
    """The app's own registry (tests build many apps; the global one would clash)."""

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("docservice_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("docservice_http_request_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.signing_failures = Counter("docservice_signing_failures_total",
                                        "Refused signing requests", ["reason"],
                                        registry=self.registry)
        self.registry.register(_DatabaseCollector(app))


class _DatabaseCollector:
    """Counts from the database at scrape time: right across processes and workers."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Any:
        svc = self.app.extensions["docservice"]
        docs = GaugeMetricFamily("docservice_documents", "Documents by kind", labels=["kind"])
        sigs = GaugeMetricFamily("docservice_signatures", "Signatures by method",
                                 labels=["method"])
        jobs = GaugeMetricFamily("docservice_jobs", "Jobs by state", labels=["state"])
        try:
            with svc.db.sessions() as session:
                for kind, n in session.execute(
                        select(Document.kind, func.count()).group_by(Document.kind)):
                    docs.add_metric([kind], n)
                for method, n in session.execute(
                        select(Signature.method, func.count()).group_by(Signature.method)):
                    sigs.add_metric([method], n)
                for state, n in session.execute(
                        select(Job.state, func.count()).group_by(Job.state)):
                    jobs.add_metric([state], n)
        except Exception as exc:  # the scrape must answer even when the database does not
            logging.getLogger("docservice.metrics").warning("metrics: %s", describe(exc))
            return
        yield from (docs, sigs, jobs)


def install(app: Flask) -> None:
    metrics = Metrics(app)
    app.extensions["docservice_metrics"] = metrics

    @app.before_request
    def _start() -> None:
        rid = request.headers.get("X-Request-Id", "")
        if not (0 < len(rid) <= 64 and _RID.fullmatch(rid)):
            rid = secrets.token_hex(8)
        g.request_id, g.started = rid, time.perf_counter()
        g.rid_token = request_id.set(rid)

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
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
        response.headers["X-Request-Id"] = getattr(g, "request_id", "-")
        client = getattr(g, "client", None)
        log.info("request", extra={"method": request.method, "route": route,
                                   "status": response.status_code,
                                   "ms": round(elapsed * 1000, 1),
                                   "client": client.name if client else None})
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("rid_token", None)
        if token is not None:
            request_id.reset(token)

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
    return Response(json.dumps({"status": "ok" if ok else "unavailable", "checks": checks}),
                    status=200 if ok else 503, mimetype="application/json", headers=headers)


@bp.get("/metrics")
def metrics_view() -> Any:
    metrics: Metrics = current_app.extensions["docservice_metrics"]
    return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)
