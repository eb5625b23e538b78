"""Long-term validity: B-LTA documents get a new document time-stamp before the newest one's
TSA certificate expires.

Why: a PAdES B-LTA document stays verifiable only while its newest document time-stamp
can be validated; before the time-stamping certificate expires, the validation data of
that time-stamp is added to the DSS and a new document time-stamp is laid over everything
(ETSI EN 319 142-1 §5.5, pyHanko's ``update_archival_timestamp_chain``). The new revision
and its token are recorded in the archive like any signature revision, in the transaction
that makes the revision the document's current one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
from typing import Any

from sqlalchemy import select, update

from docservice.archive.record import Artefact
from docservice.logsafe import describe
from docservice.service.models import Document, utcnow

log = logging.getLogger("docservice.archive")


def timestamp_expiry(pdf: bytes) -> dt.datetime | None:
    """When the TSA certificate of the newest document time-stamp expires (None: no
    document time-stamp, so not a B-LTA document)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    if not stamps:
        return None
    newest = max(stamps, key=lambda s: s.signed_revision)
    return newest.signer_cert["tbs_certificate"]["validity"]["not_after"].native


def _newest_token(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    return max(stamps, key=lambda s: s.signed_revision).sig_object["/Contents"]


def retimestamp(pdf: bytes, tsa_url: str, trust: Any) -> bytes:
    """``pdf`` with the validation data of its time-stamps and a new document time-stamp."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper
    from pyhanko.sign.timestamps import HTTPTimeStamper

    async def run() -> bytes:
        stamper = PdfTimeStamper(HTTPTimeStamper(tsa_url, timeout=30))
        out = await stamper.async_update_archival_timestamp_chain(
            PdfFileReader(io.BytesIO(pdf), strict=False), trust.validation_context(), in_place=False
        )
        return out.getvalue()

    return asyncio.run(run())


def retimestamp_document(svc: Any, doc_id: str, *, now: dt.datetime | None = None) -> bool:
    """Re-time-stamp one document if it is (still) due; True when a revision was added."""
    settings = svc.settings
    if not settings.tsa_url or svc.trust is None:
        return False
    limit = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=settings.retimestamp_days)
    with svc.db.sessions() as session:
        document = session.get(Document, doc_id)
        base = document.pdf_sha if document else None
    if base is None:
        return False
    pdf = svc.store.get(base)
    expiry = timestamp_expiry(pdf)
    if expiry is None or expiry > limit:
        return False
    new = retimestamp(pdf, settings.tsa_url, svc.trust)
    with svc.db.session() as session:
        # The same lock signing takes; only the revision we extended may be replaced.
        if svc.db.sqlite:
            done = (
                session.execute(
                    update(Document)
                    .where(Document.id == doc_id, Document.pdf_sha == base)
                    .values(lock_version=Document.lock_version + 1)
                ).rowcount
                == 1
            )
            document = session.get(Document, doc_id, populate_existing=True)
        else:
            document = session.scalar(
                select(Document)
                .where(Document.id == doc_id, Document.pdf_sha == base)
                .with_for_update()
            )
            done = document is not None
        if not done or document is None:
            return False  # signed or re-stamped meanwhile: the next sweep looks again
        document.pdf_sha = svc.store.put(new)
        document.updated_at = utcnow()
        common = {
            "document_id": document.id,
            "case_ref": document.case_ref,
            "client_id": document.client_id,
        }
        meta = {"retimestamp": True, "previous_expiry": expiry.isoformat()}
        svc.archive.record(
            session,
            [
                Artefact("signature.pdf", new, meta=meta, sha256=document.pdf_sha, **common),
                Artefact("document.timestamp", _newest_token(new), meta=meta, **common),
            ],
        )
    return True


def retimestamp_due(svc: Any, *, now: dt.datetime | None = None) -> list[str]:
    """Re-time-stamp every signed document whose newest time-stamp expires soon."""
    if not svc.settings.tsa_url or svc.trust is None:
        return []
    with svc.db.sessions() as session:
        ids = list(
            session.scalars(
                select(Document.id).where(Document.status == "signed").order_by(Document.created_at)
            )
        )
    done = []
    for doc_id in ids:
        try:
            if retimestamp_document(svc, doc_id, now=now):
                done.append(doc_id)
        except Exception as exc:  # one document's TSA trouble must not stop the sweep
            log.warning("re-time-stamping %s failed: %s", doc_id, describe(exc))
    return done
