"""casebridge computes the pairs its rules compare itself: they must be exactly the pairs
Splink's own blocking gives for the same rules, with the first rule that found each."""

from __future__ import annotations

import logging
from pathlib import Path

from splink import DuckDBAPI, Linker

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.link.blocking import blocked_pairs, columns_read
from casebridge.link.model import settings
from casebridge.link.prepare import LINK_INPUT, held_fields, prepare_link_input
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace
from tests.spark import untranspilable


def test_the_pairs_are_splinks_own(tmp_path: Path) -> None:
    engine = _ingested(tmp_path / "ws")
    try:
        prepare_link_input(engine)
        model = settings(fields=held_fields(engine)).get_settings("duckdb").as_dict()
        rules = [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]
        api = DuckDBAPI(connection=engine.connection)
        splinks = Linker(api.register(LINK_INPUT), model, log_level=logging.ERROR)
        theirs = engine.frame(
            "SELECT match_key, unique_id_l AS join_key_l, unique_id_r AS join_key_r "
            f'FROM "{splinks.inference.predict(warning_mode="never").physical_name}"'
        ).sort("join_key_l", "join_key_r")
        engine.statements.clear()
        pairs = blocked_pairs(engine, rules)
        ours = engine.frame(
            f"""SELECT CAST(p.match_key AS VARCHAR) AS match_key, l.unique_id AS join_key_l,
                r.unique_id AS join_key_r
            FROM {pairs} p
            JOIN {LINK_INPUT} l ON l.record_number = p.number_l
            JOIN {LINK_INPUT} r ON r.record_number = p.number_r"""
        ).sort("join_key_l", "join_key_r")
        # the scale-out engine runs the same statements
        assert untranspilable(engine.statements) == []
        assert ours.height > 200
        assert ours.equals(theirs)
    finally:
        engine.close()


def _ingested(root: Path) -> Engine:
    generate(1_500, 5, load_profile("messy"), root)
    ingest(open_workspace(root))
    return open_workspace(root).connect()


def test_the_narrow_copy_holds_every_column_a_rule_reads() -> None:
    rules = ['l."dob" = r."dob" AND substr(l.forename, 1, 1) = substr(r.forename, 1, 1)',
             'l."forename_key" = r."surname_key"']  # fmt: skip
    assert columns_read(rules) == ["dob", "forename", "forename_key", "surname_key"]
