"""An append-only Merkle log with RFC 9162 hashing, proofs and verifiers.

No maintained library keeps RFC 9162 consistency proofs with durable interior hashes
(see the field notes), so this small module does it. The tree is the one of RFC 9162
§2.1.1: ``MTH({d0}) = SHA-256(0x00 || d0)`` and ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k])
|| MTH(D[k:n]))`` with ``k`` the largest power of two below ``n``.

Every *perfect* subtree is stored once it is complete, as node ``(level, index)``
covering leaves ``[index * 2**level, (index + 1) * 2**level)``. Any subtree the RFC's
algorithms ask for splits into at most ``log2(n)`` such nodes, so a root or a proof at any
size is one batched read of ``O(log n)`` stored hashes, also right after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)
Tail = tuple[int, dict[Node, bytes]]  # a size, and the perfect subtrees of [0, size)

EMPTY_ROOT = hashlib.sha256(b"").digest()


class AppendConflictError(Exception):
    """Another writer appended first: re-read the size and try again."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeStore(Protocol):
    """Where the log keeps its leaves and complete subtree hashes."""

    def size(self) -> int:
        """The number of leaves appended so far."""

    def get_nodes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        """The stored hashes of ``nodes``; a missing one is simply absent."""

    def append(self, start: int, entries: Sequence[bytes], nodes: dict[Node, bytes]) -> None:
        """Store ``entries`` as leaves ``start, start+1, …`` and the new ``nodes`` at once.

        Raises AppendConflictError (and stores nothing) when leaf ``start`` already exists,
        so two writers that both read the same size cannot both succeed.
        """


class MemoryStore:
    """A NodeStore in a dict: for tests and for checking a log offline."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.nodes: dict[Node, bytes] = {}

    def size(self) -> int:
        return len(self.entries)

    def get_nodes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        return {n: self.nodes[n] for n in nodes if n in self.nodes}

    def append(self, start: int, entries: Sequence[bytes], nodes: dict[Node, bytes]) -> None:
        if start != len(self.entries):
            raise AppendConflictError(f"leaf {start} is not the next one ({len(self.entries)})")
        self.entries.extend(entries)
        self.nodes.update(nodes)


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees, left to right, whose fold is MTH(D[start:end]).

    Ranges produced by the RFC's recursion start at a multiple of their left part, so
    the left part at each step is a stored perfect subtree.
    """
    out = []
    while start < end:
        width = 1 << ((end - start).bit_length() - 1)
        level = width.bit_length() - 1
        out.append((level, start >> level))
        start += width
    return out


def _merges_with_stored(start: int, count: int) -> bool:
    """Whether appending ``count`` leaves at ``start`` joins a new subtree to a stored one.

    The stored right edge has one perfect subtree per bit set in ``start`` (level L for
    bit L); the one at level L gets its sibling completed, and is merged, exactly when
    ``start >> L != end >> L``, i.e. when L is at or below the highest bit in which
    ``start`` and ``end`` differ.
    """
    return bool(start & ((1 << (start ^ (start + count)).bit_length()) - 1))


def _fold(hashes: list[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees: they nest to the right."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    lo, hi, out = 0, size, []
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    return out[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to {second}")
    lo, hi, complete, out = 0, second, True, []
    while first - lo != hi - lo:
        k = _split(hi - lo)
        if first - lo <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            complete = False
    if not complete:
        out.append((lo, hi))
    return out[::-1]


class MerkleLog:
    """The log over a NodeStore: append, roots and proofs at any past size."""

    def __init__(self, store: NodeStore, tail: Tail | None = None) -> None:
        self.store = store
        # The size and right-edge subtrees after this log's last append (or as the caller
        # knows them to be). Trusted only until a write conflicts: another writer's entry
        # makes the store refuse ours, and the tail is then read again.
        self._tail = tail

    @property
    def tail(self) -> Tail | None:
        """The size and the right edge's subtree hashes after the last append, when known
        (a caller that can tell nobody appended since may hand them to a new log)."""
        return self._tail

    def size(self) -> int:
        return self.store.size()

    def append(self, data: bytes) -> int:
        """Append one entry; its leaf index."""
        return self.append_many([data])

    def append_many(self, entries: Sequence[bytes], attempts: int = 5) -> int:
        """Append entries in one write; the index of the first.

        A concurrent writer makes the store refuse the write; then the new tail is read
        again, up to ``attempts`` times.
        """
        if not entries:
            raise ValueError("nothing to append")
        for _ in range(attempts - 1):
            try:
                return self._append_once(entries)
            except AppendConflictError:
                self._tail = None
        return self._append_once(entries)

    def _append_once(self, entries: Sequence[bytes]) -> int:
        if self._tail is None:
            start = self.store.size()
            # Stored hashes are needed only when a new leaf completes a subtree begun
            # before ``start``. When none does (one entry at an even index, three at a
            # multiple of four...), nothing is read, and no tail is kept to trust next time.
            whole = _merges_with_stored(start, len(entries))
            frontier = self.store.get_nodes(_perfect_nodes(0, start)) if whole else {}
        else:
            (start, frontier), whole = self._tail, True
        new: dict[Node, bytes] = {}
        for i, data in enumerate(entries, start):
            level, index, h = 0, i, leaf_hash(data)
            new[(0, i)] = h
            while index & 1:
                sibling = (level, index - 1)
                h = node_hash(new.get(sibling) or frontier[sibling], h)
                level, index = level + 1, index >> 1
                new[(level, index)] = h
        self.store.append(start, entries, new)
        end = start + len(entries)
        self._tail = (
            (end, {n: new.get(n) or frontier[n] for n in _perfect_nodes(0, end)})
            if whole or not start
            else None
        )
        return start

    def _hashes(self, ranges: list[Range]) -> list[bytes]:
        plans = [_perfect_nodes(*r) for r in ranges]
        stored = self.store.get_nodes({n for plan in plans for n in plan})
        try:
            return [_fold([stored[n] for n in plan]) for plan in plans]
        except KeyError as exc:
            raise LookupError(f"log storage lacks subtree {exc.args[0]}") from None

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.store.size():
            raise ValueError(f"the log has no tree of size {size}")

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (the whole log by default)."""
        size = self.store.size() if size is None else size
        self._check_size(size)
        return self._hashes([(0, size)])[0] if size else EMPTY_ROOT

    def leaf(self, index: int) -> bytes:
        """The stored leaf hash of entry ``index``."""
        self._check_size(index + 1)
        return self._hashes([(index, index + 1)])[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion path of leaf ``index`` in the tree of ``size`` leaves."""
        size = self.store.size() if size is None else size
        self._check_size(size)
        return self._hashes(inclusion_ranges(index, size))

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 9162 consistency path from the tree of ``first`` leaves to ``second``."""
        second = self.store.size() if second is None else second
        self._check_size(second)
        return self._hashes(consistency_ranges(first, second))


def _lsb(x: int) -> int:
    return x & 1


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2 steps 1-4: the root ``path`` leads to, or None when malformed."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if _lsb(fn) or fn == sn:
            r = node_hash(p, r)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``leaf`` sit at ``index`` of the tree with ``root``?"""
    return root_from_inclusion(index, size, leaf, path) == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``first`` leaves a prefix of the one of ``second``?"""
    if first == second:
        return not path and first_root == second_root
    if not 0 < first < second or not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while _lsb(fn):
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
