"""The Merkle tree of the access trail, against RFC 6962's published test vectors, the RFC's
own recursive definitions, and hypothesis: every proof for every size verifies, and a proof
for a changed leaf, a changed root or a wrong size does not."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casebridge.web.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as file:
        lines = [line for line in file if not line.startswith("# ")]
    return list(csv.DictReader(lines))


VECTOR_TREE = _rows("rfc6962_tree.csv")
VECTOR_LEAVES = [bytes.fromhex(row["leaf_hex"]) for row in VECTOR_TREE]
VECTOR_ROOTS = {int(row["size"]): bytes.fromhex(row["root_hex"]) for row in VECTOR_TREE}
VECTOR_PROOFS = _rows("rfc6962_proofs.csv")


def _proof(row: dict[str, str]) -> list[bytes]:
    return [bytes.fromhex(part) for part in row["proof"].split()]


def _cases(kind: str) -> list[tuple[int, int, list[bytes]]]:
    return [
        (int(row["first"]), int(row["second"]), _proof(row))
        for row in VECTOR_PROOFS
        if row["kind"] == kind
    ]


# the RFC's definitions, written as the RFC writes them, to check the fast tree against
def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole else [_mth(leaves)]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def test_the_roots_are_the_published_roots() -> None:
    tree = MerkleTree.from_leaves(VECTOR_LEAVES)
    for size, root in VECTOR_ROOTS.items():
        assert tree.root(size) == root
    assert MerkleTree.from_leaves([]).root() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(("index", "size", "proof"), _cases("inclusion"))
def test_inclusion_proofs_are_the_published_ones(index: int, size: int, proof: list[bytes]) -> None:
    tree = MerkleTree.from_leaves(VECTOR_LEAVES)
    assert tree.inclusion_proof(index, size) == proof
    hashed = leaf_hash(VECTOR_LEAVES[index])
    assert verify_inclusion(index, size, hashed, proof, VECTOR_ROOTS[size])
    wrong_root = VECTOR_ROOTS[size][:-1] + bytes([VECTOR_ROOTS[size][-1] ^ 1])
    assert not verify_inclusion(index, size, hashed, proof, wrong_root)
    assert not verify_inclusion(index, size, leaf_hash(b"WrongLeaf"), proof, VECTOR_ROOTS[size])
    assert not verify_inclusion(index + 1, size, hashed, proof, VECTOR_ROOTS[size])
    assert not verify_inclusion(index, size * 2, hashed, proof, VECTOR_ROOTS[size])
    longer = [*proof, VECTOR_ROOTS[size]]
    assert not verify_inclusion(index, size, hashed, longer, VECTOR_ROOTS[size])


@pytest.mark.parametrize(("first", "second", "proof"), _cases("consistency"))
def test_consistency_proofs_are_the_published_ones(
    first: int, second: int, proof: list[bytes]
) -> None:
    tree = MerkleTree.from_leaves(VECTOR_LEAVES)
    assert tree.consistency_proof(first, second) == proof
    old, new = VECTOR_ROOTS[first], VECTOR_ROOTS[second]
    assert verify_consistency(first, second, old, new, proof)
    if proof:  # the published corruptions of a non-trivial proof all fail
        assert not verify_consistency(first, second, new, old, proof)
        assert not verify_consistency(first - 1, second, old, new, proof)
        assert not verify_consistency(first + 1, second, old, new, proof)
        assert not verify_consistency(first, second * 2, old, new, proof)
        assert not verify_consistency(first, second, old, new, proof[:-1])
        assert not verify_consistency(first, second, old, new, [*proof, old])
        assert not verify_consistency(first, second, old, new, [proof[0], *proof])
        for position in range(len(proof)):
            flipped = list(proof)
            flipped[position] = bytes([proof[position][0] ^ 16]) + proof[position][1:]
            assert not verify_consistency(first, second, old, new, flipped)


def test_the_trivial_consistency_cases_are_the_rfcs() -> None:
    one, two = leaf_hash(b"one"), leaf_hash(b"two")
    assert verify_consistency(0, 0, one, one, [])
    assert verify_consistency(0, 1, one, two, [])
    assert verify_consistency(1, 1, two, two, [])
    assert not verify_consistency(1, 1, one, two, [])
    assert not verify_consistency(1, 0, one, two, [])
    assert not verify_consistency(1, 2, one, two, [])
    assert not verify_consistency(1, 1, one, one, [EMPTY_ROOT])
    assert not verify_consistency(0, 1, one, one, [EMPTY_ROOT])


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists)
def test_the_tree_is_the_rfcs_definition(leaves: list[bytes]) -> None:
    tree = MerkleTree.from_leaves(leaves)
    frontier = Frontier()
    for size in range(len(leaves) + 1):
        assert tree.root(size) == _mth(leaves[:size])
        assert frontier.root() == tree.root(size)
        if size < len(leaves):
            frontier.append(leaf_hash(leaves[size]))
    index = len(leaves) // 2
    assert tree.inclusion_proof(index) == _path(index, leaves)
    for first in range(1, len(leaves) + 1):
        assert tree.consistency_proof(first) == _subproof(first, leaves, True)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_every_inclusion_proof_verifies_and_a_changed_leaf_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree.from_leaves(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    root = tree.root(size)
    for index in range(size):
        proof = tree.inclusion_proof(index, size)
        assert verify_inclusion(index, size, leaf_hash(leaves[index]), proof, root)
        changed = leaf_hash(leaves[index] + b"!")
        assert not verify_inclusion(index, size, changed, proof, root)
        if size > 1:
            other = (index + 1) % size
            assert not verify_inclusion(other, size, leaf_hash(leaves[index]), proof, root) or (
                leaves[other] == leaves[index]
            )


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_every_consistency_proof_verifies_and_a_changed_prefix_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree.from_leaves(leaves)
    second = data.draw(st.integers(1, len(leaves)), label="second")
    for first in range(1, second + 1):
        proof = tree.consistency_proof(first, second)
        assert verify_consistency(first, second, tree.root(first), tree.root(second), proof)
    first = data.draw(st.integers(1, second), label="first")
    changed_at = data.draw(st.integers(0, first - 1), label="changed_at")
    forged = list(leaves)
    forged[changed_at] += b"!"
    forged_root = MerkleTree.from_leaves(forged).root(first)
    proof = tree.consistency_proof(first, second)
    assert not verify_consistency(first, second, forged_root, tree.root(second), proof)


def test_node_and_leaf_hashes_are_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) != leaf_hash(left + right)
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
