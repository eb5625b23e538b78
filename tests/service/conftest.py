"""Fixtures for the service: databases (SQLite and the machine's PostgreSQL in a fresh
schema per run), a DocService, a client and keys. The test PKI, its trust folder and the
password file are the suite's (tests/pki/fixtures.py)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from docservice.service.config import Settings
from docservice.service.documents import DocService
from tests.conftest import need

PG_URL = os.environ.get("DOCSERVICE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def private_schema(prefix: str) -> Iterator[str]:
    """The URL of a fresh schema in the machine's PostgreSQL, dropped on leaving (absent
    server: skip, or fail under DOCSERVICE_REQUIRE_SERVICES=1)."""
    try:
        import psycopg

        conn = psycopg.connect(PG_URL, connect_timeout=3, autocommit=True)
    except Exception:
        need(False, f"PostgreSQL at {PG_URL}")
        raise
    name = f"{prefix}_{secrets.token_hex(4)}"
    conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{name}"
    finally:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')
        conn.close()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A fresh schema in the machine's PostgreSQL for this run; dropped afterwards."""
    with private_schema("ds_test") as url:
        yield url


def make_settings(tmp_path: Path, trust_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        trust_dir=str(trust_dir),
        fetch_revocation=True,
        extra={"ncalayer_test_keys": "1"},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_schema")


@pytest.fixture
def service(tmp_path: Path, trust_dir: Path, backend_url: str | None) -> Iterator[DocService]:
    from docservice.service.db import Database, upgrade

    settings = make_settings(tmp_path, trust_dir, backend_url)
    if backend_url:
        db = Database(settings, migrate=False)
        upgrade(db.engine)
        _truncate(db)
        db.dispose()
    svc = DocService(settings)
    yield svc
    svc.db.dispose()


def _truncate(db) -> None:  # type: ignore[no-untyped-def]
    """Each PostgreSQL test starts from empty tables (the schema is shared by the run)."""
    from sqlalchemy import text

    with db.session() as session:
        session.execute(
            text(
                "TRUNCATE archive_artefact, archive_log_entry, archive_log_node, "
                "archive_tree_head, "
                "route_events, routes, organisations, cases, signing_links, "
                "webhook_deliveries, idempotency, jobs, signing_sessions, signatures, documents, "
                "key_grants, server_keys, clients RESTART IDENTITY CASCADE"
            )
        )
        session.execute(text("UPDATE archive_log_lock SET size = 0"))
