"""Each difference the Spark adapter holds, tested on Spark against what DuckDB does with the
same statement: the stages write one statement for both engines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from casebridge.engine import Engine
from casebridge.errors import WorkspaceError
from casebridge.link.blocking import rules_of
from casebridge.spark_engine import SparkEngine

from .conftest import TEST_CONFIG

pytestmark = pytest.mark.xdist_group("spark")  # one worker, one Spark, for every Spark test

PEOPLE = (
    "CREATE TABLE IF NOT EXISTS people (name VARCHAR, born DATE, seen TIMESTAMP, "
    "score DOUBLE, tags VARCHAR[])"
)


def _both(spark: SparkEngine, *statements: str) -> tuple[Engine, SparkEngine]:
    duck = Engine()
    for engine in (duck, spark):
        for statement in statements:
            engine.execute(statement)
    return duck, spark


def _same(duck: Engine, spark: SparkEngine, query: str) -> list[tuple[object, ...]]:
    expected = duck.query(query)
    assert spark.query(query) == expected
    return expected


def test_parameters_become_literals_of_their_types(spark_engine: SparkEngine) -> None:
    duck, spark = _both(spark_engine, PEOPLE)
    values = ["O'Brien", dt.date(2009, 2, 28), dt.datetime(2024, 5, 1, 13, 5, 7), 0.1, ["a", "b"]]
    for engine in (duck, spark):
        engine.execute("INSERT INTO people VALUES (?, ?, ?, ?, ?)", values)
        engine.execute("INSERT INTO people VALUES (?, ?, ?, ?, ?)", ["Ann", None, None, 2.5, []])
    rows = _same(duck, spark, "SELECT * FROM people ORDER BY name")
    assert rows[1] == tuple(values)


def test_delete_keeps_rows_whose_condition_is_null(spark_engine: SparkEngine) -> None:
    # Spark cannot delete from Parquet: the rows that stay are written in place of the table
    duck, spark = _both(
        spark_engine,
        PEOPLE,
        "INSERT INTO people (name) VALUES ('a'), ('b'), (NULL)",
        "DELETE FROM people WHERE name = 'a'",
    )
    assert _same(duck, spark, "SELECT name FROM people ORDER BY name NULLS LAST") == [
        ("b",),
        (None,),
    ]


def test_update_changes_only_the_rows_it_names(spark_engine: SparkEngine) -> None:
    duck, spark = _both(
        spark_engine,
        PEOPLE,
        "INSERT INTO people (name, score) VALUES ('a', 1), ('b', 2)",
        "UPDATE people SET score = score * 10 WHERE name = 'b'",
    )
    assert _same(duck, spark, "SELECT name, score FROM people ORDER BY name") == [
        ("a", 1.0),
        ("b", 20.0),
    ]


def test_temp_table_is_a_snapshot_not_a_view(spark_engine: SparkEngine) -> None:
    # DuckDB's CREATE TEMP TABLE copies the rows; Spark's view would follow its table
    duck, spark = _both(
        spark_engine,
        PEOPLE,
        "INSERT INTO people (name) VALUES ('a')",
        "CREATE OR REPLACE TEMP TABLE copied AS SELECT name FROM people",
        "CREATE OR REPLACE TEMP VIEW followed AS SELECT name FROM people",
        "INSERT INTO people (name) VALUES ('b')",
    )
    assert _same(duck, spark, "SELECT count(*) FROM copied") == [(1,)]
    assert _same(duck, spark, "SELECT count(*) FROM followed") == [(2,)]


def test_insert_matches_columns_by_position(spark_engine: SparkEngine) -> None:
    duck, spark = _both(
        spark_engine,
        PEOPLE,
        "INSERT INTO people SELECT 'x' AS score, NULL, NULL, 3 AS name, NULL",
    )
    assert _same(duck, spark, "SELECT name, score FROM people") == [("x", 3.0)]


def test_json_functions_written_by_hand(spark_engine: SparkEngine) -> None:
    lines = ['{"a": [1, 2]}', '{"a": "x"}', '{"a": ', "null", '{"b": {"c": 1}}']
    duck = Engine()
    for engine in (duck, spark_engine):
        engine.create_table_from_arrow("lines", _lines(lines), temporary=True)
    _same(
        duck,
        spark_engine,
        "SELECT n, json_valid(line), CASE WHEN json_valid(line) THEN "
        "coalesce(json_type(line, '$.a'), 'none') NOT IN ('ARRAY', 'NULL') END, "
        "CASE WHEN json_valid(line) THEN json_type(line, '$.b') = 'OBJECT' END "
        "FROM lines ORDER BY n",
    )


def test_a_whole_row_as_json_keeps_its_nulls(spark_engine: SparkEngine) -> None:
    duck, spark = _both(spark_engine, PEOPLE, "INSERT INTO people (name, score) VALUES ('a', 1)")
    query = "SELECT to_json(r) FROM (SELECT name, born FROM people) r"
    assert _same(duck, spark, query) == [('{"name":"a","born":null}',)]


def test_similarity_of_duckdb_name_runs_on_splink_jar(spark_engine: SparkEngine) -> None:
    found = spark_engine.scalar("SELECT jaro_winkler_similarity('martha', 'marhta')")
    assert found == pytest.approx(
        Engine().scalar("SELECT jaro_winkler_similarity('martha', 'marhta')")
    )


def test_transaction_rolls_back_the_catalogue(spark_engine: SparkEngine) -> None:
    spark_engine.execute(PEOPLE)
    spark_engine.execute("INSERT INTO people (name) VALUES ('kept')")
    with pytest.raises(RuntimeError), spark_engine.transaction():
        spark_engine.execute("DELETE FROM people")
        spark_engine.execute("CREATE TABLE other AS SELECT 1 AS one")
        raise RuntimeError("stop")
    assert spark_engine.query("SELECT name FROM people") == [("kept",)]
    assert not spark_engine.table_exists("other")


def test_tables_persist_for_the_next_engine(spark_engine: SparkEngine) -> None:
    spark_engine.execute(PEOPLE)
    spark_engine.execute("INSERT INTO people (name) VALUES ('kept')")
    spark_engine.execute("CREATE OR REPLACE TEMP TABLE gone AS SELECT 1 AS one")
    spark_engine.close()
    again = SparkEngine(spark_engine.store, config=TEST_CONFIG, read_only=True)
    try:
        assert again.query("SELECT name FROM people") == [("kept",)]
        assert not again.table_exists("gone")
        with pytest.raises(WorkspaceError, match="read-only"):
            again.execute("INSERT INTO people (name) VALUES ('no')")
    finally:
        again.close()


def test_unreadable_statement_is_refused(spark_engine: SparkEngine) -> None:
    with pytest.raises(WorkspaceError, match="cannot read this statement"):
        spark_engine.execute("CREATE OR REPLACE TEMP TABLE x AS SELECT `a` FROM y")


def test_rules_of_a_spark_model_read_as_duckdb() -> None:
    model = {
        "sql_dialect": "spark",
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": "l.`surname` = r.`surname`", "sql_dialect": "spark"}
        ],
    }
    assert rules_of(model) == ['l."surname" = r."surname"']


def _lines(lines: list[str]) -> object:
    import pyarrow as pa

    return pa.table({"n": list(range(len(lines))), "line": lines})


def test_store_folder(spark_engine: SparkEngine, tmp_path: Path) -> None:
    spark_engine.execute(PEOPLE)
    assert (tmp_path / "spark" / "catalogue.json").is_file()


def test_list_of_no_rows_is_null(spark_engine: SparkEngine) -> None:
    duck, spark = _both(
        spark_engine, PEOPLE, "INSERT INTO people (name, score) VALUES ('a', 1), ('b', NULL)"
    )
    query = (
        "SELECT name, list(score) FILTER (WHERE score IS NOT NULL) FROM people "
        "GROUP BY name ORDER BY name"
    )
    assert _same(duck, spark, query) == [("a", [1.0]), ("b", None)]


def _blocks_held(engine: SparkEngine) -> int:
    """How many sets of rows Spark holds (local checkpoints and cached tables)."""
    return len(list(engine.spark.sparkContext._jsc.sc().getRDDStorageInfo()))


def test_temp_table_holds_rows_not_a_plan(spark_engine: SparkEngine) -> None:
    # a cached plan is analysed again by every statement that reads it, and dropping one makes
    # Spark compare it with every other cached plan: a temporary table is its rows, freed on DROP
    spark_engine.execute(PEOPLE)
    spark_engine.execute("INSERT INTO people (name) VALUES ('a'), ('b')")
    before = _blocks_held(spark_engine)
    spark_engine.execute("CREATE TEMP TABLE named AS SELECT name FROM people WHERE name = 'a'")
    plan = spark_engine.spark.table("named")._jdf.queryExecution().analyzed().toString()
    assert "LogicalRDD" in plan and "parquet" not in plan.lower()  # rows, not the table's files
    assert not spark_engine.spark.catalog.isCached("named")
    assert _blocks_held(spark_engine) == before + 1
    spark_engine.execute("CREATE OR REPLACE TEMP TABLE named AS SELECT name FROM people")
    assert _blocks_held(spark_engine) == before + 1  # the rows it replaced are freed
    spark_engine.execute("DROP TABLE named")
    assert _blocks_held(spark_engine) == before


def test_splink_tables_are_held_rows_freed_when_dropped(spark_engine: SparkEngine) -> None:
    from splink.internals.pipeline import CTEPipeline

    api = spark_engine.splink_api()
    before = _blocks_held(spark_engine)
    pipeline = CTEPipeline()
    pipeline.enqueue_sql("SELECT 1 AS one", "__splink__df_concat_with_tf")
    table = api.sql_pipeline_to_splink_dataframe(pipeline)
    assert _blocks_held(spark_engine) == before + 1
    assert [kind for kind, _ in spark_engine.timings] == ["splink __splink__df_concat_with_tf"]
    assert table.as_record_list() == [{"one": 1}]
    api.delete_tables_created_by_splink_from_db()  # as link does when it ends
    assert _blocks_held(spark_engine) == before


def test_an_empty_arrow_table_becomes_an_empty_table(spark_engine: SparkEngine) -> None:
    # pyarrow gives an empty table's columns no chunks, which pyspark cannot read
    import pyarrow as pa

    empty = pa.table(
        {"name": pa.array([], pa.large_string()), "tags": pa.array([], pa.list_(pa.string()))}
    )
    duck = Engine()
    for engine in (duck, spark_engine):
        engine.create_table_from_arrow("nothing", empty.slice(0, 0), temporary=True)
    assert _same(duck, spark_engine, "SELECT count(*), count(tags) FROM nothing") == [(0, 0)]
    assert spark_engine.columns("nothing") == ["name", "tags"]


def test_table_names_are_the_stored_tables(spark_engine: SparkEngine) -> None:
    # DuckDB lists them in information_schema, which Spark has not
    duck, spark = _both(
        spark_engine, PEOPLE, "CREATE TEMP TABLE passing AS SELECT 1 AS one",
        "CREATE TABLE audit_b AS SELECT 1 AS one", "CREATE VIEW seen AS SELECT 1 AS one",
    )  # fmt: skip
    assert duck.table_names() == spark.table_names() == ["audit_b", "people"]


def test_a_cte_read_twice_is_computed_once(spark_engine: SparkEngine) -> None:
    # Spark computes a CTE again for every reference to it; DuckDB computes it once. The adapter
    # holds such a CTE's rows for the statement (under an alias that keeps its name), then frees
    # them; a CTE read once, and a view's CTEs, stay as written
    duck, spark = _both(
        spark_engine, PEOPLE, "INSERT INTO people (name, score) VALUES ('a', 1), ('b', 2), ('c', 2)"
    )
    before = _blocks_held(spark)
    query = """SELECT * FROM (
        WITH once AS (SELECT name, score FROM people WHERE score > 1),
             twice AS (SELECT o.name, o.score FROM once o),
             pairs AS (SELECT a.name AS l, b.name AS r FROM twice a JOIN twice AS b
                       ON a.score = b.score AND a.name < b.name)
        SELECT l, r FROM pairs UNION ALL SELECT twice.name, NULL FROM twice) hit ORDER BY 1, 2"""
    assert _same(duck, spark, query) == [("b", "c"), ("b", None), ("c", None)]
    assert _blocks_held(spark) == before
    for engine in (duck, spark):
        engine.execute(f"CREATE TEMP TABLE kept AS {query}")
        engine.execute(f"CREATE VIEW later AS {query}")
    assert _same(duck, spark, "SELECT count(*) FROM kept") == [(3,)]
    assert _same(duck, spark, "SELECT count(*) FROM later") == [(3,)]
    assert not [name for name in spark.spark.catalog.listTables() if "cb_cte" in name.name]


def test_list_concat_reads_a_null_list_as_empty(spark_engine: SparkEngine) -> None:
    # DuckDB's list_concat gives [] for two NULL lists; Spark's concat gives NULL
    duck, spark = _both(
        spark_engine, PEOPLE, "INSERT INTO people (name, tags) VALUES ('a', NULL), ('b', ['x'])"
    )
    query = "SELECT name, list_concat(tags, NULL), list_concat(tags, ['y']) FROM people ORDER BY 1"
    assert _same(duck, spark, query) == [("a", [], ["y"]), ("b", ["x"], ["x", "y"])]


def test_splink_samples_the_same_records_on_both_engines(spark_engine: SparkEngine) -> None:
    # Splink's samplers pick records by a hash bucket of their ids; the engines' own hash()
    # functions differ, so the adapter gives both the MD5's (casebridge.splink_dialects)
    duck = Engine()
    modulus = 1_000_000_000
    ids = ", ".join(f"('r{n}')" for n in range(2_000))

    def sample(engine: Engine | SparkEngine, run: Any) -> list[str]:
        bucket = engine.splink_api().sql_dialect.hash_bucket_expression("id || '_7'", modulus)
        rows = run(
            f"SELECT id FROM (VALUES {ids}) AS t(id) WHERE {bucket} < {modulus * 3 // 10} "
            "ORDER BY id"
        )
        return [str(row[0]) for row in rows]

    on_duck = sample(duck, lambda sql: duck.connection.execute(sql).fetchall())
    on_spark = sample(spark_engine, lambda sql: spark_engine.spark.sql(sql).collect())
    assert on_spark == on_duck
    assert 500 < len(on_duck) < 700  # about 30 % of 2,000: the bucket is spread evenly


def test_the_spark_tests_share_one_worker(request: pytest.FixtureRequest) -> None:
    """Under '--dist loadgroup' (make test) every Spark test carries its group, so one worker
    starts one Spark; pytest 9.2 with pytest-xdist 3.8 silently dropped it, and two workers
    each started a Spark of their own (pyproject.toml pins pytest below 9.2)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with '--dist loadgroup'")
    assert request.node.nodeid.endswith("@spark")
