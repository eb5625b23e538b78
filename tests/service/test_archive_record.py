"""record() and record_event() in the service's transactions, SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from docservice.archive.record import canonical, parse_entry
from docservice.service.audit import check_archive
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from tests.conftest import example


def test_a_route_event_joins_its_case_chain(service: DocService) -> None:
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "audit"])
    doc = service.create_document(
        client, "application", "kk", example("application"), case_ref="R-1"
    )
    event = canonical({"step": 8, "action": "sign_and_forward", "document": doc.id})
    with service.db.session() as session:
        recorded = service.archive.record_event(
            session,
            event,
            document_id=doc.id,
            case_ref="R-1",
            client_id=client.id,
            meta={"step": 8},
        )
    assert recorded.index == 3  # after the document's PDF, XML and input
    assert parse_entry(recorded.entry)["type"] == "route.event"
    assert service.store.get(recorded.sha256) == event
    with service.db.sessions() as session:
        chain = service.archive.chain(session, client, "R-1")
    assert [i["type"] for i in chain["items"]] == [
        "document.pdf",
        "document.xml",
        "document.input",
        "route.event",
    ]
    # An event recorded under the case's ref without a document belongs to it as well.
    with service.db.session() as session:
        service.archive.record_event(
            session, b'{"case":"opened"}', case_ref="R-1", client_id=client.id
        )
    with service.db.sessions() as session:
        assert len(service.archive.chain(session, client, "R-1")["items"]) == 5
    assert check_archive(service).findings == []


def test_nothing_is_half_written_when_the_transaction_fails(service: DocService) -> None:
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "audit"])
    service.create_document(client, "application", "kk", example("application"))
    size = service.archive.log_store.size()
    with pytest.raises(RuntimeError), service.db.session() as session:
        service.archive.record_event(session, b'{"x":1}', client_id=client.id)
        raise RuntimeError("the recorded action failed after its entry was appended")
    assert service.archive.log_store.size() == size
    with service.db.session() as session:
        again = service.archive.record_event(session, b'{"x":2}', client_id=client.id)
    assert again.index == size  # the next entry takes the place, no gap, no fork
    assert check_archive(service).findings == []
    entry = json.loads(again.entry)
    assert entry["client"] == client.id and entry["iin_key"] is None
