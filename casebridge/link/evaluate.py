"""Linkage accuracy against a truth folder: pairwise and cluster precision, recall and F1,
overall and per name-origin group, the blocking rules' recall, and how many persons break the
constraints (link/constraints.py), linked and true.

Only ``evaluate`` reads a truth folder; the pipeline never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.constraints import Breaches, count_breaches
from casebridge.truth import read_truth, record_ids


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 over pairs (or clusters), with the counts behind them."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def _pairs(counts: pl.Series) -> int:
    values = counts.cast(pl.Int64)
    return int((values * (values - 1) // 2).sum())


def _scores(correct: int, predicted: int, true: int) -> Scores:
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, true, predicted, correct)


def pairwise_scores(joined: pl.DataFrame) -> Scores:
    """Scores of predicted persons against true persons over records (record_id, person_id,
    true_person_id)."""
    correct = _pairs(joined.group_by("person_id", "true_person_id").len()["len"])
    predicted = _pairs(joined.group_by("person_id").len()["len"])
    true = _pairs(joined.group_by("true_person_id").len()["len"])
    return _scores(correct, predicted, true)


def _pairs_touching(frame: pl.DataFrame, keys: list[str], group: str) -> int:
    """Pairs inside each ``keys`` cell with at least one record of ``group``."""
    cells = frame.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("n"),
        (pl.col("group") == group).sum().cast(pl.Int64).alias("k"),
    )
    rest = cells["n"] - cells["k"]
    return int(((cells["n"] * (cells["n"] - 1) - rest * (rest - 1)) // 2).sum())


def group_scores(joined: pl.DataFrame, group: str) -> Scores:
    """Scores for one name-origin group, counting every pair with a record of the group: a
    wrong link between a record of this group and one of another counts against both."""
    correct = _pairs_touching(joined, ["person_id", "true_person_id"], group)
    predicted = _pairs_touching(joined, ["person_id"], group)
    true = _pairs_touching(joined, ["true_person_id"], group)
    return _scores(correct, predicted, true)


def cluster_scores(joined: pl.DataFrame) -> Scores:
    """Share of predicted persons that are exactly a true person, and of true persons found."""
    predicted = joined.group_by("person_id").agg(pl.col("record_id").sort().alias("records"))
    true = joined.group_by("true_person_id").agg(pl.col("record_id").sort().alias("records"))
    exact = predicted.join(true, on="records").height
    return _scores(exact, predicted.height, true.height)


def load_truth(truth: Path) -> pl.DataFrame:
    """record_id → true person and name-origin group, from a truth folder."""
    records, people = read_truth(truth, "record_person", "person")
    return record_ids(records).join(
        people.select(true_person_id="person_id", group="name_origin_group"), on="true_person_id"
    )


def evaluate_linkage(engine: Engine, truth: pl.DataFrame) -> dict[str, Scores]:
    """Scores overall ('all'), per name-origin group, and for clusters ('clusters'), against
    ``truth`` from :func:`load_truth`."""
    if not engine.table_exists("person_link"):
        raise UsageError("no persons yet: run 'casebridge link' first")
    links = engine.frame("SELECT record_id, person_id FROM person_link")
    joined = links.join(truth, on="record_id")
    results = {"all": pairwise_scores(joined), "clusters": cluster_scores(joined)}
    for group in sorted(joined["group"].unique().to_list()):
        results[group] = group_scores(joined, group)
    return results


def blocking_recall(engine: Engine, truth: pl.DataFrame, rules: list[str]) -> tuple[float, int]:
    """Share of true matching pairs (``truth`` from :func:`load_truth`) that at least one
    blocking rule compares, and how many true pairs there are."""
    records = truth.select("record_id", "true_person_id")
    pairs = records.join(records, on="true_person_id", suffix="_r").filter(
        pl.col("record_id") < pl.col("record_id_r")
    )
    engine.create_table_from_arrow("cb_true_pairs", pairs, temporary=True)
    condition = " OR ".join(f"({rule})" for rule in rules)
    compared, total = engine.query(
        f"SELECT count(*) FILTER (WHERE {condition}), count(*) FROM cb_true_pairs t "
        "JOIN link_input l ON l.unique_id = t.record_id "
        "JOIN link_input r ON r.unique_id = t.record_id_r"
    )[0]
    return (int(compared) / int(total) if total else 1.0), int(total)


def constraint_breaches(engine: Engine, truth: pl.DataFrame) -> tuple[Breaches, Breaches]:
    """Persons holding two suspects of one event (or a suspect and its victim), and persons
    holding conflicting birth dates or ages, among the linked persons and among the true
    persons of ``truth`` (from :func:`load_truth`): the true figures say how many such persons
    the data really holds (none, for two suspects of one event)."""
    if not engine.table_exists("person_link"):
        raise UsageError("no persons yet: run 'casebridge link' first")
    linked = count_breaches(engine, "(SELECT record_id, person_id AS cluster_id FROM person_link)")
    engine.create_table_from_arrow(
        "cb_true_persons",
        truth.select("record_id", cluster_id="true_person_id"),
        temporary=True,
    )
    return linked, count_breaches(engine, "cb_true_persons")
