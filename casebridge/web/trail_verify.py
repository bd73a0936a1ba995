"""Check the access trail: its hash chain, its head, its Merkle root and every checkpoint.

``verify_trail`` reads the whole trail (never writing) and gives one finding per problem:

- an entry whose contents no longer match its hash (edited);
- entries missing from the numbering or from the chain (deleted);
- an entry the chain skips over (inserted);
- an entry that was written under another number (reordered or renumbered);
- an entry that follows one with another hash (replaced: changed and re-hashed);
- a head that disagrees with the log (entries appended or cut off outside the service);
- a checkpoint whose signature fails, or whose root is not the root of the log's first
  ``size`` entries, or that covers more entries than the log holds (truncated);
- and, for each checkpoint that holds, a consistency proof (RFC 9162 2.1.4) that it is a
  prefix of today's log, checked as an outsider would check it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from casebridge.web.checkpoints import Checkpoint, SignedNote, stored
from casebridge.web.merkle import MerkleTree, verify_consistency
from casebridge.web.models import TrailCheckpoint, TrailEntry, TrailHead
from casebridge.web.trail import GENESIS, HEAD_ID, entry_digest, entry_leaf, head_frontier

# how far from its number an entry is looked for when its contents do not match its hash
RENUMBER_REACH = 8
# at most this many changed entries are compared with each other to find swapped contents
SWAP_SEARCH_LIMIT = 256
NOT_A_PREFIX = "not a prefix"


class Verdict(enum.StrEnum):
    """What a finding says: all is well, a problem, or something to know."""

    ok = "ok"
    fail = "FAIL"
    note = "note"


@dataclass(frozen=True)
class Finding:
    """One line of the verification: its verdict, what was checked, where, and what was found."""

    verdict: Verdict
    problem: str
    where: str
    detail: str

    def line(self) -> str:
        """The finding as one line of text."""
        return f"{self.verdict.value} {self.problem}: {self.where}: {self.detail}"


@dataclass(frozen=True)
class TrailReport:
    """Everything ``verify_trail`` found, and the log's size and root as it stands."""

    size: int
    root: bytes
    findings: list[Finding]

    @property
    def failed(self) -> bool:
        """Whether anything failed."""
        return any(finding.verdict is Verdict.fail for finding in self.findings)


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the database holds it now (a copy: checking never writes)."""

    seq: int
    at: dt.datetime
    account_id: int | None
    action: str
    subject_kind: str | None
    subject_ids: str
    reason: str | None
    remote_addr: str | None
    flagged: bool
    prev_hash: str
    entry_hash: str

    @property
    def intact(self) -> bool:
        """Whether the contents still match the hash."""
        return entry_digest(self) == self.entry_hash


@dataclass(frozen=True)
class OutsideCheckpoint:
    """A checkpoint given from outside the database (a file exported earlier)."""

    source: str
    note: SignedNote


def read_entries(session: Session) -> list[StoredEntry]:
    """Every entry, in the order of its number."""
    columns = [getattr(TrailEntry, field.name) for field in dataclasses.fields(StoredEntry)]
    rows = session.execute(select(*columns).order_by(TrailEntry.seq)).all()
    return [StoredEntry(*row) for row in rows]


def verify_trail(
    session: Session,
    keys: dict[str, Ed25519PublicKey],
    outside: Sequence[OutsideCheckpoint] = (),
) -> TrailReport:
    """Check the trail in ``session``'s database with the public ``keys`` (by key id)."""
    entries = read_entries(session)
    tree = MerkleTree.from_leaf_hashes(entry_leaf(_hex_or_blank(e.entry_hash)) for e in entries)
    findings = list(chain_findings(entries))
    if not findings:
        findings.append(
            Finding(Verdict.ok, "chain", f"{len(entries)} entries", "every hash and link holds")
        )
    has_head = inspect(session.get_bind()).has_table(TrailHead.__tablename__)
    head = session.get(TrailHead, HEAD_ID) if has_head else None
    findings.extend(head_findings(head, entries, tree))
    rows = session.scalars(select(TrailCheckpoint).order_by(TrailCheckpoint.tree_size)).all()
    log = Log(tree, entries[-1].seq + 1 if entries else 0)
    findings.extend(stored_checkpoint_findings(rows, keys, log))
    for given in outside:
        findings.append(outside_checkpoint_finding(given, keys, log))
    findings.extend(coverage_notes(rows, tree))
    return TrailReport(tree.size, tree.root(), findings)


