"""Rule files: the shipped set loads, workspace files add, override and switch off rules, and a
broken file is reported with its file, line and what is expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from casebridge.errors import CasebridgeError, RuleError
from casebridge.screen.rules import SHIPPED_RULES, load_rules
from casebridge.screen.run import screen
from tests.screen.world import World

NEW_RULE = """\
id: X1
title: Open child sexual offence
reason: A sexual offence against a child has no outcome yet.
basis: Local review policy.
subject: event
weight: 2
evidence: the crime
parameters:
  kinds: ["crime"]
query: |
  SELECT event_id AS subject_id, event_id, CAST(NULL AS VARCHAR) AS record_id,
      CAST(NULL AS VARCHAR) AS role, 'still open' AS detail
  FROM screen_event
  WHERE is_child_sexual_offence AND outcome_code IS NULL AND kind IN ($kinds)
"""


def _rules_folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def _error(folder: Path) -> str:
    with pytest.raises(RuleError) as caught:
        load_rules(folder)
    return str(caught.value)


def test_the_shipped_set_has_the_issue_rules() -> None:
    rules = load_rules(None)
    assert [rule.id for rule in rules] == [f"R{number}" for number in range(1, 10)]
    assert all(rule.enabled and rule.weight > 0 and rule.basis for rule in rules)
    assert {rule.subject for rule in rules} == {"event", "person"}
    assert all(path.suffix == ".yaml" for path in SHIPPED_RULES.iterdir())


def test_a_missing_rules_folder_means_the_shipped_rules(tmp_path: Path) -> None:
    assert [r.id for r in load_rules(tmp_path / "rules")] == [r.id for r in load_rules(None)]


def test_an_override_changes_only_the_keys_it_gives(tmp_path: Path) -> None:
    folder = _rules_folder(
        tmp_path, local="- id: R3\n  weight: 7\n  parameters: {min_children: 3}\n"
    )
    shipped = {rule.id: rule for rule in load_rules(None)}
    r3 = {rule.id: rule for rule in load_rules(folder)}["R3"]
    assert (r3.weight, r3.parameters["min_children"]) == (7, 3)
    assert r3.parameters["possible_match"] == shipped["R3"].parameters["possible_match"]
    assert (r3.query, r3.reason) == (shipped["R3"].query, shipped["R3"].reason)
    assert r3.origin.startswith(str(folder / "local.yaml"))


def test_enabled_false_switches_a_rule_off(tmp_path: Path, world: World) -> None:
    folder = _rules_folder(tmp_path, off="id: R7\nenabled: false\n")
    rules = load_rules(folder)
    assert [r.id for r in rules if not r.enabled] == ["R7"]
    suspect = world.record("force_a:S1", "P1", ethnicity=None)
    world.case("force_a:E1", suspect, world.record("force_a:V1", "C1"))
    summary = screen(world.engine, rules)
    assert "R7" not in summary.per_rule
    assert world.fired("R7") == set()


def test_a_new_id_adds_a_rule_that_runs(tmp_path: Path, world: World) -> None:
    rules = load_rules(_rules_folder(tmp_path, open=NEW_RULE))
    assert rules[-1].id == "X1"
    world.case("force_a:E1", world.record("force_a:S1", "P1"), world.record("force_a:V1", "C1"),
               outcome=None)  # fmt: skip
    screen(world.engine, rules)
    assert world.fired("X1") == {"event:force_a:E1"}
    assert world.engine.query("SELECT detail FROM review_reason WHERE rule_id = 'X1'") == [
        ("still open",)
    ]


def test_a_file_may_hold_a_list_of_rules(tmp_path: Path) -> None:
    text = "- id: R1\n  weight: 9\n- id: R2\n  enabled: false\n"
    rules = {rule.id: rule for rule in load_rules(_rules_folder(tmp_path, local=text))}
    assert (rules["R1"].weight, rules["R2"].enabled) == (9, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: R2\nweight: heavy\n", "line 2: weight: Input should be a valid number"),
        ("id: R2\ncolour: red\n", "line 2: colour: unknown key 'colour'"),
        ("- id: R2\n- id: R3\n  weight: [1]\n", "line 3: rules[1].weight: Input should be"),
        ("id: R2\nweight: 2\n  enabled: false\n", "line 3: not valid YAML"),
        ("just words\n", "expected a rule (a mapping with 'id'"),
        ("id: R2\nsubject: case\n", "line 2: subject: Input should be 'event' or 'person'"),
        ("id: R3\nparameters: {min_child: 3}\n", "has no parameter 'min_child'; its parameters"),
        ("title: no id\n", "line 1: id: missing required key 'id'"),
    ],
    ids=["wrong type", "unknown key", "in a list", "bad yaml", "not a mapping", "bad choice",
         "misspelt parameter", "no id"],
)  # fmt: skip
def test_a_broken_file_names_file_line_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    folder = _rules_folder(tmp_path, broken=text)
    message = _error(folder)
    assert message.startswith(str(folder / "broken.yaml"))
    assert expected in message


def test_a_new_rule_must_give_every_key(tmp_path: Path) -> None:
    message = _error(_rules_folder(tmp_path, new="id: X2\ntitle: Something\nweight: 1\n"))
    assert "new.yaml, line 1: rule 'X2' is not a shipped rule, so it needs every key" in message
    assert "'reason', 'basis', 'subject', 'evidence', 'query'" in message


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT event_id AS subject_id, event_id FROM\nWHERE true",
         "line 12: rule 'X1': the query is not valid SQL: Expected table name near 'WHERE'"),
        ("SELECT event_id AS subject_id, event_id, NULL AS record_id FROM screen_event",
         "line 11: rule 'X1': the query must return the columns"),
        ("DELETE FROM event", "line 11: rule 'X1': the query must be one SELECT statement"),
        ("SELECT $nothing AS subject_id, 1 AS event_id, 1 AS record_id, 1 AS role, 1 AS detail",
         "line 11: rule 'X1': the query uses $nothing, which is not among its parameters"),
    ],
    ids=["syntax", "columns", "not a select", "undeclared parameter"],
)  # fmt: skip
def test_a_broken_query_names_the_line(tmp_path: Path, query: str, expected: str) -> None:
    text = NEW_RULE.split("query: |")[0] + "query: |\n" + textwrap.indent(query, "  ") + "\n"
    message = _error(_rules_folder(tmp_path, bad=text))
    assert expected in message


def test_an_id_given_twice_is_refused(tmp_path: Path) -> None:
    folder = _rules_folder(tmp_path, a="id: R1\nweight: 1\n", b="id: R1\nweight: 2\n")
    assert "b.yaml, line 1: rule id 'R1' is already given in" in _error(folder)


def test_a_query_that_fails_when_run_names_its_file_and_line(tmp_path: Path, world: World) -> None:
    broken = NEW_RULE.replace("FROM screen_event", "FROM no_such_table")
    rules = load_rules(_rules_folder(tmp_path, open=broken))
    with pytest.raises(RuleError, match=r"open\.yaml, line 11: rule 'X1': the query failed"):
        screen(world.engine, rules)
    assert not world.engine.table_exists("review_item")


def test_rule_errors_are_casebridge_errors() -> None:
    assert issubclass(RuleError, CasebridgeError)


def test_parameters_are_bound_not_pasted() -> None:
    [r2] = [rule for rule in load_rules(None) if rule.id == "R2"]
    sql, values = r2.statement()
    assert "'evidential" not in sql and "IN (?, ?)" in sql
    assert values == ["evidential_difficulties", "not_in_public_interest"]
