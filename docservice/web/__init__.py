"""The officials' verification page and the ``POST /v1/verify`` API (Flask app factory).

Why a factory (``create_app(config)``, as in the Flask tutorial): tests, the benchmark and
production each build their own app with their own trust store and limits; nothing is
configured at import time.

Configuration keys (all optional):

``VERIFIER``            a ready :class:`docservice.verification.Verifier` (tests)
``TRUST_DIR``           trust anchors directory (else ``$DOCSERVICE_TRUST_DIR``)
``FETCH_REVOCATION``    fetch OCSP/CRL when nothing usable is embedded (default True)
``LIMITS``              :class:`docservice.verification.Limits`
``ARCHIVE_LOOKUP``      ``callable(sha256_hex) -> bytes | None``: the archived document a
                        stamp's QR code (``/verify?doc=<sha256>``) points at; until the
                        archive exists, the page shows the upload form with a note.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from docservice import error_messages
from docservice.errors import DocserviceError
from docservice.logging_setup import request_id
from docservice.logsafe import describe
from docservice.verification import (
    Limits,
    VerificationInputError,
    Verifier,
    VerifierConfig,
)
from docservice.verification.html import TEMPLATES, environment
from docservice.verification.messages import input_error_text, ui
from docservice.verification.receipt import render_receipt
from docservice.verification.report import Report
from signing import patches

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__, template_folder=str(TEMPLATES))
_DOC_ID = re.compile(r"^[0-9a-f]{64}$")
LANGS = ("kk", "ru")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides the defaults listed in the module docstring."""
    patches.apply()  # start-up of every web process (gunicorn loads the app through here)
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(
        FETCH_REVOCATION=True, TRUST_DIR=None, VERIFIER=None, LIMITS=Limits(), ARCHIVE_LOOKUP=None
    )
    app.config.update(dict(config or {}))
    limits: Limits = app.config["LIMITS"]
    # The whole multipart body: the signed file, the original and a little form overhead.
    app.config["MAX_CONTENT_LENGTH"] = limits.max_file_bytes + limits.max_original_bytes + 65536
    # Werkzeug's multipart decoder also holds its read buffer to this bound, and a WSGI
    # stream that returns more per read (its test client does) then drops any upload over
    # ~128 kB, i.e. every real signed PDF. The whole body is bounded just above.
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_FORM_PARTS"] = 16
    if app.config["VERIFIER"] is None:
        app.config["VERIFIER"] = Verifier(
            VerifierConfig(
                trust_dir=app.config["TRUST_DIR"],
                fetch_revocation=app.config["FETCH_REVOCATION"],
                limits=limits,
            )
        )
    app.jinja_env.globals.update(environment().globals)
    app.jinja_env.filters.update(environment().filters)
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _error)
    _log_requests(app)
    return app


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _log_requests(app: Flask) -> None:
    """Give each request an id and log one access line with it.

    The id is the caller's ``X-Request-ID`` when it is a plain token (a portal tracing its
    own request), else a new one; it is in every log record made while the request is
    served and in the response's ``X-Request-ID``. The route pattern is logged, never the
    path (a signing link's path is its one-time token) nor the query.
    """

    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.started = time.monotonic()
        request_id.set(g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
            client = g.get("client")
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": request.url_rule.rule if request.url_rule else "<unmatched>",
                    "status": response.status_code,
                    "ms": round((time.monotonic() - g.started) * 1000, 1),
                    "client": getattr(client, "name", None),
                },
            )
        return response

    @app.teardown_request
    def _end(exc: BaseException | None) -> None:
        request_id.set(None)


def _lang() -> str:
    """``lang`` from the query or the form, else the browser's preference, else Kazakh."""
    value = request.args.get("lang")
    if value not in LANGS and request.method == "POST":
        try:
            value = request.form.get("lang")
        except RequestEntityTooLarge:
            value = None
    if value in LANGS:
        return value
    return request.accept_languages.best_match(LANGS) or "kk"


def _verifier() -> Verifier:
    return current_app.config["VERIFIER"]


def _read(field: str, required: bool) -> bytes | None:
    storage: FileStorage | None = request.files.get(field)
    if storage is None or (not storage.filename and not required):
        if required:
            raise VerificationInputError("missing", field=field)
        return None
    data = storage.read()
    if not data and not required:
        return None
    return data


