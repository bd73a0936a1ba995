"""The shares of ``demographics``, worked out from what a publication allows each count to be.

For each row: its count as published and the range the publication allows it (``persons_low``,
``persons_high``); the denominator and the unknowns; the bounds of its share under missing data
(lower: none of the unknowns in the row; upper: all of them, and for an 18+1 code also every
person known only to be in its group); the share among known values, as commonly quoted, where
the count, the denominator and the unknowns it is worked out from are all published (never for
a suppressed count), over the known persons or, where rounding makes the published counts of
the classification add up to more, over their sum, so that one classification's shares never
add up to more than 100 %; and a chance interval (Wilson) around the bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

import polars as pl

from casebridge.audit.demographics import People, ShareRow
from casebridge.audit.publication import Key, Protected
from casebridge.audit.solver import Bound

Lookup = Callable[[Key], int | None]
Span = Callable[[Key], Bound]
Pair = tuple[pl.DataFrame, pl.DataFrame]
DOTTED = ("category", "other")  # the kinds of row that are categories of their classification
SCHEMA = {
    "population": pl.String,
    "role": pl.String,
    "classification": pl.String,
    "category": pl.String,
    "label": pl.String,
    "kind": pl.String,
    "persons": pl.Int64,
    "persons_low": pl.Int64,
    "persons_high": pl.Int64,
    "denominator": pl.Int64,
    "unknown": pl.Int64,
    "share_of_known": pl.Float64,
    "share_lower": pl.Float64,
    "share_upper": pl.Float64,
    "interval_lower": pl.Float64,
    "interval_upper": pl.Float64,
}


def publish(people: People, protected: Protected, confidence: float) -> dict[str, Pair]:
    """``demographics`` and ``person_completeness``, exact and published."""
    exact_value = protected.publication.value

    def exact_span(key: Key) -> Bound:
        return exact_value(key), exact_value(key)

    table = people.completeness
    return {
        "demographics": (
            share_frame(people.rows, exact_value, exact_span, confidence),
            share_frame(people.rows, protected.value, protected.interval, confidence),
        ),
        "person_completeness": (
            table.exact,
            protected.frame(table.exact, table.counts, table.key_of),
        ),
    }


def share_frame(
    rows: Sequence[ShareRow], value: Lookup, span: Span, confidence: float
) -> pl.DataFrame:
    """The rows with their counts (``value``), ranges (``span``) and shares."""
    known: dict[tuple[str, str, str], int] = {}
    for row in rows:
        count = value(row.key)
        if row.kind in DOTTED and count is not None:
            place = (row.population, row.role, row.classification)
            known[place] = known.get(place, 0) + count
    out = []
    for row in rows:
        peers = known.get((row.population, row.role, row.classification), 0)
        out.append(_share_row(row, value, span, peers, confidence))
    return pl.DataFrame(out, schema=SCHEMA)


def _share_row(
    row: ShareRow, value: Lookup, span: Span, peers: int, confidence: float
) -> dict[str, object]:
    low, high = span(row.key)
    low_d, high_d = span(row.denominator)
    # the persons who might be in this row besides those known to be: its unknowns
    extra = [key for key in (row.unknown, row.partial) if key is not None]
    upper = high + sum(span(key)[1] for key in extra)
    share_lower = low / high_d if 0 < high_d < math.inf else None
    share_upper = min(1.0, upper / low_d) if low_d > 0 else None
    interval = _chance_interval(low, upper, low_d, high_d, confidence)
    if row.kind == "all":
        share_lower = share_upper = None
        interval = (None, None)
    return {
        "population": row.population,
        "role": row.role,
        "classification": row.classification,
        "category": row.category,
        "label": row.label,
        "kind": row.kind,
        "persons": value(row.key),
        "persons_low": low,
        "persons_high": None if high == math.inf else int(high),
        "denominator": value(row.denominator),
        "unknown": None if row.unknown is None else value(row.unknown),
        "share_of_known": _share_of_known(row, value, peers),
        "share_lower": share_lower,
        "share_upper": share_upper,
        "interval_lower": interval[0],
        "interval_upper": interval[1],
    }


def _share_of_known(row: ShareRow, value: Lookup, peers: int) -> float | None:
    """The count over the known persons (the denominator less the unknowns), where all of
    them are published; over ``peers`` (the published counts of the classification) where
    rounding makes those add up to more."""
    if row.kind not in DOTTED:
        return None
    count, total = value(row.key), value(row.denominator)
    less = [value(key) for key in row.known_less]
    if count is None or total is None or any(v is None for v in less):
        return None
    known = max(total - sum(v for v in less if v is not None), peers)
    return count / known if known > 0 else None


def _chance_interval(
    low: float, high: float, low_d: float, high_d: float, confidence: float
) -> tuple[float | None, float | None]:
    """Wilson score limits: the lower around the lower bound, the upper around the upper."""
    if low_d <= 0 or high_d == math.inf:
        return None, None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return (
        _wilson(low, high_d, z, -1),
        _wilson(min(high, low_d), low_d, z, 1),
    )


def _wilson(count: float, total: float, z: float, sign: int) -> float:
    share = count / total
    centre = share + z * z / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return max(0.0, min(1.0, (centre + sign * spread) / (1 + z * z / total)))
