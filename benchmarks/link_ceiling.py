"""Diagnostic: how much of the truth do the fields casebridge compares carry at all?

Scores every pair the blocking rules compare with the workspace's trained model (no shared-tie
evidence, no clustering), labels each pair from the synthetic truth, and prints the best
pairwise F1 over thresholds, one pair at a time, for:

- the model's match weight;
- the comparison-pattern bound: pairs grouped by their whole comparison vector (the level each
  field reached), each group called a match when most of its pairs are. It is fitted on the
  answers it is scored on, so no model that sees only the levels can do better;
- with scikit-learn installed (``pip install -c requirements.lock -e '.[diagnose]'``): a
  gradient-boosted classifier trained on the truth's labels, scored by five-fold
  cross-validation (folds by true person), on the levels, the match weight, the names'
  frequencies, the gap in birth years and which fields each side holds; then the same with
  agreement on recorded ethnicity and nationality added, which the model leaves out.

For the model's match weight it also prints the recall at the lowest threshold whose precision
is at least 0.99 (the issue's precision bar), and, per name-origin group of the truth, the best
F1 of the model's weight beside the supervised classifier's (each counting the pairs with a
record of the group, as ``evaluate``'s group scores do): where both are low, the group's
records carry too little; where only the model's is, the model weighs them badly.

Recall counts every true pair, compared or not. The workspace must be linked (its model saved)
and hold the synthetic truth in ``truth/``:

    .venv/bin/python benchmarks/link_ceiling.py --workspace W
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import polars as pl

from casebridge.engine import Engine
from casebridge.link.evaluate import load_truth
from casebridge.link.prepare import prepare_link_input
from casebridge.link.run import MODEL_FILE
from casebridge.link.train import make_linker

PRESENCE = ("dob", "birth_year", "postcode_district")
FREQUENCIES = ("tf_forename_l", "tf_forename_r", "tf_surname_l", "tf_surname_r")
PROTECTED = ("ethnicity_self", "ethnicity_officer", "nationality")
TIE_SCHEMA = {"unique_id_l": pl.String, "unique_id_r": pl.String, "shared_tie": pl.Int32,
              "tie_weight": pl.Float64}  # fmt: skip


def scored_pairs(root: Path) -> tuple[pl.DataFrame, int]:
    """Every compared pair with its levels and weight, labelled; and the number of true pairs."""
    engine = Engine(root / "casebridge.duckdb")
    try:
        prepare_link_input(engine)
        trained = make_linker(engine, root / MODEL_FILE)
        predictions = trained.linker.inference.predict()
        columns = engine.columns(predictions.physical_name)
        wanted = [
            c
            for c in columns
            if c.startswith("gamma_")
            or c in FREQUENCIES
            or c in ("unique_id_l", "unique_id_r", "match_weight", "source_l", "source_r")
            or c[:-2] in PRESENCE
        ]
        quoted = ", ".join(f'"{c}"' for c in wanted)
        pairs = engine.frame(f'SELECT {quoted} FROM "{predictions.physical_name}"')
        protected = engine.frame(f"SELECT record_id, {', '.join(PROTECTED)} FROM person_record")
        if "gamma_shared_tie" in engine.columns("match_pair"):
            ties = engine.frame(
                "SELECT record_l AS unique_id_l, record_r AS unique_id_r, "
                "gamma_shared_tie AS shared_tie, mw_shared_tie AS tie_weight FROM match_pair"
            )
        else:  # the run found too little to weigh ties by
            ties = pl.DataFrame(schema=TIE_SCHEMA)
        present = engine.frame("SELECT unique_id AS record_id FROM link_input")
        trained.linker.table_management.delete_tables_created_by_splink_from_db()
    finally:
        engine.close()
    truth = load_truth(root / "truth")
    if "age_only" not in truth.columns:
        truth = truth.with_columns(age_only=pl.lit(False))
    people = truth.join(present, on="record_id").select(
        "record_id", "true_person_id", "group", "age_only"
    )
    labelled = (
        pairs.join(people, left_on="unique_id_l", right_on="record_id", maintain_order="left")
        .join(
            people, left_on="unique_id_r", right_on="record_id", suffix="_r", maintain_order="left"
        )
        .with_columns(same=pl.col("true_person_id") == pl.col("true_person_id_r"))
    )
    # a pair below the review floor was not looked at for ties: it shares none
    untied = ties.filter(pl.col("shared_tie") == 0)["tie_weight"].max() or 0.0
    labelled = labelled.join(
        ties, on=["unique_id_l", "unique_id_r"], how="left", maintain_order="left"
    ).with_columns(
        shared_tie=pl.col("shared_tie").fill_null(0),
        tie_weight=pl.col("tie_weight").fill_null(untied),
    )
    right = protected.rename({field: f"{field}_r" for field in PROTECTED})
    labelled = labelled.join(
        protected, left_on="unique_id_l", right_on="record_id", how="left", maintain_order="left"
    ).join(right, left_on="unique_id_r", right_on="record_id", how="left", maintain_order="left")
    # Splink returns pairs in no fixed order: sort them, so that the folds are the same each run
    return labelled.sort("unique_id_l", "unique_id_r"), people


AGE_ONLY = "adults known by age only"


def _in_scope(group: str) -> pl.Expr:
    """A record of the name-origin group, or (AGE_ONLY) an adult known by age only."""
    return pl.col("age_only") if group == AGE_ONLY else pl.col("group") == group


def true_pairs_touching(people: pl.DataFrame, group: str | None = None) -> int:
    """True pairs (records of one true person), all or those with a record of ``group``."""
    cells = people.group_by("true_person_id").agg(
        n=pl.len().cast(pl.Int64),
        k=_in_scope(group).sum().cast(pl.Int64) if group else pl.len().cast(pl.Int64),
    )
    rest = cells["n"] - cells["k"]
    return int(((cells["n"] * (cells["n"] - 1) - rest * (rest - 1)) // 2).sum())


def best_f1(score: np.ndarray, same: np.ndarray, true_pairs: int) -> tuple[float, float, float]:
    """F1, precision and recall at the threshold on ``score`` that gives the best F1."""
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(same[order])
    precision = hits / np.arange(1, len(order) + 1)
    recall = hits / true_pairs
    with np.errstate(invalid="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    i = int(f1.argmax())
    return float(f1[i]), float(precision[i]), float(recall[i])


def recall_at_precision(
    score: np.ndarray, same: np.ndarray, true_pairs: int, floor: float = 0.99
) -> tuple[float, float, float]:
    """Recall, precision and the threshold on ``score`` at the lowest threshold whose
    precision is at least ``floor`` (pairs of equal score fall on the same side of it); recall
    0 and threshold inf when no threshold reaches ``floor``."""
    ordered = -np.sort(-score, kind="stable")
    hits = np.cumsum(same[np.argsort(-score, kind="stable")])
    # a threshold keeps every pair of its score: cut only after the last of a run of equal ones
    cuts = np.flatnonzero(np.append(ordered[1:] != ordered[:-1], True))
    precision = hits[cuts] / (cuts + 1)
    reached = np.flatnonzero(precision >= floor)
    if not len(reached):
        return 0.0, 1.0, float("inf")
    i = cuts[reached[-1]]
    return float(hits[i] / true_pairs), float(precision[reached[-1]]), float(ordered[i])


def group_f1(
    pairs: pl.DataFrame, people: pl.DataFrame, scores: dict[str, np.ndarray]
) -> list[tuple[str, int, list[float]]]:
    """Per name-origin group (and for adults known by age only, where the truth marks them):
    its true pairs and each score's best F1 over the pairs with a record of the group (as
    ``group_scores`` in casebridge/link/evaluate.py counts them)."""
    same = pairs["same"].to_numpy()
    rows = []
    groups = sorted(people["group"].drop_nulls().unique().to_list())
    for group in groups + ([AGE_ONLY] if people["age_only"].any() else []):
        touching = (
            pairs["age_only"] | pairs["age_only_r"]
            if group == AGE_ONLY
            else (pairs["group"] == group) | (pairs["group_r"] == group)
        ).to_numpy()
        true_pairs = true_pairs_touching(people, group)
        f1s = [
            best_f1(score[touching], same[touching], true_pairs)[0] if touching.any() else 0.0
            for score in scores.values()
        ]
        rows.append((group, true_pairs, f1s))
    return rows


def print_groups(pairs: pl.DataFrame, people: pl.DataFrame, scores: dict[str, np.ndarray]) -> None:
    """The per-group table: true pairs and each score's best F1."""
    print("best F1 per name-origin group (pairs with a record of the group):")
    widths = [max(len(name), 6) for name in scores]
    print(
        f"  {'group':<24} {'true pairs':>10}  "
        + "  ".join(f"{n:>{w}}" for n, w in zip(scores, widths, strict=True))
    )
    for group, true_pairs, f1s in group_f1(pairs, people, scores):
        shown = "  ".join(f"{f:>{w}.4f}" for f, w in zip(f1s, widths, strict=True))
        print(f"  {group:<24} {true_pairs:>10,}  {shown}")
    if not people["age_only"].any():
        return
    # issue 13's bar for adults known by age only: recall at precision 0.98
    touching = (pairs["age_only"] | pairs["age_only_r"]).to_numpy()
    true_pairs = true_pairs_touching(people, AGE_ONLY)
    same = pairs["same"].to_numpy()
    print(f"{AGE_ONLY}: recall at the lowest threshold with precision >= 0.98")
    for name, score in scores.items():
        recall, precision, _ = recall_at_precision(
            score[touching], same[touching], true_pairs, floor=0.98
        )
        print(f"  {name:<24} recall {recall:.4f} (precision {precision:.4f})")


