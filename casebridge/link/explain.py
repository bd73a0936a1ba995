"""Why two records were (or were not) matched: per-comparison match weights, as text.

A waterfall in words: the prior, then each comparison's weight (log2 of its Bayes factor)
with the level it fell in, adding up to the pair's match weight and probability.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from casebridge.audit.charts import waterfall
from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.model import REVIEW_FLOOR
from casebridge.link.ties import LEVEL_COLUMN, WEIGHT_COLUMN


def read_model(path: Path) -> dict[str, Any]:
    """The saved model's settings."""
    if not path.is_file():
        raise UsageError(f"no trained model at {path}: run 'casebridge link' first")
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return model


def level_labels(settings: dict[str, Any]) -> dict[str, dict[int, str]]:
    """For each comparison, its levels' chart labels by comparison vector value."""
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


def explain_pair(
    engine: Engine, model: dict[str, Any], first: str, second: str
) -> list[tuple[str, str, float]]:
    """(comparison, level, match weight) rows for a scored pair, the prior first, total last."""
    left, right = sorted((first, second))
    found = engine.frame(
        "SELECT * FROM match_pair "
        "WHERE least(record_l, record_r) = ? AND greatest(record_l, record_r) = ?",
        [left, right],
    )
    if found.is_empty():
        raise UsageError(
            f"{first} and {second} were not scored together: no blocking rule compared them, or "
            f"their match probability was below the review floor ({REVIEW_FLOOR})"
        )
    return explain_row(model, found.row(0, named=True))


def explain_row(model: dict[str, Any], row: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(comparison, level, match weight) rows for a match_pair row already read (the review
    service has it in hand), the prior first, total last."""
    prior = model["probability_two_random_records_match"]
    rows = [("prior", "two records chosen at random", math.log2(prior / (1 - prior)))]
    for name, levels in level_labels(model).items():
        rows.append((name, levels.get(row[f"gamma_{name}"], "?"), float(row[f"mw_{name}"])))
        adjustment = row.get(f"mw_tf_adj_{name}")
        if adjustment:
            rows.append(
                (f"{name} frequency", "how common the agreeing value is", float(adjustment))
            )
    if row.get(WEIGHT_COLUMN) is not None:
        shared = "share" if row[LEVEL_COLUMN] else "do not share"
        rows.append(
            ("shared tie", f"records {shared} a tie to a third person", float(row[WEIGHT_COLUMN]))
        )
    rows.append(("total", f"match probability {row['match_probability']:.4f}", row["match_weight"]))
    return rows


def closest_record(engine: Engine, record: str, person: str) -> str:
    """The record of ``person`` that ``record`` scored highest with (for record ~ person)."""
    if not engine.query("SELECT 1 FROM person WHERE person_id = ?", [person]):
        raise UsageError(f"no person {person} in this workspace")
    found = engine.query(
        """SELECT other FROM (
            SELECT CASE WHEN m.record_l = ? THEN m.record_r ELSE m.record_l END AS other,
                m.match_probability
            FROM match_pair m WHERE m.record_l = ? OR m.record_r = ?) pairs
        JOIN person_link l ON l.record_id = pairs.other
        WHERE l.person_id = ? AND pairs.other <> ?
        ORDER BY pairs.match_probability DESC, pairs.other LIMIT 1""",
        [record, record, record, person, record],
    )
    if not found:
        raise UsageError(
            f"{record} was not scored with any record of {person} at or above the review "
            f"floor ({REVIEW_FLOOR})"
        )
    return str(found[0][0])


def waterfall_svg(title: str, rows: list[tuple[str, str, float]]) -> str:
    """The rows of :func:`explain_pair` as a cumulative waterfall: each comparison moves the
    running weight from where the last left it; the total is drawn from zero."""
    return waterfall("match-explanation", title, rows)
