"""The pairs the model scores: the union of its prediction blocking rules, computed here and
handed to Splink (``register_blocked_pairs_for_predict``) instead of left to Splink's blocking.

Splink makes each rule's pairs exclude those of every rule before it, so that no pair is
scored twice: with the forty-odd rules casebridge needs to hold without a birth year (see
docs/linking.md), each join carries every column of every earlier rule and tests them all, and
blocking took most of prediction's time. Here each rule joins a narrow copy of the compared
records (their id and the columns some rule reads) and the pairs are taken once by grouping,
keeping the first rule that found each (Splink's ``match_key``, the rule's position). The pairs
are exactly Splink's own (a test compares them); the SQL is DuckDB's, in forms Spark also runs.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

from casebridge.engine import Engine
from casebridge.link.prepare import LINK_INPUT

BLOCK_INPUT = "cb_block_input"
BLOCKED_PAIRS = "cb_blocked_pairs"


def rules_of(model: dict[str, Any]) -> list[str]:
    """The prediction blocking rules of a Splink model (as ``save_model_to_json`` gives it)."""
    return [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]


def columns_read(rules: list[str]) -> list[str]:
    """The columns of either side (``l`` or ``r``) that some rule reads, sorted."""
    read = {
        column.name
        for rule in rules
        for column in sqlglot.parse_one(rule, read="duckdb").find_all(exp.Column)
        if column.table in ("l", "r")
    }
    return sorted(read - {"unique_id"})


def blocked_pairs(engine: Engine, rules: list[str], table: str = LINK_INPUT) -> str:
    """Create the table of pairs ``rules`` compare (Splink's blocked-pairs shape: match_key,
    join_key_l, join_key_r, each pair once with the lower id on the left) and return its
    name."""
    columns = ", ".join(f'"{column}"' for column in columns_read(rules))
    # each record numbered in the order of its id, so that pairs are joined and grouped on
    # integers and the lower number is the lower id
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE {BLOCK_INPUT} AS
        SELECT row_number() OVER (ORDER BY unique_id) AS record_number, unique_id, {columns}
        FROM {table}"""
    )
    found = " UNION ALL ".join(
        f"SELECT {position} AS rule, l.record_number AS number_l, r.record_number AS number_r "
        f"FROM {BLOCK_INPUT} l JOIN {BLOCK_INPUT} r "
        f"ON ({rule}) AND l.record_number < r.record_number"
        for position, rule in enumerate(rules)
    )
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE {BLOCKED_PAIRS} AS
        SELECT CAST(p.rule AS VARCHAR) AS match_key, l.unique_id AS join_key_l,
            r.unique_id AS join_key_r
        FROM (SELECT number_l, number_r, min(rule) AS rule FROM ({found})
              GROUP BY number_l, number_r) p
        JOIN {BLOCK_INPUT} l ON l.record_number = p.number_l
        JOIN {BLOCK_INPUT} r ON r.record_number = p.number_r"""
    )
    engine.execute(f"DROP TABLE {BLOCK_INPUT}")
    return BLOCKED_PAIRS