def pattern_score(pairs: pl.DataFrame, ties: bool) -> np.ndarray:
    """Each pair's comparison vector's share of true pairs, ties broken by match weight."""
    levels = [c for c in pairs.columns if c.startswith("gamma_")] + (["shared_tie"] if ties else [])
    share = pairs.with_row_index("row").with_columns(share=pl.col("same").mean().over(levels))
    order = share.sort(["share", "match_weight"], descending=True)["row"].to_numpy()
    score = np.empty(len(order))
    score[order] = -np.arange(len(order), dtype=float)
    return score


def features(pairs: pl.DataFrame, ties: bool, protected: bool) -> tuple[np.ndarray, list[int]]:
    """The classifier's inputs, and which of them are categories (the levels come first)."""
    levels = [c for c in pairs.columns if c.startswith("gamma_")] + (["shared_tie"] if ties else [])
    agree = [
        pl.when(pl.col(f).is_null() | pl.col(f"{f}_r").is_null())
        .then(0)
        .when(pl.col(f) == pl.col(f"{f}_r"))
        .then(1)
        .otherwise(2)
        .alias(f"agree_{f}")
        for f in PROTECTED
    ]
    frame = pairs.select(
        *[(pl.col(c) + 1).alias(c) for c in levels],  # levels from -1 (null) up
        *(agree if protected else []),
        *[pl.col(c).cast(pl.Float64).log() for c in FREQUENCIES if c in pairs.columns],
        *[pl.col(f"{f}_{s}").is_not_null().alias(f"has_{f}_{s}") for f in PRESENCE for s in "lr"],
        gap=(pl.col("birth_year_l") - pl.col("birth_year_r")).abs().cast(pl.Float64),
        same_source=pl.col("source_l") == pl.col("source_r"),
        weight=pl.col("match_weight"),
    )
    categorical = list(range(len(levels) + (len(PROTECTED) if protected else 0)))
    return frame.to_numpy().astype(float), categorical


