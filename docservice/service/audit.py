"""``docservice audit check``: recompute every stored blob and the whole log.

What it finds, each named (a "finding" line per problem):
- a stored file whose bytes no longer hash to its name (one byte changed) or is missing,
  or whose size is not what an entry naming it says (the entry was made for other bytes);
- a log entry row edited (its leaf hash is not the stored leaf node), a node row edited
  (not the hash of its children), an index row that says other than its entry;
- an entry dropped (a gap in the indices, or an index row / tree head beyond the entries,
  or fewer entries than the log's lock row counts), or the lock row's size edited (the
  next append would leave a gap or collide);
- a history rewritten behind a published tree head: the root recomputed from the entries
  at the head's size is not the root the seal key signed (even when entries and nodes
  were rewritten to agree with each other);
- a document or signature row naming content the archive never recorded.

Exit codes: 0 intact, 1 findings, 2 the check could not run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from docservice.archive import record as rec
from docservice.archive.merkle import MemoryStore, MerkleLog
from docservice.archive.sth import verify_tree_head
from docservice.archive.store import artefact, log_entry, log_lock, log_node, node_key
from docservice.service.models import Document, Signature


@dataclass
class CheckResult:
    findings: list[str] = field(default_factory=list)
    entries: int = 0
    blobs: int = 0
    tree_heads: int = 0

    @property
    def intact(self) -> bool:
        return not self.findings


def _batched(conn: Any, query: Any, size: int = 5000) -> Iterator[Any]:
    result = conn.execution_options(yield_per=size).execute(query)
    yield from result


def check_archive(svc: Any) -> CheckResult:
    """Recompute the archive of ``svc`` (a DocService) and name every inconsistency."""
    out = CheckResult()
    archive = svc.archive
    engine = archive.log_store.engine  # a transaction: PostgreSQL server-side cursors need one
    memory = MemoryStore()
    mlog = MerkleLog(memory)
    entries: dict[int, bytes] = {}
    with engine.connect() as conn:
        expected = 0
        for idx, data in _batched(
            conn, select(log_entry.c.idx, log_entry.c.data).order_by(log_entry.c.idx)
        ):
            data = bytes(data)
            if idx != expected:
                out.findings.append(
                    f"archive_log_entry: entries {expected}..{idx - 1} dropped (gap in the log)"
                )
            expected = idx + 1
            entries[idx] = data
        size = expected
        # The log as the entries say it is (a dropped entry leaves its place empty).
        if entries:
            mlog.append_many([entries.get(i, b"") for i in range(size)])
        stored = {
            int(k): bytes(h) for k, h in _batched(conn, select(log_node.c.node, log_node.c.hash))
        }
        rows = {r["idx"]: dict(r) for r in conn.execute(select(artefact)).mappings()}
        counted = conn.execute(select(log_lock.c.size).where(log_lock.c.id == 1)).scalar()
    out.entries = len(entries)
    if counted is None:
        out.findings.append("archive_log_lock: its row is missing (appends cannot run)")
    elif counted != len(entries):
        out.findings.append(
            f"archive_log_lock: size {counted}, but the log has {len(entries)} entries "
            "(entries dropped, or the size edited)"
        )
    for node, digest in memory.nodes.items():
        level, index = node
        key = node_key(node)
        if stored.get(key) == digest:
            continue
        if level == 0 and index in entries:
            out.findings.append(
                f"archive_log_entry row {index}: edited (its leaf hash is not the stored leaf node)"
            )
        elif level > 0 and key in stored:
            out.findings.append(
                f"archive_log_node node {key} (level {level}, index {index}): "
                "edited or its leaves were"
            )
        elif key not in stored:
            out.findings.append(
                f"archive_log_node node {key} (level {level}, index {index}): missing"
            )
    for idx in sorted(set(rows) - set(entries)):
        out.findings.append(f"archive_artefact row {idx}: its log entry is missing (dropped)")
    recorded: dict[str, set[str]] = {}
    sizes: dict[str, dict[int, int]] = {}  # per file, each entry naming it: its size
    for idx, data in sorted(entries.items()):
        try:
            entry = rec.parse_entry(data)
        except ValueError as exc:
            out.findings.append(f"archive_log_entry row {idx}: not a canonical entry ({exc})")
            continue
        row = rows.get(idx)
        if row is None:
            out.findings.append(f"archive_artefact row {idx}: missing")
        else:
            implied = rec.index_row(idx, entry)
            differ = [k for k, v in implied.items() if not _same(row.get(k), v)]
            if differ:
                out.findings.append(
                    f"archive_artefact row {idx}: edited ({', '.join(differ)} "
                    f"differ from entry {idx})"
                )
        recorded.setdefault(entry["sha256"], set()).add(entry.get("document") or "")
        sizes.setdefault(entry["sha256"], {})[idx] = entry["size"]
    _check_blobs(svc, sizes, out)
    _check_heads(archive, mlog, size, out)
    _check_rows(svc, recorded, out)
    return out


def _same(a: Any, b: Any) -> bool:
    if hasattr(a, "timestamp") and hasattr(b, "timestamp"):
        import datetime as dt

        a = a if a.tzinfo else a.replace(tzinfo=dt.UTC)
        return abs(a.timestamp() - b.timestamp()) < 0.001
    return a == b


def _check_blobs(svc: Any, sizes: dict[str, dict[int, int]], out: CheckResult) -> None:
    """Each file an entry names: present, hashing to its name, of the entry's size."""
    for sha in sorted(sizes):
        try:
            data = svc.store.get(sha)
        except KeyError:
            out.findings.append(f"file {sha}: missing from the file store")
            continue
        out.blobs += 1
        if hashlib.sha256(data).hexdigest() != sha:
            out.findings.append(f"file {sha}: changed (its bytes no longer hash to its name)")
        for idx, size in sorted(sizes[sha].items()):
            if size != len(data):
                out.findings.append(
                    f"archive_log_entry row {idx}: says {size} bytes, but file {sha} has "
                    f"{len(data)} (the entry was made for other bytes)"
                )


