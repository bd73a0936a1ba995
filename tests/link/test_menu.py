"""The [link] menu: the docs name every comparison, rule and setting of it, its examples
validate, every rule it offers transpiles to Spark, and the shipped model is what no choice
gives."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from casebridge.link.choices import COMPARISON_NAMES, DEDUPE_CONDITION, SHIPPED, ModelChoices
from casebridge.link.model import (
    ALL_FIELDS,
    blocking_rule_sql,
    comparisons,
    extra_rule_names,
    named_prediction_rules,
    rule_names,
)
from casebridge.workspace import MODEL_SETTINGS, LinkSettings, Settings, SourceSettings
from tests.spark import untranspilable

DOCS = Path(__file__).parents[2] / "docs"
LINKING = (DOCS / "linking.md").read_text(encoding="utf-8")
WORKSPACE = (DOCS / "workspace.md").read_text(encoding="utf-8")
EVERY_RULE = ModelChoices(blocking_add=frozenset(extra_rule_names()))


def _named_in(text: str, name: str) -> bool:
    return f"`{name}`" in text


def test_the_comparison_names_are_the_models() -> None:
    names = [c.get_comparison("duckdb").output_column_name for c in comparisons()]
    assert names == list(COMPARISON_NAMES)


@pytest.mark.parametrize("name", [*COMPARISON_NAMES, *rule_names(), *extra_rule_names()])
def test_linking_md_names_every_comparison_and_rule_of_the_menu(name: str) -> None:
    assert _named_in(LINKING, name), f"docs/linking.md does not name {name}"


@pytest.mark.parametrize("key", sorted(LinkSettings.model_fields))
def test_both_docs_name_every_link_setting(key: str) -> None:
    assert _named_in(LINKING, key) and _named_in(WORKSPACE, key), key


def test_the_docs_name_the_dedupe_setting_and_the_freeze_command() -> None:
    assert "dedupe" in SourceSettings.model_fields
    assert "| `dedupe` | `true` |" in WORKSPACE and "dedupe = false" in LINKING
    assert "casebridge link freeze --to" in LINKING


def test_every_toml_example_in_the_docs_validates() -> None:
    blocks = [
        block
        for text in (LINKING, WORKSPACE)
        for block in re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    ]
    assert len(blocks) >= 4
    for block in blocks:
        Settings.model_validate(tomllib.loads(block))


def test_each_rule_name_is_one_family_of_rules_in_a_row() -> None:
    names = [name for name, _ in named_prediction_rules(ALL_FIELDS, EVERY_RULE)]
    runs = [name for i, name in enumerate(names) if i == 0 or names[i - 1] != name]
    assert len(runs) == len(set(runs)) == len(rule_names()) + len(extra_rule_names())


def test_the_settings_that_shape_the_model_are_the_menus() -> None:
    assert set(MODEL_SETTINGS) == set(LinkSettings.model_fields) - {
        "threshold", "review_low", "review_high", "seed",
    }  # fmt: skip
    assert LinkSettings().model_shaping() == dict.fromkeys(MODEL_SETTINGS[:3], []) | {
        "identifier_weight": None, "location_weight": None, "model": None,
    }  # fmt: skip


def test_no_choice_gives_the_shipped_rules_without_the_dedupe_condition() -> None:
    assert ModelChoices() == SHIPPED
    shipped = blocking_rule_sql()
    assert not any(DEDUPE_CONDITION in rule for rule in shipped)
    limited = blocking_rule_sql(choices=ModelChoices(has_duplicate_free_source=True))
    assert limited == [f"({rule}) AND {DEDUPE_CONDITION}" for rule in shipped]


def test_every_rule_of_the_menu_transpiles_to_spark() -> None:
    choices = ModelChoices(blocking_add=EVERY_RULE.blocking_add, has_duplicate_free_source=True)
    rules = blocking_rule_sql(ALL_FIELDS, choices)
    assert len(rules) > len(rule_names()) + len(extra_rule_names())
    assert untranspilable(f"SELECT 1 FROM t l JOIN t r ON {rule}" for rule in rules) == []
