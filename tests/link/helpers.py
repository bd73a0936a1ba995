"""Helpers for tests of the linkage model: which rules block a pair, which level it reaches."""

from __future__ import annotations

from casebridge.engine import Engine
from casebridge.link.choices import SHIPPED, ModelChoices
from casebridge.link.model import blocking_rule_sql, comparisons, with_groups
from casebridge.link.prepare import LINK_INPUT, held_fields


def blocked(
    engine: Engine,
    a: str,
    b: str,
    fields: frozenset[str] | None = None,
    choices: ModelChoices = SHIPPED,
) -> bool:
    chosen = blocking_rule_sql(fields or held_fields(engine), choices)
    rules = " OR ".join(f"({rule})" for rule in chosen)
    return bool(
        engine.scalar(
            f"SELECT count(*) FROM {LINK_INPUT} l, {LINK_INPUT} r "
            f"WHERE l.unique_id = ? AND r.unique_id = ? AND ({rules})",
            [a, b],
        )
    )


def level(engine: Engine, comparison: str, a: str, b: str) -> str:
    """The label of the level a pair of records reaches in one comparison of the model."""
    chosen = {
        c.get_comparison("duckdb").output_column_name: c.get_comparison("duckdb")
        for c in comparisons(with_groups(held_fields(engine)))
    }[comparison]
    cases = " ".join(
        f"WHEN {level.sql_condition} THEN '{level.label_for_charts}'"
        for level in chosen.comparison_levels
        if not level._is_else_level
    )
    sides = ", ".join(
        f'{side}."{column}" AS "{column}_{side}"'
        for column in engine.columns(LINK_INPUT)
        for side in ("l", "r")
    )
    return str(
        engine.scalar(
            f"SELECT CASE {cases} ELSE 'All other comparisons' END FROM (SELECT {sides} "
            f"FROM {LINK_INPUT} l, {LINK_INPUT} r WHERE l.unique_id = ? AND r.unique_id = ?)",
            [a, b],
        )
    )
