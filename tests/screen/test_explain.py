"""Explaining a review item: its rules, reasons, bases and evidence, and never a name."""

from __future__ import annotations

import pytest
from rich.console import Console

from casebridge.errors import UsageError
from casebridge.screen.explain import explain_item
from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from tests.screen.world import World


def _printed(world: World, item_id: str) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(explain_item(world.engine, item_id))
    return console.export_text()


def test_an_item_is_explained_with_rule_reason_basis_and_evidence(
    world: World, shipped: list[Rule]
) -> None:
    suspect = world.record("force_a:S1", "P1", name=("ferdinand", "zzyzx"))
    world.case("force_a:E1", suspect, world.record("force_a:V1", "C1"))
    screen(world.engine, shipped)
    text = _printed(world, "event:force_a:E1")
    assert "event:force_a:E1" in text and "priority 8" in text
    assert "R1 (weight 5): Penetration of a 13-15-year-old" in text
    assert "basis: Sexual Offences Act 2003 s1" in text
    assert "found: outcome 16" in text
    assert "S1" in text and "suspect in force_a E1" in text and "crime on 2020-06-01" in text
    assert "zzyzx" not in text and "ferdinand" not in text


def test_an_unknown_item_says_what_ids_look_like(world: World, shipped: list[Rule]) -> None:
    screen(world.engine, shipped)
    with pytest.raises(UsageError, match="no review item 'event:x'; item ids look like"):
        explain_item(world.engine, "event:x")


def test_explaining_before_screening_says_what_to_run(world: World) -> None:
    with pytest.raises(UsageError, match="run 'casebridge screen' first"):
        explain_item(world.engine, "event:force_a:E1")
