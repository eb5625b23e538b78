"""PostgreSQL's connection pool (docservice.service.db): which checkouts are pinged."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine.interfaces import DBAPIConnection

from docservice.service import db as db_module
from docservice.service.db import Database
from tests.service.conftest import make_settings


def test_only_a_connection_idle_longer_than_the_window_is_pinged(
    pg_schema: str, tmp_path: Path, trust_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(make_settings(tmp_path, trust_dir, pg_schema), migrate=False)
    dialect = database.engine.dialect
    pings: list[DBAPIConnection] = []
    ping = dialect.do_ping

    def counted(conn: DBAPIConnection) -> bool:
        pings.append(conn)
        return ping(conn)

    monkeypatch.setattr(dialect, "do_ping", counted)
    try:
        for _ in range(3):  # a new connection, then the same one just returned
            with database.session() as session:
                assert session.execute(text("SELECT 2")).scalar() == 2
        assert pings == []
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE", 0.0)  # every one "idle" now
        with database.session() as session:
            assert session.execute(text("SELECT 3")).scalar() == 3
        assert len(pings) == 1
    finally:
        database.dispose()
