"""The access trail: every read of personal data and every write, hash-chained.

Each entry's hash covers its fields and the hash before it, so an edited, deleted, inserted
or reordered entry breaks the chain (``casebridge trail verify``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from casebridge.web.deps import Principal
from casebridge.web.models import TrailEntry, utc_now

GENESIS = "0" * 64


def entry_digest(entry: TrailEntry) -> str:
    """The hash of an entry's fields and the hash before it."""
    fields = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "account_id": entry.account_id,
        "action": entry.action,
        "subject_kind": entry.subject_kind,
        "subject_ids": entry.subject_ids,
        "reason": entry.reason,
        "remote_addr": entry.remote_addr,
        "flagged": entry.flagged,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    """Append one entry in the caller's transaction: ids only, never names."""
    last = session.scalars(select(TrailEntry).order_by(TrailEntry.seq.desc()).limit(1)).first()
    entry = TrailEntry(
        seq=0 if last is None else last.seq + 1,
        at=utc_now(),
        account_id=None if principal is None else principal.account_id,
        action=action,
        subject_kind=subject_kind,
        subject_ids=json.dumps(sorted(set(subject_ids))),
        reason=reason,
        remote_addr=remote_addr or (None if principal is None else principal.remote_addr),
        flagged=flagged,
        prev_hash=GENESIS if last is None else last.entry_hash,
    )
    entry.entry_hash = entry_digest(entry)
    session.add(entry)
    session.flush()
    return entry
