"""Linkage accuracy against a truth folder or a labelled sample: pairwise and cluster
precision, recall and F1, overall and per name-origin group (or the sample's own groups), for
adults known by age only where the truth marks them, the blocking rules' recall, and how many
persons break the constraints (link/constraints.py), linked and true.

A truth folder is what ``casebridge synth`` writes (``truth/``); a labelled sample is a CSV or
Parquet file of ``source``, ``local_id``, ``person_id`` and an optional ``group`` that analysts
labelled: scores then count pairs among the labelled records only. Only ``evaluate`` reads
either; the pipeline never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.constraints import Breaches, count_breaches, model_links_sql
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


AGE_ONLY_SCOPE = "adults known by age only"
SAMPLE_COLUMNS = ("source", "local_id", "person_id")


def _pairs_touching(frame: pl.DataFrame, keys: list[str], marked: pl.Expr) -> int:
    """Pairs inside each ``keys`` cell with at least one ``marked`` record."""
    cells = frame.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("n"),
        marked.sum().cast(pl.Int64).alias("k"),
    )
    rest = cells["n"] - cells["k"]
    return int(((cells["n"] * (cells["n"] - 1) - rest * (rest - 1)) // 2).sum())


def marked_scores(joined: pl.DataFrame, marked: pl.Expr) -> Scores:
    """Scores over every pair with at least one ``marked`` record."""
    correct = _pairs_touching(joined, ["person_id", "true_person_id"], marked)
    predicted = _pairs_touching(joined, ["person_id"], marked)
    true = _pairs_touching(joined, ["true_person_id"], marked)
    return _scores(correct, predicted, true)


def group_scores(joined: pl.DataFrame, group: str) -> Scores:
    """Scores for one name-origin group, counting every pair with a record of the group: a
    wrong link between a record of this group and one of another counts against both."""
    return marked_scores(joined, pl.col("group") == group)


def cluster_scores(joined: pl.DataFrame) -> Scores:
    """Share of predicted persons that are exactly a true person, and of true persons found."""
    predicted = joined.group_by("person_id").agg(pl.col("record_id").sort().alias("records"))
    true = joined.group_by("true_person_id").agg(pl.col("record_id").sort().alias("records"))
    exact = predicted.join(true, on="records").height
    return _scores(exact, predicted.height, true.height)


def load_truth(truth: Path) -> pl.DataFrame:
    """record_id → true person and group (null where none), from a truth folder or a labelled
    sample file; from a truth folder that marks them, also ``age_only`` (an adult named with an
    approximate age only, whose police records give a birth date)."""
    if truth.is_file():
        return load_labelled_sample(truth)
    if not truth.is_dir():
        raise UsageError(
            f"{truth} does not exist; give a truth folder or a labelled sample (CSV or Parquet)"
        )
    records, people = read_truth(truth, "record_person", "person")
    joined = record_ids(records).join(
        people.select(true_person_id="person_id", group="name_origin_group"), on="true_person_id"
    )
    if not (truth / "age_only_adult.parquet").is_file():
        return joined
    (marked,) = read_truth(truth, "age_only_adult")
    age_only = record_ids(marked)["record_id"]
    return joined.with_columns(age_only=pl.col("record_id").is_in(age_only.implode()))


def _read_sample(path: Path) -> pl.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix == ".csv":
            return pl.read_csv(path, comment_prefix="#", infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UsageError(f"cannot read the labelled sample {path}: {type(exc).__name__}") from exc
    raise UsageError(f"{path}: a labelled sample must be a .csv or .parquet file")


def load_labelled_sample(path: Path) -> pl.DataFrame:
    """record_id → true person and group (null without a ``group`` column) from a labelled
    sample: a CSV (``# `` comment lines allowed) or Parquet file with columns ``source``,
    ``local_id``, ``person_id`` and optionally ``group``. ``person_id`` is the analysts' label:
    records with the same label are the same person."""
    frame = _read_sample(path)
    missing = [column for column in SAMPLE_COLUMNS if column not in frame.columns]
    if missing:
        raise UsageError(
            f"{path}: the labelled sample has no column {missing[0]!r}; it needs source, "
            "local_id and person_id (and optionally group)"
        )
    group = pl.col("group").cast(pl.String) if "group" in frame.columns else pl.lit(None)
    sample = frame.select(
        *(pl.col(column).cast(pl.String).str.strip_chars() for column in SAMPLE_COLUMNS),
        group=group.cast(pl.String),
    )
    empty = sample.filter(pl.any_horizontal(pl.col(SAMPLE_COLUMNS).fill_null("") == "")).height
    if empty:
        raise UsageError(
            f"{path}: {empty} rows have an empty source, local_id or person_id; fill or drop them"
        )
    if sample.select("source", "local_id").is_duplicated().any():
        raise UsageError(f"{path}: a record (source, local_id) is labelled twice; keep one row")
    return record_ids(sample).with_columns(group=sample["group"])


def evaluate_linkage(engine: Engine, truth: pl.DataFrame) -> dict[str, Scores]:
    """Scores overall ('all'), per group, for clusters ('clusters') and, where ``truth`` marks
    them, for adults known by age only, against ``truth`` from :func:`load_truth`. Only the
    records ``truth`` holds are scored: with a labelled sample, pairs among its records."""
    if not engine.table_exists("person_link"):
        raise UsageError("no persons yet: run 'casebridge link' first")
    links = engine.frame("SELECT record_id, person_id FROM person_link")
    joined = links.join(truth, on="record_id")
    if joined.is_empty():
        raise UsageError(
            "none of the truth's records is in the workspace; check that its source keys and "
            "local ids are the workspace's"
        )
    results = {"all": pairwise_scores(joined), "clusters": cluster_scores(joined)}
    for group in sorted(joined["group"].drop_nulls().unique().to_list()):
        results[group] = group_scores(joined, group)
    if "age_only" in joined.columns and joined["age_only"].any():
        results[AGE_ONLY_SCOPE] = marked_scores(joined, pl.col("age_only"))
    return results


def records_not_linked(engine: Engine, truth: pl.DataFrame) -> int:
    """How many records of ``truth`` (from :func:`load_truth`) no person holds: records the
    workspace does not have (a wrong source key or local id), or ingested after the last link
    run. They are left out of every score; with none found, :func:`evaluate_linkage` refuses."""
    if not engine.table_exists("person_link"):
        raise UsageError("no persons yet: run 'casebridge link' first")
    linked = engine.frame("SELECT record_id FROM person_link")
    return truth.join(linked, on="record_id", how="anti").height


def blocking_recall(engine: Engine, truth: pl.DataFrame, rules: list[str]) -> tuple[float, int]:
    """Share of true matching pairs (``truth`` from :func:`load_truth`) that at least one of
    ``rules`` compares, and how many true pairs there are. Give the rules the workspace links
    with (``link.saved.blocking_rules_in_use``): a rule its model leaves out must not count,
    since it compares nothing in a run."""
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


def constraint_breaches(
    engine: Engine, truth: pl.DataFrame, threshold: float = 0.9
) -> tuple[Breaches, Breaches]:
    """Persons holding two suspects of one event (or a suspect and its victim), and persons
    holding conflicting birth dates or ages, among the linked persons and among the true
    persons of ``truth`` (from :func:`load_truth`): the true figures say how many such persons
    the data really holds (none, for two suspects of one event).

    Both sides are counted alike, as clustering applies the constraints: a birth conflict
    between two records the model links directly on its own weight at ``threshold`` (or
    through one dated record it links both to) is let off, and a pair an analyst judged the
    same breaks nothing (link/constraints.py). A true person with a birth conflict is then one
    that clustering would split."""
    if not engine.table_exists("person_link"):
        raise UsageError("no persons yet: run 'casebridge link' first")
    direct = model_links_sql(engine, threshold)
    linked = count_breaches(
        engine, "(SELECT record_id, person_id AS cluster_id FROM person_link)", direct
    )
    engine.create_table_from_arrow(
        "cb_true_persons",
        truth.select("record_id", cluster_id="true_person_id"),
        temporary=True,
    )
    return linked, count_breaches(engine, "cb_true_persons", direct)
