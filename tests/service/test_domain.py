"""The data layer and the domain functions on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import inspect

from docservice.errors import InputError
from docservice.service.clients import add_client, authenticate, revoke_client, rotate_client
from docservice.service.config import Settings
from docservice.service.db import Database, current_revision, head_revision
from docservice.service.documents import DocService
from docservice.service.errors import ForbiddenError, NotFoundError
from docservice.service.keys import add_key, open_key
from docservice.service.store import LocalFileStore
from signing.errors import SigningError
from tests.conftest import example
from tests.pki import TestPki


def _setup(
    service: DocService,
    pki: TestPki,
    password_file: Path,
    labels: tuple[str, ...] = ("career", "head"),
):  # type: ignore[no-untyped-def]
    with service.db.session() as session:
        client, key = add_client(session, "portal", ["render", "sign", "verify"])
        other, _ = add_client(session, "mobile", ["render"])
        for label in labels:
            add_key(session, label, pki.p12(label), password_file, ["portal"])
    return client, other, key


def test_embedded_database_is_created_and_migrated_on_first_use(tmp_path: Path) -> None:
    db = Database(Settings(data_dir=tmp_path / "var"))
    assert current_revision(db.engine) == head_revision() == "0009"
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "clients",
        "server_keys",
        "documents",
        "signatures",
        "signing_sessions",
        "jobs",
        "idempotency",
        "webhook_deliveries",
        "signing_links",
        "egov_requests",
    } <= tables
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()
    Database(Settings(data_dir=tmp_path / "var")).dispose()  # a second start finds it current


def test_the_migrations_create_exactly_the_models(service: DocService) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from docservice.archive import store as archive_store
    from docservice.service.models import Base

    with service.db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn), [Base.metadata, archive_store.metadata]
        )  # type: ignore[arg-type]
    assert diff == []


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database (a private PostgreSQL schema): migrations run on it freely."""
    if request.param == "sqlite":
        db = Database(Settings(data_dir=tmp_path / "var"), migrate=False)
        yield db
        db.dispose()
        return
    from tests.service.conftest import private_schema

    with private_schema("ds_migrate") as url:
        db = Database(Settings(data_dir=tmp_path / "var", database_url=url), migrate=False)
        try:
            yield db
        finally:
            db.dispose()


def test_the_log_size_migration_counts_an_existing_log(unmigrated: Database) -> None:
    from alembic import command
    from sqlalchemy import text

    from docservice.service.db import alembic_config, upgrade

    command.upgrade(alembic_config(unmigrated.engine), "0007")
    with unmigrated.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO archive_log_entry (idx, data) VALUES (:i, :d)"),
            [{"i": i, "d": b"entry"} for i in range(3)],
        )
    upgrade(unmigrated.engine)
    with unmigrated.engine.connect() as conn:
        size = conn.execute(text("SELECT size FROM archive_log_lock WHERE id = 1")).scalar()
    assert size == 3


