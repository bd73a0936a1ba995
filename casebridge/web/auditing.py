"""Reading the trail as the service's auditors and supervisors do: the one path the trail API
(``routes/trail.py``) and the audit pages (``pages/audit.py``) both take.

Each function reads through :mod:`casebridge.web.trail_read` or
:mod:`casebridge.web.trail_verify` and writes the entry that says it did ("trail.read",
"trail.export", "trail.verify", "trail.read_flags"), in the caller's transaction. A supervisor
sees the flagged entries of colleagues only where they name nothing the supervisor's own scopes
hide (:func:`scope_verdict`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from casebridge.web.access import subjects_shown
from casebridge.web.checkpoints import key_path, trusted_keys
from casebridge.web.deps import Principal
from casebridge.web.models import FlagReview, TrailEntry
from casebridge.web.snapshot import NoSnapshotError, SnapshotStore
from casebridge.web.trail import record
from casebridge.web.trail_read import (
    Shown,
    TrailFilter,
    entry_page,
    flagged_entries,
    matching_entries,
    seq_ids,
)
from casebridge.web.trail_verify import TrailReport, verify_trail


def read_entries(
    session: Session, principal: Principal, wanted: TrailFilter, page: int, page_size: int
) -> tuple[list[TrailEntry], int]:
    """One page of the entries that match, oldest first, and how many match in all; the read
    is itself an entry naming the entries shown."""
    entries, total = entry_page(session, wanted, page, page_size)
    record(session, principal, "trail.read", "trail_entry", seq_ids(entries))
    return entries, total


def export_entries(session: Session, principal: Principal, wanted: TrailFilter) -> list[TrailEntry]:
    """Every entry that matches, oldest first (an export, itself an entry)."""
    entries = matching_entries(session, wanted)
    record(session, principal, "trail.export", "trail", [])
    return entries


def verify(session: Session, principal: Principal, workspace: Path) -> TrailReport:
    """What ``casebridge trail verify`` finds, with the service's own keys: the chain, the
    head, and every stored checkpoint (signed, and a prefix of today's log)."""
    report = verify_trail(session, trusted_keys(key_path(workspace)))
    record(session, principal, "trail.verify", "trail", [])
    return report


def scope_verdict(store: SnapshotStore, principal: Principal) -> Shown:
    """Which entries name nothing ``principal``'s scopes hide (the casework scope, read from
    the current snapshot)."""

    def shown(entries: Sequence[TrailEntry]) -> set[int]:
        subjects = [(e.subject_kind, list(json.loads(e.subject_ids))) for e in entries]
        try:
            with store.reading() as reader:
                verdicts = subjects_shown(principal, reader, subjects)
        except NoSnapshotError:  # nothing published: no casework id names anything yet
            verdicts = [True for _ in subjects]
        return {entry.seq for entry, ok in zip(entries, verdicts, strict=True) if ok}

    return shown


def read_flags(
    session: Session,
    principal: Principal,
    reviewed: bool | None,
    store: SnapshotStore,
) -> list[tuple[TrailEntry, FlagReview | None]]:
    """Break-glass entries by accounts in the supervisor's agencies about what the supervisor's
    scopes show, oldest first, each with its review; the read is itself an entry."""
    found = flagged_entries(session, principal, reviewed, scope_verdict(store, principal))
    record(session, principal, "trail.read_flags", "trail_entry", [str(e.seq) for e, _ in found])
    return found
