"""The review queue's facets: how many of the items a filter selects fall under each rule,
status, agency, assignee and event year (as Datasette counts a table's facets).

Counts only, never an id or a name. They are computed over the same visible, filtered items as
the queue itself (:func:`~casebridge.web.services.reads.filtered_queue`), so a facet never
counts an item outside the caller's scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from casebridge.web.services.reads import QueueFilter, filtered_queue
from casebridge.web.snapshot import SnapshotReader

FACETS = ("rule", "status", "agency", "assignee", "year")


@dataclass(frozen=True)
class FacetCount:
    """How many selected items have ``value`` in ``facet`` (``label``: a rule's title)."""

    facet: str
    value: str
    label: str | None
    items: int


def queue_facets(
    reader: SnapshotReader,
    params: dict[str, object],
    casework: tuple[dict[str, str], dict[str, int | None]],
    chosen: QueueFilter,
    account_id: int,
) -> list[FacetCount]:
    """Counts (facet, value, label, items) for the items ``chosen`` selects, most items first
    within each facet. An assignee is ``me``, ``none`` or ``other``; a rule's label is its
    title; a year is the event's."""
    filtered, values = filtered_queue(params, casework, chosen)
    sql = f"""
        WITH f AS ({filtered}),
        rules AS (SELECT unnest(rules) AS value FROM f),
        agencies AS (SELECT unnest(agencies) AS value FROM f),
        counted AS (
            SELECT 'rule' AS facet, value, count(*) AS items FROM rules GROUP BY value
            UNION ALL
            SELECT 'status', status, count(*) FROM f GROUP BY status
            UNION ALL
            SELECT 'agency', value, count(*) FROM agencies GROUP BY value
            UNION ALL
            SELECT 'assignee', CASE WHEN assignee_id IS NULL THEN 'none'
                WHEN assignee_id = $me THEN 'me' ELSE 'other' END AS who, count(*)
            FROM f GROUP BY who
            UNION ALL
            SELECT 'year', CAST(year(event_date) AS VARCHAR) AS y, count(*)
            FROM f WHERE event_date IS NOT NULL GROUP BY y)
        SELECT c.facet, c.value, c.items,
            CASE WHEN c.facet = 'rule' THEN (SELECT min(r.title) FROM review_reason r
                WHERE r.rule_id = c.value) END AS label
        FROM counted c
        ORDER BY c.facet, c.items DESC, c.value"""
    rows = reader.dicts(sql, {**values, "me": account_id})
    return [FacetCount(str(r["facet"]), str(r["value"]), r["label"], int(r["items"])) for r in rows]