def _hex_or_blank(value: str) -> str:
    """A stored hash, or 64 zeros if someone stored something that is not hex."""
    try:
        bytes.fromhex(value)
    except ValueError:
        return GENESIS
    return value if len(value) == 64 else GENESIS


# --- the chain ---------------------------------------------------------------------------------


def chain_findings(entries: Sequence[StoredEntry]) -> Iterator[Finding]:
    """One finding per problem in the chain: numbering, contents, links."""
    homes = _homes(entries)
    inserted = set(_inserted_positions(entries, homes))
    expected = 0
    for position, entry in enumerate(entries):
        if entry.seq > expected:
            yield _missing(expected, entry.seq - 1)
        expected = entry.seq + 1
        if position in inserted:
            yield _inserted(entries, position)
        elif homes[position] is None:
            yield Finding(
                Verdict.fail,
                "edited",
                f"entry {entry.seq}",
                "its contents were changed after it was written: they no longer match its hash",
            )
        link = _link_finding(entries, position, homes, inserted)
        if link is not None:
            yield link
    yield from _reordered(entries, homes, inserted)


def _missing(first: int, last: int) -> Finding:
    where = f"entry {first}" if first == last else f"entries {first}-{last}"
    return Finding(Verdict.fail, "deleted", where, "missing from the numbering: deleted")


def _inserted(entries: Sequence[StoredEntry], position: int) -> Finding:
    after = entries[position + 1]
    before = f"entry {entries[position - 1].seq}" if position else "the start"
    return Finding(
        Verdict.fail,
        "inserted",
        f"entry {entries[position].seq}",
        f"put in later: entry {after.seq} was written straight after {before}",
    )


def _homes(entries: Sequence[StoredEntry]) -> list[int | None]:
    """For each entry, the number its contents were written under (None: none found)."""
    written_at: dict[str, int] = {}
    homes: list[int | None] = []
    changed = [position for position, entry in enumerate(entries) if not entry.intact]
    slots = [entries[position] for position in changed[:SWAP_SEARCH_LIMIT]]
    for entry in entries:
        home = entry.seq if entry.intact else _written_under(entry, written_at, slots)
        if home is not None:
            written_at[entry.entry_hash] = home
        homes.append(home)
    return homes


def _written_under(
    entry: StoredEntry, written_at: dict[str, int], slots: Sequence[StoredEntry]
) -> int | None:
    """The number a changed entry's contents match: moved whole (its hash with it), or moved
    into another entry's place (that entry's number, predecessor and hash)."""
    candidates = []
    if entry.prev_hash == GENESIS:
        candidates.append(0)
    elif entry.prev_hash in written_at:
        candidates.append(written_at[entry.prev_hash] + 1)
    for distance in range(1, RENUMBER_REACH + 1):
        candidates.extend((entry.seq + distance, entry.seq - distance))
    for seq in candidates:
        if seq >= 0 and entry_digest(dataclasses.replace(entry, seq=seq)) == entry.entry_hash:
            return seq
    for slot in slots:
        if slot.seq == entry.seq:
            continue
        moved = dataclasses.replace(entry, seq=slot.seq, prev_hash=slot.prev_hash)
        if entry_digest(moved) == slot.entry_hash:
            return slot.seq
    return None


def _inserted_positions(
    entries: Sequence[StoredEntry], homes: Sequence[int | None]
) -> Iterator[int]:
    """Entries the chain steps over: no entry follows them, and the next entry was written
    right after the one before them."""
    followed = {entry.prev_hash for entry in entries}
    for position in range(len(entries) - 1):
        entry = entries[position]
        before = entries[position - 1].entry_hash if position else GENESIS
        steps_over = entries[position + 1].prev_hash == before != entry.entry_hash
        if steps_over and entry.entry_hash not in followed and not _moved(entries, homes, position):
            yield position


