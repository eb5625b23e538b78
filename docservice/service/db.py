"""Engine, sessions and migrations.

SQLite (the embedded default) runs in WAL mode, so readers never wait for the writer;
writers queue on one lock (``sqlite_writer``) instead of polling in SQLite's busy
handler. PostgreSQL is chosen by ``DOCSERVICE_DATABASE_URL``. Alembic owns the schema
everywhere: the embedded database is created and migrated on first use; PostgreSQL is
migrated by ``docservice db upgrade`` (several service processes must not race to migrate
a shared database).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from docservice.errors import DocserviceError
from docservice.service.config import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATE_LOCK = threading.Lock()


class SchemaOutOfDateError(DocserviceError):
    """The database is not at the schema this code needs (run ``docservice db upgrade``)."""

    code, status = "unavailable", 503


def make_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=20,
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        database = engine.url.database
        if database and database != ":memory:":
            from docservice.service import sqlite_writer

            lock = sqlite_writer.WriterLock(Path(database + ".writer-lock"), timeout=30)
            sqlite_writer.install(engine, lock)
        return engine
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        # The most recently returned connection first: under load a few connections stay
        # busy (and skip the ping below); the others idle, and are pinged when next used.
        pool_use_lifo=True,
        connect_args={"connect_timeout": 5},
    )
    _ping_when_idle(engine)
    return engine


#: Seconds a pooled connection may have been idle and still be reused without a ping
#: (as HikariCP's ``aliveBypassWindowMs``, 500 ms).
PING_AFTER_IDLE = 0.5
_RETURNED = "docservice_returned_at"


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before reuse only when it has been idle a while.

    Why not ``pool_pre_ping``: it costs a round trip (``SELECT 1``, parsed and run by the
    server) on every checkout - several per request and per job - to find connections
    that died while idle (a database restart, a proxy's idle timeout). A connection
    returned less than :data:`PING_AFTER_IDLE` ago was just working; one that fails in
    use anyway (the database gone meanwhile) fails its statement, and SQLAlchemy's
    disconnect detection invalidates the whole pool then, as the pre-ping does: the
    request gets a 503 with Retry-After and the next ones reconnect. A connection idle
    longer is pinged as ``pool_pre_ping`` would: a dead one is replaced (and the pool
    invalidated) before the request sees it.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        if record is not None:
            record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        returned = record.info.get(_RETURNED)  # none: a new connection (info is cleared)
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_conn, None):
                # Replace this connection and the pool's older ones, then check out anew.
                raise exc.InvalidatePoolError() from err
            raise


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str | None:
    """Migrate to the newest schema; returns the revision reached."""
    with _MIGRATE_LOCK:
        command.upgrade(alembic_config(engine), "head")
    return current_revision(engine)


def ensure_schema(engine: Engine) -> None:
    """Embedded: create/migrate on first use. PostgreSQL: refuse an old schema."""
    if current_revision(engine) == head_revision():
        return
    if is_sqlite(engine):
        upgrade(engine)
        return
    raise SchemaOutOfDateError("the database schema is not current: run `docservice db upgrade`")


class Database:
    """One engine and its session factory, for a process."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            ensure_schema(self.engine)

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