def cross_validated(pairs: pl.DataFrame, ties: bool, protected: bool) -> np.ndarray:
    """Out-of-fold match probabilities of a classifier trained on the truth's labels."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold

    x, categorical = features(pairs, ties, protected)
    y = pairs["same"].to_numpy()
    folds = GroupKFold(5).split(x, y, pairs["true_person_id"].to_numpy())
    predicted = np.zeros(len(y))
    for train, test in folds:
        model = HistGradientBoostingClassifier(
            max_iter=300, early_stopping=True, categorical_features=categorical, random_state=0
        )
        model.fit(x[train], y[train])
        predicted[test] = model.predict_proba(x[test])[:, 1]
    return predicted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workspace", type=Path, required=True, help="a linked synthetic workspace"
    )
    args = parser.parse_args()
    if not (args.workspace / MODEL_FILE).is_file():
        parser.error(f"{args.workspace} has no saved model: run 'casebridge link' on it first")
    if not (args.workspace / "truth").is_dir():
        parser.error(f"{args.workspace} has no truth folder: use a 'casebridge synth' workspace")
    pairs, people = scored_pairs(args.workspace)
    true_pairs = true_pairs_touching(people)
    same = pairs["same"].to_numpy()
    print(
        f"true pairs {true_pairs:,}; compared by blocking {int(same.sum()):,} "
        f"({same.sum() / true_pairs:.2%}); {pairs.height:,} compared pairs; "
        f"{int(pairs['shared_tie'].sum()):,} share a tie"
    )
    print("best pairwise F1, one compared pair at a time (no clustering):")
    supervised = importlib.util.find_spec("sklearn") is not None
    by_group: dict[str, np.ndarray] = {}
    for ties in (False, True):
        setting = "with ties" if ties else "fields"
        print("  with the shared-tie evidence" if ties else "  on the fields alone")
        weight = (pairs["match_weight"] + (pairs["tie_weight"] if ties else 0.0)).to_numpy()
        rows = [
            ("casebridge model (match weight)", weight),
            ("comparison-pattern bound (fitted on the truth)", pattern_score(pairs, ties)),
        ]
        by_group[f"model, {setting}"] = weight
        if supervised:
            learnt = cross_validated(pairs, ties, False)
            rows.append(("supervised, 5-fold cross-validated", learnt))
            rows.append(
                ("supervised, with ethnicity and nationality", cross_validated(pairs, ties, True))
            )
            by_group[f"supervised, {setting}"] = learnt
        for name, score in rows:
            f1, precision, recall = best_f1(score, same, true_pairs)
            print(f"    {name:<48} F1 {f1:.4f}  precision {precision:.4f}  recall {recall:.4f}")
        recall, precision, threshold = recall_at_precision(weight, same, true_pairs)
        print(
            f"    {'casebridge model at precision >= 0.99':<48} recall {recall:.4f} "
            f"(precision {precision:.4f}, match weight >= {threshold:.2f})"
        )
    if not supervised:
        print("  (scikit-learn is not installed: the supervised figures were skipped)")
    print_groups(pairs, people, by_group)


if __name__ == "__main__":
    main()
