"""The link stage on small synthetic workspaces: deterministic, honours judgements, keeps ids."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.link.evaluate import cluster_scores, pairwise_scores
from casebridge.link.judgements import record_judgement
from casebridge.link.run import link
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("link") / "ws"
    generate(3_000, 21, load_profile("default"), root)
    ingest(open_workspace(root))
    return root


def _copy(ingested: Path, target: Path) -> Path:
    shutil.copytree(ingested, target)
    return target


def _links(root: Path) -> pl.DataFrame:
    engine = Engine(root / "casebridge.duckdb")
    try:
        return engine.frame("SELECT record_id, person_id FROM person_link ORDER BY record_id")
    finally:
        engine.close()


def _partition(links: pl.DataFrame) -> set[frozenset[str]]:
    groups = links.group_by("person_id").agg("record_id")["record_id"].to_list()
    return {frozenset(group) for group in groups}


def test_linking_is_deterministic_for_a_seed(ingested: Path, tmp_path: Path) -> None:
    first, second = _copy(ingested, tmp_path / "a"), _copy(ingested, tmp_path / "b")
    link(open_workspace(first))
    link(open_workspace(second))
    assert _links(first).equals(_links(second))


def _judge(root: Path, a: str, b: str, verdict: str) -> None:
    engine = Engine(root / "casebridge.duckdb")
    try:
        record_judgement(engine, a, b, verdict, "checked the case papers", "analyst 7")  # type: ignore[arg-type]
    finally:
        engine.close()


def test_a_cannot_link_splits_and_a_must_link_joins(ingested: Path, tmp_path: Path) -> None:
    root = _copy(ingested, tmp_path / "w")
    link(open_workspace(root))
    links = _links(root)
    sizes = links.group_by("person_id").len().filter(pl.col("len") >= 3).sort("person_id")
    big = links.filter(pl.col("person_id") == sizes["person_id"][0])["record_id"].to_list()
    singles = links.group_by("person_id").len().filter(pl.col("len") == 1).sort("person_id")
    lone = links.filter(pl.col("person_id").is_in(singles["person_id"].head(2).implode()))
    a, b = lone["record_id"].to_list()
    _judge(root, big[0], big[-1], "different")
    _judge(root, a, b, "same")
    link(open_workspace(root))
    after = dict(_links(root).iter_rows())
    assert after[big[0]] != after[big[-1]]
    assert after[a] == after[b]


def test_person_ids_survive_a_rerun_with_more_records(ingested: Path, tmp_path: Path) -> None:
    root = _copy(ingested, tmp_path / "w")
    extract = root / "extracts" / "northshire_police_crimes.csv"
    full = extract.read_text(encoding="utf-8")
    lines = full.splitlines(keepends=True)
    extract.write_text("".join(lines[: int(len(lines) * 0.8)]), encoding="utf-8")
    ingest(open_workspace(root))
    link(open_workspace(root))
    before = _links(root)
    extract.write_text(full, encoding="utf-8")
    ingest(open_workspace(root))
    link(open_workspace(root))
    after = _links(root)
    assert after.height > before.height
    joined = before.join(after, on="record_id", suffix="_after")
    # an earlier person whose records still sit together, alone among earlier persons, keeps its id
    together = joined.group_by("person_id").agg(pl.col("person_id_after").n_unique().alias("n"))
    crowd = joined.group_by("person_id_after").agg(pl.col("person_id").n_unique().alias("m"))
    stable = (
        joined.join(together, on="person_id")
        .join(crowd, on="person_id_after")
        .filter((pl.col("n") == 1) & (pl.col("m") == 1))
    )
    assert stable.height > 0.9 * joined.height
    assert (stable["person_id"] == stable["person_id_after"]).all()


def test_scores_against_a_hand_made_truth() -> None:
    joined = pl.DataFrame(
        {
            "record_id": ["a", "b", "c", "d", "e"],
            "person_id": ["P1", "P1", "P1", "P2", "P3"],
            "true_person_id": ["T1", "T1", "T2", "T2", "T3"],
        }
    )
    pairs = pairwise_scores(joined)
    # predicted pairs: ab ac bc; true pairs: ab cd; correct: ab
    assert (pairs.predicted_pairs, pairs.true_pairs, pairs.correct_pairs) == (3, 2, 1)
    assert pairs.precision == pytest.approx(1 / 3) and pairs.recall == pytest.approx(1 / 2)
    clusters = cluster_scores(joined)
    assert (clusters.correct_pairs, clusters.predicted_pairs, clusters.true_pairs) == (1, 3, 3)


def test_a_wrong_link_across_groups_counts_against_both_groups() -> None:
    from casebridge.link.evaluate import group_scores

    joined = pl.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "person_id": ["P1", "P1", "P1"],
            "true_person_id": ["T1", "T1", "T2"],
            "group": ["g1", "g1", "g2"],
        }
    )
    first, second = group_scores(joined, "g1"), group_scores(joined, "g2")
    assert (first.predicted_pairs, first.correct_pairs, first.true_pairs) == (3, 1, 1)
    assert (second.predicted_pairs, second.correct_pairs, second.true_pairs) == (2, 0, 0)


def test_explanations_add_up_to_the_match_weight(ingested: Path, tmp_path: Path) -> None:
    from casebridge.link.explain import explain_pair, read_model
    from casebridge.link.run import MODEL_FILE

    root = _copy(ingested, tmp_path / "w")
    link(open_workspace(root))
    engine = Engine(root / "casebridge.duckdb")
    try:
        pairs = engine.query(
            "SELECT record_l, record_r FROM match_pair ORDER BY match_probability DESC LIMIT 3"
        )
        for left, right in pairs:
            rows = explain_pair(engine, read_model(root / MODEL_FILE), left, right)
            parts, total = rows[:-1], rows[-1][2]
            assert sum(weight for _, _, weight in parts) == pytest.approx(total, abs=1e-6)
            assert all(weight > -20 for _, _, weight in parts)  # no disagreement is proof
        tables = [
            name for (name,) in engine.query("SELECT table_name FROM information_schema.tables")
        ]
    finally:
        engine.close()
    # Splink's working tables and the copy of names and birth dates it compared are gone
    assert not [name for name in tables if name.startswith("__splink") or name == "link_input"]


def test_splits_and_merges_are_recorded(tmp_path: Path) -> None:
    from casebridge.link.ids import assign_ids
    from casebridge.standard.tables import create_tables

    engine = Engine(tmp_path / "db.duckdb")
    try:
        create_tables(engine)
        engine.execute("CREATE TABLE person_link (record_id VARCHAR, person_id VARCHAR)")
        engine.execute(
            "INSERT INTO person_link VALUES ('a', 'PN0000001'), ('b', 'PN0000001'), "
            "('c', 'PN0000002'), ('d', 'PN0000003')"
        )
        # a and b now apart (a split); c and d now together (a merge)
        clusters = pl.DataFrame(
            {"record_id": ["a", "b", "c", "d"], "cluster_id": ["x", "y", "z", "z"]}
        )
        ids = dict(assign_ids(engine, clusters).iter_rows())
        changes = engine.query(
            "SELECT kind, person_id, other_person_id FROM person_change ORDER BY kind"
        )
    finally:
        engine.close()
    assert ids["a"] == "PN0000001" and ids["c"] == ids["d"] == "PN0000002"
    assert ids["b"] == "PN0000004"  # a new id, never one already issued
    assert changes == [("merged_into", "PN0000003", "PN0000002"), ("split", "PN0000001", None)]


def test_training_on_a_sample_is_repeatable_and_leaves_nothing_behind(
    ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casebridge.link import train as training
    from casebridge.link.prepare import prepare_link_input

    monkeypatch.setattr(training, "TRAINING_RECORDS", 1_500)
    root = _copy(ingested, tmp_path / "w")
    engine = open_workspace(root).connect()
    try:
        assert prepare_link_input(engine) > 1_500
        models = [training.train(engine, seed=5).linker.misc.save_model_to_json(None)
                  for _ in range(2)]  # fmt: skip
        for model in models:
            model.pop("linker_uid")  # a fresh id for each linker object
        left = engine.table_exists(training.TRAINING_INPUT)
    finally:
        engine.close()
    assert models[0] == models[1] and not left
