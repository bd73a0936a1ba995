"""Reading the access trail for auditors and supervisors: filtered, paged, exported, proven.

Nothing here changes an entry: the trail has no update and no delete anywhere in casebridge.
A supervisor's review of a flagged (break-glass) entry is a new row and a new entry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from casebridge.errors import CasebridgeError
from casebridge.web.deps import Principal
from casebridge.web.merkle import MerkleTree
from casebridge.web.models import AccountScope, FlagReview, TrailEntry
from casebridge.web.trail import as_utc, entry_leaf, record


class TrailRequestError(CasebridgeError):
    """Raised when a trail request names something that is not there (a flag, a size)."""


class FlagAlreadyReviewedError(CasebridgeError):
    """Raised when a flagged entry already has its review."""


@dataclass(frozen=True)
class TrailFilter:
    """Which entries an auditor asks for; every condition given must hold."""

    account_id: int | None = None
    action: str | None = None
    subject_kind: str | None = None
    subject_id: str | None = None
    flagged: bool | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def conditions(self, dialect: str) -> list[ColumnElement[bool]]:
        """The WHERE conditions for the filter on ``dialect`` (sqlite or postgresql)."""
        found: list[ColumnElement[bool]] = []
        if self.account_id is not None:
            found.append(TrailEntry.account_id == self.account_id)
        if self.action is not None:
            found.append(TrailEntry.action == self.action)
        if self.subject_kind is not None:
            found.append(TrailEntry.subject_kind == self.subject_kind)
        if self.subject_id is not None:
            found.append(_holds_id(self.subject_id, dialect))
        if self.flagged is not None:
            found.append(TrailEntry.flagged.is_(self.flagged))
        if self.since is not None:
            found.append(TrailEntry.at >= as_utc(self.since))
        if self.until is not None:
            found.append(TrailEntry.at < as_utc(self.until))
        return found


def _holds_id(subject_id: str, dialect: str) -> ColumnElement[bool]:
    """Whether an entry's JSON list of ids holds ``subject_id`` exactly (case and all: SQLite's
    LIKE ignores case, so a plain substring search, which both databases have, is used)."""
    needle = json.dumps(subject_id)
    position = func.instr if dialect == "sqlite" else func.strpos
    return position(TrailEntry.subject_ids, needle) > 0


def _filtered(session: Session, wanted: TrailFilter) -> Select[TrailEntry]:
    dialect = session.get_bind().dialect.name
    return select(TrailEntry).where(*wanted.conditions(dialect))


def entry_page(
    session: Session, wanted: TrailFilter, page: int, page_size: int
) -> tuple[list[TrailEntry], int]:
    """One page of the entries that match, in order, and how many match in all."""
    query = _filtered(session, wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(TrailEntry.seq).offset((page - 1) * page_size).limit(page_size)
    return list(session.scalars(ordered)), total


def matching_entries(session: Session, wanted: TrailFilter) -> list[TrailEntry]:
    """Every entry that matches, in order (an export)."""
    return list(session.scalars(_filtered(session, wanted).order_by(TrailEntry.seq)))


def trail_tree(session: Session) -> MerkleTree:
    """The Merkle tree over the trail as it is stored now."""
    hashes = session.scalars(select(TrailEntry.entry_hash).order_by(TrailEntry.seq))
    return MerkleTree.from_leaf_hashes(entry_leaf(entry_hash) for entry_hash in hashes)


@dataclass(frozen=True)
class InclusionProof:
    """That the entry ``seq`` is leaf ``seq`` of the tree of ``tree_size`` entries."""

    seq: int
    tree_size: int
    leaf_hash: bytes
    root: bytes
    proof: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""

    first: int
    second: int
    first_root: bytes
    second_root: bytes
    proof: list[bytes]


def inclusion_proof(session: Session, seq: int, tree_size: int | None) -> InclusionProof:
    """An inclusion proof for entry ``seq`` in the tree of ``tree_size`` entries (default:
    all of them)."""
    tree = trail_tree(session)
    size = tree.size if tree_size is None else tree_size
    if not 0 <= seq < size <= tree.size:
        raise TrailRequestError(
            f"the trail holds {tree.size} entries; ask for an entry below the tree size"
        )
    proof = tree.inclusion_proof(seq, size)
    return InclusionProof(seq, size, tree.leaf_hash_at(seq), tree.root(size), proof)


def consistency_proof(session: Session, first: int, second: int | None) -> ConsistencyProof:
    """A consistency proof from the tree of ``first`` entries to that of ``second``."""
    tree = trail_tree(session)
    size = tree.size if second is None else second
    if not 0 <= first <= size <= tree.size:
        raise TrailRequestError(
            f"the trail holds {tree.size} entries; give sizes with first <= second <= that"
        )
    proof = tree.consistency_proof(first, size)
    return ConsistencyProof(first, size, tree.root(first), tree.root(size), proof)


# which of some entries a supervisor may see what they are about (the casework scope's verdict)
Shown = Callable[[Sequence[TrailEntry]], set[int]]


def everything(entries: Sequence[TrailEntry]) -> set[int]:
    """Every entry's number: no scope narrows what the entries are about."""
    return {entry.seq for entry in entries}


def flagged_entries(
    session: Session, supervisor: Principal, reviewed: bool | None, shown: Shown = everything
) -> list[tuple[TrailEntry, FlagReview | None]]:
    """Flagged (break-glass) entries by accounts that share an agency with ``supervisor``,
    each with its review if it has one; only those about what the supervisor's own scopes show
    (``shown``: a colleague whose scope reaches further may open what they may not)."""
    query = (
        select(TrailEntry, FlagReview)
        .outerjoin(FlagReview, FlagReview.trail_seq == TrailEntry.seq)
        .where(TrailEntry.flagged.is_(True), TrailEntry.account_id.in_(_colleagues(supervisor)))
        .order_by(TrailEntry.seq)
    )
    if reviewed is not None:
        query = query.where(FlagReview.id.is_not(None) if reviewed else FlagReview.id.is_(None))
    found = [(entry, review) for entry, review in session.execute(query)]
    seen = shown([entry for entry, _ in found])
    return [(entry, review) for entry, review in found if entry.seq in seen]


def _colleagues(supervisor: Principal) -> Select[int]:
    return select(AccountScope.account_id).where(AccountScope.agency.in_(supervisor.scopes))


def review_flag(
    session: Session, supervisor: Principal, seq: int, outcome: str, shown: Shown = everything
) -> FlagReview:
    """Record that ``supervisor`` looked at flagged entry ``seq``: a review row, and an entry.
    An entry about what ``shown`` says the supervisor may not see is as one that is not there."""
    entry = session.scalars(
        select(TrailEntry).where(
            TrailEntry.seq == seq,
            TrailEntry.flagged.is_(True),
            TrailEntry.account_id.in_(_colleagues(supervisor)),
        )
    ).one_or_none()
    if entry is None or entry.seq not in shown([entry]):
        raise TrailRequestError("no flagged entry with that number in your agencies")
    if session.scalar(select(FlagReview.id).where(FlagReview.trail_seq == seq)) is not None:
        raise FlagAlreadyReviewedError("that flagged entry has been reviewed already")
    review = FlagReview(trail_seq=seq, account_id=supervisor.account_id, outcome=outcome)
    session.add(review)
    session.flush()
    record(session, supervisor, "trail.review_flag", "trail_entry", [str(seq)])
    return review


def seq_ids(entries: Sequence[TrailEntry]) -> list[str]:
    """The entries' numbers, as the ids a trail entry about them carries."""
    return [str(entry.seq) for entry in entries]
