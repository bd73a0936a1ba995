"""Scoring blocked pairs on record numbers gives Splink's own scores, and a rule that adds too
few matches for its pairs is left out as its sample shows, its other pairs scored once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from splink import DuckDBAPI, Linker

from casebridge.cli_results import link_result
from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.link import pruning
from casebridge.link.blocking import blocked_pairs, rules_of
from casebridge.link.frequencies import register_frequencies_given_forename
from casebridge.link.model import names_of
from casebridge.link.prepare import LINK_INPUT, prepare_link_input
from casebridge.link.run import LinkReport
from casebridge.link.score import drop_scoring, prepare_scoring, score
from casebridge.link.train import train
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace
from tests.spark import untranspilable

FLOOR = None  # every pair, so that a small workspace has enough of them


@pytest.fixture(scope="module")
def scored(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Engine, Linker, str, str]]:
    """A small linked workspace: its engine, a linker with a trained model, its pairs and the
    statement that scores them."""
    root = tmp_path_factory.mktemp("pruning") / "ws"
    generate(1_500, 11, load_profile("messy"), root)
    ingest(open_workspace(root))
    engine = open_workspace(root).connect()
    prepare_link_input(engine)
    model = train(engine, 3).linker.misc.save_model_to_json(None)
    db_api = DuckDBAPI(connection=engine.connection)
    linker = Linker(
        db_api.register(LINK_INPUT), model, log_level=logging.ERROR, validate_settings=False,
    )  # fmt: skip
    # the middle names' frequencies given the forename: Splink is handed casebridge's lookup
    register_frequencies_given_forename(engine, linker, db_api, LINK_INPUT)
    pairs = blocked_pairs(engine, rules_of(model))
    scoring = prepare_scoring(engine, linker)
    sql = scoring.sql
    try:
        yield engine, linker, pairs, sql
    finally:
        drop_scoring(engine, scoring)
        engine.close()


def _scored(engine: Engine, sql: str, pairs: str, floor: float | None = FLOOR) -> str:
    return score(engine, sql, pairs, "cb_test_scored", floor)


def _weights(engine: Engine, table: str) -> pl.DataFrame:
    return engine.frame(
        f'SELECT unique_id_l, unique_id_r, match_key, match_weight FROM "{table}"'
    ).sort("unique_id_l", "unique_id_r")


@pytest.mark.parametrize("floor", [None, 0.01])
def test_scores_on_record_numbers_are_splinks_own(
    scored: tuple[Engine, Linker, str, str], floor: float | None
) -> None:
    engine, linker, pairs, sql = scored
    ours = _weights(engine, _scored(engine, sql, pairs, floor))
    theirs = _weights(
        engine, linker.inference.predict(floor, warning_mode="never").physical_name
    ).with_columns(pl.col("match_key").cast(pl.Int64))
    assert ours.height > (150 if floor is None else 100)
    assert ours.select("unique_id_l", "unique_id_r", "match_key").equals(
        theirs.select("unique_id_l", "unique_id_r", "match_key")
    )
    assert (ours["match_weight"] - theirs["match_weight"]).abs().max() < 1e-9  # type: ignore[operator]


def test_a_rule_finding_too_few_matches_is_left_out(
    scored: tuple[Engine, Linker, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, linker, pairs, sql = scored
    names = names_of(rules_of(linker.misc.save_model_to_json(None)))
    everything = _weights(engine, _scored(engine, sql, pairs))
    monkeypatch.setattr(pruning, "SAMPLE_PAIRS", 8)
    monkeypatch.setattr(pruning, "CANDIDATE_PAIRS", 16)
    # first with no bar, to learn each rule's yield; then with a bar between two of them
    monkeypatch.setattr(pruning, "MIN_YIELD", 0.0)
    _, measured = pruning.score_pruned(engine, sql, pairs, FLOOR, names)
    estimated = sorted(y.per_million for y in measured if y.per_million is not None)
    assert len(estimated) >= 2 and all(y.kept for y in measured)
    monkeypatch.setattr(pruning, "MIN_YIELD", (estimated[0] + estimated[-1]) / 2)
    engine.statements.clear()
    table, yields = pruning.score_pruned(engine, sql, pairs, FLOOR, names)
    assert untranspilable(engine.statements) == []
    # the estimates do not change between runs: the draw is fixed by the record numbers
    assert [(y.pairs, y.sampled, y.expected_matches) for y in yields] == [
        (y.pairs, y.sampled, y.expected_matches) for y in measured
    ]
    dropped = {y.position for y in yields if not y.kept}
    assert dropped and dropped == {
        y.position
        for y in yields
        if y.per_million is not None and y.per_million < pruning.MIN_YIELD
    }
    assert all(y.pairs >= 16 and 0 < y.sampled < y.pairs for y in yields if not y.kept)
    # every pair of a kept rule scored once, as scoring them all scores it; none of the others
    ours = _weights(engine, table)
    assert ours.equals(everything.filter(~pl.col("match_key").is_in(sorted(dropped))))
    pruning.drop(engine)


def test_an_estimate_is_its_sample_scaled_to_the_rule(
    scored: tuple[Engine, Linker, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, linker, pairs, sql = scored
    names = names_of(rules_of(linker.misc.save_model_to_json(None)))
    monkeypatch.setattr(pruning, "SAMPLE_PAIRS", 8)
    monkeypatch.setattr(pruning, "CANDIDATE_PAIRS", 16)
    _, yields = pruning.score_pruned(engine, sql, pairs, FLOOR, names)
    rule = max((y for y in yields if y.sampled), key=lambda y: y.pairs)
    drawn = pruning._drawn({rule.position: pruning._share(rule.pairs)})
    sample = f"(SELECT * FROM {pairs} WHERE {drawn})"
    engine.execute(f"CREATE OR REPLACE TEMP TABLE cb_test_sample AS SELECT * FROM {sample}")
    found = engine.frame(f"SELECT match_probability FROM {_scored(engine, sql, 'cb_test_sample')}")
    assert rule.sampled == engine.scalar("SELECT count(*) FROM cb_test_sample")
    assert rule.expected_matches == pytest.approx(
        found["match_probability"].sum() * rule.pairs / rule.sampled
    )
    pruning.drop(engine)


def test_a_rule_adding_few_pairs_is_scored_whole(scored: tuple[Engine, Linker, str, str]) -> None:
    engine, linker, pairs, sql = scored
    names = names_of(rules_of(linker.misc.save_model_to_json(None)))
    # the shipped sample is larger than this workspace's rules: nothing is estimated or dropped
    table, yields = pruning.score_pruned(engine, sql, pairs, FLOOR, names)
    assert all(y.kept and y.sampled == 0 for y in yields)
    assert engine.scalar(f"SELECT count(*) FROM {table}") == engine.scalar(
        f"SELECT count(*) FROM {_scored(engine, sql, pairs)}"
    )
    assert "names_birth_year" in {y.name for y in yields}
    pruning.drop(engine)


def test_the_draw_takes_about_its_share_of_a_rule(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "draw.duckdb")
    try:
        engine.execute(
            "CREATE TABLE pairs AS SELECT CAST(i % 7 AS INTEGER) AS match_key, "
            "CAST(i // 1000 AS BIGINT) AS number_l, CAST(1000 + i % 1000 AS BIGINT) AS number_r "
            "FROM range(700000) t(i)"
        )
        shares = {key: pruning._share(100_000) for key in range(7)}
        drawn = engine.query(
            f"SELECT match_key, count(*) FROM pairs WHERE {pruning._drawn(shares)} GROUP BY 1"
        )
        for _, count in drawn:
            assert abs(count - pruning.SAMPLE_PAIRS) < 0.05 * pruning.SAMPLE_PAIRS
    finally:
        engine.close()


def test_the_link_report_names_the_rules_left_out_and_what_they_held() -> None:
    left_out = pruning.RuleYield(7, "dob_surname_initial", 42_709, 10_006, 2.8, kept=False)
    kept = pruning.RuleYield(0, "names_birth_year", 24_682)
    report = LinkReport(10, 5, 8, 2, {"train": 1.0}, None, (kept, left_out))
    assert report.left_out == (left_out,)
    assert left_out.per_million == pytest.approx(2.8 / 42_709 * 1e6)
    sentence = link_result(report).sentence
    assert sentence is not None
    assert "dob_surname_initial (42,709 pairs, 2.8 matches estimated among them)" in sentence
    assert "names_birth_year" not in sentence
