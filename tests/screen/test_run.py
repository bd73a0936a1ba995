"""The screen stage: one item per case or person, priorities, evidence, reruns, the run record."""

from __future__ import annotations

import pytest

from casebridge.errors import UsageError
from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from tests.screen.world import World


def _downgraded_case(world: World) -> None:
    """A 22B (s9) with penetration against a 14-year-old, closed with outcome 16, the suspect's
    ethnicity missing: R1, R2 and R7 fire on one case."""
    suspect = world.record("force_a:S1", "P1", ethnicity=None)
    world.case("force_a:E1", suspect, world.record("force_a:V1", "C1"))


def _table(world: World, name: str) -> list[tuple[object, ...]]:
    return world.engine.query(f"SELECT * FROM {name} ORDER BY ALL")


def test_one_item_per_case_with_every_rule_and_the_summed_weights(
    world: World, shipped: list[Rule]
) -> None:
    _downgraded_case(world)
    summary = screen(world.engine, shipped)
    [(item_id, subject, rules, priority, reason)] = world.engine.query(
        "SELECT item_id, subject, rules, priority, reason FROM review_item"
    )
    weights = {rule.id: rule.weight for rule in shipped}
    assert (item_id, subject, rules) == ("event:force_a:E1", "event", ["R1", "R2", "R7"])
    assert priority == weights["R1"] + weights["R2"] + weights["R7"]
    assert reason.startswith("R1: An adult's penetrative") and " | R2: " in reason
    assert "[ethnicity not recorded]" in reason
    assert summary.items == 1
    assert summary.per_rule == {"R1": 1, "R2": 1, "R3": 0, "R4": 0, "R5": 0, "R6": 0, "R7": 1,
                                "R8": 0, "R9": 0}  # fmt: skip


def test_evidence_names_records_by_source_and_local_id_with_their_role(
    world: World, shipped: list[Rule]
) -> None:
    _downgraded_case(world)
    screen(world.engine, shipped)
    evidence = world.engine.query(
        "SELECT evidence, source, local_id, role FROM review_evidence WHERE rule_id = 'R1' "
        "ORDER BY evidence, local_id"
    )
    assert evidence == [
        ("event", "force_a", "E1", None),
        ("person_record", "force_a", "S1", "suspect"),
        ("person_record", "force_a", "V1", "victim"),
    ]
    [(detail,)] = world.engine.query("SELECT detail FROM review_reason WHERE rule_id = 'R1'")
    assert detail == (
        "recorded as 22B (s9-14), outcome 16; suspect aged 30; "
        "victim under 16 by offence code (recorded age 14)"
    )


def test_a_rerun_gives_the_same_queue_and_no_duplicates(world: World, shipped: list[Rule]) -> None:
    _downgraded_case(world)
    screen(world.engine, shipped)
    first = [_table(world, name) for name in ("review_item", "review_reason", "review_evidence")]
    screen(world.engine, shipped)
    again = [_table(world, name) for name in ("review_item", "review_reason", "review_evidence")]
    assert first == again
    runs = world.engine.query("SELECT stage, rows_out FROM run ORDER BY started_at")
    assert runs == [("screen", 1), ("screen", 1)]


def test_an_empty_workspace_gives_an_empty_queue(world: World, shipped: list[Rule]) -> None:
    summary = screen(world.engine, shipped)
    assert summary.items == 0 and summary.evidence == 0
    assert world.engine.scalar("SELECT count(*) FROM review_item") == 0


def test_screening_before_linking_says_what_to_run(shipped: list[Rule]) -> None:
    world = World()
    world.engine.execute("DROP TABLE person_link")
    with pytest.raises(UsageError, match="no person_link table yet; run 'casebridge ingest'"):
        screen(world.engine, shipped)


def test_works_without_match_scores(world: World, shipped: list[Rule]) -> None:
    world.engine.execute("DROP TABLE match_pair")
    _downgraded_case(world)
    assert screen(world.engine, shipped).items == 1


def test_the_log_carries_counts_and_no_personal_data(
    world: World, shipped: list[Rule], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="casebridge")
    world.record("force_a:S1", "P1", name=("ferdinand", "zzyzx"), ethnicity=None)
    world.case("force_a:E1", "force_a:S1", world.record("force_a:V1", "C1"))
    screen(world.engine, shipped)
    logged = caplog.text.lower()
    assert "review items" in logged
    assert "zzyzx" not in logged and "s1" not in logged and "e1" not in logged
