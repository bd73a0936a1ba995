"""The label key that code-list phrases are looked up by: blind to case and punctuation."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casebridge.standard import sql
from casebridge.standard.datafiles import read_standard

WORDS = st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=6)
# separators seen between the parts of census and DfE labels in extracts
SEPARATORS = st.sampled_from([" ", "  ", " - ", "-", " – ", "—", ": ", ":", "/", " / ", ", ", "("])
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _key(db: duckdb.DuckDBPyConnection, value: str) -> str | None:
    row = db.execute(f"SELECT {sql.label_key('x')} FROM (SELECT ? AS x)", [value]).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


@SETTINGS
@given(WORDS, st.data())
def test_labels_that_differ_only_in_punctuation_and_case_share_a_key(
    db: duckdb.DuckDBPyConnection, words: list[str], data: st.DataObject
) -> None:
    written = words[0]
    for word in words[1:]:
        written += data.draw(SEPARATORS) + data.draw(st.sampled_from([word, word.upper()]))
    written = (
        data.draw(st.sampled_from(["", " ", "("]))
        + written
        + data.draw(st.sampled_from(["", " ", ")", "."]))
    )
    assert _key(db, written) == " ".join(words)


@SETTINGS
@given(st.text(max_size=30))
def test_the_key_is_its_own_key(db: duckdb.DuckDBPyConnection, value: str) -> None:
    key = _key(db, value)
    assert key is None or _key(db, key) == key


def test_an_ampersand_is_and_and_a_code_prefix_is_its_first_word(
    db: duckdb.DuckDBPyConnection,
) -> None:
    assert _key(db, "White & Black Caribbean") == _key(db, "White and Black Caribbean")
    prefix = sql.label_code_prefix("x")
    rest = sql.label_without_code(sql.label_key("x"))
    rows = db.execute(
        f"SELECT x, {prefix}, {rest} FROM (SELECT unnest(?) AS x)",
        [["(A2) Pakistani", "W1", "White British", "O1 Chinese"]],
    ).fetchall()
    assert rows == [
        ("(A2) Pakistani", "A2", "pakistani"),
        ("W1", "W1", None),
        ("White British", "WHITE", "white british"),
        ("O1 Chinese", "O1", "chinese"),
    ]


def test_no_two_shipped_phrases_share_a_key_but_not_a_code(db: duckdb.DuckDBPyConnection) -> None:
    """A key two codes claim reads to none; an ambiguous phrase must not also read to a code."""
    words = read_standard("ethnicity_words", ("phrase", "code_18plus1"))
    labels = read_standard("ethnicity_labels", ("label_set", "phrase", "code_18plus1"))
    ambiguous = read_standard("ethnicity_ambiguous", ("phrase", "reason"))
    phrases = [(row["phrase"], row["code_18plus1"]) for row in (*words, *labels)]
    phrases += [(row["phrase"], "ambiguous") for row in ambiguous]
    clashes = db.execute(
        f"SELECT {sql.label_key('phrase')} AS k, list(DISTINCT code ORDER BY code) "
        "FROM (SELECT unnest(?) AS phrase, unnest(?) AS code) GROUP BY k "
        "HAVING count(DISTINCT code) > 1",
        [[p for p, _ in phrases], [c for _, c in phrases]],
    ).fetchall()
    assert clashes == []
    # ingest drops a code-like first word before the lookup: no phrase may start with one
    keys = db.execute(
        f"SELECT {sql.label_key('phrase')} FROM (SELECT unnest(?) AS phrase)",
        [[p for p, _ in phrases]],
    ).fetchall()
    stripped = sql.label_without_code("k")
    changed = db.execute(
        f"SELECT k FROM (SELECT unnest(?) AS k) WHERE {stripped} IS DISTINCT FROM k",
        [[k for (k,) in keys]],
    ).fetchall()
    assert changed == []
