"""The review queue: uncertain pairs an analyst has not judged yet, most uncertain first."""

from __future__ import annotations

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.judgements import latest_judgements_sql
from casebridge.workspace import Workspace


def uncertain_pairs(
    engine: Engine, workspace: Workspace, limit: int
) -> list[tuple[str, str, float]]:
    """(record, record, probability) in the review band with no judgement yet."""
    if not engine.table_exists("match_pair"):
        raise UsageError("no scored pairs yet: run 'casebridge link' first")
    band = workspace.settings.link
    # a pair judged 'unsure' stays in the queue; 'same' and 'different' leave it
    rows = engine.query(
        f"""SELECT m.record_l, m.record_r, m.match_probability FROM match_pair m
        LEFT JOIN ({latest_judgements_sql()}) j ON j.record_l = least(m.record_l, m.record_r)
            AND j.record_r = greatest(m.record_l, m.record_r) AND j.verdict <> 'unsure'
        WHERE m.match_probability BETWEEN ? AND ? AND j.record_l IS NULL
        ORDER BY abs(m.match_probability - 0.5), m.record_l, m.record_r LIMIT ?""",
        [band.review_low, band.review_high, limit],
    )
    return [(str(a), str(b), float(p)) for a, b, p in rows]
