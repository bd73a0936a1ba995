"""Agreeing on a surname is weighed by how common the full name is, not the two names apart.

Where names follow a custom, a forename goes with a few surnames far more often than chance
(link/frequencies.py): two different people who share such a full name are common, and the
surname's own share of the records made them look like one person. The names are invented.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from casebridge.engine import Engine
from casebridge.link.frequencies import (
    LIFT_PRIOR,
    SURNAME_WITH_FORENAME,
    full_name_frequency_sql,
    key_sql,
)
from tests.spark import untranspilable

TABLE = "cb_test_full_name"
Record = tuple[str, str | None, int | None]  # forename, surname, birth year


def _frequencies(records: list[Record]) -> dict[tuple[str, str], float]:
    """(forename, surname) → the frequency the lookup gives, for ``records``."""
    engine = Engine()
    try:
        engine.execute(
            f"CREATE TABLE {TABLE} (forename VARCHAR, surname VARCHAR, birth_year INTEGER)"
        )
        engine.connection.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?)", records)
        engine.execute(
            f"CREATE TABLE cb_test_keyed AS SELECT *, {key_sql('forename', 'surname')} "
            f"AS {SURNAME_WITH_FORENAME} FROM {TABLE}"
        )
        rows = engine.query(f"SELECT * FROM ({full_name_frequency_sql('cb_test_keyed')})")
    finally:
        engine.close()
    return {tuple(key.split("|", 1)): tf for key, tf in rows}  # type: ignore[misc]


FORENAMES = [f"fore{letter}" for letter in "abcdefghijklmnopqrst"]
SURNAMES = [f"sur{letter}" for letter in "abcdefghijklmnopqrst"]


def _workspace() -> list[Record]:
    """Twenty forenames and twenty surnames held independently, each full name by two people;
    and thirty people of one custom, all called 'tovik parr', born in thirty different years."""
    records: list[Record] = [
        (forename, surname, year)
        for forename in FORENAMES
        for surname in SURNAMES
        for year in (1980, 1990)
    ]
    records += [("tovik", "parr", 1960 + year) for year in range(30)]
    return records


def test_a_full_name_a_custom_gives_many_people_weighs_less() -> None:
    records = _workspace()
    tf = _frequencies(records)
    share = 30 / len(records)  # 'parr' among all records
    people = 800 + 30
    expected = 30 * 30 / people  # holders of 'tovik parr' if the names were independent
    lift = (30 - 1 + LIFT_PRIOR) / (expected + LIFT_PRIOR)
    assert math.isclose(tf[("tovik", "parr")], share * lift)
    # the surname's weight is log2(u / tf): over two bits less than its share alone gives
    assert math.log2(lift) > 2


def test_a_full_name_held_as_chance_gives_keeps_the_surnames_share() -> None:
    records = _workspace()
    tf = _frequencies(records)
    assert math.isclose(tf[("forea", "sura")], 40 / len(records))


def test_one_persons_several_records_are_one_holder() -> None:
    # one 'mirel vantor', born 1975, in twelve records: a rare name, however many records
    records = _workspace() + [("mirel", "vantor", 1975)] * 12
    tf = _frequencies(records)
    assert math.isclose(tf[("mirel", "vantor")], 12 / len(records))


def test_the_lookup_transpiles_to_spark() -> None:
    assert untranspilable([full_name_frequency_sql("link_input")]) == []


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["lan", "kavita", "ruth", "dara"]),
            st.one_of(st.none(), st.sampled_from(["nguyen", "kaur", "ali", "price"])),
            st.one_of(st.none(), st.integers(1950, 1960)),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_a_full_names_frequency_is_between_the_surnames_share_and_one(
    records: list[Record],
) -> None:
    held = [surname for _, surname, _ in records if surname is not None]
    tf = _frequencies(records)
    assert {name for name in tf} == {(f, s) for f, s, _ in records if s is not None}
    for (_, surname), frequency in tf.items():
        share = held.count(surname) / len(held)
        assert share - 1e-12 <= frequency <= 1