def _verify_request() -> tuple[Report, str]:
    data = _read("file", required=True)
    original = _read("original", required=False)
    assert data is not None
    name = request.files["file"].filename or None
    return _verifier().verify(data, original, file_name=name), name or ""


def _error_json(exc: DocserviceError, lang: str) -> tuple[Response, int]:
    field = getattr(exc, "field", None)
    body = {
        "error": {
            "code": exc.code,
            "field": field,
            "lang": lang,
            "message": exc.message(lang),
            "messages": {lg: exc.message(lg) for lg in LANGS},
        }
    }
    return jsonify(body), exc.status


@bp.post("/v1/verify")
def api_verify() -> Any:
    """Multipart ``file`` (+ ``original``) -> the JSON report (``format=html|pdf`` too)."""
    lang = _lang()
    report, _ = _verify_request()
    fmt = request.values.get("format", "json")
    if fmt == "pdf":
        return Response(render_receipt(report, lang), mimetype="application/pdf")
    if fmt == "html":
        from docservice.verification.html import render_report

        return Response(render_report(report, lang), mimetype="text/html")
    response = Response(report.to_json(), mimetype="application/json")
    response.headers["X-Verification-Verdict"] = report.verdict.value
    return response


@bp.route("/verify", methods=["GET", "POST"], endpoint="verify_page")
def verify_page() -> Any:
    """The officials' page: upload, or arrive from a stamp's QR code (``?doc=``)."""
    lang = _lang()
    doc = request.values.get("doc") or None
    report = note = error = None
    status = 200
    if doc is not None and not _DOC_ID.match(doc):
        error, status, doc = input_error_text("unknown_format", lang, "doc"), 400, None
    if request.method == "POST":
        report, _ = _verify_request()
    elif doc is not None:
        lookup: Callable[[str], bytes | None] | None = current_app.config["ARCHIVE_LOOKUP"]
        archived = lookup(doc) if lookup else None
        if archived is None:
            note = ui("doc_note", lang, doc=doc)
        else:
            report = _verifier().verify(archived, file_name=f"{doc}.pdf")
    html = render_template(
        "verify.html", report=report, lang=lang, langs=(lang,), doc=doc, note=note, error=error
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/")
def index() -> Any:
    return verify_page()


def _error_lang() -> str:
    chosen = request.args.get("lang")
    return chosen if chosen in LANGS else (request.accept_languages.best_match(LANGS) or "kk")


def _error_page(message: str, status: int, lang: str) -> Response:
    html = render_template(
        "verify.html", report=None, lang=lang, langs=(lang,), doc=None, note=None, error=message
    )
    return Response(html, status=status, mimetype="text/html")


def _http_error(exc: HTTPException) -> Any:
    lang = _error_lang()
    status = exc.code or 400
    if isinstance(exc, RequestEntityTooLarge):
        too_large = VerificationInputError("too_large", status=413)
        if request.path.startswith("/v1/"):
            return _error_json(too_large, lang)
        return _error_page(too_large.message(lang), 413, lang)
    if request.path.startswith("/v1/"):
        return jsonify(
            {
                "error": {
                    "code": (exc.name or "error").lower().replace(" ", "_"),
                    "field": None,
                    "lang": lang,
                    "message": exc.description,
                }
            }
        ), status
    return _error_page(exc.description or "", status, lang)


def _error(exc: Exception) -> Any:
    """The one mapping of the verification app: an error to its HTTP answer.

    A :class:`DocserviceError` (an unusable file, a missing field) is the caller's to fix
    and answers with its own status and reason. Anything else is a bug - ours, not the
    caller's: logged with its type and place (never its message, which may quote the
    file), and a 500 carrying the request id of that log line; no traceback in the body.
    """
    lang = _lang()
    if isinstance(exc, DocserviceError) and exc.status < 500:
        if request.path.startswith("/v1/"):
            return _error_json(exc, lang)
        return _error_page(exc.message(lang), exc.status, lang)
    if request.path.startswith("/v1/"):
        from docservice.service.problems import internal_problem

        return internal_problem(exc, lang, request.path)
    rid = g.get("request_id") or "-"
    log.error("unexpected failure: %s", describe(exc))
    return _error_page(error_messages.message("internal_with_id", lang, request_id=rid), 500, lang)