def _check_heads(archive: Any, mlog: MerkleLog, size: int, out: CheckResult) -> None:
    key = archive.seal_key.public_key()
    for sth, _token in archive.tree_heads():
        out.tree_heads += 1
        name = f"tree head of size {sth.tree_size} at {sth.timestamp_ms} ms"
        if not verify_tree_head(sth, key):
            out.findings.append(
                f"archive_tree_head ({name}): its signature does not verify with the seal key"
            )
            continue
        if sth.tree_size > size:
            out.findings.append(
                f"archive_tree_head ({name}): covers entries the log no "
                f"longer has (log size {size}): entries dropped"
            )
            continue
        if sth.tree_size and mlog.root(sth.tree_size) != sth.root_hash:
            out.findings.append(
                f"archive_tree_head ({name}): history rewritten - the root "
                "recomputed from the entries is not the signed root"
            )


def _check_rows(svc: Any, recorded: dict[str, set[str]], out: CheckResult) -> None:
    """Every document and signature row names content the archive recorded for it."""
    with svc.db.sessions() as session:
        for doc in session.scalars(select(Document)):
            for column in ("sha256", "pdf_sha", "xml_sha", "input_sha"):
                sha = getattr(doc, column)
                if sha is not None and doc.id not in recorded.get(sha, set()):
                    out.findings.append(
                        f"documents row {doc.id}: {column} {sha[:16]}… was "
                        "never recorded in the archive for it (edited)"
                    )
        for sig in session.scalars(select(Signature)):
            for column in ("cms_sha", "pdf_sha"):
                sha = getattr(sig, column)
                if sig.document_id not in recorded.get(sha, set()):
                    out.findings.append(
                        f"signatures row {sig.id} ({sig.document_id} "
                        f"#{sig.seq}): {column} was never recorded in the "
                        "archive for it (edited)"
                    )
