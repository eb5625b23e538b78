"""The Merkle log against independent oracles, on memory, SQLite and PostgreSQL.

Roots and inclusion paths are checked against pymerkle (GPL, a test-only oracle that
implements RFC 9162 hashing independently); consistency proofs against a naive
transcription of RFC 9162 §2.1.4.1's recursive SUBPROOF over all leaves.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from pymerkle import InmemoryTree

from docservice.archive.merkle import (
    EMPTY_ROOT,
    AppendConflictError,
    MemoryStore,
    MerkleLog,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def entries(n: int, salt: bytes = b"") -> list[bytes]:
    return [salt + f"entry-{i}".encode() for i in range(n)]


def pymerkle_tree(data: list[bytes]) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")
    for d in data:
        tree.append_entry(d)
    return tree


def naive_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, straight from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def naive_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), straight from the definition."""
    n = len(leaves)
    if m == n:
        return [] if b else [naive_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, leaves[:k], b), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_roots_and_inclusion_paths_match_pymerkle_at_many_sizes():
    data = entries(300)
    log = MerkleLog(MemoryStore())
    log.append_many(data)
    oracle = pymerkle_tree(data)
    assert log.root(0) == EMPTY_ROOT
    sizes = [*range(1, 70), 127, 128, 129, 255, 256, 257, 300]
    for size in sizes:
        assert log.root(size) == oracle.get_root(size), size
        indexes = range(size) if size <= 70 else random.Random(size).sample(range(size), 20)
        for index in indexes:
            path = log.inclusion_proof(index, size)
            assert path == oracle.prove_inclusion(index + 1, size).path[1:], (index, size)
            assert verify_inclusion(index, size, leaf_hash(data[index]), path, log.root(size))


def test_consistency_proofs_match_rfc_definition_and_verify():
    data = entries(70)
    log = MerkleLog(MemoryStore())
    log.append_many(data)
    for second in range(1, 71):
        for first in range(1, second + 1):
            path = log.consistency_proof(first, second)
            assert path == naive_subproof(first, data[:second], True), (first, second)
            assert verify_consistency(first, second, log.root(first), log.root(second), path)


def test_tampered_inclusion_proofs_fail():
    data = entries(45)
    log = MerkleLog(MemoryStore())
    log.append_many(data)
    root, leaf, path = log.root(), leaf_hash(data[13]), log.inclusion_proof(13)
    assert verify_inclusion(13, 45, leaf, path, root)
    for i in range(len(path)):
        assert not verify_inclusion(13, 45, leaf, [*path[:i], flip(path[i]), *path[i + 1 :]], root)
    assert not verify_inclusion(13, 45, leaf, path, flip(root))
    assert not verify_inclusion(13, 45, leaf_hash(b"other"), path, root)
    assert not verify_inclusion(12, 45, leaf, path, root)
    assert not verify_inclusion(13, 45, leaf, path[:-1], root)
    assert not verify_inclusion(13, 45, leaf, [*path, path[0]], root)
    assert not verify_inclusion(45, 45, leaf, path, root)


def test_tampered_consistency_proofs_and_rewritten_history_fail():
    data = entries(50)
    log = MerkleLog(MemoryStore())
    log.append_many(data)
    for first, second in [(1, 50), (7, 50), (16, 50), (32, 33), (20, 37)]:
        r1, r2 = log.root(first), log.root(second)
        path = log.consistency_proof(first, second)
        assert verify_consistency(first, second, r1, r2, path)
        for i in range(len(path)):
            bad = [*path[:i], flip(path[i]), *path[i + 1 :]]
            assert not verify_consistency(first, second, r1, r2, bad), (first, second, i)
        assert not verify_consistency(first, second, flip(r1), r2, path)
        assert not verify_consistency(first, second, r1, flip(r2), path)
        assert not verify_consistency(first, second, r1, r2, path[:-1])
        assert not verify_consistency(first, second, r1, r2, [*path, path[0]])
        assert not verify_consistency(first + 1, second, r1, r2, path)
        assert not verify_consistency(first, second, r1, r2, [])
    assert verify_consistency(50, 50, log.root(), log.root(), [])
    assert not verify_consistency(50, 50, log.root(), log.root(), [log.root()])

    # Entry 9 changed behind a published head of size 10: no proof can reach it.
    rewritten = MerkleLog(MemoryStore())
    rewritten.append_many([*data[:9], b"back-dated", *data[10:]])
    published = log.root(10)
    path = rewritten.consistency_proof(10, 50)
    assert not verify_consistency(10, 50, published, rewritten.root(), path)


def test_out_of_range_requests_are_refused():
    log = MerkleLog(MemoryStore())
    log.append_many(entries(5))
    for call in (
        lambda: log.root(6),
        lambda: log.inclusion_proof(5),
        lambda: log.inclusion_proof(0, 6),
        lambda: log.consistency_proof(0, 5),
        lambda: log.consistency_proof(4, 3),
        lambda: log.consistency_proof(2, 6),
        lambda: log.append_many([]),
    ):
        with pytest.raises(ValueError):
            call()