def _link_finding(
    entries: Sequence[StoredEntry],
    position: int,
    homes: Sequence[int | None],
    inserted: set[int],
) -> Finding | None:
    """A problem with the link from an entry to the one before it, unless another finding
    already explains it (a gap in the numbering, an insertion, a moved entry)."""
    entry = entries[position]
    before = entries[position - 1] if position else None
    if entry.prev_hash == (GENESIS if before is None else before.entry_hash):
        return None
    explained = (
        (before is None and entry.seq != 0)
        or (before is not None and entry.seq != before.seq + 1)
        or position - 1 in inserted
        or _moved(entries, homes, position)
        or (before is not None and _moved(entries, homes, position - 1))
    )
    if explained:
        return None
    if before is None:
        return Finding(
            Verdict.fail,
            "replaced",
            f"entry {entry.seq}",
            "the first entry does not start the chain: it was changed and re-hashed",
        )
    if entry.prev_hash not in {other.entry_hash for other in entries}:
        detail = (
            f"written after an entry that is no longer in the log: entry {before.seq} was "
            "changed and re-hashed, or entries before it were deleted and renumbered"
        )
        return Finding(Verdict.fail, "replaced", f"entry {before.seq}", detail)
    return Finding(
        Verdict.fail,
        "reordered",
        f"entry {entry.seq}",
        f"it was not written after entry {before.seq}: the entries are out of order",
    )


def _moved(entries: Sequence[StoredEntry], homes: Sequence[int | None], position: int) -> bool:
    home = homes[position]
    return home is not None and home != entries[position].seq


def _reordered(
    entries: Sequence[StoredEntry], homes: Sequence[int | None], inserted: set[int]
) -> Iterator[Finding]:
    """Moved entries, a run of entries moved by the same distance as one finding."""
    run: list[tuple[int, int]] = []
    for position, entry in enumerate(entries):
        home = homes[position]
        if home is None or home == entry.seq or position in inserted:
            continue
        if run and entry.seq == run[-1][0] + 1 and home - entry.seq == run[-1][1] - run[-1][0]:
            run.append((entry.seq, home))
            continue
        if run:
            yield _moved_finding(run)
        run = [(entry.seq, home)]
    if run:
        yield _moved_finding(run)


def _moved_finding(run: list[tuple[int, int]]) -> Finding:
    (first, first_home), (last, last_home) = run[0], run[-1]
    if first == last:
        return Finding(
            Verdict.fail,
            "reordered",
            f"entry {first}",
            f"it holds what was written as entry {first_home}: the trail was reordered",
        )
    cause = "deleted" if first_home > first else "inserted"
    return Finding(
        Verdict.fail,
        "reordered",
        f"entries {first}-{last}",
        f"they were written as entries {first_home}-{last_home}: the trail was renumbered "
        f"(entries before them were {cause})",
    )


# --- the head, the checkpoints -----------------------------------------------------------------


def head_findings(
    head: TrailHead | None, entries: Sequence[StoredEntry], tree: MerkleTree
) -> Iterator[Finding]:
    """Whether the log ends where the service's own head says it does."""
    if head is None or head.size is None:
        if entries:
            yield Finding(
                Verdict.note, "head", "trail head", "not built yet: nothing to compare the end with"
            )
        return
    frontier = head_frontier(head)
    where = f"head (size {head.size})"
    if len(entries) > head.size:
        yield Finding(
            Verdict.fail,
            "inserted",
            f"entries after {head.size - 1}",
            f"{len(entries) - head.size} more than the service appended: added outside it",
        )
    elif len(entries) < head.size:
        yield Finding(
            Verdict.fail,
            "deleted",
            where,
            f"the service appended {head.size} entries; the log holds {len(entries)}",
        )
    elif tree.root(head.size) != frontier.root():
        yield Finding(
            Verdict.fail,
            "replaced",
            where,
            "the log is not the one the service appended: its Merkle root differs",
        )


@dataclass(frozen=True)
class Log:
    """The log as it stands: its Merkle tree, and one past the highest entry number in it."""

    tree: MerkleTree
    numbered: int


