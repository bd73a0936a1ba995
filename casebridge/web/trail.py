"""The access trail: every read of personal data and every write, hash-chained.

Each entry's hash covers its fields and the hash before it, so an edited, deleted, inserted
or reordered entry breaks the chain (``casebridge trail verify``). The entry hashes are also the
leaves of a Merkle tree (:mod:`casebridge.web.merkle`) whose root signed checkpoints commit to
(:mod:`casebridge.web.checkpoints`).

Appends are safe when many sessions write at once, on SQLite and PostgreSQL alike: an append
first locks the trail's one head row (an UPDATE, which takes SQLite's write lock and
PostgreSQL's row lock until the caller's transaction ends), then reads the head, so no two
appends share a number or a predecessor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casebridge.web.deps import Principal
from casebridge.web.merkle import Frontier, leaf_hash
from casebridge.web.models import TrailEntry, TrailHead, utc_now

GENESIS = "0" * 64
HEAD_ID = 1
# the key under which a session's ``info`` holds what to do after an append (checkpoints)
APPEND_LISTENER = "casebridge.trail.append_listener"


class AppendListener(Protocol):
    """Told of every append, in the appender's transaction (signed checkpoints listen)."""

    def appended(self, session: Session, size: int, root: bytes) -> None:
        """The trail now holds ``size`` entries whose Merkle root is ``root``."""


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC. SQLite gives stored times back without a zone: they are UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def canonical_time(moment: dt.datetime) -> str:
    """A time as the hash sees it: UTC, to the microsecond, the same text on every database."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EntryFields(Protocol):
    """What an entry's hash covers: a stored entry, or a copy of one being checked."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def account_id(self) -> int | None: ...
    @property
    def action(self) -> str: ...
    @property
    def subject_kind(self) -> str | None: ...
    @property
    def subject_ids(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def remote_addr(self) -> str | None: ...
    @property
    def flagged(self) -> bool: ...
    @property
    def prev_hash(self) -> str: ...


def canonical_entry(entry: EntryFields) -> bytes:
    """The bytes an entry's hash covers: its fields and the hash before it, as sorted JSON."""
    fields = {
        "seq": entry.seq,
        "at": canonical_time(entry.at),
        "account_id": entry.account_id,
        "action": entry.action,
        "subject_kind": entry.subject_kind,
        "subject_ids": entry.subject_ids,
        "reason": entry.reason,
        "remote_addr": entry.remote_addr,
        "flagged": bool(entry.flagged),
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_digest(entry: EntryFields) -> str:
    """The hash of an entry's fields and the hash before it (SHA-256, hex)."""
    return hashlib.sha256(canonical_entry(entry)).hexdigest()


def entry_leaf(entry_hash: str) -> bytes:
    """The Merkle leaf hash of an entry: the leaf is the entry hash's 32 bytes."""
    return leaf_hash(bytes.fromhex(entry_hash))


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    subject_kind: str | None = None,
    subject_ids: Sequence[str] = (),
    reason: str | None = None,
    flagged: bool = False,
    remote_addr: str | None = None,
) -> TrailEntry:
    """Append one entry in the caller's transaction: ids only, never names.

    The trail's head stays locked until the caller's transaction ends, so record last and
    commit soon. A checkpoint is signed in the same transaction when one is due.
    """
    head = locked_head(session)
    size = head.size or 0
    entry = TrailEntry(
        seq=size,
        at=utc_now(),
        account_id=None if principal is None else principal.account_id,
        action=action,
        subject_kind=subject_kind,
        subject_ids=json.dumps(sorted(set(subject_ids))),
        reason=reason,
        remote_addr=remote_addr or (None if principal is None else principal.remote_addr),
        flagged=flagged,
        prev_hash=head.last_hash or GENESIS,
    )
    entry.entry_hash = entry_digest(entry)
    session.add(entry)
    frontier = head_frontier(head)
    frontier.append(entry_leaf(entry.entry_hash))
    _store_frontier(head, frontier, entry.entry_hash)
    session.flush()
    listener = session.info.get(APPEND_LISTENER)
    if listener is not None:
        listener.appended(session, frontier.size, frontier.root())
    return entry


def locked_head(session: Session) -> TrailHead:
    """The trail's head row, locked for the rest of the transaction (built if it is new)."""
    session.execute(
        update(TrailHead)
        .where(TrailHead.id == HEAD_ID)
        .values(size=TrailHead.size)
        .execution_options(synchronize_session=False)
    )
    head = session.scalars(
        select(TrailHead).where(TrailHead.id == HEAD_ID).execution_options(populate_existing=True)
    ).one_or_none()
    if head is None:  # the row was removed: put it back
        head = TrailHead(id=HEAD_ID)
        session.add(head)
    if head.size is None:
        hashes = session.scalars(select(TrailEntry.entry_hash).order_by(TrailEntry.seq)).all()
        _store_frontier(head, frontier_of(hashes), hashes[-1] if hashes else GENESIS)
    return head


def frontier_of(entry_hashes: Iterable[str]) -> Frontier:
    """The Merkle frontier of a trail whose entries have these hashes, in order."""
    frontier = Frontier()
    for entry_hash in entry_hashes:
        frontier.append(entry_leaf(entry_hash))
    return frontier


def head_frontier(head: TrailHead) -> Frontier:
    """The Merkle frontier the head row holds."""
    nodes = [bytes.fromhex(node) for node in json.loads(head.frontier or "[]")]
    return Frontier(size=head.size or 0, nodes=nodes)


def _store_frontier(head: TrailHead, frontier: Frontier, last_hash: str) -> None:
    head.size = frontier.size
    head.last_hash = last_hash
    head.frontier = json.dumps([node.hex() for node in frontier.nodes])
