"""The distinct values a workspace's code lists did not know, with their counts, so a user can
extend the lists (``W/codes/*.csv``, docs/codes.md) in one pass.

Read from the ``finding`` table: every value ingest set aside as an ``unknown_code`` or, for
free text (ethnicity phrases, nationality words), as ``unmapped_text``.
"""

from __future__ import annotations

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import CasebridgeError
from casebridge.ingest.mapping import load_mapping
from casebridge.standard.codelists import CODES_FOLDER
from casebridge.workspace import Workspace

# (a section written in words, 'Rape', is no key a sections list could hold: not listed)
UNKNOWN_PROBLEMS = ("unknown_code", "unmapped_text")
# the finding's field -> the code list its values are looked up in
FIELD_LISTS = {
    "role": "roles",
    "sex": "sex_words",
    "offence": "offences",
    "outcome": "outcome_codes",
    "ethnicity_officer": "ic_codes",
    "nationality": "nationality_words",
    "country": "nationality_words",  # countries are looked up among the nationality words
}
# self-defined ethnicity: the list follows the mapping's ``codes``; 18+1 codes are the standard
# itself and are not extended (map the source's codes with ``map`` instead)
ETHNICITY_LISTS = {"text": "ethnicity_words", "dfe": "dfe_ethnicity", "18plus1": ""}
COLUMNS = ("field", "code_list", "add_to", "raw_value", "count", "sources")


def _ethnicity_lists(workspace: Workspace) -> pl.DataFrame:
    """(source, code_list) for self-defined ethnicity, from each source's mapping."""
    rows = []
    for source in workspace.settings.sources:
        try:
            mapping = load_mapping(workspace.mapping_path(source))
        except CasebridgeError:
            continue  # a mapping that no longer loads: the default list is named
        specs = [block.ethnicity_self for block in mapping.persons if block.ethnicity_self]
        codes = (specs[0].codes if specs else None) or "text"
        rows.append((source.key, ETHNICITY_LISTS[codes]))
    return pl.DataFrame(
        rows, schema={"source": pl.String, "ethnicity_list": pl.String}, orient="row"
    )


def unknown_values(engine: Engine, workspace: Workspace) -> pl.DataFrame:
    """Every distinct unknown value: field, code list, the workspace file to add it to, the raw
    value, how many rows carry it and in which sources; the most frequent first."""
    problems = ", ".join(f"'{problem}'" for problem in UNKNOWN_PROBLEMS)
    found = engine.frame(
        "SELECT field, source, raw_value, count(*) AS count FROM finding "
        f"WHERE problem IN ({problems}) AND raw_value IS NOT NULL GROUP BY field, source, raw_value"
    )
    # an outcome with a digit in it is taken for a code, anything else for a word
    outcome_word = (pl.col("field") == "outcome") & ~pl.col("raw_value").str.contains("[0-9]")
    listed = (
        found.join(_ethnicity_lists(workspace), on="source", how="left")
        .with_columns(
            code_list=pl.when(outcome_word)
            .then(pl.lit("outcome_words"))
            .when(pl.col("field") == "ethnicity_self")
            .then(pl.col("ethnicity_list").fill_null(ETHNICITY_LISTS["text"]))
            .otherwise(pl.col("field").replace_strict(FIELD_LISTS, default=""))
        )
        .group_by("field", "code_list", "raw_value")
        .agg(pl.col("count").sum(), sources=pl.col("source").unique().sort().str.join(", "))
    )
    add_to = pl.when(pl.col("code_list") != "").then(
        pl.lit(f"{CODES_FOLDER}/") + pl.col("code_list") + pl.lit(".csv")
    )
    return (
        listed.with_columns(add_to=add_to.otherwise(pl.lit("")))
        .select(COLUMNS)
        .sort(["count", "field", "raw_value"], descending=[True, False, False])
    )