def test_every_backend_appends_one_by_one_and_agrees_with_pymerkle(store_factory):
    data = entries(40, b"b")
    log = MerkleLog(store_factory())
    oracle = InmemoryTree(algorithm="sha256")
    for i, d in enumerate(data):
        assert log.append(d) == i
        oracle.append_entry(d)
        assert log.root() == oracle.get_root()
    log.append_many(entries(25, b"batch"))
    for d in entries(25, b"batch"):
        oracle.append_entry(d)
    assert log.size() == 65
    for size in (1, 2, 3, 31, 32, 33, 40, 64, 65):
        assert log.root(size) == oracle.get_root(size)
        for index in {0, size // 2, size - 1}:
            assert (
                log.inclusion_proof(index, size) == oracle.prove_inclusion(index + 1, size).path[1:]
            )


class CountingStore:
    """Wraps a store and records every node the log asks for."""

    def __init__(self, inner) -> None:
        self.inner, self.reads, self.asked = inner, 0, 0

    def size(self):
        return self.inner.size()

    def get_nodes(self, nodes):
        nodes = list(nodes)
        self.reads += 1
        self.asked += len(nodes)
        return self.inner.get_nodes(nodes)

    def append(self, start, entries, nodes):
        return self.inner.append(start, entries, nodes)


def test_proofs_after_restart_read_logarithmically_many_stored_nodes(store_factory):
    data = entries(1500, b"r")
    first = MerkleLog(store_factory())
    for chunk in range(0, 1500, 500):
        first.append_many(data[chunk : chunk + 500])
    root, root_900 = first.root(), first.root(900)
    inclusion, consistency = first.inclusion_proof(777), first.consistency_proof(900)

    counted = CountingStore(store_factory())  # a new engine (a restart) on the same tables
    again = MerkleLog(counted)
    assert again.root() == root and again.root(900) == root_900
    assert again.inclusion_proof(777) == inclusion
    assert again.consistency_proof(900) == consistency
    assert verify_inclusion(777, 1500, leaf_hash(data[777]), inclusion, root)
    assert verify_consistency(900, 1500, root_900, root, consistency)
    # One query per request, each for O(log n) nodes (log2(1500) < 11), not O(n).
    assert counted.reads == 4
    assert counted.asked <= 4 * 2 * 11


def test_sql_store_survives_a_restart_and_keeps_entries(sql_store_factory):
    store = sql_store_factory()
    log = MerkleLog(store)
    log.append_many(entries(10))
    reopened = sql_store_factory()
    assert reopened.size() == 10
    assert reopened.entry(3) == b"entry-3"
    with pytest.raises(LookupError):
        reopened.entry(10)
    assert MerkleLog(reopened).root() == pymerkle_tree(entries(10)).get_root()


def test_a_concurrent_writer_is_refused_and_the_log_retries(store_factory):
    store = store_factory()
    log = MerkleLog(store)
    log.append_many(entries(3))
    with pytest.raises(AppendConflictError):
        store.append(2, [b"late"], {(0, 2): leaf_hash(b"late")})

    class Stale(CountingStore):
        """Reports the old size once, as a writer that read it just before another wrote."""

        stale = True

        def size(self):
            if self.stale:
                self.stale = False
                return 2
            return self.inner.size()

    retried = MerkleLog(Stale(store))
    assert retried.append(b"next") == 3
    assert log.root() == pymerkle_tree([*entries(3), b"next"]).get_root()


def test_node_keys_are_unique_and_bounded():
    from docservice.archive.store import node_key

    leaves = 1024
    keys = [node_key((level, index)) for level in range(11) for index in range(leaves >> level)]
    assert len(set(keys)) == len(keys) and max(keys) < 2 * leaves


def test_two_writers_with_cached_tails_interleave_without_losing_an_entry(store_factory):
    a, b = MerkleLog(store_factory()), MerkleLog(store_factory())
    expected = []
    for i in range(6):
        for name, log in (("a", a), ("b", b)):
            data = f"{name}{i}".encode()
            index = log.append(data)
            assert index == len(expected)
            expected.append(data)
    assert a.root() == b.root() == pymerkle_tree(expected).get_root()
    assert verify_inclusion(7, 12, leaf_hash(expected[7]), b.inclusion_proof(7), a.root())


def _merges_with_a_stored_subtree(start: int, end: int) -> bool:
    """Whether some perfect subtree of the tree of ``end`` leaves holds both leaf
    ``start - 1`` (stored) and leaf ``start`` (new): then an append must read hashes."""
    return any(
        (start - 1) >> level == start >> level and ((start >> level) + 1) << level <= end
        for level in range(end.bit_length())
    )


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8])
def test_an_append_reads_stored_hashes_only_when_it_merges_with_them(count):
    """A log with no tail (a new process, a record in its own transaction) reads the stored
    right edge only when a new leaf completes a subtree begun before it, and is right
    either way, also on its next append."""
    for start in range(70):
        store = MemoryStore()
        if start:
            MerkleLog(store).append_many(entries(start))
        counted = CountingStore(store)
        log = MerkleLog(counted)
        assert log.append_many(entries(count, b"n")) == start
        assert counted.reads == int(_merges_with_a_stored_subtree(start, start + count))
        log.append(b"next")
        expected = [*entries(start), *entries(count, b"n"), b"next"]
        assert log.root() == pymerkle_tree(expected).get_root()