def test_the_append_ids_migration_names_nobodys_append_and_goes_back(
    unmigrated: Database,
) -> None:
    """0009 leaves the lock row naming no append (the first record after it reads the
    log's tail); records then name theirs; the downgrade drops the two columns."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from docservice.archive.record import AppendMemory, Artefact, record
    from docservice.service.db import alembic_config, upgrade

    def ids() -> tuple:  # type: ignore[type-arg]
        with unmigrated.engine.connect() as conn:
            return tuple(
                conn.execute(
                    text("SELECT last_append, prior_append FROM archive_log_lock WHERE id = 1")
                ).one()
            )

    class Blobs:
        def put(self, data: bytes) -> str:
            import hashlib

            return hashlib.sha256(data).hexdigest()

    command.upgrade(alembic_config(unmigrated.engine), "0008")
    upgrade(unmigrated.engine)
    assert ids() == (None, None)
    memory = AppendMemory()
    for n in range(2):
        with Session(unmigrated.engine) as session, session.begin():
            record(
                session,
                Blobs(),
                [Artefact("route.event", b"%d" % n)],
                index_key=b"k",
                memory=memory,
            )
    last, prior = ids()
    assert memory.last is not None and last == memory.last[0] and prior not in (None, last)
    command.downgrade(alembic_config(unmigrated.engine), "0008")
    with unmigrated.engine.connect() as conn:
        assert conn.execute(text("SELECT size FROM archive_log_lock")).scalar() == 2
        columns = {c["name"] for c in inspect(conn).get_columns("archive_log_lock")}
    assert "last_append" not in columns and "prior_append" not in columns


def test_file_store_is_content_addressed(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    sha = store.put(b"%PDF-1.7 one")
    assert store.put(b"%PDF-1.7 one") == sha
    assert store.get(sha) == b"%PDF-1.7 one"
    assert (tmp_path / sha[:2] / sha[2:4] / sha).is_file()
    assert not list(tmp_path.rglob(".partial-*"))
    with pytest.raises(KeyError):
        store.get("0" * 64)
    with pytest.raises(KeyError):
        store.get("../../etc/passwd")


def test_file_store_writes_a_batch_in_order_once_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``put_many``: the SHA-256s in the order given, each new file written once (a repeat
    within the batch or one already stored is not written again), all of them durable."""
    import docservice.service.store as store_module

    store = LocalFileStore(tmp_path)
    known = store.put(b"already stored")
    written: list[tuple[list[bytes], bool]] = []
    write = store_module.write_together

    def recording(files: list[tuple[Path, bytes]], *, durable: bool = False) -> None:
        written.append(([data for _, data in files], durable))
        write(files, durable=durable)

    monkeypatch.setattr(store_module, "write_together", recording)
    items = [b"%PDF-1.7 two", b"already stored", b"<xml/>", b"%PDF-1.7 two"]
    shas = store.put_many(items)
    assert [store.get(sha) for sha in shas] == items and shas[1] == known
    assert written == [([b"%PDF-1.7 two", b"<xml/>"], True)]
    assert store.put_many([b"<xml/>"]) == [shas[2]] and len(written) == 1