def stored_checkpoint_findings(
    rows: Sequence[TrailCheckpoint], keys: dict[str, Ed25519PublicKey], log: Log
) -> Iterator[Finding]:
    """One finding per problem of a stored checkpoint (a run of checkpoints that are no
    longer prefixes as one), and one line for all that hold."""
    holding = 0
    unmatched: list[TrailCheckpoint] = []
    for row in rows:
        problems = list(checkpoint_problems(stored(row), keys, log))
        if [problem for problem, _ in problems] == [NOT_A_PREFIX]:
            unmatched.append(row)
            continue
        if unmatched:
            yield _not_prefixes(unmatched)
            unmatched = []
        for problem, detail in problems:
            yield Finding(Verdict.fail, problem, _checkpoint_where(row), detail)
        holding += not problems
    if unmatched:
        yield _not_prefixes(unmatched)
    if holding:
        yield Finding(
            Verdict.ok,
            "checkpoints",
            f"{holding} stored",
            "each is signed and, by a consistency proof, a prefix of today's log",
        )


def _checkpoint_where(row: TrailCheckpoint) -> str:
    return f"checkpoint {row.id} (size {row.tree_size})"


def _not_prefixes(rows: Sequence[TrailCheckpoint]) -> Finding:
    if len(rows) == 1:
        return Finding(
            Verdict.fail,
            NOT_A_PREFIX,
            _checkpoint_where(rows[0]),
            _not_prefix_detail(rows[0].tree_size),
        )
    first, last = rows[0], rows[-1]
    return Finding(
        Verdict.fail,
        NOT_A_PREFIX,
        f"checkpoints {first.id}-{last.id} (sizes {first.tree_size}-{last.tree_size})",
        f"none of these {len(rows)} is a prefix of today's log (no consistency proof holds): "
        f"its first {first.tree_size} entries already differ from what checkpoint {first.id} "
        "signed",
    )


def _not_prefix_detail(size: int) -> str:
    return (
        f"the log's first {size} entries are not the ones it signed (no consistency proof "
        "holds): entries up to it were changed, deleted, inserted or reordered"
    )


def outside_checkpoint_finding(
    given: OutsideCheckpoint, keys: dict[str, Ed25519PublicKey], log: Log
) -> Finding:
    """Whether a checkpoint kept outside the database is signed and a prefix of the log."""
    where = f"checkpoint {given.source} (size {given.note.tree_size})"
    checkpoint = given.note.signed_with(keys.values())
    if checkpoint is None:
        return Finding(
            Verdict.fail,
            "signature",
            where,
            "not signed by any of the public keys given; give its key with --public-key",
        )
    problems = list(checkpoint_problems(checkpoint, keys, log))
    if problems:
        problem, detail = problems[0]
        return Finding(Verdict.fail, problem, where, detail)
    return Finding(
        Verdict.ok, "prefix", where, "signed, and a prefix of today's log by a consistency proof"
    )


def checkpoint_problems(
    checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey], log: Log
) -> Iterator[tuple[str, str]]:
    """What is wrong with one checkpoint: its signature, its size, its root."""
    signature = checkpoint.signature_problem(keys)
    if signature is not None:
        yield "signature", signature
    size, tree = checkpoint.tree_size, log.tree
    if size > tree.size:
        yield "truncated", _truncation(size, log)
        return
    proof = tree.consistency_proof(size)
    if not verify_consistency(size, tree.size, checkpoint.root, tree.root(), proof):
        yield NOT_A_PREFIX, _not_prefix_detail(size)


def _truncation(size: int, log: Log) -> str:
    covers = f"it covers {size} entries but the log holds {log.tree.size}"
    if log.numbered >= size:
        return f"{covers}: entries were deleted"
    cut = log.numbered
    where = (
        f"entry {cut} at the end was"
        if cut == size - 1
        else f"entries {cut}-{size - 1} at the end were"
    )
    return f"{covers}: {where} deleted"


def coverage_notes(rows: Sequence[TrailCheckpoint], tree: MerkleTree) -> Iterator[Finding]:
    """Entries that no checkpoint covers yet, so far protected by the chain alone."""
    covered = max((row.tree_size for row in rows), default=0)
    if tree.size > covered:
        yield Finding(
            Verdict.note,
            "unsigned",
            f"entries {covered}-{tree.size - 1}",
            "no signed checkpoint covers them yet ('casebridge trail checkpoint' signs one)",
        )
