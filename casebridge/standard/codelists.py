"""Load the shipped code lists into the engine as lookup tables (``std_*``).

Lookups are joined in SQL, so standardisation stays set-based and runs the same on Spark.
"""

from __future__ import annotations

import polars as pl

from casebridge.engine import Engine
from casebridge.standard.datafiles import OFFENCE_COLUMNS, read_standard

OUTCOME_COLUMNS = ("code", "label", "category", "victim_does_not_support", "verified")
SOA_SECTION_COLUMNS = ("section", "title", "victim_age_band", "is_penetrative", "verified")


def _frame(name: str, columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(list(read_standard(name, columns)), schema=list(columns), orient="row")


def _nationality_lookup() -> pl.DataFrame:
    """Every word typed for a nationality (codes, names, demonyms, other words) to ISO alpha-3."""
    countries = _frame("countries", ("iso3", "iso2", "name", "demonym"))
    words = _frame("nationality_words", ("word", "iso3"))
    parts = [
        countries.select(word=pl.col(c), iso3="iso3") for c in ("iso3", "iso2", "name", "demonym")
    ]
    every = pl.concat([*parts, words]).with_columns(
        word=pl.col("word").str.to_lowercase().str.strip_chars()
    )
    every = every.filter(pl.col("word") != "")
    # a word claimed by two countries is ambiguous and maps to none
    return every.unique().filter(pl.len().over("word") == 1).sort("word")


def _name_variants() -> pl.DataFrame:
    """Each known spelling (canonical ones included) to the canonical spelling of its group."""
    variants = _frame("name_variants", ("canonical", "variant"))
    every = pl.concat(
        [
            variants.select(name="variant", canonical="canonical"),
            variants.select(name="canonical", canonical="canonical").unique(),
        ]
    )
    return every.unique().filter(pl.len().over("name") == 1).sort("name")


def _nicknames() -> pl.DataFrame:
    """Each diminutive that belongs to one formal name only, to that name."""
    nicknames = _frame("nicknames", ("formal", "nickname"))
    return nicknames.unique().filter(pl.len().over("nickname") == 1).sort("nickname")


def load_code_lists(engine: Engine) -> None:
    """Create or replace every ``std_*`` lookup table from the shipped data files."""
    engine.create_table_from_arrow(
        "std_ethnicity", _frame("ethnicity_18plus1", ("code", "label", "group"))
    )
    engine.create_table_from_arrow("std_ic_code", _frame("ic_codes", ("code", "label")))
    engine.create_table_from_arrow(
        "std_dfe_ethnicity", _frame("dfe_ethnicity", ("code", "label", "code_18plus1"))
    )
    engine.create_table_from_arrow(
        "std_ethnicity_text",
        _frame("ethnicity_words", ("phrase", "code_18plus1"))
        .with_columns(pl.col("phrase").str.to_lowercase())
        .unique("phrase", keep="first", maintain_order=True),
    )
    engine.create_table_from_arrow(
        "std_ethnicity_label", _frame("ethnicity_labels", ("label_set", "phrase", "code_18plus1"))
    )
    engine.create_table_from_arrow("std_offence", _frame("offences", OFFENCE_COLUMNS))
    engine.create_table_from_arrow("std_outcome", _frame("outcome_codes", OUTCOME_COLUMNS))
    engine.create_table_from_arrow("std_soa_section", _frame("soa_sections", SOA_SECTION_COLUMNS))
    engine.create_table_from_arrow("std_nationality_word", _nationality_lookup())
    engine.create_table_from_arrow("std_name_variant", _name_variants())
    engine.create_table_from_arrow("std_nickname", _nicknames())
