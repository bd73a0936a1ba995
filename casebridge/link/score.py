"""Score blocked pairs with a trained model: Splink's own SQL for comparison levels and weights,
run over pairs of record numbers.

Splink's ``predict`` on a registered table of blocked pairs first copies, for each side, every
record that the pairs name (a semi join of the records against the pairs on their text ids:
at 1,000,000 records and 12.7 million pairs, 14 of its 34 seconds), then joins the pairs to
those copies on the text ids. Nearly every record is in some pair, so the copies save nothing.
Here the records are read with their term frequencies and their number
(``record_number`` of ``link_input``, in the order of their ids), and the pairs
(``link/blocking.py``: match_key, number_l, number_r) are joined to it on the numbers. What is
computed for each pair (the comparison vectors, the weights, the probability, the threshold)
is Splink's SQL, taken from Splink's functions, so that the scores are Splink's own (a test
compares them). The statement is built once and run on each table of pairs (a sample, then the
rest: ``link/pruning.py``), into a temporary table: Splink writes its scores into the
workspace's database file, in which they never stay.
"""

from __future__ import annotations

from splink import Linker
from splink.internals.comparison_vector_values import (
    compute_comparison_vector_values_from_id_pairs_sqls,
)
from splink.internals.pipeline import CTEPipeline
from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings

from casebridge.engine import Engine
from casebridge.link.prepare import LINK_INPUT

SCORE_INPUT = "cb_score_input"


def prepare_scoring(engine: Engine, linker: Linker) -> str:
    """Create the view pairs are scored from: every record of ``link_input`` with the term
    frequencies of the linker's model (Splink's tables, made by Splink, dropped with the
    linker's working tables); return its name. Drop it with :func:`drop_scoring`.

    A view, not a copy: each side's join reads the records once to build its table."""
    selected, joined = ["i.*"], []
    columns = linker._settings_obj._term_frequency_columns
    for number, column in enumerate(sorted(columns, key=lambda c: c.unquote().name)):
        name = column.unquote().name
        table = linker.table_management.compute_tf_table(name).physical_name
        selected.append(f"t{number}.{column.tf_name}")
        joined.append(f'LEFT JOIN "{table}" t{number} ON t{number}.{column.name} = i.{column.name}')
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW {SCORE_INPUT} AS SELECT {', '.join(selected)} "
        f"FROM {LINK_INPUT} i {' '.join(joined)}"
    )
    return SCORE_INPUT


def drop_scoring(engine: Engine) -> None:
    """Drop the table :func:`prepare_scoring` made."""
    engine.execute(f"DROP VIEW IF EXISTS {SCORE_INPUT}")


PAIRS = "cb_pairs_to_score"  # where the statement of :func:`scoring_sql` reads its pairs


def scoring_sql(linker: Linker, floor: float | None) -> str:
    """The statement that scores the pairs of table ``PAIRS`` (match_key, number_l, number_r:
    record numbers of ``link_input``) with the linker's model, keeping those with match
    probability at or above ``floor`` (all, for None); :func:`prepare_scoring` must have run.
    Made once and run for each table of pairs (:func:`score`): building Splink's statements
    costs as much as running them on a small workspace."""
    settings = linker._settings_obj
    columns = ",\n".join([*settings._columns_to_select_for_blocking, "b.match_key"])
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(
        f"""SELECT {columns}
        FROM {PAIRS} AS b
        JOIN {SCORE_INPUT} AS l ON l.record_number = b.number_l
        JOIN {SCORE_INPUT} AS r ON r.record_number = b.number_r""",
        "blocked_with_cols",
    )
    # Splink's comparison vectors over "blocked_with_cols" (its first statement, the join on
    # text ids, is the one replaced above)
    vectors = compute_comparison_vector_values_from_id_pairs_sqls(
        settings._columns_to_select_for_blocking,
        settings._columns_to_select_for_comparison_vector_values,
        input_tablename_l=SCORE_INPUT,
        input_tablename_r=SCORE_INPUT,
        source_dataset_input_column=settings.column_info_settings.source_dataset_input_column,
        unique_id_input_column=settings.column_info_settings.unique_id_input_column,
        link_type=settings._link_type,
        sql_dialect_str=linker._sql_dialect_str,
    )
    if [step["output_table_name"] for step in vectors] != [
        "blocked_with_cols",
        "__splink__df_comparison_vectors",
    ]:
        raise AssertionError("Splink's comparison-vector statements changed shape")
    pipeline.enqueue_list_of_sqls(vectors[1:])
    pipeline.enqueue_list_of_sqls(
        predict_from_comparison_vectors_sqls_using_settings(settings, floor, None)
    )
    return pipeline.generate_cte_pipeline_sql()


def score(engine: Engine, sql: str, pairs: str, scored: str) -> str:
    """Score the pairs of table or view ``pairs`` with ``sql`` (from :func:`scoring_sql`) into
    the temporary table ``scored`` (as Splink's ``predict`` gives them, with ``match_key``);
    return its name."""
    engine.execute(f"CREATE OR REPLACE TEMP VIEW {PAIRS} AS SELECT * FROM {pairs}")
    try:
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {scored} AS {sql}")
    finally:
        engine.execute(f"DROP VIEW {PAIRS}")
    return scored
