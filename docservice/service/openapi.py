"""OpenAPI 3.1 of the API, generated from the same kind definitions as the forms.

Each kind's input schema is ``Kind.json_schema()`` (what ``docservice schema KIND``
prints; JSON Schema 2020-12, which OpenAPI 3.1 embeds as is), so the API description
cannot drift from validation. ``/docs`` renders the same document as plain HTML with no
external script or style: it works offline.
"""

from __future__ import annotations

import html
import json
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app

from docservice.forms import all_kinds
from docservice.render import LANG_CHOICES

bp = Blueprint("openapi", __name__)

_PROBLEM = {
    "description": "Problem (RFC 9457)",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _op(
    summary: str,
    scope: str | None,
    responses: dict[str, Any],
    *,
    body: str | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {**responses, "4XX": _PROBLEM, "503": _PROBLEM},
    }
    if scope:
        op["security"] = [{"bearer": []}]
        op["description"] = f"Scope: `{scope}`."
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
        op["parameters"] = [*(params or []), {"$ref": "#/components/parameters/IdempotencyKey"}]
    elif params:
        op["parameters"] = params
    return op


def _json_ref(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def _path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _archive_paths() -> dict[str, Any]:
    """The auditors' endpoints (``archive_api``); answers are JSON objects or files."""
    obj = {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}
    size = [{"name": "tree_size", "in": "query", "schema": {"type": "integer"}}]
    index = _path_param("index", {"type": "integer", "minimum": 0})
    case = _path_param("case_id")
    return {
        "/v1/archive/key": {
            "get": _op(
                "The public seal key of tree heads (PEM)",
                "audit",
                {"200": {"description": "PEM", "content": {"application/x-pem-file": {}}}},
            )
        },
        "/v1/archive/tree-heads": {
            "get": _op(
                "The kept signed tree heads (RFC 9162 TreeHeadDataV2 fields)", "audit", {"200": obj}
            ),
            "post": _op("Sign (and time-stamp) a tree head now", "audit", {"201": obj}),
        },
        "/v1/archive/entries/{index}": {
            "get": _op(
                "A log entry and its inclusion proof", "audit", {"200": obj}, params=[index, *size]
            )
        },
        "/v1/archive/entries/{index}/proof": {
            "get": _op("RFC 9162 inclusion proof", "audit", {"200": obj}, params=[index, *size])
        },
        "/v1/archive/consistency": {
            "get": _op(
                "RFC 9162 consistency proof between two tree sizes",
                "audit",
                {"200": obj},
                params=[
                    {"name": n, "in": "query", "required": True, "schema": {"type": "integer"}}
                    for n in ("first", "second")
                ],
            )
        },
        "/v1/archive/search": {
            "post": {
                **_op(
                    "Entries by case_ref, IIN (keyed hash) and period (from, to)",
                    "audit",
                    {"200": obj},
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "case_ref": {"type": "string"},
                                    "iin": {"type": "string"},
                                    "from": {"type": "string", "format": "date-time"},
                                    "to": {"type": "string", "format": "date-time"},
                                    "limit": {"type": "integer"},
                                    "offset": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
            }
        },
        "/v1/archive/blobs/{sha256}": {
            "get": _op(
                "An archived artefact by SHA-256",
                "audit",
                {"200": {"description": "the bytes", "content": {}}},
                params=[_path_param("sha256")],
            )
        },
        "/v1/cases/{case_id}/chain": {
            "get": _op(
                "A case's timeline: artefacts, entries, inclusion proofs",
                "audit",
                {"200": obj},
                params=[case],
            )
        },
        "/v1/cases/{case_id}/bundle": {
            "get": _op(
                "A case's bundle (ZIP), checked offline by `docservice audit verify-bundle`",
                "audit",
                {"200": {"description": "ZIP", "content": {"application/zip": {}}}},
                params=[case],
            )
        },
    }


@cache
def spec(server_url: str = "/") -> dict[str, Any]:
    kinds = all_kinds()
    schemas: dict[str, Any] = {}
    create_variants = []
    for name, kind in kinds.items():
        schema = {k: v for k, v in kind.json_schema().items() if k not in ("$schema", "$id")}
        schemas[f"{name}_input"] = schema
        create_variants.append(
            {
                "type": "object",
                "title": name,
                "additionalProperties": False,
                "required": ["kind", "data"],
                "properties": {
                    "kind": {"const": name},
                    "lang": {"enum": list(LANG_CHOICES), "default": "kk"},
                    "data": {"$ref": f"#/components/schemas/{name}_input"},
                    "case_ref": {"type": "string", "maxLength": 200},
                    "callback_url": {"type": "string", "format": "uri"},
                },
            }
        )
    schemas["DocumentCreate"] = {
        "oneOf": create_variants,
        "discriminator": {"propertyName": "kind"},
    }
    schemas["ReportA3Create"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["region", "month", "prepared_by", "issue_date"],
        "description": "Built from the caller's activity_report documents of the region whose "
        "activity_date falls in the month (one row per IIN, a service's last "
        "date in the month); stored as a report_a3 document.",
        "properties": {
            "region": {"type": "string", "description": "as the activity reports give it"},
            "month": {
                "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}$",
                "description": "YYYY-MM: the report's period",
            },
            "career_center": {
                "type": "string",
                "description": "needed when the region's reports come from several career centres",
            },
            "prepared_by": schemas["report_a3_input"]["properties"]["prepared_by"],
            "issue_date": schemas["report_a3_input"]["properties"]["issue_date"],
            "lang": {"enum": list(LANG_CHOICES), "default": "kk"},
            "case_ref": {"type": "string", "maxLength": 200},
            "callback_url": {"type": "string", "format": "uri"},
        },
    }
    schemas["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "code": {"type": "string"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": ["string", "null"]},
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }
    schemas["Signature"] = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "method": {"enum": ["server_key", "ncalayer"]},
            "key": {"type": ["string", "null"]},
            "signer": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "iin": {"type": ["string", "null"]},
                    "certificate_serial": {"type": "string"},
                },
            },
            "created_at": {"type": "string", "format": "date-time"},
            "links": {"type": "object"},
        },
    }
    schemas["Document"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "kind": {"enum": list(kinds)},
            "lang": {"enum": list(LANG_CHOICES)},
            "status": {"enum": ["ready", "signed"]},
            "case_ref": {"type": ["string", "null"]},
            "case_id": {"type": ["string", "null"]},
            "version": {"type": "integer"},
            "previous_version": {"type": "string"},
            "route_state": {
                "type": "object",
                "description": "in GET /v1/cases/{case_id}: "
                "route_id, state (active, returned, done, superseded), step",
            },
            "sha256": {"type": "string", "description": "the PDF as rendered; the QR code's ?doc="},
            "signature_count": {"type": "integer"},
            "signatures": {"type": "array", "items": {"$ref": "#/components/schemas/Signature"}},
            "verification": {"type": ["object", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "links": {"type": "object"},
        },
    }
    schemas["DocumentPage"] = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "next": {"type": "string"},
        },
    }
    schemas["SignWithKey"] = {
        "type": "object",
        "required": ["key"],
        "properties": {"key": {"type": "string", "description": "name of a server-held key"}},
    }
    schemas["Prepare"] = {
        "type": "object",
        "required": ["certificate"],
        "properties": {
            "certificate": {"type": "string", "description": "PEM or Base64 DER (getKeyInfo)"}
        },
    }
    schemas["Prepared"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "data_to_sign": {"type": "string"},
            "expires_at": {"type": "string", "format": "date-time"},
            "ncalayer_request": {"type": "object"},
        },
    }
    schemas["Complete"] = {
        "type": "object",
        "required": ["cms"],
        "properties": {"cms": {"type": "string", "description": "NCALayer's CMS (PEM or Base64)"}},
    }
    schemas["Signed"] = {
        "type": "object",
        "properties": {
            "signature": {"$ref": "#/components/schemas/Signature"},
            "document": {"$ref": "#/components/schemas/Document"},
        },
    }
    schemas["EgovCreate"] = {
        "type": "object",
        "required": ["app", "expected_signer"],
        "properties": {
            "app": {"enum": ["egov_mobile", "egov_business"]},
            "sign_method": {
                "enum": ["CMS_SIGN_ONLY", "XML", "MIX_SIGN"],
                "default": "CMS_SIGN_ONLY",
            },
            "auth_type": {"enum": ["Token", "Eds"], "default": "Token"},
            "expected_signer": {
                "type": "string",
                "description": "the official's signing certificate (PEM/Base64)",
            },
        },
    }
    schemas["EgovRequest"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "state": {"enum": ["pending", "signed", "expired"]},
            "expires_at": {"type": "string", "format": "date-time"},
            "qr": {"type": "object", "description": "payload (mobileSign:...), png (Base64), svg"},
            "links": {
                "type": "object",
                "description": "egov_mobile, egov_business, api1, status, page",
            },
        },
    }
    schemas["CaseCreate"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["case_ref", "departure_region", "settlement_region"],
        "properties": {
            "case_ref": {
                "type": "string",
                "maxLength": 200,
                "description": "the caller's own identifier, unique per caller",
            },
            "departure_region": {
                "type": "string",
                "maxLength": 100,
                "description": "spelled as the organisations directory spells regions",
            },
            "settlement_region": {"type": "string", "maxLength": 100},
        },
    }
    schemas["RouteEvent"] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "route_id": {"type": "string"},
            "document_id": {"type": "string"},
            "version": {"type": "integer"},
            "action": {"enum": ["started", "signed", "returned", "revised", "completed"]},
            "step": {"type": ["string", "null"]},
            "to_step": {"type": ["string", "null"]},
            "at": {"type": "string", "format": "date-time"},
            "remarks": {"type": ["string", "null"]},
            "signature_seq": {"type": ["integer", "null"]},
            "remarks_cms_sha256": {"type": ["string", "null"]},
            "actor": {
                "type": ["object", "null"],
                "description": "the certificate's IIN, BIN, name, NCA role OIDs and SHA-256",
            },
        },
    }
    schemas["Route"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "route": {"type": "string"},
            "state": {"enum": ["active", "returned", "done"]},
            "document_id": {"type": "string", "description": "the current version"},
            "case_id": {"type": "string"},
            "step": {
                "type": ["object", "null"],
                "description": "id, points, title, body, "
                "region, roles, since, due_on (last working day), overdue, may_return",
            },
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/RouteEvent"}},
        },
    }
    schemas["Case"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "case_ref": {"type": "string"},
            "departure_region": {"type": "string"},
            "settlement_region": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
            "routes": {"type": "array", "items": {"$ref": "#/components/schemas/Route"}},
            "links": {"type": "object"},
        },
    }
    schemas["ReturnWithKey"] = {
        "type": "object",
        "required": ["key", "remarks"],
        "properties": {
            "key": {"type": "string", "description": "server key of the official of the step"},
            "remarks": {"type": "string", "maxLength": 4000},
        },
    }
    schemas["ReturnPrepare"] = {
        "type": "object",
        "required": ["certificate", "remarks"],
        "properties": {
            "certificate": {"type": "string", "description": "PEM or Base64 DER"},
            "remarks": {"type": "string", "maxLength": 4000},
        },
    }
    schemas["ReturnComplete"] = {
        "type": "object",
        "required": ["cms", "remarks"],
        "properties": {
            "cms": {"type": "string", "description": "NCALayer's CMS over the prepared remarks"},
            "remarks": {"type": "string", "description": "the remarks prepared, again"},
        },
    }
    schemas["Returned"] = {
        "type": "object",
        "properties": {
            "event": {"$ref": "#/components/schemas/RouteEvent"},
            "route": {"$ref": "#/components/schemas/Route"},
        },
    }
    schemas["Revision"] = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "description": "the kind's input, as for POST /v1/documents",
            },
            "lang": {"enum": list(LANG_CHOICES)},
        },
    }
    schemas["Overdue"] = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Route"}},
            "total": {"type": "integer"},
        },
    }
    for variant in create_variants:
        variant["properties"]["route"] = {
            "type": "string",
            "description": "a route definition (e.g. application): the "
            "document starts at its first step; case_ref must name one of the caller's cases",
        }
    doc_id = _path_param("doc_id")
    q = [
        {"name": n, "in": "query", "schema": s}
        for n, s in (
            ("kind", {"enum": list(kinds)}),
            ("status", {"enum": ["ready", "signed"]}),
            ("case_ref", {"type": "string"}),
            ("created_from", {"type": "string", "format": "date-time"}),
            ("created_to", {"type": "string", "format": "date-time"}),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
            ("offset", {"type": "integer", "minimum": 0}),
        )
    ]
    binary = {"description": "the file", "content": {}}
    paths = {
        "/v1/documents": {
            "post": _op(
                "Render a document (PDF/A-3b + XML) and store it",
                "render",
                {"201": _json_ref("Document", "created")},
                body="DocumentCreate",
            ),
            "get": _op(
                "The caller's documents",
                "render",
                {"200": _json_ref("DocumentPage", "a page")},
                params=q,
            ),
        },
        "/v1/reports/a3": {
            "post": _op(
                "A region's monthly Appendix 3 report from the caller's activity reports",
                "render",
                {"201": _json_ref("Document", "created")},
                body="ReportA3Create",
            )
        },
        "/v1/documents/{doc_id}": {
            "get": _op(
                "A document: status, signatures, verification summary",
                "render",
                {"200": _json_ref("Document", "the document")},
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/pdf": {
            "get": _op(
                "The current PDF revision",
                "render",
                {"200": {**binary, "content": {"application/pdf": {}}}},
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/xml": {
            "get": _op(
                "The XML",
                "render",
                {"200": {**binary, "content": {"application/xml": {}}}},
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/signatures/{n}": {
            "get": _op(
                "The detached CMS of signer n",
                "render",
                {"200": {**binary, "content": {"application/pkcs7-signature": {}}}},
                params=[doc_id, _path_param("n", {"type": "integer", "minimum": 1})],
            )
        },
        "/v1/documents/{doc_id}/signatures": {
            "post": _op(
                "Sign with a server-held key",
                "sign",
                {"201": _json_ref("Signed", "signed")},
                body="SignWithKey",
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/signatures/prepare": {
            "post": _op(
                "Prepare a signature for the official's NCALayer",
                "sign",
                {"201": _json_ref("Prepared", "prepared")},
                body="Prepare",
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/signatures/{sid}/complete": {
            "post": _op(
                "Complete a prepared signature with NCALayer's CMS",
                "sign",
                {"201": _json_ref("Signed", "signed")},
                body="Complete",
                params=[doc_id, _path_param("sid")],
            )
        },
        "/v1/documents/{doc_id}/signatures/egov": {
            "post": _op(
                "A QR / cross-signing request for eGov mobile or eGov Business",
                "sign",
                {"201": _json_ref("EgovRequest", "created")},
                body="EgovCreate",
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/signatures/egov/{rid}": {
            "get": _op(
                "The state of an eGov signing request",
                "sign",
                {"200": _json_ref("EgovRequest", "its state")},
                params=[doc_id, _path_param("rid")],
            )
        },
        "/v1/cases": {
            "post": _op(
                "A case: the caller's case_ref and the regions its routes run through",
                "render",
                {"201": _json_ref("Case", "created")},
                body="CaseCreate",
            )
        },
        "/v1/cases/{case_id}": {
            "get": _op(
                "A case, its documents (every version) and the state of their routes",
                "render",
                {"200": _json_ref("Case", "the case")},
                params=[_path_param("case_id")],
            )
        },
        "/v1/documents/{doc_id}/route": {
            "get": _op(
                "The document's route: current step, deadline, events",
                "render",
                {"200": _json_ref("Route", "the route")},
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/route/return": {
            "post": _op(
                "Return for revision with remarks, signed with the step official's server key",
                "sign",
                {"201": _json_ref("Returned", "returned")},
                body="ReturnWithKey",
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/route/return/prepare": {
            "post": _op(
                "Prepare a return: the remarks for the official's NCALayer to sign",
                "sign",
                {"201": _json_ref("Prepared", "prepared")},
                body="ReturnPrepare",
                params=[doc_id],
            )
        },
        "/v1/documents/{doc_id}/route/return/{sid}/complete": {
            "post": _op(
                "Complete a return with NCALayer's CMS over the remarks",
                "sign",
                {"201": _json_ref("Returned", "returned")},
                body="ReturnComplete",
                params=[doc_id, _path_param("sid")],
            )
        },
        "/v1/documents/{doc_id}/revisions": {
            "post": _op(
                "A new version of a document returned for revision",
                "render",
                {"201": _json_ref("Document", "the new version")},
                body="Revision",
                params=[doc_id],
            )
        },
        "/v1/route/overdue": {
            "get": _op(
                "The caller's route steps past their last working day",
                "render",
                {"200": _json_ref("Overdue", "overdue steps")},
            )
        },
        **_archive_paths(),
        "/v1/verify": {
            "post": {
                "summary": "Verify a signed file (multipart: file, original?)",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    },
                                    "original": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    },
                                },
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "the verification report (JSON)"}},
            }
        },
        "/health": {"get": {"summary": "Alive", "responses": {"200": {"description": "ok"}}}},
        "/ready": {
            "get": {
                "summary": "Database, store and broker reachable",
                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "text exposition"}},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "docservice",
            "version": "1",
            "description": "Bilingual (kk/ru) official documents: render, sign, verify. "
            "Errors are application/problem+json in the caller's "
            "Accept-Language (kk, ru, en). Every POST takes an "
            "Idempotency-Key.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                    "description": "a retry with the same key and body returns the first answer",
                }
            },
            "schemas": schemas,
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    svc = current_app.extensions["docservice"]
    return Response(
        json.dumps(spec(svc.settings.public_url), ensure_ascii=False), mimetype="application/json"
    )


@bp.get("/docs")
def docs_page() -> Response:
    """The API description as one self-contained HTML page."""
    svc = current_app.extensions["docservice"]
    document = spec(svc.settings.public_url)
    e = html.escape
    rows = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            rows.append(
                f"<tr><td><code>{e(method.upper())}</code></td><td><code>{e(path)}"
                f"</code></td><td>{e(op['summary'])}</td>"
                f"<td>{e(op.get('description', ''))}</td></tr>"
            )
    kinds = "".join(
        f"<details><summary><code>{e(name.removesuffix('_input'))}</code></summary><pre>"
        f"{e(json.dumps(schema, ensure_ascii=False, indent=2))}</pre></details>"
        for name, schema in document["components"]["schemas"].items()
        if name.endswith("_input")
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>docservice API</title><style>body{font-family:sans-serif;max-width:70em;"
        "margin:1em auto;padding:0 1em}td{padding:.2em .6em;border-bottom:1px solid #ddd}"
        "pre{background:#f6f6f6;padding:.5em;overflow:auto}</style></head><body>"
        f"<h1>docservice API</h1><p>{e(document['info']['description'])}</p>"
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1). "
        "Authentication: <code>Authorization: Bearer KEY</code>.</p>"
        f"<h2>Endpoints</h2><table>{''.join(rows)}</table>"
        f"<h2>Document kinds: the <code>data</code> of each</h2>{kinds}</body></html>"
    )
    return Response(page, mimetype="text/html")
