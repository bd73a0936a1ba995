"""Clusters are the connected components of the linked pairs, each named by its lowest record
id, as Splink's clustering names them; found by scipy over record numbers."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from splink import DuckDBAPI
from splink.clustering import cluster_pairwise_predictions_at_threshold

from casebridge.engine import Engine
from casebridge.link.prepare import LINK_INPUT
from casebridge.link.run import _components_sql

RECORDS = 12
edge_lists = st.lists(
    st.tuples(st.integers(0, RECORDS - 1), st.integers(0, RECORDS - 1)).filter(
        lambda edge: edge[0] != edge[1]
    ),
    max_size=20,
)


def _components_of(engine: Engine) -> pl.DataFrame:
    return engine.frame(f'SELECT unique_id, cluster_id FROM "{_components_sql(engine)}"').sort(
        "unique_id"
    )


@settings(max_examples=25, deadline=None)
@given(edges=edge_lists)
def test_components_are_splinks_clusters(edges: list[tuple[int, int]]) -> None:
    engine = Engine()
    try:
        # ids whose order is not the order they were made in: the numbers follow the ids
        ids = [f"src:{(7 * i) % RECORDS:03d}" for i in range(RECORDS)]
        engine.execute(
            f"CREATE TEMP TABLE {LINK_INPUT} AS SELECT unique_id, "
            "row_number() OVER (ORDER BY unique_id) AS record_number "
            "FROM (SELECT unnest(?) AS unique_id)",
            [ids],
        )
        pairs = sorted({(min(ids[a], ids[b]), max(ids[a], ids[b])) for a, b in edges})
        engine.execute(
            "CREATE TEMP TABLE cb_edges (unique_id_l VARCHAR, unique_id_r VARCHAR, "
            "match_probability DOUBLE)"
        )
        for left, right in pairs:
            engine.execute("INSERT INTO cb_edges VALUES (?, ?, 1.0)", [left, right])
        ours = _components_of(engine)
        engine.execute(f"CREATE TEMP TABLE cb_all_nodes AS SELECT unique_id FROM {LINK_INPUT}")
        theirs = cluster_pairwise_predictions_at_threshold(
            nodes="cb_all_nodes", edges="cb_edges", node_id_column_name="unique_id",
            db_api=DuckDBAPI(connection=engine.connection), threshold_match_probability=0.0,
        )  # fmt: skip
        expected = engine.frame(
            f'SELECT unique_id, cluster_id FROM "{theirs.physical_name}" ORDER BY unique_id'
        )
        assert ours.height == RECORDS
        assert ours.equals(expected)
    finally:
        engine.close()


def test_a_workspace_with_no_links_is_a_person_per_record() -> None:
    engine = Engine()
    try:
        engine.execute(
            f"CREATE TEMP TABLE {LINK_INPUT} AS SELECT 'src:' || i AS unique_id, "
            "i AS record_number FROM range(1, 4) t(i)"
        )
        engine.execute(
            "CREATE TEMP TABLE cb_edges (unique_id_l VARCHAR, unique_id_r VARCHAR, "
            "match_probability DOUBLE)"
        )
        found = _components_of(engine)
        assert found["cluster_id"].to_list() == found["unique_id"].to_list() == [
            "src:1", "src:2", "src:3",
        ]  # fmt: skip
    finally:
        engine.close()
