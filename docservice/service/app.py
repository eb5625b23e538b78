"""The application factory: the verification app of ``docservice.web`` plus the service.

One WSGI app serves the officials' verification page and ``POST /v1/verify`` (from
``docservice.web``), the ``/v1`` document API, ``/openapi.json`` and ``/docs``, and the
operations endpoints. The stamps' QR codes (``/verify?doc=<sha256>``) find the stored
document through the ``ARCHIVE_LOOKUP`` hook.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from docservice.service import api, archive_api, egov, links, openapi, ops
from docservice.service.config import Settings, from_env
from docservice.service.documents import DocService
from docservice.service.jobs import Runner, ThreadRunner


def _runner(svc: DocService) -> Runner:
    """Celery when a broker is configured (production), else the in-process pool."""
    if svc.settings.broker_url:
        from docservice.service.tasks import CeleryRunner

        return CeleryRunner(svc.settings.broker_url)
    return ThreadRunner(svc, svc.settings.job_threads)


def _client_key() -> str:
    """Rate-limit per API key (its public id), else per address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    parts = token.strip().split("_", 2)
    if scheme.lower() == "bearer" and len(parts) == 3 and parts[0] == "ds":
        return f"key:{parts[1]}"
    return f"addr:{request.remote_addr}"


def _rate_limits(app: Flask, settings: Settings) -> None:
    """Per-client limits on /v1 (Flask-Limiter): in memory for one process
    (:mod:`docservice.service.ratelimit`), else in Redis
    (``DOCSERVICE_RATE_LIMIT_STORAGE``, or the broker when it is Redis) so every worker
    counts together."""
    from flask_limiter import Limiter

    from docservice.service import ratelimit

    storage = settings.rate_limit_storage
    if storage is None and (settings.broker_url or "").startswith("redis"):
        storage = settings.broker_url
    if storage in (None, "memory://"):  # limits' own starts a thread per request
        storage = ratelimit.URI
    elif storage.startswith(("redis://", "rediss://")):  # one round trip a request, not 3
        storage = ratelimit.REDIS_PREFIX + storage
    limiter = Limiter(
        _client_key,
        default_limits=[settings.rate_limit],
        storage_uri=storage,
        headers_enabled=True,
        # Redis away: count in memory meanwhile instead of failing requests.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        default_limits_exempt_when=lambda: (
            not request.path.startswith("/v1/") or request.path.startswith("/v1/verify")
        ),
    )
    limiter.init_app(app)
    counts = limiter.limiter.storage  # (Limiter.storage asserts it, and empty counts are falsy)
    if isinstance(counts, ratelimit.RedisWindowCounts):
        app.teardown_request(counts.forget)


def create_service_app(
    settings: Settings | None = None,
    service: DocService | None = None,
    runner: Runner | None = None,
) -> Flask:
    from docservice.web import create_app

    svc = service or DocService(settings or from_env())
    app = create_app(
        {
            "TRUST_DIR": svc.settings.trust_dir,
            "FETCH_REVOCATION": svc.settings.fetch_revocation,
            "VERIFIER": svc.verifier(),
            "ARCHIVE_LOOKUP": svc.archived_pdf,
        }
    )
    app.config["MAX_CONTENT_LENGTH"] = max(
        app.config["MAX_CONTENT_LENGTH"], svc.settings.max_request_bytes
    )
    app.extensions["docservice"] = svc
    app.extensions["docservice_jobs"] = svc.jobs = runner or _runner(svc)
    app.register_blueprint(api.bp)
    app.register_blueprint(archive_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(links.bp)
    app.config["NCALAYER_URL"] = svc.settings.ncalayer_url
    app.register_blueprint(egov.api_bp)
    app.register_blueprint(egov.bp)
    ops.install(app)
    _rate_limits(app, svc.settings)
    web_http_error = app.error_handler_spec[None][None][HTTPException]

    def http_error(exc: HTTPException) -> Any:
        # An unknown /v1 route is the API's 404 (problem+json), not the verification page's.
        if request.path.startswith("/v1/") and not request.path.startswith("/v1/verify"):
            return api.handle_error(exc)
        return web_http_error(exc)

    app.register_error_handler(HTTPException, http_error)
    return app
