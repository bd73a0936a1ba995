"""A middle name is weighed by how common it is among people of the same forename.

The conventions are as "A Guide to Names and Naming Practices" (UK, 2006) describes them: a
Vietnamese woman's middle name is very often *Thị* and a man's *Văn*, and a Sikh woman's is
*Kaur*; written without tone marks, as a British system keeps them. Among all the records of a
workspace such a middle name is rare; among the records of the people it goes with it is
near-certain, so two different women sharing it share little. The names are invented.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from casebridge.engine import Engine
from casebridge.link.frequencies import (
    MIDDLE_WITH_FORENAME,
    MINIMUM_FORENAME_RECORDS,
    key_sql,
    middle_frequency_sql,
)
from tests.spark import untranspilable

TABLE = "cb_test_middle"


def _frequencies(records: list[tuple[str, str | None]]) -> dict[tuple[str, str], float]:
    """(forename, middle names) → the frequency the lookup gives, for ``records``."""
    engine = Engine()
    try:
        engine.execute(f"CREATE TABLE {TABLE} (forename VARCHAR, middle_names VARCHAR)")
        engine.connection.executemany(f"INSERT INTO {TABLE} VALUES (?, ?)", records)
        engine.execute(
            f"CREATE TABLE cb_test_keyed AS SELECT *, {key_sql('forename', 'middle_names')} "
            f"AS {MIDDLE_WITH_FORENAME} FROM {TABLE}"
        )
        rows = engine.query(f"SELECT * FROM ({middle_frequency_sql('cb_test_keyed')})")
    finally:
        engine.close()
    return {tuple(key.split("|", 1)): tf for key, tf in rows}  # type: ignore[misc]


def _workspace() -> list[tuple[str, str | None]]:
    """A British workspace with a few Vietnamese women among its records: 'oanh' is a
    Vietnamese woman's given name, nearly always with 'thi'; British middle names vary."""
    british = ["james", "anne", "louise", "edward", "grace", "peter", "rose", "john"]
    records: list[tuple[str, str | None]] = [
        ("harriet", british[i % len(british)]) for i in range(400)
    ]
    records += [("corvin", british[(i * 3) % len(british)]) for i in range(400)]
    records += [("oanh", "thi")] * 27 + [("oanh", "ngoc")] * 3 + [("oanh", None)] * 10
    return records


def test_a_middle_name_nearly_every_holder_of_a_forename_has_weighs_little() -> None:
    tf = _frequencies(_workspace())
    overall = 27 / 830  # 'thi' among every record with a forename and middle names
    assert math.isclose(tf[("oanh", "thi")], (27 + 20 * overall) / (30 + 20))
    # a middle name's weight is log2(u / tf): its frequency given 'oanh' is some 25 times
    # its share of the workspace, about 4.7 bits less
    assert math.log2(tf[("oanh", "thi")] / overall) > 4


def test_a_middle_name_spread_like_the_workspace_keeps_its_weight() -> None:
    tf = _frequencies(_workspace())
    # 'james' is as common among the harriets as in the workspace: its share, or near it
    overall = 100 / 830
    assert overall <= tf[("harriet", "james")] < 1.1 * overall


def test_a_forename_with_few_records_gives_the_workspaces_share() -> None:
    records = _workspace() + [("thuy", "thi")] * (MINIMUM_FORENAME_RECORDS - 1)
    tf = _frequencies(records)
    assert math.isclose(tf[("thuy", "thi")], (27 + MINIMUM_FORENAME_RECORDS - 1) / (830 + 19))


def test_the_lookup_transpiles_to_spark() -> None:
    assert untranspilable([middle_frequency_sql("link_input")]) == []


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["lan", "kavita", "ruth", "dara"]),
            st.one_of(st.none(), st.sampled_from(["thi", "van", "kaur", "mary"])),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_a_frequency_given_the_forename_is_never_below_the_workspaces_share(
    records: list[tuple[str, str | None]],
) -> None:
    held = [(f, m) for f, m in records if m is not None]
    tf = _frequencies(records)
    assert set(tf) == set(held)
    for (_, middle), frequency in tf.items():
        share = sum(1 for _, m in held if m == middle) / len(held)
        assert share - 1e-12 <= frequency <= 1 + 1e-12
