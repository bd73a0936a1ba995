"""docs/screening.md names every rule key, shipped rule and helper table, and its examples run."""

from __future__ import annotations

import re
from pathlib import Path

from casebridge.screen.prepare import prepare_screening
from casebridge.screen.rules import RuleSpec, load_rules
from casebridge.screen.run import screen
from casebridge.workspace import VocabularySettings
from tests.screen.world import World

DOCS = Path(__file__).parents[2] / "docs" / "screening.md"


def test_the_docs_name_every_key_rule_and_helper_table(world: World) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for key in RuleSpec.model_fields:
        assert f"| `{key}` |" in text, key
    for rule in load_rules(None):
        assert f"| {rule.id} |" in text, rule.id
    prepare_screening(world.engine)
    helpers = world.engine.query(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'screen_%'"
    )
    for (name,) in helpers:
        assert f"| `{name}` |" in text, name
        for column in world.engine.columns(name):
            assert f"`{column}`" in text, f"{name}.{column}"


def test_the_example_rule_files_load_and_run(world: World, tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    folder = tmp_path / "rules"
    folder.mkdir()
    for number, block in enumerate(blocks):
        (folder / f"{number}.yaml").write_text(block, encoding="utf-8")
    rules = {rule.id: rule for rule in load_rules(folder)}
    assert not rules["R7"].enabled and rules["R3"].weight == 6
    world.case("force_a:E1", world.record("force_a:S1", "P1"), world.record("force_a:V1", "C1"),
               outcome=None)  # fmt: skip
    screen(world.engine, list(rules.values()))
    assert world.fired("X1") == {"event:force_a:E1"}


def test_the_mapping_docs_name_every_kind_the_stages_recognise() -> None:
    text = (DOCS.parent / "mapping.md").read_text(encoding="utf-8")
    for name, field in VocabularySettings.model_fields.items():
        shown = ", ".join(f"`{kind}`" for kind in field.default)
        assert f"| `{name}` | {shown} |" in text, name