def test_a_server_key_is_read_once_until_one_of_its_files_changes(
    service: DocService, pki: TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing with a server key reads its password file and container once per version
    of them: a container replaced at its path (rotated), or a password file rewritten,
    is read again at the next use, and the key's checks run at every use."""
    import os
    import shutil

    import signing.keys
    from signing.errors import WrongPasswordError

    reads: list[object] = []
    read_password = signing.keys.read_password

    def counting(path: object = None) -> str:
        reads.append(path)
        return read_password(path)  # type: ignore[arg-type]

    monkeypatch.setattr(signing.keys, "read_password", counting)
    p12, secret = tmp_path / "signer.p12", tmp_path / "password.txt"
    shutil.copyfile(pki.p12("career"), p12)
    secret.write_text(pki.password + "\n", encoding="utf-8")
    with service.db.session() as session:
        add_client(session, "portal", ["sign"])
        row = add_key(session, "signer", p12, secret, ["portal"])
    reads.clear()
    first = open_key(row)
    assert open_key(row) is first and len(reads) == 1

    shutil.copyfile(pki.p12("head"), tmp_path / "next.p12")
    os.replace(tmp_path / "next.p12", p12)
    rotated = open_key(row)
    assert rotated.certificate.serial_number != first.certificate.serial_number
    assert open_key(row) is rotated and len(reads) == 2

    secret.write_text("not the password at all\n", encoding="utf-8")
    with pytest.raises(WrongPasswordError):
        open_key(row)
    secret.write_text(pki.password + "\n", encoding="utf-8")
    assert open_key(row).certificate.serial_number == rotated.certificate.serial_number

    row.role = "hr"  # checked at every use, cached or not
    with pytest.raises(SigningError):
        open_key(row)


def test_api_keys_are_hashed_revocable_and_rotatable(service: DocService) -> None:
    with service.db.session() as session:
        client, key = add_client(session, "portal", ["render"], ["application"])
        assert key not in (client.key_hash, client.key_id)
        assert authenticate(session, key).name == "portal"
        assert authenticate(session, key + "x") is None
        new = rotate_client(session, "portal")
        assert authenticate(session, key) is None
        assert authenticate(session, new).name == "portal"
        revoke_client(session, "portal")
        assert authenticate(session, new) is None


def _sig_row(sig: object) -> dict[str, object]:
    """A signature's columns, times as UTC (SQLite hands them back naive)."""
    values = {c.key: getattr(sig, c.key) for c in sig.__table__.columns}  # type: ignore[attr-defined]
    return {
        c: v.replace(tzinfo=v.tzinfo or dt.UTC) if isinstance(v, dt.datetime) else v
        for c, v in values.items()
    }


def test_two_officials_sign_in_turn_and_the_chain_verifies(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    client, other, _ = _setup(service, pki, password_file)
    doc = service.create_document(
        client, "application", "kk+ru", example("application"), case_ref="CASE-1"
    )
    first = service.sign_with_key(client, doc.id, "career")
    second = service.sign_with_key(client, doc.id, "head")
    assert (first.seq, second.seq) == (1, 2)
    stored = service.get_document(client, doc.id)
    assert stored.status == "signed" and stored.signature_count == 2
    # What a signing answers with (its signature, and the document it names) is the rows.
    answered = second.document
    for column in ("signature_count", "pdf_sha", "status", "sha256", "lock_version"):
        assert getattr(answered, column) == getattr(stored, column), column
    assert [_sig_row(s) for s in answered.signatures] == [_sig_row(s) for s in stored.signatures]
    assert _sig_row(second) == _sig_row(stored.signatures[1]) and second.id is not None
    pdf = service.content(stored.pdf_sha)
    assert pdf.startswith(service.content(first.pdf_sha))
    assert len(PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures) == 2
    signed = cms.ContentInfo.load(service.signature_cms(client, doc.id, 2))
    assert signed["content_type"].native == "signed_data"
    summary = service.verification_summary(stored)
    assert summary is not None and summary["verdict"] == "TOTAL_PASSED", summary
    assert service.archived_pdf(doc.sha256) == pdf
    with pytest.raises(NotFoundError):
        service.get_document(other, doc.id)
    with pytest.raises(NotFoundError):
        service.sign_with_key(other, doc.id, "career")
    with pytest.raises(ForbiddenError):
        service.sign_with_key(client, doc.id, "nobody")
    theirs = service.create_document(other, "application", "kk+ru", example("application"))
    with pytest.raises(ForbiddenError):  # the key exists, but is not granted to them
        service.sign_with_key(other, theirs.id, "career")
    with pytest.raises(NotFoundError):  # a key that is ours does not reach their document
        service.sign_with_key(client, theirs.id, "career")


def test_a_created_document_is_the_row_stored(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    """The document ``create_document`` answers with is exactly the row it inserted (every
    column, the defaults included), and its stored files are the ones it names."""
    client, _, _ = _setup(service, pki, password_file, labels=())
    made = service.create_document(client, "direction", "kk", example("direction"))
    stored = service.get_document(client, made.id)
    columns = [c.key for c in stored.__table__.columns]

    def row(document: object) -> dict[str, object]:  # SQLite hands times back naive (UTC)
        values = {c: getattr(document, c) for c in columns}
        return {
            c: v.replace(tzinfo=v.tzinfo or dt.UTC) if isinstance(v, dt.datetime) else v
            for c, v in values.items()
        }

    assert row(made) == row(stored)
    assert (stored.status, stored.signature_count, stored.lock_version, stored.version) == (
        "ready",
        0,
        0,
        1,
    )
    assert stored.signatures == [] and stored.created_at == stored.updated_at
    assert service.content(stored.pdf_sha).startswith(b"%PDF")
    assert json.loads(service.content(stored.input_sha)) == example("direction")


def test_bad_input_writes_nothing(service: DocService, pki: TestPki, password_file: Path) -> None:
    client, _, _ = _setup(service, pki, password_file, labels=())
    bad = dict(example("application"), applicant={"iin": "123"})
    with pytest.raises(InputError):
        service.create_document(client, "application", "kk", bad)
    assert service.list_documents(client).total == 0


def test_concurrent_signing_is_sequential(
    service: DocService, pki: TestPki, password_file: Path
) -> None:
    client, _, _ = _setup(service, pki, password_file, labels=("career",))
    doc = service.create_document(client, "direction", "kk", example("direction"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def sign() -> None:
        barrier.wait()
        try:
            service.sign_with_key(client, doc.id, "career")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sign) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    stored = service.get_document(client, doc.id)
    assert [s.seq for s in stored.signatures] == [1, 2, 3, 4, 5, 6]
    # Each revision extends the previous one: no two signatures from the same base.
    revisions = [service.content(doc.sha256)] + [
        service.content(s.pdf_sha) for s in stored.signatures
    ]
    for before, after in itertools.pairwise(revisions):
        assert after.startswith(before) and len(after) > len(before)
    final = PdfFileReader(io.BytesIO(revisions[-1]))
    assert len(final.embedded_regular_signatures) == 6
