"""The Merkle log's tables and their SQLAlchemy NodeStore (SQLite and PostgreSQL).

The tables live on their own ``metadata`` with an explicit naming convention, so the
service's Alembic environment can include them (``target_metadata=[..., metadata]``)
and autogenerate stable constraint names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from docservice.archive.merkle import AppendConflictError, Node
from docservice.archive.sth import SignedTreeHead

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)

log_entry = Table(
    "archive_log_entry",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),  # the leaf input d of RFC 9162
)

log_node = Table(
    # Every complete subtree; ``node`` is its in-order position in the infinite
    # left-balanced tree (leaf i is 2i; see ``node_key``), one indexed integer per hash.
    "archive_log_node",
    metadata,
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

tree_head = Table(
    "archive_tree_head",
    metadata,
    Column("tree_size", BigInteger, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("key_id", LargeBinary(32), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    # RFC 3161 token over the signed head (``sth.tree_head_imprint``), when a TSA is set.
    Column("timestamp_token", LargeBinary, nullable=True),
    PrimaryKeyConstraint("tree_size", "timestamp_ms"),
)

log_lock = Table(
    # One row: every appender updates it first, which serialises appends on PostgreSQL
    # (a row lock) and SQLite (the writer lock) until the appending transaction ends.
    # ``size`` is the log's number of entries, moved by the same update, so the appender
    # learns where its entries go without a ``max(idx)`` query (``audit check`` compares
    # it with the entries).
    "archive_log_lock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("appends", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False, server_default=text("0")),
    # A random id of the last append, and the id that append found here: an appender that
    # finds its own last id knows nobody appended since, and extends the right edge it
    # kept in memory instead of reading it back (``docservice.archive.record``).
    # Appends that keep no memory leave NULL, which names nobody's.
    Column("last_append", BigInteger, nullable=True),
    Column("prior_append", BigInteger, nullable=True),
)

artefact = Table(
    # What each entry records, as columns to search by; derived from the entry's bytes
    # (``docservice.archive.record``), which ``docservice audit check`` compares it with.
    "archive_artefact",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("document_id", String(32), nullable=True, index=True),
    Column("case_ref", String(200), nullable=True, index=True),
    Column("client_id", Integer, nullable=True, index=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False, index=True),
    # HMAC-SHA256 of the subject's or signer's IIN under the index key: never the IIN.
    Column("iin_key", String(64), nullable=True, index=True),
)


_SELECT_NODES = select(log_node.c.node, log_node.c.hash).where(
    log_node.c.node.in_(bindparam("keys", expanding=True))
)


# Built once: a statement object keeps its cache key, so executing it again skips both
# building the construct and walking it for SQLAlchemy's compiled-statement cache.
_INSERT_ENTRIES = insert(log_entry)
_INSERT_NODES = insert(log_node)


def entry_rows(start: int, entries: Sequence[bytes]) -> list[dict[str, object]]:
    return [{"idx": i, "data": d} for i, d in enumerate(entries, start)]


def node_rows(nodes: dict[Node, bytes]) -> list[dict[str, object]]:
    return [{"node": node_key(n), "hash": h} for n, h in nodes.items()]


def node_key(node: Node) -> int:
    """The in-order position of perfect subtree (level, index): unique, and < 2 * leaves."""
    level, index = node
    return (index << (level + 1)) + (1 << level) - 1


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``; SQLite files get WAL and synchronous=NORMAL (≈30x faster appends)."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


class SqlStore:
    """NodeStore on any SQLAlchemy engine; ``schema`` places the tables (PostgreSQL)."""

    def __init__(self, engine: Engine, schema: str | None = None) -> None:
        self.engine = (
            engine.execution_options(schema_translate_map={None: schema}) if schema else engine
        )
        # Reads need no transaction (rows never change once written): autocommit saves
        # the BEGIN and ROLLBACK round trips, which are most of a proof's time on PostgreSQL.
        self.reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def create_tables(self) -> None:
        """For tests and benchmarks; the service uses the Alembic migrations."""
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(select(func.count()).select_from(log_lock)).scalar() == 0:
                conn.execute(insert(log_lock).values(id=1, appends=0, size=0))

    def size(self) -> int:
        with self.reader.connect() as conn:
            last = conn.execute(select(func.max(log_entry.c.idx))).scalar()
        return 0 if last is None else last + 1

    def get_nodes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        keys = {node_key(n): n for n in nodes}
        if not keys:
            return {}
        with self.reader.connect() as conn:
            rows = conn.execute(_SELECT_NODES, {"keys": list(keys)})
            return {keys[k]: bytes(h) for k, h in rows}

    def append(self, start: int, entries: Sequence[bytes], nodes: dict[Node, bytes]) -> None:
        try:
            with self.engine.begin() as conn:
                # The lock row's size moves with the entries (``record`` appends from it).
                moved = conn.execute(
                    update(log_lock)
                    .where(log_lock.c.id == 1, log_lock.c.size == start)
                    .values(
                        appends=log_lock.c.appends + 1,
                        size=start + len(entries),
                        prior_append=log_lock.c.last_append,
                        last_append=None,
                    )
                ).rowcount
                if moved != 1:
                    raise AppendConflictError(f"the log's size is not {start}")
                conn.execute(_INSERT_ENTRIES, entry_rows(start, entries))
                conn.execute(_INSERT_NODES, node_rows(nodes))
        except IntegrityError as exc:
            raise AppendConflictError(f"leaf {start} was appended by another writer") from exc

    def entry(self, index: int) -> bytes:
        """The leaf input of entry ``index``."""
        with self.reader.connect() as conn:
            data = conn.execute(select(log_entry.c.data).where(log_entry.c.idx == index)).scalar()
        if data is None:
            raise LookupError(f"no log entry {index}")
        return bytes(data)

    def add_tree_head(self, sth: SignedTreeHead, timestamp_token: bytes | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(tree_head).values(
                    tree_size=sth.tree_size,
                    timestamp_ms=sth.timestamp_ms,
                    root_hash=sth.root_hash,
                    key_id=sth.key_id,
                    signature=sth.signature,
                    timestamp_token=timestamp_token,
                )
            )

    def tree_heads(self) -> list[SignedTreeHead]:
        """Every kept tree head, oldest first."""
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(
                    tree_head.c.tree_size,
                    tree_head.c.timestamp_ms,
                    tree_head.c.root_hash,
                    tree_head.c.key_id,
                    tree_head.c.signature,
                ).order_by(tree_head.c.timestamp_ms, tree_head.c.tree_size)
            )
            return [SignedTreeHead(s, t, bytes(r), bytes(k), bytes(g)) for s, t, r, k, g in rows]


class ConnStore:
    """NodeStore on one open connection: appends join the caller's transaction.

    Why: an artefact's log entry must commit or roll back with the row that records the
    artefact, so the service appends through the connection of its own session (and
    serialises appenders with a lock first, see ``docservice.archive.record``). The caller
    moved the lock row's ``size`` (and holds the lock), so it passes the size it found
    there instead of the store asking again.
    """

    def __init__(self, conn: Connection, size: int) -> None:
        self.conn = conn
        self._size = size

    def size(self) -> int:
        return self._size

    def get_nodes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        keys = {node_key(n): n for n in nodes}
        if not keys:
            return {}
        rows = self.conn.execute(_SELECT_NODES, {"keys": list(keys)})
        return {keys[k]: bytes(h) for k, h in rows}

    def append(self, start: int, entries: Sequence[bytes], nodes: dict[Node, bytes]) -> None:
        # No savepoint: appenders hold the log's lock, so a duplicate leaf is a bug that
        # must fail the caller's whole transaction, not be retried inside it.
        self.conn.execute(_INSERT_ENTRIES, entry_rows(start, entries))
        self.conn.execute(_INSERT_NODES, node_rows(nodes))
        self._size = start + len(entries)
