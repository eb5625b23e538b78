"""record() and record_event() in the service's transactions, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from docservice.archive.record import Artefact, canonical, parse_entry
from docservice.service.audit import check_archive
from docservice.service.clients import add_client
from docservice.service.documents import DocService
from tests.conftest import example
from tests.pki import TestPki


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


def test_a_record_reads_the_log_tail_back_only_after_someone_else_appended(
    service: DocService,
) -> None:
    """A process that made the last append extends the right edge it kept; after another
    process's append, or its own rolled back, it reads the stored one (the log stays the
    RFC 9162 tree of its entries either way)."""
    from pymerkle import InmemoryTree
    from sqlalchemy import event

    other = DocService(service.settings)  # a second process on the same database
    reads = {"service": 0, "other": 0}

    def counter(name: str):  # type: ignore[no-untyped-def]
        def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("SELECT") and "archive_log_node" in statement:
                reads[name] += 1

        return count

    event.listen(service.db.engine, "before_cursor_execute", counter("service"))
    event.listen(other.db.engine, "before_cursor_execute", counter("other"))
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "audit"])

    def append(svc: DocService, n: int, fail: bool = False) -> None:
        if fail:
            with pytest.raises(RuntimeError), svc.db.session() as session:
                svc.archive.record_event(session, b'{"lost":%d}' % n, client_id=client.id)
                raise RuntimeError("the recorded action failed")
            return
        with svc.db.session() as session:
            svc.archive.record_event(session, b'{"n":%d}' % n, client_id=client.id)

    for n in range(10):  # entries 0..9: each at the tail the previous one left
        append(service, n)
    assert reads == {"service": 0, "other": 0}
    append(other, 10)  # at an even index nothing merges: nothing to read, no tail known
    append(other, 11)  # merges with the stored entry 10: read
    append(other, 12)
    assert reads == {"service": 0, "other": 1}
    append(service, 13)  # the last append is the other's: read
    assert reads["service"] == 1
    append(service, 14, fail=True)  # its own tail, then rolled back
    append(other, 14)  # takes entry 14: the log has the size the rolled-back one left
    append(service, 15)  # the last append is not its lost one: read again
    assert reads == {"service": 2, "other": 1}

    size = service.archive.log_store.size()
    assert size == 16
    oracle = InmemoryTree(algorithm="sha256")
    for i in range(size):
        oracle.append_entry(service.archive.log_store.entry(i))
    assert service.archive.log.root() == oracle.get_root()
    assert check_archive(service).findings == []
    other.db.dispose()


def _recording_puts(service: DocService) -> list[bytes]:
    """From now on, every blob ``service`` puts in its store, in order (``put`` goes
    through ``put_many``)."""
    puts: list[bytes] = []
    real_put_many = service.store.put_many

    def put_many(items):  # type: ignore[no-untyped-def]
        puts.extend(items)
        return real_put_many(items)

    service.store.put_many = put_many  # type: ignore[method-assign]
    return puts


def test_files_just_stored_are_recorded_without_being_put_again(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    """A document's, a signature's and a report's files are put in the store once (before
    their transaction); the archive's entries still name exactly those files: each entry's
    sha256 and size are those of the stored bytes, and ``audit check`` (which recomputes
    every entry from the stored blobs) finds nothing."""
    from docservice.service.keys import add_key

    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "sign", "audit"])
        add_key(session, "career", pki.p12("career"), password_file, ["portal"])
    puts = _recording_puts(service)
    doc = service.create_document(client, "application", "kk", example("application"))
    signature = service.sign_with_key(client, doc.id, "career")
    signed = service.get_document(client, doc.id)
    assert service.verification_summary(signed) is not None
    assert len(puts) == len({id(p) for p in puts}) == 6, [len(p) for p in puts]
    assert len({hashlib.sha256(p).hexdigest() for p in puts}) == 6  # each once

    with service.db.sessions() as session:
        rows = service.archive.case_rows(session, client, doc.id, [signed])
    entries = {
        r["type"]: (r["sha256"], parse_entry(service.archive.log_store.entry(r["idx"])))
        for r in rows
    }
    assert entries["document.pdf"][0] == doc.pdf_sha
    assert entries["document.xml"][0] == doc.xml_sha
    assert entries["document.input"][0] == doc.input_sha
    assert entries["signature.pdf"][0] == signature.pdf_sha == signed.pdf_sha
    assert entries["signature.cms"][0] == signature.cms_sha
    assert "report.verification" in entries
    for sha, entry in entries.values():
        data = service.store.get(sha)
        assert entry["sha256"] == sha == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
    assert check_archive(service).findings == []


def test_an_artefact_with_its_sha256_is_taken_as_stored(service: DocService) -> None:
    """``Artefact.sha256`` is trusted: that artefact is not put again, one without is."""
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "audit"])
    data, other = b"x" * 100, b"y" * 50
    (sha,) = service.store.put_many([data])
    puts = _recording_puts(service)
    with service.db.session() as session:
        recorded = service.archive.record(
            session,
            [
                Artefact("route.event", data, client_id=client.id, sha256=sha),
                Artefact("route.event", other, client_id=client.id),
            ],
        )
    assert puts == [other]
    assert [r.sha256 for r in recorded] == [sha, hashlib.sha256(other).hexdigest()]
    assert check_archive(service).findings == []


def test_an_artefact_with_a_wrong_sha256_is_found_by_audit_check(service: DocService) -> None:
    """A caller's wrong ``sha256`` is not checked when recording (no hash, no ``stat``),
    but the entry cannot go unnoticed: it names a file that is missing, or one whose size
    is not the size the entry says."""
    with service.db.session() as session:
        client, _ = add_client(session, "portal", ["render", "audit"])
    data = b"x" * 100
    (shorter,) = service.store.put_many([b"other bytes"])
    absent = hashlib.sha256(b"never stored").hexdigest()
    with service.db.session() as session:
        first, second = service.archive.record(
            session,
            [
                Artefact("route.event", data, client_id=client.id, sha256=shorter),
                Artefact("route.event", data, client_id=client.id, sha256=absent),
            ],
        )
    assert sorted(check_archive(service).findings) == [
        f"archive_log_entry row {first.index}: says 100 bytes, but file {shorter} has 11 "
        "(the entry was made for other bytes)",
        f"file {absent}: missing from the file store",
    ]
    assert second.sha256 == absent
