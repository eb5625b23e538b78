"""The embedded database's writer lock (docservice.service.sqlite_writer): writers queue
on it, across threads and processes, and every way out of a transaction gives it back."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from docservice.service.config import Settings
from docservice.service.db import Database


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(Settings(data_dir=tmp_path / "var"), migrate=False)
    with database.session() as session:
        session.execute(text("CREATE TABLE marks (n INTEGER PRIMARY KEY, who TEXT)"))
    yield database
    database.dispose()


def _lock_file(db: Database) -> Path:
    return Path(str(db.engine.url.database) + ".writer-lock")


def _held_elsewhere(path: Path) -> bool:
    """Whether some open file description holds the flock (tried from a new one)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _waiting_pids(path: Path) -> set[int]:
    """Processes queued on the flock of ``path`` (``/proc/locks`` lines with ``->``)."""
    inode = os.stat(path).st_ino
    pids = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        queued = len(fields) > 6 and fields[1] == "->" and fields[2] == "FLOCK"
        if queued and int(fields[6].rsplit(":", 1)[1]) == inode:
            pids.add(int(fields[5]))
    return pids


def test_a_write_takes_the_lock_until_commit_and_a_read_does_not(db: Database) -> None:
    with db.session() as session:
        session.execute(text("SELECT count(*) FROM marks")).scalar()
        assert not _held_elsewhere(_lock_file(db))
        session.execute(text("INSERT INTO marks (who) VALUES ('a')"))
        assert _held_elsewhere(_lock_file(db))
    assert not _held_elsewhere(_lock_file(db))


def test_a_failed_transaction_gives_the_lock_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(text("INSERT INTO marks (who) VALUES ('a')"))
        raise RuntimeError("the request failed")
    assert not _held_elsewhere(_lock_file(db))
    with db.session() as session:  # and nothing of it was kept
        assert session.execute(text("SELECT count(*) FROM marks")).scalar() == 0


_OTHER_PROCESS = """
import sys
from pathlib import Path
from sqlalchemy import text
from docservice.service.config import Settings
from docservice.service.db import Database
db = Database(Settings(data_dir=Path(sys.argv[1])), migrate=False)
print("ready", flush=True)
with db.session() as session:
    session.execute(text("INSERT INTO marks (who) VALUES ('other')"))
print("done", flush=True)
"""


def test_a_writer_in_another_process_waits_for_the_commit(db: Database, tmp_path: Path) -> None:
    """The other process queues on the lock (the kernel lists it as a waiter) while we
    hold it, and its insert comes after our commit."""
    with db.session() as session:
        session.execute(text("INSERT INTO marks (who) VALUES ('first')"))
        other = subprocess.Popen(
            [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path / "var")],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while other.pid not in _waiting_pids(_lock_file(db)):
            assert time.monotonic() < deadline, "the other writer never queued on the lock"
            assert other.poll() is None, "the other writer did not wait for our commit"
            time.sleep(0.02)
        session.execute(text("INSERT INTO marks (who) VALUES ('second')"))
    out, _ = other.communicate(timeout=60)
    assert other.returncode == 0 and out.strip() == "done"
    with db.session() as session:
        order = [r[0] for r in session.execute(text("SELECT who FROM marks ORDER BY n"))]
    assert order == ["first", "second", "other"]


def test_threads_queue_and_every_write_lands(db: Database) -> None:
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(20):
                with db.session() as session:
                    session.execute(text("INSERT INTO marks (who) VALUES (:w)"), {"w": f"{i}.{j}"})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM marks")).scalar() == 160
    assert not _held_elsewhere(_lock_file(db))


def test_a_second_writer_in_the_same_thread_fails_instead_of_hanging(tmp_path: Path) -> None:
    """Two write transactions nested in one thread cannot both proceed: the inner one
    gives up after the lock's timeout with SQLite's own error, as SQLite's busy timeout
    would have, and the outer one still commits."""
    from docservice.service import sqlite_writer

    database = Database(Settings(data_dir=tmp_path / "var"), migrate=False)
    with database.session() as session:
        session.execute(text("CREATE TABLE marks (n INTEGER PRIMARY KEY, who TEXT)"))
    database.engine.dispose()
    lock = sqlite_writer.WriterLock(_lock_file(database), timeout=0.5)
    from sqlalchemy import create_engine

    engine = create_engine(str(database.engine.url), pool_size=2)
    sqlite_writer.install(engine, lock)
    with engine.begin() as outer:
        outer.execute(text("INSERT INTO marks (who) VALUES ('outer')"))
        with pytest.raises(Exception) as caught, engine.begin() as inner:
            inner.execute(text("INSERT INTO marks (who) VALUES ('inner')"))
        assert isinstance(caught.value.__cause__ or caught.value, sqlite3.OperationalError)
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT who FROM marks"))] == ["outer"]
    assert not _held_elsewhere(_lock_file(database))
    engine.dispose()
