"""A second look inside clusters: score every pair of records in a cluster, and keep apart
those the model scores as clearly different.

Connected components chain: A matches B and B matches C, so A and C land together even when
their own comparison says they are different people (two men of one name and different birth
dates, joined through a record that knows only the name). Every pair inside a cluster of three
or more (up to a size) is scored with the same model; a pair below CONTRADICTION is kept apart
as a cannot-link would be, unless an analyst judged it the same.
"""

from __future__ import annotations

import logging

import polars as pl
from splink import Linker

from casebridge.engine import Engine
from casebridge.link.frequencies import register_frequencies_given_forename
from casebridge.link.prepare import LINK_INPUT
from casebridge.link.train import Trained

CONTRADICTION = 0.01
LARGEST_RECHECKED = 60  # pairs grow with the square of a cluster's size
TABLE = "cb_recheck_input"


def contradictions(engine: Engine, trained: Trained, clusters: pl.DataFrame) -> pl.DataFrame:
    """(record_l, record_r) pairs inside a cluster that the model scores as clearly different."""
    sizes = clusters.group_by("cluster_id").len()
    chosen = sizes.filter((pl.col("len") >= 3) & (pl.col("len") <= LARGEST_RECHECKED))
    members = clusters.join(chosen.select("cluster_id"), on="cluster_id")
    empty = pl.DataFrame(schema={"record_l": pl.String, "record_r": pl.String})
    if members.is_empty():
        return empty
    engine.create_table_from_arrow("cb_recheck_members", members, temporary=True)
    engine.execute(
        f"CREATE OR REPLACE TABLE {TABLE} AS SELECT l.*, m.cluster_id AS recheck_cluster "
        f"FROM {LINK_INPUT} l JOIN cb_recheck_members m ON m.record_id = l.unique_id"
    )
    try:
        model = trained.linker.misc.save_model_to_json(None)
        model["blocking_rules_to_generate_predictions"] = [
            {"blocking_rule": 'l."recheck_cluster" = r."recheck_cluster"', "sql_dialect": "duckdb"}
        ]
        # the trained model, checked when it was made: Splink need not check it again
        linker = Linker(
            trained.db_api.register(TABLE), model, log_level=logging.ERROR, validate_settings=False
        )
        register_frequencies_given_forename(engine, linker, trained.db_api, TABLE)
        scored = linker.inference.predict()
        found = engine.frame(
            "SELECT unique_id_l AS record_l, unique_id_r AS record_r "
            f'FROM "{scored.physical_name}" WHERE match_probability < {CONTRADICTION}'
        )
    finally:
        engine.execute(f"DROP TABLE IF EXISTS {TABLE}")
    return found
