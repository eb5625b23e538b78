"""Assemble a case's bundle from the service's archive (``GET /v1/cases/{id}/bundle``).

The format and its offline check are :mod:`docservice.archive.bundle`; this module
gathers the materials: the case's entries and artefacts, the newest tree head (made now
when it does not cover the case), the head where each entry first appeared with a
consistency proof to the newest, and a ДДК per signed document.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from docservice.archive.bundle import Item, Materials, write_bundle
from docservice.archive.card import CardError, build_card, cms_of_signed_pdf
from docservice.logsafe import describe
from docservice.service.archive import case_documents
from docservice.service.models import Client

log = logging.getLogger("docservice.archive")


def build_bundle(svc: Any, client: Client, case_id: str) -> bytes | None:
    """The ZIP of case ``case_id``, or None when the client has no such case."""
    archive = svc.archive
    with svc.db.sessions() as session:
        documents = case_documents(session, client, case_id)
        rows = archive.case_rows(session, client, case_id, documents)
    if not rows:
        return None
    head, token = archive.head_covering(rows[-1]["idx"] + 1)
    kept = [
        (s, t) for s, t in archive.tree_heads() if 0 < s.tree_size <= head.tree_size and s != head
    ]
    kept.sort(key=lambda h: (h[0].tree_size, h[0].timestamp_ms))
    items, firsts = [], {}
    for row in rows:
        idx = row["idx"]
        first = next(((s, t) for s, t in kept if s.tree_size > idx), None)
        if first is not None:
            firsts[(first[0].tree_size, first[0].timestamp_ms)] = first
        items.append(
            Item(
                idx,
                archive.log_store.entry(idx),
                svc.store.get(row["sha256"]),
                archive.log.inclusion_proof(idx, head.tree_size),
                first[0] if first else None,
            )
        )
    earlier = [
        (s, t, archive.log.consistency_proof(s.tree_size, head.tree_size))
        for s, t in firsts.values()
    ]
    cards: dict[str, bytes | str] = {}
    for doc in documents:
        if doc.signature_count == 0:
            continue
        pdf = svc.store.get(doc.pdf_sha)
        try:
            cards[doc.id] = build_card(
                pdf,
                f"{doc.kind}-{doc.id}.pdf",
                cms_of_signed_pdf(pdf),
                svc.verifier(),
                title=f"{doc.kind} {doc.id}",
            )
        except CardError as exc:
            cards[doc.id] = str(exc)
        except Exception as exc:  # one unreadable document must not lose the bundle
            log.warning("card of %s not made: %s", doc.id, describe(exc))
            cards[doc.id] = f"card not made: {type(exc).__name__}"
    return write_bundle(
        Materials(
            case_id=case_id,
            created_at=dt.datetime.now(dt.UTC).isoformat(),
            seal_key=archive.seal_key,
            head=head,
            head_token=token,
            items=items,
            earlier=earlier,
            cards=cards,
        )
    )
