"""Every statement a screening run executes, the shipped rules among them, transpiles to Spark
SQL (the scale-out engine)."""

from __future__ import annotations

from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from tests.screen.world import World
from tests.spark import untranspilable


def test_every_screening_statement_transpiles_to_spark(world: World, shipped: list[Rule]) -> None:
    world.case("force_a:E1", world.record("force_a:S1", "P1"), world.record("force_a:V1", "C1"))
    screen(world.engine, shipped)
    failures = untranspilable(world.engine.statements)
    rule_statements = [s for s in world.engine.statements if s.startswith("INSERT INTO screen_hit")]
    assert len(rule_statements) == len(shipped)
    assert failures == []
