"""``casebridge evaluate``'s blocking recall counts the rules the workspace's model uses.

A hand-written extract of names only (invented names): no birth date, age, place or identifier.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from casebridge.ingest.run import ingest
from casebridge.link.choices import within_dedupe_sources
from casebridge.link.evaluate import blocking_recall
from casebridge.link.model import blocking_rule_sql
from casebridge.link.prepare import prepare_link_input
from casebridge.link.saved import MODEL_FILE, blocking_rules_in_use
from tests.ingest.helpers import make_workspace

NAMES_ONLY = """\
source: s
format: csv
persons:
  - local_id: id
    forenames: forename
    surname: surname
"""
# one woman under her birth surname and her married one: the forename agrees, the surnames
# share their first two letters only
ROWS = "id,forename,surname\nA,Tamsin,Pellow\nB,Tamsin,Penrose\n"


def test_blocking_recall_counts_only_the_rules_the_model_uses(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", {"s": ("s.csv", ROWS, NAMES_ONLY)})
    ingest(workspace)
    truth = pl.DataFrame({"record_id": ["s:A", "s:B"], "true_person_id": ["T1", "T1"]})
    engine = workspace.connect()
    try:
        prepare_link_input(engine)
        every_rule = blocking_recall(engine, truth, blocking_rule_sql())
        rules = blocking_rules_in_use(workspace, engine)
        model = blocking_recall(engine, truth, rules)
    finally:
        engine.close()
    # a rule for records that know nothing of their person's age (forename key, the surname's
    # first two letters, no birth year on one side) would compare them; but no record holds a
    # birth year, so the model leaves that rule out, and compares nothing here
    assert every_rule == (1.0, 1)
    assert model == (0.0, 1)
    assert set(rules) < set(blocking_rule_sql())


def test_a_model_trained_on_spark_gives_its_rules_in_duckdbs_dialect(tmp_path: Path) -> None:
    # Splink saves a model's blocking rules in the dialect it trained in: Spark quotes names
    # with backticks, which the engines (taking DuckDB's dialect) cannot read as they are
    workspace = make_workspace(tmp_path / "ws", {"s": ("s.csv", ROWS, NAMES_ONLY)})
    ingest(workspace)
    truth = pl.DataFrame({"record_id": ["s:A", "s:B"], "true_person_id": ["T1", "T1"]})
    rule = "l.`forename` = r.`forename` AND substr(l.`surname`, 1, 2) = substr(r.`surname`, 1, 2)"
    model = {
        "sql_dialect": "spark",
        "blocking_rules_to_generate_predictions": [{"blocking_rule": rule, "sql_dialect": "spark"}],
    }
    (workspace.root / MODEL_FILE).parent.mkdir(parents=True, exist_ok=True)
    (workspace.root / MODEL_FILE).write_text(json.dumps(model), encoding="utf-8")
    engine = workspace.connect()
    try:
        prepare_link_input(engine)
        rules = blocking_rules_in_use(workspace, engine)
        assert "`" not in rules[0]
        assert blocking_recall(engine, truth, rules) == (1.0, 1)
    finally:
        engine.close()


def test_a_spark_rule_leaves_out_pairs_within_a_duplicate_free_source_in_sparks_dialect() -> None:
    rule = "l.`forename` = r.`forename`"
    ruled = within_dedupe_sources(rule, "spark")
    assert ruled == "(l.`forename` = r.`forename`) AND (l.`source` <> r.`source` OR l.`dedupe`)"
    assert within_dedupe_sources(ruled, "spark") == ruled  # given once only
    assert '"source"' in within_dedupe_sources('l."forename" = r."forename"')
