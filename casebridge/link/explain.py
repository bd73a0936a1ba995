"""Why two records were (or were not) matched: per-comparison match weights, as text.

A waterfall in words: the prior, then each comparison's weight (log2 of its Bayes factor)
with the level it fell in, adding up to the pair's match weight and probability.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from casebridge.engine import Engine
from casebridge.errors import UsageError


def level_labels(model: Path) -> dict[str, dict[int, str]]:
    """For each comparison, its levels' chart labels by comparison vector value."""
    settings = json.loads(model.read_text(encoding="utf-8"))
    labels: dict[str, dict[int, str]] = {}
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        named = {
            len(levels) - 1 - i: lv.get("label_for_charts", lv["sql_condition"])
            for i, lv in enumerate(levels)
        }
        named[-1] = "missing on one side"
        labels[comparison["output_column_name"]] = named
    return labels


def _weight(row: dict[str, Any], columns: list[str], name: str) -> float:
    """A comparison's match weight: Splink's own, or log2 of its Bayes factor."""
    if f"mw_{name}" in columns:
        return float(row[f"mw_{name}"])
    factor = row.get(f"bf_{name}")
    return math.log2(factor) if factor else float("-inf")


def explain_pair(
    engine: Engine, model: Path, first: str, second: str
) -> list[tuple[str, str, float]]:
    """(comparison, level, match weight) rows for a scored pair, the prior first, total last."""
    left, right = sorted((first, second))
    columns = engine.columns("match_pair")
    found = engine.frame(
        "SELECT * FROM match_pair "
        "WHERE least(record_l, record_r) = ? AND greatest(record_l, record_r) = ?",
        [left, right],
    )
    if found.is_empty():
        raise UsageError(
            f"{first} and {second} were not scored together: no blocking rule compared them, or "
            "their match probability was below the review floor (0.01)"
        )
    row = found.row(0, named=True)
    prior = json.loads(model.read_text(encoding="utf-8"))["probability_two_random_records_match"]
    rows = [("prior", "two records chosen at random", math.log2(prior / (1 - prior)))]
    for name, levels in level_labels(model).items():
        level = levels.get(row[f"gamma_{name}"], "?")
        rows.append((name, level, _weight(row, columns, name)))
        if f"mw_tf_adj_{name}" in columns and row[f"mw_tf_adj_{name}"]:
            rows.append((f"{name} frequency", "how common the agreeing value is",
                         float(row[f"mw_tf_adj_{name}"])))  # fmt: skip
    rows.append(("total", f"match probability {row['match_probability']:.4f}", row["match_weight"]))
    return rows
