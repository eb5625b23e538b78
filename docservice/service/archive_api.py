"""The auditors' API (``audit`` scope): tree heads, proofs, search, a case's chain and bundle.

Thin like ``api``: parses, authorises, records the read, calls ``Archive``. Every read is
itself an entry of the log (``audit.read``), written before the answer is made, so a
bundle's tree head covers the read that produced it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g

from docservice.service import api
from docservice.service.api import FieldValueError, _int_arg, _json, require, service
from docservice.service.archive import public_pem, sth_view
from docservice.service.errors import NotFoundError

bp = Blueprint("archive_api", __name__, url_prefix="/v1")
bp.register_error_handler(Exception, api.handle_error)


def _read(what: str, **params: Any) -> None:
    svc = service()
    with svc.db.session() as session:
        svc.archive.record_read(session, g.client, what, **params)


def _size_arg(name: str, default: int) -> int:
    return _int_arg(name, default, 0, 2**62)


@bp.get("/archive/key")
@require("audit")
def seal_key() -> Any:
    """The public seal key tree heads are signed with (PEM)."""
    return Response(public_pem(service().archive.seal_key), mimetype="application/x-pem-file")


@bp.get("/archive/tree-heads")
@require("audit")
def tree_heads() -> Any:
    _read("tree-heads")
    heads = service().archive.tree_heads()
    return _json({"items": [sth_view(s, t) for s, t in heads]})


@bp.post("/archive/tree-heads")
@require("audit")
def make_tree_head() -> Any:
    """A signed (and, with a TSA, time-stamped) tree head of the log as it is now."""
    _read("tree-head.make")
    sth, token = service().archive.make_tree_head()
    return _json(sth_view(sth, token), 201)


def _check_index(index: int, size: int) -> None:
    current = service().archive.log_store.size()
    if size > current:
        raise FieldValueError(f"tree_size must be at most {current}", field="tree_size")
    if index >= size:
        raise NotFoundError(f"no entry {index} in a tree of {size}", field="index")


@bp.get("/archive/entries/<int:index>")
@require("audit")
def entry(index: int) -> Any:
    """Entry ``index``: its bytes and its inclusion proof in the tree of ``tree_size``."""
    archive = service().archive
    size = _size_arg("tree_size", archive.log_store.size())
    _check_index(index, size)
    _read("entry", index=index, tree_size=size)
    from docservice.service.archive import b64

    return _json(
        {
            "index": index,
            "entry": b64(archive.log_store.entry(index)),
            "proof": archive.inclusion(index, size),
        }
    )


@bp.get("/archive/entries/<int:index>/proof")
@require("audit")
def inclusion_proof(index: int) -> Any:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``tree_size`` leaves."""
    archive = service().archive
    size = _size_arg("tree_size", archive.log_store.size())
    _check_index(index, size)
    _read("inclusion-proof", index=index, tree_size=size)
    return _json(archive.inclusion(index, size))


@bp.get("/archive/consistency")
@require("audit")
def consistency_proof() -> Any:
    """RFC 9162 consistency proof between the trees of ``first`` and ``second`` leaves."""
    archive = service().archive
    current = archive.log_store.size()
    second = _size_arg("second", current)
    first = _int_arg("first", 1, 1, 2**62)
    if second > current:
        raise FieldValueError(f"second must be at most {current}", field="second")
    if first > second:
        raise FieldValueError("first must be at most second", field="first")
    _read("consistency-proof", first=first, second=second)
    return _json(archive.consistency(first, second))


@bp.post("/archive/search")
@require("audit")
def search() -> Any:
    """Entries by case, by IIN (matched through its keyed hash) and by period.

    A POST with a JSON body so that an IIN never travels in a URL (access logs).
    """
    data = api.body()
    for name in data:
        if name not in ("case_ref", "iin", "from", "to", "limit", "offset"):
            raise FieldValueError(f"unknown field {name!r}", field=name[:64])
    iin = data.get("iin")
    if iin is not None and not (isinstance(iin, str) and len(iin) == 12 and iin.isdigit()):
        raise FieldValueError("iin must be 12 digits", field="iin")
    case_ref = data.get("case_ref")
    if case_ref is not None and not isinstance(case_ref, str):
        raise FieldValueError("case_ref must be a string", field="case_ref")
    since, until = (_date_value(data, "from"), _date_value(data, "to"))
    limit, offset = data.get("limit", 200), data.get("offset", 0)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise FieldValueError("limit must be an integer from 1 to 1000", field="limit")
    if not isinstance(offset, int) or offset < 0:
        raise FieldValueError("offset must be a non-negative integer", field="offset")
    svc = service()
    from docservice.archive.record import iin_key

    with svc.db.session() as session:
        svc.archive.record_read(
            session,
            g.client,
            "search",
            case_ref=case_ref,
            iin_key=iin_key(svc.archive.index_key, iin) if iin else None,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
        )
    with svc.db.sessions() as session:
        items = svc.archive.search(
            session,
            g.client,
            case_ref=case_ref,
            iin=iin,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
    return _json({"items": items, "limit": limit, "offset": offset})


def _date_value(data: dict[str, Any], name: str) -> Any:
    import datetime as dt

    value = data.get(name)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise FieldValueError(f"{name} must be an ISO 8601 date or time", field=name)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@bp.get("/cases/<case_id>/chain")
@require("audit")
def case_chain(case_id: str) -> Any:
    """The case's timeline: every artefact, its log entry and its inclusion proof."""
    svc = service()
    _read("case.chain", case=case_id)
    with svc.db.sessions() as session:
        chain = svc.archive.chain(session, g.client, case_id)
    if not chain["items"]:
        raise NotFoundError("no such case", field="id")
    for item in chain["items"]:
        item["links"] = {"content": f"/v1/archive/blobs/{item['sha256']}"}
    return _json(chain)


@bp.get("/archive/blobs/<sha256>")
@require("audit")
def blob(sha256: str) -> Any:
    """An archived artefact by its SHA-256 (one the caller's entries name)."""
    from sqlalchemy import select

    from docservice.archive.store import artefact

    svc = service()
    with svc.db.sessions() as session:
        found = session.scalar(
            select(artefact.c.idx)
            .where(artefact.c.sha256 == sha256, artefact.c.client_id == g.client.id)
            .limit(1)
        )
    if found is None:
        raise NotFoundError("no such artefact", field="sha256")
    _read("blob", sha256=sha256)
    return Response(svc.store.get(sha256), mimetype="application/octet-stream")


@bp.get("/cases/<case_id>/bundle")
@require("audit")
def case_bundle(case_id: str) -> Any:
    """One ZIP with the manifest, every artefact, reports, proofs, tree heads and ДДК."""
    from docservice.service.bundle import build_bundle

    svc = service()
    _read("case.bundle", case=case_id)
    data = build_bundle(svc, g.client, case_id)
    if data is None:
        raise NotFoundError("no such case", field="id")
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="case-{_safe(case_id)}.zip"'},
    )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "case"
