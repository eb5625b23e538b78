"""Log stores on every backend the archive runs on: memory, SQLite file, PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from docservice.archive.merkle import MemoryStore
from docservice.archive.store import SqlStore, make_engine
from tests.conftest import need

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_available() -> bool:
    try:
        import psycopg

        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ).close()
    except Exception:
        return False
    return True


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema for one test, dropped afterwards; (engine, schema)."""
    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432 (database test)")
    from sqlalchemy import text

    engine = make_engine(PG_URL)
    schema = f"archive_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield engine, schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _opener(kind: str, request, tmp_path, engines: list):
    """A callable giving a store; called again it opens the same log anew (a restart)."""
    if kind == "memory":
        store = MemoryStore()
        return lambda: store
    if kind == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'log.sqlite'}", None
    else:
        _engine, schema = request.getfixturevalue("pg_schema")
        url = PG_URL

    def open_store() -> SqlStore:
        engine = make_engine(url)
        engines.append(engine)
        store = SqlStore(engine, schema)
        store.create_tables()
        return store

    return open_store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_factory(request, tmp_path):
    engines: list = []
    yield _opener(request.param, request, tmp_path, engines)
    for engine in engines:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store_factory(request, tmp_path):
    engines: list = []
    yield _opener(request.param, request, tmp_path, engines)
    for engine in engines:
        engine.dispose()
