"""One SQLite writer at a time, queued instead of polling.

Why: SQLite lets one connection write at a time, and a second one waits in SQLite's busy
handler, which sleeps in growing steps (up to 100 ms) between tries. Under twenty
concurrent clients the writer was often free while its waiters slept: the embedded
mode's p99 latency was seconds. Here a connection takes a lock before its first write
statement (pysqlite begins its transaction there) and gives it back when it returns to
the pool, after its commit or rollback: waiters queue and wake as soon as the writer is
done. The lock is a process lock (the threads of one gunicorn worker) and then an
``flock`` on a file beside the database (the workers, the CLI); the kernel drops it if a
process dies. A program that does not take it (the ``sqlite3`` shell) still meets SQLite's
own busy timeout, so the lock only orders writers, it does not protect the data.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

#: Statements that make pysqlite begin a write transaction.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
#: Marks, in a pooled connection's ``info``, that it holds the writer lock.
_HOLDS = "docservice.sqlite_writer"


class WriterLock:
    """The database's writer lock: a process lock, then an ``flock`` on ``path``."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def _file(self) -> int:
        # After a fork the inherited descriptor shares the parent's lock: open our own.
        if self._pid != os.getpid():
            if self._fd is not None:
                os.close(self._fd)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        assert self._fd is not None
        return self._fd

    def acquire(self) -> None:
        """Wait for the writer lock; ``sqlite3.OperationalError`` after ``timeout`` s
        waiting for this process's other threads (SQLite's own message and class)."""
        if not self._threads.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


def install(engine: Engine, lock: WriterLock) -> None:
    """Make every connection of ``engine`` take ``lock`` before it first writes."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(  # type: ignore[no-untyped-def]
        conn, cursor, statement: str, parameters, context, executemany
    ) -> None:
        info = conn.info
        if info.get(_HOLDS) or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        lock.acquire()
        info[_HOLDS] = True

    def _release(record: Any) -> None:
        if record is not None and record.info.pop(_HOLDS, False):
            lock.release()

    # Back in the pool means committed or rolled back; closed or invalidated likewise.
    @event.listens_for(engine.pool, "checkin")
    def _checkin(dbapi_conn: Any, record: Any) -> None:
        _release(record)

    @event.listens_for(engine.pool, "reset")
    def _reset(dbapi_conn: Any, record: Any, reset_state: Any) -> None:
        _release(record)

    @event.listens_for(engine.pool, "close")
    def _close(dbapi_conn: Any, record: Any) -> None:
        _release(record)

    @event.listens_for(engine.pool, "invalidate")
    def _invalidate(dbapi_conn: Any, record: Any, exception: Any) -> None:
        _release(record)
