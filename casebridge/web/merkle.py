"""A Merkle tree as Certificate Transparency has it (RFC 6962, revised as RFC 9162 section 2.1).

The access trail's entry hashes are the leaves. A leaf is hashed as ``SHA-256(0x00 || leaf)``
and an inner node as ``SHA-256(0x01 || left || right)``; a tree of ``n`` leaves splits at the
largest power of two smaller than ``n`` (the RFC's MTH), so any size has one root. From it come
two proofs anyone can check with a few hashes:

- an inclusion proof: this leaf is at this index of the tree with this root (RFC 9162 2.1.3);
- a consistency proof: the tree of size ``m`` with root ``A`` is the first ``m`` leaves of the
  tree of size ``n`` with root ``B`` (RFC 9162 2.1.4), which is how an old signed checkpoint is
  shown to be a prefix of today's trail.

Written here rather than taken from PyPI: the maintained Python libraries found (pymerkle)
keep their own storage and proof formats, not the RFC's audit paths, and the RFC algorithms are
short. They are tested against the published RFC 6962 test vectors and with hypothesis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1): where MTH splits."""
    return 1 << ((size - 1).bit_length() - 1)


@dataclass
class MerkleTree:
    """The tree over a list of leaf hashes, every full aligned subtree's hash kept, so that
    the root at any size and any proof take O(log n) hashes after an O(n) build."""

    levels: list[list[bytes]] = field(default_factory=lambda: [[]])

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes]) -> MerkleTree:
        """The tree over raw leaves (each is hashed with the leaf prefix)."""
        return cls.from_leaf_hashes(leaf_hash(leaf) for leaf in leaves)

    @classmethod
    def from_leaf_hashes(cls, hashes: Iterable[bytes]) -> MerkleTree:
        """The tree over leaf hashes already made with :func:`leaf_hash`."""
        levels = [list(hashes)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        return cls(levels)

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return len(self.levels[0])

    def leaf_hash_at(self, index: int) -> bytes:
        """The hash of the leaf at ``index``."""
        return self.levels[0][index]

    def subtree_root(self, start: int, end: int) -> bytes:
        """MTH of the leaves ``start`` to ``end`` (end excluded)."""
        count = end - start
        if count == 0:
            return EMPTY_ROOT
        height = count.bit_length() - 1
        if count == 1 << height and start % count == 0:
            return self.levels[height][start >> height]
        middle = start + split_point(count)
        return node_hash(self.subtree_root(start, middle), self.subtree_root(middle, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` leaves (all of them by default)."""
        return self.subtree_root(0, self.size if size is None else self._checked(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162's PATH(index, D[size]): the audit path from the leaf up to the root."""
        size = self.size if size is None else self._checked(size)
        if not 0 <= index < size:
            raise ValueError("the leaf index must be inside the tree")
        return self._path(index, 0, size)

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        count = end - start
        if count <= 1:
            return []
        middle = start + split_point(count)
        left = middle - start
        if index < left:
            return [*self._path(index, start, middle), self.subtree_root(middle, end)]
        return [*self._path(index - left, middle, end), self.subtree_root(start, middle)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 9162's PROOF(first, D[second]): that the tree of ``first`` leaves is a prefix."""
        second = self.size if second is None else self._checked(second)
        if not 0 <= first <= second:
            raise ValueError("the first size must not be beyond the second")
        if first == 0:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, first: int, start: int, end: int, whole: bool) -> list[bytes]:
        count = end - start
        if first == count:
            return [] if whole else [self.subtree_root(start, end)]
        middle = start + split_point(count)
        k = middle - start
        if first <= k:
            return [*self._subproof(first, start, middle, whole), self.subtree_root(middle, end)]
        return [*self._subproof(first - k, middle, end, False), self.subtree_root(start, middle)]

    def _checked(self, size: int) -> int:
        if not 0 <= size <= self.size:
            raise ValueError("the size must be between 0 and the tree's size")
        return size


def verify_inclusion(
    index: int, size: int, hashed_leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf hash ``hashed_leaf`` at ``index`` in the tree of
    ``size`` leaves whose root is ``root`` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size or not _hashes(hashed_leaf, root, *proof):
        return False
    fn, sn = index, size - 1
    result = hashed_leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and result == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``first`` leaves with root ``first_root`` to be a
    prefix of the tree of ``second`` leaves with root ``second_root`` (RFC 9162 2.1.4.2)."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof or not _hashes(first_root, second_root, *proof):
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_result = second_result = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_result = node_hash(node, first_result)
            second_result = node_hash(node, second_result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_result = node_hash(second_result, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first_result == first_root and second_result == second_root


def _hashes(*values: bytes) -> bool:
    return all(len(value) == HASH_SIZE for value in values)


@dataclass
class Frontier:
    """The roots of the full subtrees along the right edge of a growing tree (largest first):
    enough to append a leaf and give the root in O(log n), without the leaves."""

    size: int = 0
    nodes: list[bytes] = field(default_factory=list)

    def append(self, hashed_leaf: bytes) -> None:
        """Add one leaf hash at the end of the tree."""
        node, remaining = hashed_leaf, self.size
        while remaining & 1:
            node = node_hash(self.nodes.pop(), node)
            remaining >>= 1
        self.nodes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """The root of the tree so far (MTH of all its leaves)."""
        if not self.nodes:
            return EMPTY_ROOT
        result = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            result = node_hash(node, result)
        return result
