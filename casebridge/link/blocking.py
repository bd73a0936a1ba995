"""The pairs the model scores: the union of its prediction blocking rules, computed here
instead of left to Splink's blocking.

Splink makes each rule's pairs exclude those of every rule before it, so that no pair is
scored twice: with the forty-odd rules casebridge needs to hold without a birth year (see
docs/linking.md), each join carries every column of every earlier rule and tests them all, and
blocking took most of prediction's time. Here each rule joins a narrow copy of the compared
records (their number and the columns some rule reads) and the pairs are taken once by grouping,
keeping the first rule that found each (Splink's ``match_key``, the rule's position). Pairs are
pairs of record numbers (``link_input``'s ``record_number``), which ``link/score.py`` scores.
The pairs are exactly Splink's own (a test compares them); the SQL is DuckDB's, in forms Spark
also runs.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

from casebridge.engine import Engine
from casebridge.link.choices import as_dialect
from casebridge.link.prepare import LINK_INPUT

BLOCK_INPUT = "cb_block_input"
BLOCKED_PAIRS = "cb_blocked_pairs"


def rules_of(model: dict[str, Any]) -> list[str]:
    """The prediction blocking rules of a Splink model (as ``save_model_to_json`` gives it), in
    DuckDB's dialect (the stages' own: a model trained on Spark writes its rules in Spark's)."""
    return [
        as_dialect(rule["blocking_rule"], rule_dialect(model, rule), "duckdb")
        for rule in model["blocking_rules_to_generate_predictions"]
    ]


def rule_dialect(model: dict[str, Any], rule: dict[str, Any]) -> str:
    """The SQL dialect a saved model's blocking rule is written in (the engine it trained on)."""
    return str(rule.get("sql_dialect") or model.get("sql_dialect") or "duckdb")


def columns_read(rules: list[str]) -> list[str]:
    """The columns of either side (``l`` or ``r``) that some rule reads, sorted."""
    read = {
        column.name
        for rule in rules
        for column in sqlglot.parse_one(rule, read="duckdb").find_all(exp.Column)
        if column.table in ("l", "r")
    }
    return sorted(read - {"unique_id"})


def joins_of(rule: str) -> list[str]:
    """The joins that find a rule's pairs (SQL conditions over ``l`` and ``r``): the rule
    itself, or, where one of its conditions is an OR of conditions on one side each (``l.dob
    IS NULL OR r.dob IS NULL``: one side has no full birth date), one join per side, each with
    the rest of the rule and its side's condition. A condition on one side is applied to that
    side before the join, so that the join pairs only the records it can hold, instead of
    pairing every record that shares the keys and testing the OR on each pair."""
    tree = sqlglot.parse_one(rule, read="duckdb")
    conditions = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    for condition in conditions:
        either = condition.unnest()
        if not isinstance(either, exp.Or):
            continue
        parts = list(either.flatten())
        if all(len({c.table for c in part.find_all(exp.Column)}) == 1 for part in parts):
            rest = [other.copy() for other in conditions if other is not condition]
            return [exp.and_(*rest, part.copy()).sql(dialect="duckdb") for part in parts]
    return [rule]


def blocked_pairs(engine: Engine, rules: list[str], table: str = LINK_INPUT) -> str:
    """Create the table of pairs ``rules`` compare and return its name: each pair once, as
    the record numbers of ``table`` (``record_number``: in the order of the records' ids, so
    that the lower number is the lower id) with the position of the first rule that found it
    (Splink's ``match_key``): match_key, number_l, number_r, number_l < number_r."""
    columns = ", ".join(f'"{column}"' for column in columns_read(rules))
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE {BLOCK_INPUT} AS
        SELECT record_number, {columns} FROM {table}"""
    )
    found = " UNION ALL ".join(
        f"SELECT {position} AS rule, l.record_number AS number_l, r.record_number AS number_r "
        f"FROM {BLOCK_INPUT} l JOIN {BLOCK_INPUT} r "
        f"ON ({join}) AND l.record_number < r.record_number"
        for position, rule in enumerate(rules)
        for join in joins_of(rule)
    )
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE {BLOCKED_PAIRS} AS
        SELECT min(rule) AS match_key, number_l, number_r FROM ({found})
        GROUP BY number_l, number_r"""
    )
    engine.execute(f"DROP TABLE {BLOCK_INPUT}")
    return BLOCKED_PAIRS
