"""Properties of the SQL standardisers, run in DuckDB on generated input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebridge.standard import sql

ANY_TEXT = st.text(max_size=40)
FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y", "%d %B %Y", "%Y-%m-%dT%H:%M:%S", "%m/%Y", "%Y"]
OUTWARD = st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]?", fullmatch=True)
INWARD = st.from_regex(r"[0-9][ABD-HJLNP-UW-Z]{2}", fullmatch=True)


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def evaluate(db: duckdb.DuckDBPyConnection, expression: str, values: list[Any]) -> list[Any]:
    """The expression's value for each input value bound as ``x``, in order."""
    rows = db.execute(
        f"SELECT {expression} FROM (SELECT unnest(?) AS x, generate_subscripts(?, 1) AS i) "
        "ORDER BY i",
        [values, values],
    ).fetchall()
    return [row[0] for row in rows]


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(st.lists(st.one_of(ANY_TEXT, st.builds(lambda o, i: f"{o} {i}", OUTWARD, INWARD), OUTWARD)))
def test_postcode_normalisation_is_idempotent(
    db: duckdb.DuckDBPyConnection, values: list[str]
) -> None:
    postcode, _ = sql.postcode_parts("x")
    once = evaluate(db, postcode, values)
    twice = evaluate(db, postcode, once)
    assert twice == once


@SETTINGS
@given(OUTWARD, INWARD)
def test_a_valid_postcode_in_any_spacing_normalises_to_outward_space_inward(
    db: duckdb.DuckDBPyConnection, outward: str, inward: str
) -> None:
    postcode, precision = sql.postcode_parts("x")
    variants = [f"{outward} {inward}", f"{outward}{inward}".lower(), f" {outward}  {inward} "]
    assert evaluate(db, postcode, variants) == [f"{outward} {inward}"] * 3
    assert set(evaluate(db, precision, variants)) == {"unit"}


@SETTINGS
@given(
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.sampled_from(FORMATS),
)
def test_a_date_printed_in_a_format_parses_back_to_itself(
    db: duckdb.DuckDBPyConnection, day: dt.date, fmt: str
) -> None:
    printed = day.strftime(fmt.replace("%Y", f"{day.year:04d}"))
    query = sql.parse_date_select("(SELECT ? AS x)", "x", [fmt])
    [(parsed, kept, trouble)] = db.execute(query, [printed]).fetchall()
    expected = {
        "day": day,
        "month": day.replace(day=1),
        "year": day.replace(month=1, day=1),
    }[kept]
    assert parsed == expected
    assert trouble is None


STANDARDISERS = [
    sql.clean_name("x"),
    sql.phonetic_key(sql.clean_name("x")),
    sql.skeleton_key(sql.clean_name("x")),
    sql.first_word(sql.clean_name("x")),
    sql.other_words(sql.clean_name("x")),
    sql.surname_of("x", "surname_first"),
    sql.forenames_of("x", "surname_first"),
    sql.surname_of("x", "forenames_first"),
    sql.forenames_of("x", "forenames_first"),
    *sql.postcode_parts("x"),
    sql.flag_of("x"),
    sql.outcome_code("x"),
    sql.phone_of("x"),
    sql.words_key("x"),
]


@SETTINGS
@given(st.lists(st.one_of(st.none(), ANY_TEXT, st.from_regex(r"[0-9/:T -]{0,20}", fullmatch=True))))
def test_no_input_crashes_a_standardiser(
    db: duckdb.DuckDBPyConnection, values: list[str | None]
) -> None:
    for expression in STANDARDISERS:
        assert len(evaluate(db, expression, values)) == len(values)
    dates = db.execute(sql.parse_date_select("(SELECT unnest(?) AS x)", "x", FORMATS), [values])
    assert len(dates.fetchall()) == len(values)


def test_transliterations_meet_on_the_skeleton_key(db: duckdb.DuckDBPyConnection) -> None:
    names = ["Hussain", "Hussein", "Husain", "Chowdhury", "Chaudhry"]
    keys = evaluate(db, sql.skeleton_key(sql.clean_name("x")), names)
    assert keys[0] == keys[1] == keys[2]
    assert keys[3] == keys[4]


def test_names_are_cleaned_of_titles_punctuation_and_accents(db: duckdb.DuckDBPyConnection) -> None:
    values = ["Mr. John-Paul O'Brien", "  ŁUKASZ  Wiśniewski ", "Dr Mohammed", "", None]
    assert evaluate(db, sql.clean_name("x"), values) == [
        "john paul obrien", "lukasz wisniewski", "mohammed", None, None,
    ]  # fmt: skip
