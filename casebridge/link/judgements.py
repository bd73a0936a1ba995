"""Analysts' judgements on pairs of records: stored with who and when, never deleted.

A reversal is a new judgement; the latest one for a pair is the one honoured. 'same' makes a
must-link, 'different' a cannot-link; 'unsure' changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from casebridge.engine import Engine
from casebridge.errors import UsageError

Verdict = Literal["same", "different", "unsure"]


def record_judgement(
    engine: Engine, first: str, second: str, verdict: Verdict, reason: str, who: str
) -> None:
    """Store one judgement on a pair of records (in either order)."""
    if first == second:
        raise UsageError("a judgement needs two different records")
    known = engine.scalar(
        "SELECT count(*) FROM person_record WHERE record_id IN (?, ?)", [first, second]
    )
    if known != 2:
        raise UsageError(
            f"no such record among {first}, {second}; records are written source:local_id, "
            "e.g. force_a:NP-N0001234"
        )
    if not reason.strip() or not who.strip():
        raise UsageError("a judgement needs a reason and who made it")
    left, right = sorted((first, second))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine.execute(
        "INSERT INTO match_judgement VALUES (?, ?, ?, ?, ?, ?)",
        [left, right, verdict, reason.strip(), who.strip(), now],
    )


def latest_judgements_sql() -> str:
    """The latest judgement of every judged pair."""
    return (
        "SELECT record_l, record_r, verdict FROM ("
        "SELECT *, row_number() OVER (PARTITION BY record_l, record_r "
        "ORDER BY judged_at DESC) AS latest FROM match_judgement) WHERE latest = 1"
    )
