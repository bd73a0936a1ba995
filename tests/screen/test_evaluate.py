"""Screening accuracy against a truth folder: per rule recall and precision, for event, person
and person-in-case targets."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from casebridge.errors import UsageError
from casebridge.screen.evaluate import evaluate_screening
from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from tests.screen.world import World


def _truth(folder: Path, targets: list[tuple[str, str, str, str, str]]) -> Path:
    """Targets as (rule, subject, true person, source, event_ref); true person T<x> for P<x>."""
    folder.mkdir()
    pl.DataFrame(
        [(f"T{n}", rule, "", subject, person, source, ref, [])
         for n, (rule, subject, person, source, ref) in enumerate(targets)],
        schema={"target_id": pl.String, "rule": pl.String, "reason": pl.String,
                "subject": pl.String, "person_id": pl.String, "source": pl.String,
                "event_ref": pl.String, "evidence": pl.List(pl.String)},
        orient="row",
    ).write_parquet(folder / "review_target.parquet")  # fmt: skip
    pl.DataFrame(
        {"source": ["force_a"] * 4, "local_id": ["S1", "V1", "S2", "V2"],
         "person_id": ["TP1", "TC1", "TP1", "TC2"]}
    ).write_parquet(folder / "record_person.parquet")  # fmt: skip
    return folder


def test_scores_count_targets_found_and_items_right(
    world: World, shipped: list[Rule], tmp_path: Path
) -> None:
    first = world.case("force_a:E1", world.record("force_a:S1", "P1", ethnicity=None),
                       world.record("force_a:V1", "C1"), "88A")  # fmt: skip
    world.case("force_a:E2", world.record("force_a:S2", "P1", ethnicity=None),
               world.record("force_a:V2", "C2"), "88A")  # fmt: skip
    screen(world.engine, shipped)
    truth = _truth(tmp_path / "truth", [
        ("R2", "event", "", "force_a", "E1"),           # found
        ("R2", "event", "", "force_a", "E9"),           # missed
        ("R3", "person", "TP1", "", ""),                # found through person_link
        ("R7", "event_person", "TP1", "force_a", "E1"),  # found: S1 is TP1's
        ("R7", "event_person", "TC1", "force_a", "E2"),  # missed: no evidence record of TC1
    ])  # fmt: skip
    scores = {score.rule: score for score in evaluate_screening(world.engine, truth)}
    assert first == "force_a:E1"
    r2 = scores["R2"]
    assert (r2.targets, r2.found, r2.items, r2.correct) == (2, 1, 2, 1)
    assert (r2.recall, r2.precision) == (0.5, 0.5)
    assert (scores["R3"].found, scores["R3"].items, scores["R3"].correct) == (1, 1, 1)
    r7 = scores["R7"]
    assert (r7.targets, r7.found, r7.items, r7.correct) == (2, 1, 2, 1)
    assert scores["R1"].targets == 0 and scores["R1"].recall == 1.0


def test_evaluating_needs_a_queue_and_a_truth_folder(
    world: World, shipped: list[Rule], tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="run 'casebridge screen' first"):
        evaluate_screening(world.engine, tmp_path)
    screen(world.engine, shipped)
    with pytest.raises(UsageError, match="is not a truth folder"):
        evaluate_screening(world.engine, tmp_path)
