"""A rule whose query fails on a value names the rule, its file, the tables and the column, and
never the value: DuckDB's own message quotes it, and it may be a surname or a birth date."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebridge.errors import RuleError
from casebridge.screen.rules import load_rules
from casebridge.screen.run import screen
from tests.screen.world import World

RULE = """\
id: X9
title: Surnames read as numbers
reason: Exercises a rule whose query fails on a value.
basis: Test only.
subject: person
weight: 1
evidence: the record
query: |
  SELECT record_id AS subject_id, CAST(NULL AS VARCHAR) AS event_id, record_id,
      CAST(NULL AS VARCHAR) AS role, {detail} AS detail
  FROM person_record
"""


def _failure(tmp_path: Path, world: World, detail: str) -> str:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "local.yaml").write_text(RULE.format(detail=detail), encoding="utf-8")
    world.record("force_a:P1", name=("aoife", "quennell"))
    with pytest.raises(RuleError) as caught:
        screen(world.engine, load_rules(tmp_path / "rules"))
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    return str(caught.value)


@pytest.mark.parametrize(
    ("detail", "column"),
    [("CAST(CAST(surname AS INTEGER) AS VARCHAR)", "column surname"),
     ("CAST(strptime(forename, '%Y') AS VARCHAR)", "a value"),
     ("CAST(CAST(forename AS DATE) AS VARCHAR)", "column forename")],
    ids=["cast", "parse", "date"],
)  # fmt: skip
def test_a_query_failing_on_a_value_never_quotes_it(
    tmp_path: Path, world: World, detail: str, column: str
) -> None:
    message = _failure(tmp_path, world, detail)
    assert "local.yaml, line 9: rule 'X9': the query failed on" in message
    assert column in message and "(person_record)" in message
    assert "quennell" not in message.lower() and "aoife" not in message.lower()


def test_a_query_naming_a_column_that_is_not_there_keeps_the_engine_s_words(
    tmp_path: Path, world: World
) -> None:
    message = _failure(tmp_path, world, "surnme")
    assert "rule 'X9': the query failed: Binder Error" in message and '"surnme"' in message
