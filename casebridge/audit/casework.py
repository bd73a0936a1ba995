"""Networks and the review queue at a glance: networks by size, agencies spanned and time
span; review items by rule and by priority. Each table is empty when its stage has not run,
and the report then says "not run"."""

from __future__ import annotations

import polars as pl

from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine

SUSPECT_BANDS = ((2, "2"), (3, "3"), (4, "4-5"), (6, "6-10"), (11, "11 or more"))
VICTIM_BANDS = ((0, "0-1"), (2, "2-3"), (4, "4-9"), (10, "10-19"), (20, "20 or more"))
AGENCY_BANDS = ((0, "1"), (2, "2"), (3, "3 or more"))
SPAN_BANDS = (
    (0, "under 6 months"),
    (183, "6-12 months"),
    (366, "1-2 years"),
    (731, "2-5 years"),
    (1827, "5 years or more"),
)
NETWORK_COLUMNS = {
    "dimension": pl.String,
    "band": pl.String,
    "order": pl.Int32,
    "networks": pl.Int64,
}


def _band(column: str, bands: tuple[tuple[int, str], ...]) -> str:
    cases = " ".join(f"WHEN {column} >= {low} THEN '{label}'" for low, label in reversed(bands))
    return f"CASE {cases} ELSE '{bands[0][1]}' END"


def _order(column: str, bands: tuple[tuple[int, str], ...]) -> str:
    cases = " ".join(
        f"WHEN {column} >= {low} THEN {i}" for i, (low, _) in reversed(list(enumerate(bands)))
    )
    return f"CASE {cases} ELSE 0 END"


def network_profile(engine: Engine, networks: bool) -> pl.DataFrame:
    """Networks per band of suspects, victims, agencies spanned and time span (every band
    listed, with zeros)."""
    if not networks:
        return pl.DataFrame(schema=NETWORK_COLUMNS)
    dimensions = {
        "suspects": ("suspects", SUSPECT_BANDS),
        "victims": ("victims", VICTIM_BANDS),
        "agencies spanned": ("sources", AGENCY_BANDS),
        "time span": ("date_diff('day', first_date, last_date)", SPAN_BANDS),
    }
    selects = " UNION ALL ".join(
        f"SELECT '{name}' AS dimension, {_band(column, bands)} AS band, "
        f'{_order(column, bands)} AS "order", count(*) AS networks FROM network GROUP BY 1, 2, 3'
        for name, (column, bands) in dimensions.items()
    )
    found = engine.frame(selects)
    every = pl.DataFrame(
        [
            (name, label, i)
            for name, (_, bands) in dimensions.items()
            for i, (_, label) in enumerate(bands)
        ],
        schema={"dimension": pl.String, "band": pl.String, "order": pl.Int32},
        orient="row",
    )
    return (
        every.join(found.cast({"order": pl.Int32}), on=["dimension", "band", "order"], how="left")
        .with_columns(pl.col("networks").fill_null(0).cast(pl.Int64))
        .select(list(NETWORK_COLUMNS))
    )


def review_by_rule(engine: Engine, screening: bool) -> pl.DataFrame:
    """Review items per rule (an item can be queued by several rules)."""
    if not screening:
        return pl.DataFrame(schema={"rule": pl.String, "items": pl.Int64})
    return engine.frame(
        """SELECT rule, count(*) AS items FROM (
            SELECT item_id, unnest(rules) AS rule FROM review_item)
        GROUP BY rule ORDER BY rule"""
    )


def review_by_priority(engine: Engine, settings: AuditSettings, screening: bool) -> pl.DataFrame:
    """Review items per band of priority (the bands' lower edges are a setting)."""
    edges = [float("-inf"), *settings.priority_bands]
    labels = [_priority_label(edges, i) for i in range(len(edges))]
    schema = {"priority": pl.String, "order": pl.Int32, "items": pl.Int64}
    if not screening:
        return pl.DataFrame(schema=schema)
    found = engine.frame(
        "SELECT " + _order_from(settings.priority_bands) + ' AS "order", count(*) AS items '
        "FROM review_item GROUP BY 1"
    )
    every = pl.DataFrame(
        {"priority": labels, "order": list(range(len(labels)))},
        schema={"priority": pl.String, "order": pl.Int32},
    )
    return every.join(found.cast({"order": pl.Int32}), on="order", how="left").with_columns(
        pl.col("items").fill_null(0).cast(pl.Int64)
    )


def _order_from(edges: tuple[float, ...]) -> str:
    cases = " ".join(
        f"WHEN priority >= {edge!r} THEN {i + 1}" for i, edge in reversed(list(enumerate(edges)))
    )
    return f"CASE {cases} ELSE 0 END"


def _priority_label(edges: list[float], index: int) -> str:
    def number(value: float) -> str:
        return f"{value:g}"

    if index == 0:
        return f"under {number(edges[1])}" if len(edges) > 1 else "any"
    if index == len(edges) - 1:
        return f"{number(edges[index])} or more"
    return f"{number(edges[index])} to under {number(edges[index + 1])}"
