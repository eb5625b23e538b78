"""The ``/v1`` API as a Flask blueprint: parse, authorise, call ``DocService``, answer.

Thin on purpose: every decision about documents and signatures is in
``docservice.service.documents``, which the CLI calls too.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for

from docservice.errors import InputError
from docservice.forms.json_input import decode_request
from docservice.logsafe import describe
from docservice.service import idempotency
from docservice.service.documents import STATUSES, DocService
from docservice.service.errors import ServiceError
from docservice.service.models import Case, Client, Document, Job, Signature
from docservice.service.problems import LANGS, problem, problem_for

log = logging.getLogger("docservice.api")
bp = Blueprint("api", __name__, url_prefix="/v1")


def service() -> DocService:
    return current_app.extensions["docservice"]


def lang() -> str:
    return request.accept_languages.best_match(LANGS) or "kk"


# -- authentication, scopes, idempotency ------------------------------------------------


class AuthError(ServiceError):
    status, code = 401, "unauthorized"


READ = ("render", "sign", "audit")


def require(*scopes: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs a valid Bearer key whose client holds one of ``scopes``."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthError("send Authorization: Bearer <API key>")
            client = service().authenticate(token.strip())
            if client is None:
                raise AuthError("unknown, revoked or rotated API key")
            g.client = client
            if not client.scope_set() & set(scopes):
                raise ScopeError(f"the key lacks the {' or '.join(scopes)!r} scope")
            if request.method == "POST" and request.headers.get("Idempotency-Key"):
                return _idempotent(client, lambda: view(*args, **kwargs))
            return view(*args, **kwargs)

        return inner

    return wrap


class ScopeError(ServiceError):
    status, code = 403, "forbidden"


def _idempotent(client: Client, run: Callable[[], Any]) -> Any:
    key = request.headers["Idempotency-Key"][:200]
    digest = idempotency.request_hash(request.method, request.path, request.get_data())
    db = service().db
    state = idempotency.begin(db, client.id, key, digest)
    if state == "mismatch":
        return problem(422, "idempotency_mismatch", lang(), instance=request.path)
    if state == "in_progress":
        return problem(
            409,
            "idempotency_in_progress",
            lang(),
            instance=request.path,
            headers={"Retry-After": "1"},
        )
    if isinstance(state, idempotency.Stored):
        response = Response(state.body, status=state.status, headers=state.headers)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    assert isinstance(state, int)
    try:
        response = current_app.make_response(run())
    except Exception as exc:
        response = handle_error(exc)
    kept = {
        k: v
        for k, v in response.headers.items()
        if k in ("Content-Type", "Location", "Content-Language")
    }
    idempotency.finish(db, state, response.status_code, kept, response.get_data(as_text=True))
    return response


class MalformedBodyError(InputError):
    """The body as a whole cannot be read (not UTF-8, not JSON, nested past any limit)."""

    status = 400


def body() -> dict[str, Any]:
    """The JSON object of the request, or a 400/413/415/422 problem naming what is wrong.

    Read by the parser the CLI uses (:mod:`docservice.forms.json_input`): duplicate keys,
    nesting, numbers no field holds and lone surrogates are refused before any field is.
    """
    limit = service().settings.max_request_bytes
    if (request.content_length or 0) > limit:
        raise TooLargeError(f"the body may be at most {limit} bytes")
    if not request.is_json:
        raise MediaTypeError("send Content-Type: application/json")
    try:
        data = decode_request(request.get_data())
    except InputError as exc:
        if all(e.path == "$" for e in exc.errors):  # not UTF-8, not JSON: not a request
            raise MalformedBodyError(exc.errors, exc.kind) from None
        raise
    if not isinstance(data, dict):
        raise ServiceError("the body must be a JSON object")
    return data


class TooLargeError(ServiceError):
    status, code = 413, "too_large"


class MediaTypeError(ServiceError):
    status, code = 415, "unsupported_media_type"


def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FieldValueError(f"{name} must be a non-empty string", field=name)
    return value


class FieldValueError(ServiceError):
    status, code = 422, "invalid_input"


# -- views of the rows ----------------------------------------------------------------


def _iso(value: dt.datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def signature_view(doc: Document, sig: Signature) -> dict[str, Any]:
    return {
        "n": sig.seq,
        "method": sig.method,
        "key": sig.key_name,
        "signer": {
            "name": sig.signer_name,
            "iin": sig.signer_iin,
            "certificate_serial": sig.signer_serial,
        },
        "created_at": _iso(sig.created_at),
        "links": {"cms": url_for("api.signature_cms", doc_id=doc.id, n=sig.seq)},
    }


def document_view(doc: Document, *, verification: bool = False) -> dict[str, Any]:
    svc = service()
    view = {
        "id": doc.id,
        "kind": doc.kind,
        "lang": doc.lang,
        "status": doc.status,
        "case_ref": doc.case_ref,
        "sha256": doc.sha256,
        "signature_count": doc.signature_count,
        "created_at": _iso(doc.created_at),
        "updated_at": _iso(doc.updated_at),
        "signatures": [signature_view(doc, s) for s in doc.signatures],
        "links": {
            "self": url_for("api.get_document", doc_id=doc.id),
            "pdf": url_for("api.document_pdf", doc_id=doc.id),
            "xml": url_for("api.document_xml", doc_id=doc.id),
            "verify": f"{svc.settings.public_url.rstrip('/')}/verify?doc={doc.sha256}",
        },
    }
    view["case_id"] = doc.case_id
    view["version"] = doc.version
    if doc.previous_id:
        view["previous_version"] = doc.previous_id
        view["links"]["previous_version"] = url_for("api.get_document", doc_id=doc.previous_id)
    if doc.case_id:
        view["links"]["case"] = url_for("api.get_case", case_id=doc.case_id)
        view["links"]["route"] = url_for("api.document_route", doc_id=doc.id)
    if verification:
        view["verification"] = svc.verification_summary(doc)
    return view


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


# -- documents ------------------------------------------------------------------------


@bp.post("/documents")
@require("render")
def create_document() -> Any:
    data = body()
    kind = _text(data, "kind")
    doc_lang = data.get("lang", "kk")
    if not isinstance(doc_lang, str):
        raise FieldValueError("lang must be kk, ru or kk+ru", field="lang")
    case_ref = _text(data, "case_ref", required=False)
    callback = _text(data, "callback_url", required=False)
    if callback is not None and not callback.startswith(("http://", "https://")):
        raise FieldValueError("callback_url must be an http(s) URL", field="callback_url")
    route = _text(data, "route", required=False)
    svc = service()
    if route is not None:  # a routed document is small; rendered now, not as a job
        doc = svc.create_document(
            g.client,
            kind or "",
            doc_lang,
            data.get("data"),
            case_ref=case_ref,
            callback_url=callback,
            route=route,
        )
        return _json(
            document_view(doc), 201, {"Location": url_for("api.get_document", doc_id=doc.id)}
        )
    if svc.needs_job(data.get("data")):
        job = svc.start_render_job(
            g.client,
            kind or "",
            doc_lang,
            data.get("data"),
            case_ref=case_ref,
            callback_url=callback,
        )
        try:
            current_app.extensions["docservice_jobs"].submit(job.id)
        except Exception as exc:  # broker away: the job is recorded, the sweeper sends it
            log.warning("job not sent now: %s", describe(exc))
        return _json(job_view(job), 202, {"Location": url_for("api.get_job", job_id=job.id)})
    doc = svc.create_document(
        g.client, kind or "", doc_lang, data.get("data"), case_ref=case_ref, callback_url=callback
    )
    location = url_for("api.get_document", doc_id=doc.id)
    return _json(document_view(doc), 201, {"Location": location})


A3_FIELDS = (
    "region",
    "month",
    "career_center",
    "prepared_by",
    "issue_date",
    "lang",
    "case_ref",
    "callback_url",
)


@bp.post("/reports/a3")
@require("render")
def create_report_a3() -> Any:
    """A region's monthly Appendix 3 report from the caller's activity reports of the month."""
    data = body()
    for name in data:
        if name not in A3_FIELDS:
            raise FieldValueError(f"unknown field {name!r}", field=name[:64])
    doc_lang = data.get("lang", "kk")
    if not isinstance(doc_lang, str):
        raise FieldValueError("lang must be kk, ru or kk+ru", field="lang")
    callback = _text(data, "callback_url", required=False)
    if callback is not None and not callback.startswith(("http://", "https://")):
        raise FieldValueError("callback_url must be an http(s) URL", field="callback_url")
    doc = service().create_report_a3(
        g.client,
        region=_text(data, "region") or "",
        month=_text(data, "month") or "",
        career_center=_text(data, "career_center", required=False),
        prepared_by=data.get("prepared_by"),
        issue_date=_text(data, "issue_date") or "",
        lang=doc_lang,
        case_ref=_text(data, "case_ref", required=False),
        callback_url=callback,
    )
    return _json(document_view(doc), 201, {"Location": url_for("api.get_document", doc_id=doc.id)})


def job_view(job: Job) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": job.id,
        "state": job.state,
        "progress": job.progress,
        "attempts": job.attempts,
        "created_at": _iso(job.created_at),
        "updated_at": _iso(job.updated_at),
        "links": {"self": url_for("api.get_job", job_id=job.id)},
    }
    if job.document_id:
        view["links"]["document"] = url_for("api.get_document", doc_id=job.document_id)
        view["document_id"] = job.document_id
    if job.error:
        view["error"] = json.loads(job.error)
    return view


@bp.get("/jobs/<job_id>")
@require(*READ)
def get_job(job_id: str) -> Any:
    return _json(job_view(service().get_job(g.client, job_id)))


def _date_arg(name: str) -> dt.datetime | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FieldValueError(f"{name} must be an ISO 8601 date or time", field=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise FieldValueError(f"{name} must be an integer from {low} to {high}", field=name)
    return int(value)


@bp.get("/documents")
@require(*READ)
def list_documents() -> Any:
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise FieldValueError(f"status must be one of {', '.join(STATUSES)}", field="status")
    limit = _int_arg("limit", 50, 1, 200)
    offset = _int_arg("offset", 0, 0, 10**9)
    listing = service().list_documents(
        g.client,
        kind=request.args.get("kind"),
        status=status,
        case_ref=request.args.get("case_ref"),
        created_from=_date_arg("created_from"),
        created_to=_date_arg("created_to"),
        limit=limit,
        offset=offset,
    )
    page: dict[str, Any] = {
        "items": [document_view(d) for d in listing.documents],
        "total": listing.total,
        "limit": limit,
        "offset": offset,
    }
    if offset + limit < listing.total:
        args = dict(request.args, offset=str(offset + limit), limit=str(limit))
        page["next"] = url_for("api.list_documents", **args)
    return _json(page)


@bp.get("/documents/<doc_id>")
@require(*READ)
def get_document(doc_id: str) -> Any:
    return _json(document_view(service().get_document(g.client, doc_id), verification=True))


@bp.get("/documents/<doc_id>/pdf")
@require(*READ)
def document_pdf(doc_id: str) -> Any:
    pdf_sha = service().current_pdf(g.client, doc_id)
    return Response(
        service().content(pdf_sha), mimetype="application/pdf", headers={"ETag": f'"{pdf_sha}"'}
    )


@bp.get("/documents/<doc_id>/xml")
@require(*READ)
def document_xml(doc_id: str) -> Any:
    doc = service().get_document(g.client, doc_id)
    return Response(service().content(doc.xml_sha), mimetype="application/xml")


@bp.get("/documents/<doc_id>/signatures/<int:n>")
@require(*READ)
def signature_cms(doc_id: str, n: int) -> Any:
    return Response(
        service().signature_cms(g.client, doc_id, n), mimetype="application/pkcs7-signature"
    )


# -- signing --------------------------------------------------------------------------


def _signed(doc_id: str, sig: Signature) -> Response:
    # The signing transaction's document, its signatures loaded there (no second read).
    doc = sig.document if "document" in sig.__dict__ else service().get_document(g.client, doc_id)
    return _json(
        {"signature": signature_view(doc, sig), "document": document_view(doc)},
        201,
        {"Location": url_for("api.signature_cms", doc_id=doc_id, n=sig.seq)},
    )


@bp.post("/documents/<doc_id>/signatures")
@require("sign")
def sign_document(doc_id: str) -> Any:
    key = _text(body(), "key")
    return _signed(doc_id, service().sign_with_key(g.client, doc_id, key or ""))


@bp.post("/documents/<doc_id>/signatures/prepare")
@require("sign")
def prepare_signature(doc_id: str) -> Any:
    certificate = _text(body(), "certificate")
    return _json(service().prepare_signature(g.client, doc_id, certificate or ""), 201)


@bp.post("/documents/<doc_id>/signatures/<sid>/complete")
@require("sign")
def complete_signature(doc_id: str, sid: str) -> Any:
    cms = _text(body(), "cms")
    return _signed(doc_id, service().complete_signature(g.client, doc_id, sid, cms or ""))


@bp.post("/documents/<doc_id>/signing-links")
@require("sign")
def create_signing_link(doc_id: str) -> Any:
    from docservice.service.links import create_link, expires_in_arg

    data = body()
    expected = data.get("expected_signer")
    if expected is not None and not (
        isinstance(expected, str) and len(expected) == 12 and expected.isdigit()
    ):
        raise FieldValueError("expected_signer must be an IIN (12 digits)", field="expected_signer")
    token, expires_at = create_link(
        service(),
        g.client,
        doc_id,
        expected_signer=expected,
        expires_in=expires_in_arg(data.get("expires_in")),
    )
    base = service().settings.public_url.rstrip("/")
    return _json({"url": f"{base}/sign/{token}", "expires_at": _iso(expires_at)}, 201)


# -- cases and routes -------------------------------------------------------------------


def case_view(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "case_ref": case.case_ref,
        "departure_region": case.departure_region,
        "settlement_region": case.settlement_region,
        "created_at": _iso(case.created_at),
        "links": {"self": url_for("api.get_case", case_id=case.id)},
    }


@bp.post("/cases")
@require("render")
def create_case() -> Any:
    data = body()
    for name in data:
        if name not in ("case_ref", "departure_region", "settlement_region"):
            raise FieldValueError(f"unknown field {name!r}", field=name[:64])
    case = service().create_case(
        g.client, data.get("case_ref"), data.get("departure_region"), data.get("settlement_region")
    )
    return _json(case_view(case), 201, {"Location": url_for("api.get_case", case_id=case.id)})


@bp.get("/cases/<case_id>")
@require(*READ)
def get_case(case_id: str) -> Any:
    """The case, its documents (each version) and the route state of each."""
    found = service().case_view(g.client, case_id, _page_lang())
    current = {r["document_id"]: r for r in found["routes"]}
    earlier = {e["document_id"]: r for r in found["routes"] for e in r["events"]}
    documents = []
    for doc in found["documents"]:
        view = document_view(doc)
        if doc.id in current:
            r = current[doc.id]
            view["route_state"] = {
                "route_id": r["id"],
                "state": r["state"],
                "step": r["step"]["id"] if r["step"] else None,
            }
        elif doc.id in earlier:
            view["route_state"] = {
                "route_id": earlier[doc.id]["id"],
                "state": "superseded",
                "step": None,
            }
        documents.append(view)
    return _json({**case_view(found["case"]), "documents": documents, "routes": found["routes"]})


def _page_lang() -> str:
    value = lang()
    return value if value in ("kk", "ru") else "kk"


@bp.get("/documents/<doc_id>/route")
@require(*READ)
def document_route(doc_id: str) -> Any:
    return _json(service().route_view(g.client, doc_id, _page_lang()))


def _event_answer(doc_id: str, event: Any) -> Response:
    from docservice.service.route import event_dict

    return _json(
        {"event": event_dict(event), "route": service().route_view(g.client, doc_id, _page_lang())},
        201,
    )


@bp.post("/documents/<doc_id>/route/return")
@require("sign")
def return_document(doc_id: str) -> Any:
    """Return for revision with remarks, signed with a server key (``key``)."""
    data = body()
    key = _text(data, "key")
    return _event_answer(
        doc_id, service().return_with_key(g.client, doc_id, key or "", data.get("remarks"))
    )


@bp.post("/documents/<doc_id>/route/return/prepare")
@require("sign")
def prepare_return(doc_id: str) -> Any:
    """Phase 1 of a return signed in the official's NCALayer."""
    data = body()
    certificate = _text(data, "certificate")
    return _json(
        service().prepare_return(g.client, doc_id, certificate or "", data.get("remarks")), 201
    )


