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

from dataclasses import dataclass

from splink import Linker
from splink.internals.comparison_vector_values import (
    compute_comparison_vector_values_from_id_pairs_sqls,
)
from splink.internals.misc import threshold_args_to_match_weight
from splink.internals.pipeline import CTEPipeline
from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings
from splink.internals.term_frequencies import term_frequencies_for_single_column_sql

from casebridge.engine import Engine
from casebridge.link.frequencies import KEYS, frequency_sql
from casebridge.link.prepare import LINK_INPUT

SCORE_INPUT = "cb_score_input"
TF_PREFIX = "cb_term_frequency_"
TF_VIEW = "cb_term_frequency_counted"


@dataclass(frozen=True)
class Scoring:
    """What :func:`prepare_scoring` made: the statement that scores pairs (:func:`score`) and
    the tables of term frequencies it reads."""

    sql: str
    tables: tuple[str, ...]


def prepare_scoring(engine: Engine, linker: Linker) -> Scoring:
    """Create the view pairs are scored from (SCORE_INPUT: every record of ``link_input`` with
    the term frequencies of the columns the linker's model adjusts for them) and return the
    statement that scores pairs (:func:`scoring_sql`) with the tables it reads. Drop them with
    :func:`drop_scoring`.

    The term frequencies are Splink's statement (a value's share of the records that hold the
    column) run here into tables of its own, not through Splink's cache: a linker made later
    on the same connection (the second look inside clusters, ``link/recheck.py``) would take
    them from that cache instead of counting over its own records. A view, not a copy: each
    side's join reads the records once to build its table."""
    selected, joined, tables = ["i.*"], [], []
    columns = linker._settings_obj._term_frequency_columns
    for number, column in enumerate(sorted(columns, key=lambda c: c.unquote().name)):
        table = f"{TF_PREFIX}{number}"
        tables.append(table)
        name = column.unquote().name
        if name in KEYS:
            # a name's share given the forename: casebridge's own statement
            sql = frequency_sql(LINK_INPUT, name)
            engine.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
        else:
            # Splink's statement, in the engine's own dialect: read through a view
            engine.native_view(TF_VIEW, term_frequencies_for_single_column_sql(column, LINK_INPUT))
            engine.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {TF_VIEW}")
            engine.execute(f"DROP VIEW {TF_VIEW}")
        plain = column.unquote()
        selected.append(f't{number}."{plain.tf_name}"')
        joined.append(f'LEFT JOIN {table} t{number} ON t{number}."{plain.name}" = i."{plain.name}"')
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW {SCORE_INPUT} AS SELECT {', '.join(selected)} "
        f"FROM {LINK_INPUT} i {' '.join(joined)}"
    )
    return Scoring(scoring_sql(linker), tuple(tables))


def drop_scoring(engine: Engine, scoring: Scoring) -> None:
    """Drop the view and tables :func:`prepare_scoring` made."""
    engine.execute(f"DROP VIEW IF EXISTS {SCORE_INPUT}")
    for table in scoring.tables:
        engine.execute(f"DROP TABLE IF EXISTS {table}")


PAIRS = "cb_pairs_to_score"  # where the statement of :func:`scoring_sql` reads its pairs
SCORING = "cb_scoring"  # the view of Splink's scoring statement over PAIRS


def scoring_sql(linker: Linker) -> str:
    """The statement that scores every pair of table ``PAIRS`` (match_key, number_l, number_r:
    record numbers of ``link_input``) with the linker's model, reading SCORE_INPUT. Made once
    and run for each table of pairs (:func:`score`): building Splink's statements costs as much
    as running them on a small workspace."""
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
        predict_from_comparison_vectors_sqls_using_settings(settings, None, None)
    )
    return pipeline.generate_cte_pipeline_sql()


def score(engine: Engine, sql: str, pairs: str, scored: str, floor: float | None = None) -> str:
    """Score the pairs of table or view ``pairs`` with ``sql`` (from :func:`scoring_sql`) into
    the temporary table ``scored`` (as Splink's ``predict`` gives them, with ``match_key``),
    keeping those with match probability at or above ``floor`` (all, for None), as Splink's
    threshold does (on the match weight the probability gives); return its name."""
    weight = threshold_args_to_match_weight(floor, None)
    kept = "" if weight is None else f" WHERE match_weight >= {weight}"
    engine.execute(f"CREATE OR REPLACE TEMP VIEW {PAIRS} AS SELECT * FROM {pairs}")
    try:
        # Splink wrote ``sql`` in the engine's own dialect: a view over it, read in portable SQL
        engine.native_view(SCORING, sql)
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {scored} AS SELECT * FROM {SCORING}{kept}")
    finally:
        engine.execute(f"DROP VIEW IF EXISTS {SCORING}")
        engine.execute(f"DROP VIEW {PAIRS}")
    return scored
