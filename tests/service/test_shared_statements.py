"""The prebuilt statement every signature runs first is shared by a worker's threads from
its first use on (docservice.service.documents.revision_and_key_statement)."""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Select, create_engine
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from docservice.service.documents import revision_and_key_statement
from docservice.service.models import Base

THREADS, ROUNDS = 16, 20
PARAMS = {"doc": "none", "client": 1, "key_name": "none"}


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Threads switch after every few bytecodes: a race in the first use shows at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _first_uses(statement: Select[Any]) -> list[BaseException]:
    """``THREADS`` threads run ``statement`` at once on a new database, then one more time
    alone: what each raised (a wrongly joined FROM's warning included)."""
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    Base.metadata.create_all(engine)
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def run(wait: bool) -> None:
        with Session(engine) as session:
            if wait:
                start.wait()
            try:
                assert session.execute(statement, PARAMS).first() is None
            except BaseException as exc:
                failures.append(exc)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)
            threads = [threading.Thread(target=run, args=(True,)) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            run(wait=False)
    finally:
        engine.dispose()
    return failures


def test_threads_use_a_new_statement_at_once(switch_often: None) -> None:
    # Without its compile in the building thread, the statement's earlier ORM form (the
    # document and an aliased subquery of the usable keys) failed about one round in four:
    # some threads (and, in some rounds, every later use) with NoSuchColumnError 'anon_1.id'.
    for _ in range(ROUNDS):
        assert _first_uses(revision_and_key_statement()) == []
