"""The same workspace through the stages on DuckDB and on Spark gives the same tables: every
difference is a failure.

Reached so far: ingest (every standard table, row for row). The stages after it are marked
as not reached, each with the reason: they are not yet measured on Spark, and are not claimed.
"""

from __future__ import annotations

import shutil

import polars as pl
import pytest

from casebridge.ingest.run import ingest
from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile
from casebridge.workspace import Workspace, engine_chosen, open_workspace

from .conftest import TEST_CONFIG

PEOPLE = 100  # the generator's smallest workspace: Spark's cost here is per statement
INGESTED = (
    "person_record", "person_observation", "event", "event_observation", "involvement",
    "quarantine", "finding", "identifier", "source", "source_history",
)  # fmt: skip
WHEN = ("loaded_at",)  # the time a row was written differs between any two runs
NOT_REACHED = (
    "not reached this sitting ({stage}): on Spark, link trains through Splink's SparkAPI, but "
    "scoring a 600-person workspace (653 records) had not finished after 18 minutes on this "
    "shared 2-core machine, so link's parity, and that of every stage that reads its persons, "
    "is unmeasured"
)


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Workspace]:
    """One synthetic workspace, copied: ingested on DuckDB and on Spark."""
    root = tmp_path_factory.mktemp("parity")
    generate(PEOPLE, 17, load_profile("default"), root / "duckdb")
    shutil.copytree(root / "duckdb", root / "spark")
    settings = root / "spark" / "casebridge.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            'database = "casebridge.duckdb"',
            'engine = "spark"\ndatabase = "casebridge.duckdb"\n\n[spark]\nmaster = "local[2]"\n'
            + "config = {"
            + ", ".join(f'"{k}" = "{v}"' for k, v in TEST_CONFIG.items())
            + "}\n",
            1,
        ),
        encoding="utf-8",
    )
    duck, spark = open_workspace(root / "duckdb"), open_workspace(root / "spark")
    assert spark.settings.engine == "spark"
    return duck, spark


def _tables(workspace: Workspace, names: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    engine = workspace.connect(read_only=True)
    try:
        return {name: engine.frame(f"SELECT * FROM {name}") for name in names}
    finally:
        engine.close()


def _differences(name: str, duck: pl.DataFrame, spark: pl.DataFrame) -> list[str]:
    """What differs between one table on each engine, as rows (lists compared as text)."""
    if duck.columns != spark.columns:
        return [f"{name}: columns {duck.columns} on DuckDB, {spark.columns} on Spark"]
    kept = [c for c in duck.columns if c not in WHEN]

    def rows(frame: pl.DataFrame) -> list[str]:
        return sorted(repr(row) for row in frame.select(kept).rows())

    only_duck = sorted(set(rows(duck)) - set(rows(spark)))
    only_spark = sorted(set(rows(spark)) - set(rows(duck)))
    if (duck.height, only_duck, only_spark) == (spark.height, [], []):
        return []
    return [
        f"{name}: {duck.height} rows on DuckDB, {spark.height} on Spark; "
        f"only DuckDB's: {only_duck[:2]}; only Spark's: {only_spark[:2]}"
    ]


def test_ingest_gives_the_same_standard_tables(
    spark_ready: None, workspaces: tuple[Workspace, Workspace]
) -> None:
    duck, spark = workspaces
    for workspace in (duck, spark):
        with engine_chosen(None):
            reports = ingest(workspace)
        assert all(report.status == "loaded" for report in reports)
    found, expected = _tables(spark, INGESTED), _tables(duck, INGESTED)
    assert expected["person_record"].height > PEOPLE  # the workspace holds something
    differences = [d for n in INGESTED for d in _differences(n, expected[n], found[n])]
    assert differences == []
    assert (spark.root / "spark" / "catalogue.json").is_file()


@pytest.mark.xfail(run=False, strict=True, reason=NOT_REACHED.format(stage="link"))
def test_link_gives_the_same_persons() -> None:
    raise AssertionError("not reached")


@pytest.mark.xfail(run=False, strict=True, reason=NOT_REACHED.format(stage="networks"))
def test_networks_give_the_same_networks() -> None:
    raise AssertionError("not reached")


@pytest.mark.xfail(run=False, strict=True, reason=NOT_REACHED.format(stage="screen"))
def test_screen_gives_the_same_review_items() -> None:
    raise AssertionError("not reached")


@pytest.mark.xfail(run=False, strict=True, reason=NOT_REACHED.format(stage="audit"))
def test_audit_publishes_the_same_tables() -> None:
    raise AssertionError("not reached")


def test_differences_are_found() -> None:
    """The comparison can fail: a changed value, a lost row, a list in another order."""
    table = pl.DataFrame({"a": ["x", "y"], "b": [["p", "q"], None]})
    assert _differences("t", table, table) == []
    assert _differences("t", table, table.with_columns(a=pl.lit("x")))
    assert _differences("t", table, table.head(1))
    assert _differences("t", table, table.with_columns(b=pl.Series([["q", "p"], None])))
