"""Names of many origins and scripts fold as their speakers would write them in ASCII."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebridge.standard import sql
from casebridge.standard.transliterate import LETTER_CATEGORIES, romanise

NAMES = Path(__file__).parent / "data" / "names_of_many_origins.csv"
CLEAN = sql.clean_name("x")


def _names() -> list[dict[str, str]]:
    lines = [line for line in NAMES.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    return list(csv.DictReader(lines))


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def folded(db: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The cleaned name ingest stores for a name as written."""
    row = db.execute(f"SELECT {CLEAN} FROM (SELECT ? AS x)", [romanise(name)]).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def test_the_table_covers_fifteen_origins_and_six_scripts() -> None:
    origins = {row["origin"].split(" (")[0] for row in _names()}
    scripts = {
        unicodedata.name(char).split()[0]
        for row in _names()
        for char in row["written"]
        if char.isalpha()
    }
    assert len(origins) >= 15
    assert {"LATIN", "CYRILLIC", "GREEK", "CJK", "ARABIC", "BENGALI"} <= scripts


@pytest.mark.parametrize("row", _names(), ids=lambda row: row["origin"])
def test_a_name_folds_as_its_speakers_write_it(
    db: duckdb.DuckDBPyConnection, row: dict[str, str]
) -> None:
    assert folded(db, row["written"]) == row["folded"]


@pytest.mark.parametrize("row", _names(), ids=lambda row: row["origin"])
def test_a_name_in_its_own_script_meets_its_usual_latin_spelling_on_the_key(
    db: duckdb.DuckDBPyConnection, row: dict[str, str]
) -> None:
    key = sql.skeleton_key(CLEAN)
    written, usual = (
        db.execute(f"SELECT {key} FROM (SELECT ? AS x)", [value]).fetchone()
        for value in (romanise(row["written"]), row["usual"])
    )
    assert written == usual


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("ΟΥ", "OU"),  # case kept, so the staged value still reads as written
        ("Ευαϊ", "Evai"),  # ϊ: α and ι are two vowels, ευ is still a digraph
        ("Νεραϊδα", "Neraida"),
        ("Αύρα", "Avra"),  # an accent on the digraph's second letter leaves it a digraph
        ("Ευθαλία", "Efthalia"),  # ευ before a voiceless consonant is ef
        ("إبراهيم", "ibrahym"),
        ("حَسَن", "hasan"),  # vowel marks, where written, are read
    ],
)
def test_romanisation_rules_follow_their_standards(written: str, expected: str) -> None:
    assert romanise(written) == expected


def test_ascii_is_left_as_it_is() -> None:
    assert romanise("O'Brien-Smith  Jr.") == "O'Brien-Smith  Jr."


def test_a_letter_without_a_reading_is_spelt_and_meets_itself() -> None:
    rare = "\U00020002"  # a CJK extension B ideograph anyascii has no reading for
    assert romanise(rare) == romanise(rare) != ""
    assert romanise(rare).isalpha() and romanise(rare).isascii()
    assert romanise(rare) != romanise("\U00020004")
    assert romanise("Li \U00012000") == "Li " + romanise("\U00012000")  # cuneiform


WITH_A_LETTER = st.builds(
    lambda before, letter, after: before + letter + after,
    st.text(max_size=8),
    st.characters(categories=sorted(LETTER_CATEGORIES)),  # type: ignore[arg-type]
    st.text(max_size=8),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(WITH_A_LETTER)
def test_folding_never_turns_a_letter_into_nothing(
    db: duckdb.DuckDBPyConnection, name: str
) -> None:
    assert folded(db, name)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_romanised_text_is_ascii_and_romanising_again_changes_nothing(name: str) -> None:
    once = romanise(name)
    assert once.isascii()
    assert romanise(once) == once
