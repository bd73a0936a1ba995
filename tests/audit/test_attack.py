"""The disclosure attack: every table the audit publishes, read together by someone who knows
what each column means (docs/audit.md), at every documented setting, recovers no suppressed
count, neither by integer programming nor by subtraction over shared totals."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from casebridge.audit.disclosure import DisclosureSettings
from casebridge.audit.run import build_tables
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.ingest.run import ingest
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import open_workspace
from tests.audit.attack import read_publication, solved, subtracted, truth_of

from .helpers import tiny_workspace

# the documented settings: the default, the smallest threshold and base allowed, and others
SETTINGS = [(10, 5), (2, 1), (3, 1), (10, 1), (5, 3), (3, 10), (20, 5)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """250 synthetic people, ingested; persons, networks, a review queue and a review band
    taken from the truth (the attack needs every table, not a good linkage)."""
    root = tmp_path_factory.mktemp("attack") / "ws"
    generate(250, 11, load_profile("default"), root)
    ingest(open_workspace(root))
    engine = Engine(root / "casebridge.duckdb")
    try:
        _stages_from_truth(engine, root / "truth")
    finally:
        engine.close()
    return root


def _stages_from_truth(engine: Engine, truth: Path) -> None:
    records = pl.read_parquet(truth / "record_person.parquet").select(
        record_id=pl.format("{}:{}", "source", "local_id"),
        person_id="person_id",
        probability=pl.lit(1.0),
    )
    engine.create_table_from_arrow("person_link", records)
    members = pl.read_parquet(truth / "network_member.parquet").with_columns(
        events=pl.lit(1), centrality=pl.lit(0.5)
    )
    engine.create_table_from_arrow("network_member", members)
    engine.execute(
        """CREATE TABLE network AS SELECT network_id,
            count(*) FILTER (WHERE role = 'suspect') AS suspects,
            count(*) FILTER (WHERE role = 'victim') AS victims, 1 AS events,
            1 + length(network_id) % 3 AS sources, 1 AS forces,
            DATE '2015-01-01' AS first_date,
            DATE '2015-01-01' + CAST(97 * count(*) AS INTEGER) AS last_date
        FROM network_member GROUP BY network_id"""
    )
    targets = pl.read_parquet(truth / "review_target.parquet")
    engine.create_table_from_arrow(
        "review_item",
        targets.select(
            item_id="target_id",
            rules=pl.concat_list("rule"),
            priority=(pl.int_range(pl.len()) % 13).cast(pl.Float64),
        ),
    )
    engine.execute(
        """CREATE TABLE match_pair AS SELECT l.record_id AS record_l, r.record_id AS record_r,
            0.3 + (hash(l.record_id || r.record_id) % 70) / 100.0 AS match_probability
        FROM person_link l JOIN person_link r
            ON l.person_id = r.person_id AND l.record_id < r.record_id"""
    )
    engine.execute(
        """INSERT INTO match_judgement SELECT record_l, record_r,
            CASE WHEN hash(record_l) % 5 = 0 THEN 'different' ELSE 'same' END AS verdict,
            'test' AS reason, 'tester' AS judged_by, TIMESTAMP '2025-01-01' AS judged_at
        FROM match_pair WHERE hash(record_r) % 4 = 0"""
    )


def _attack(engine: Engine, threshold: int, base: int) -> tuple[list[object], list[object], int]:
    control = DisclosureSettings(threshold=threshold, rounding_base=base)
    _, pairs = build_tables(engine, AuditSettings(disclosure=control))
    published = {name: public for name, (_, public) in pairs.items()}
    reader = read_publication(published, threshold, base)
    truth = truth_of({name: exact for name, (exact, _) in pairs.items()})
    return solved(reader, truth), subtracted(reader), len(reader.secret)


@pytest.mark.parametrize(("threshold", "base"), SETTINGS)
def test_no_suppressed_count_is_recovered_from_all_tables_together(
    workspace: Path, threshold: int, base: int
) -> None:
    engine = Engine(workspace / "casebridge.duckdb")
    try:
        by_solver, by_subtraction, suppressed = _attack(engine, threshold, base)
    finally:
        engine.close()
    assert suppressed > 20  # the attack has something to work on
    assert by_solver == []
    assert by_subtraction == []


@pytest.mark.parametrize(("threshold", "base"), SETTINGS)
def test_no_suppressed_count_of_a_tiny_workspace_is_recovered(threshold: int, base: int) -> None:
    by_solver, by_subtraction, suppressed = _attack(tiny_workspace(), threshold, base)
    assert suppressed > 0
    assert (by_solver, by_subtraction) == ([], [])


def test_the_attack_finds_a_count_left_exposed() -> None:
    """The attacker is not toothless: with one count suppressed alone beside its total (the
    shape second suppression exists for), it falls out: 25 + 2 - 13 - 13 leaves 1."""
    reader = read_publication(_exposed(), 10, 5)
    assert ("records per person", "3") in solved(reader)
    assert ("records per person", "3") in subtracted(reader)


def _exposed() -> dict[str, pl.DataFrame]:
    tables = {name: frame.clear() for name, frame in tiny_tables().items()}
    count = {"schema_overrides": {"persons": pl.Int64}}
    tables["records_per_person"] = pl.DataFrame(
        {
            "records": ["1", "2", "3", "4", "5+", "2 or more", "all"],
            "persons": [15, 15, None, 0, 0, None, 25],
        },
        **count,  # type: ignore[arg-type]
    )
    tables["agency_overlap"] = pl.DataFrame(
        {
            "agencies": ["Force A", "one agency", "several agencies", "all"],
            "persons": [25, 25, 0, 25],
            "agency_count": [1, None, None, None],
        },
        schema_overrides={"agency_count": pl.Int64},
    )
    tables["linkage_overview"] = pl.DataFrame(
        {
            "measure": [
                "person records",
                "persons",
                "persons with several records",
                "persons known to several agencies",
            ],
            "value": [50, 25, None, 0],
        },
        schema_overrides={"value": pl.Int64},
    )
    tables["source_coverage"] = pl.DataFrame(
        {
            "source": ["a"],
            "rows_loaded": [60],
            "rows_quarantined": [0],
            "values_set_aside": [0],
            "person_records": [50],
            "events": [20],
        }
    )
    return tables


def tiny_tables() -> dict[str, pl.DataFrame]:
    """The published tables of the tiny workspace."""
    _, pairs = build_tables(tiny_workspace(), AuditSettings())
    return {name: public for name, (_, public) in pairs.items()}