@bp.post("/documents/<doc_id>/route/return/<sid>/complete")
@require("sign")
def complete_return(doc_id: str, sid: str) -> Any:
    data = body()
    cms = _text(data, "cms")
    return _event_answer(
        doc_id, service().complete_return(g.client, doc_id, sid, cms or "", data.get("remarks"))
    )


@bp.post("/documents/<doc_id>/revisions")
@require("render")
def revise_document(doc_id: str) -> Any:
    """A new version of a document returned for revision (the old one stays as it is)."""
    data = body()
    doc_lang = data.get("lang")
    if doc_lang is not None and not isinstance(doc_lang, str):
        raise FieldValueError("lang must be kk, ru or kk+ru", field="lang")
    doc = service().revise(g.client, doc_id, data.get("data"), lang=doc_lang)
    return _json(document_view(doc), 201, {"Location": url_for("api.get_document", doc_id=doc.id)})


@bp.get("/route/overdue")
@require(*READ)
def overdue_steps() -> Any:
    """The caller's routes whose current step is past its last working day."""
    items = service().overdue(g.client, _page_lang())
    return _json({"items": items, "total": len(items)})


# -- errors ---------------------------------------------------------------------------


@bp.errorhandler(Exception)
def handle_error(exc: Exception) -> Response:
    """Every failure as a problem document (:func:`problems.problem_for`, the one mapping)."""
    return problem_for(exc, lang(), request.path)
