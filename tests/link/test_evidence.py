"""Evidence beyond the fields compared: shared ties to a third person, placeholder birth dates."""

from __future__ import annotations

from datetime import date

import pytest

from casebridge.engine import Engine
from casebridge.link.model import SAME_ADDRESS
from casebridge.link.prepare import prepare_link_input
from casebridge.link.ties import apply_ties, estimate_ties
from casebridge.standard.tables import create_tables


def _involve(engine: Engine, rows: list[tuple[str, str, str]]) -> None:
    for event, record, role in rows:
        engine.execute(
            "INSERT INTO involvement (source, event_id, record_id, role) VALUES ('x', ?, ?, ?)",
            [event, record, role],
        )


def test_records_tied_to_the_same_person_gain_weight() -> None:
    engine = Engine()
    try:
        create_tables(engine)
        # two victim records of one child (v1, v2: one first-pass person), and two suspect
        # records (s1, s2) that the fields alone leave apart; t1 and t2 are one suspect
        _involve(engine, [
            ("e1", "s1", "suspect"), ("e1", "v1", "victim"), ("e1", "t1", "suspect"),
            ("e2", "s2", "suspect"), ("e2", "v2", "victim"), ("e2", "t2", "suspect"),
            ("e3", "w1", "suspect"), ("e3", "r1", "reporter"), ("e4", "w2", "suspect"),
            ("e4", "r2", "reporter"),
        ])  # fmt: skip
        engine.execute(
            "CREATE TABLE cb_first AS SELECT * FROM (VALUES ('s1', 'S1'), ('s2', 'S2'), "
            "('v1', 'V'), ('v2', 'V'), ('t1', 'T'), ('t2', 'T'), ('w1', 'W1'), ('w2', 'W2'), "
            "('r1', 'R'), ('r2', 'R')) AS f(record_id, cluster_id)"
        )
        engine.execute(
            "CREATE TABLE match_pair AS SELECT * FROM (VALUES ('s1', 's2', -1.0, 0.33), "
            "('v1', 'v2', 20.0, 0.999999), ('t1', 't2', 20.0, 0.999999), "
            "('w1', 'w2', -1.0, 0.33), ('s1', 't1', -1.0, 0.33)) "
            "AS m(record_l, record_r, match_weight, match_probability)"
        )
        evidence = estimate_ties(engine, "cb_first")
        assert evidence is not None and evidence.agree_weight > 0 > evidence.disagree_weight
        apply_ties(engine, evidence)
        scored = dict(
            engine.query(
                "SELECT record_l || record_r, match_weight FROM match_pair ORDER BY record_l"
            )
        )
        levels = dict(engine.query("SELECT record_l || record_r, gamma_shared_tie FROM match_pair"))
    finally:
        engine.close()
    assert scored["s1s2"] == pytest.approx(-1.0 + evidence.agree_weight)
    # a reporter ties nothing together: w1 and w2 only lose the little that not sharing costs
    assert scored["w1w2"] == pytest.approx(-1.0 + evidence.disagree_weight)
    # s1 and t1 are both tied to the child, but named on one event: two men, no tie weight
    assert levels == {"s1s2": 1, "v1v2": 1, "t1t2": 1, "w1w2": 0, "s1t1": 0}


def test_no_estimate_without_pairs_to_learn_from() -> None:
    engine = Engine()
    try:
        create_tables(engine)
        _involve(engine, [("e1", "a", "suspect"), ("e1", "b", "victim")])
        engine.execute(
            "CREATE TABLE cb_first AS SELECT * FROM (VALUES ('a', 'A'), ('b', 'B')) "
            "AS f(record_id, cluster_id)"
        )
        engine.execute(
            "CREATE TABLE match_pair AS SELECT * FROM (VALUES ('a', 'b', -5.0, 0.03)) "
            "AS m(record_l, record_r, match_weight, match_probability)"
        )
        assert estimate_ties(engine, "cb_first") is None
    finally:
        engine.close()


def _person(engine: Engine, record: str, source: str, born: date) -> None:
    engine.execute(
        "INSERT INTO person_record (record_id, source, local_id, forename, surname, "
        "date_of_birth, dob_precision) VALUES (?, ?, ?, 'ann', 'lee', ?, 'day')",
        [record, source, record, born],
    )


def test_a_source_full_of_first_januaries_gives_years_not_dates() -> None:
    engine = Engine()
    try:
        create_tables(engine)
        for day in range(1, 29):  # an even spread of birthdays, with one 1 January
            _person(engine, f"even{day}", "even", date(1990, 1 + day % 12, day))
        _person(engine, "even-jan", "even", date(1990, 1, 1))
        for n in range(20):  # a source that writes 1 January for a year it only knows
            _person(engine, f"filled{n}", "filled", date(1970 + n, 1, 1))
        _person(engine, "filled-real", "filled", date(1985, 6, 3))
        prepare_link_input(engine)
        rows = {
            uid: (dob, year)
            for uid, dob, year in engine.query("SELECT unique_id, dob, dob_year FROM link_input")
        }
    finally:
        engine.close()
    assert rows["even-jan"] == (date(1990, 1, 1), 1990)
    assert rows["filled3"] == (None, 1973)
    assert rows["filled-real"] == (date(1985, 6, 3), 1985)


def test_an_alias_misspelt_or_reordered_meets_the_name_it_stands_for() -> None:
    engine = Engine()
    try:
        create_tables(engine)
        for record, forename, surname, aliases in (
            ("a", "bradley", "ollie", ["olie bradley", "brad"]),  # written the other way round
            ("b", "ollie", "bradley", []),
            ("c", "sahra", "hussein", None),
        ):
            engine.execute(
                "INSERT INTO person_record (record_id, source, local_id, forename, surname, "
                "aliases) VALUES (?, 'x', ?, ?, ?, ?)",
                [record, record, forename, surname, aliases],
            )
        prepare_link_input(engine)
        keys = {
            uid: (name, aliases)
            for uid, name, aliases in engine.query(
                "SELECT unique_id, name_key, alias_keys FROM link_input"
            )
        }
    finally:
        engine.close()
    assert keys["b"][0] in keys["a"][1]  # 'olie bradley' and 'ollie bradley' share a key
    assert keys["a"][0] not in keys["a"][1]
    assert keys["b"][1] is None and keys["c"][1] is None  # no aliases: nothing to compare


def test_one_address_written_two_ways_is_the_same_house_only_in_its_district() -> None:
    engine = Engine()
    try:
        create_tables(engine)
        for record, address, postcode in (
            ("a", "12 High St.", "LS1 4AB"),
            ("b", "12, high  st", "LS1 9ZZ"),  # same district, another unit: a mistyped postcode
            ("c", "12 High St", "WF3 1AA"),  # the same street name in another town
            ("d", "14 High St", "LS1 4AB"),
            ("f", "3 Rue Éloïse", "LS1 4AB"),
            ("g", "3 rue eloise", "LS1 4AB"),
            ("e", None, "LS1 4AB"),
        ):
            engine.execute(
                "INSERT INTO person_record (record_id, source, local_id, surname, address, "
                "postcode, postcode_precision) VALUES (?, 'x', ?, 'lee', ?, ?, 'unit')",
                [record, record, address, postcode],
            )
        prepare_link_input(engine)
        same = engine.query(
            "SELECT l.unique_id || r.unique_id FROM (SELECT unique_id, "
            "address_key AS address_key_l, postcode_district AS postcode_district_l "
            "FROM link_input) l, (SELECT unique_id, address_key AS address_key_r, "
            "postcode_district AS postcode_district_r FROM link_input) r "
            f"WHERE l.unique_id < r.unique_id AND {SAME_ADDRESS}"
        )
    finally:
        engine.close()
    assert sorted(same) == [("ab",), ("fg",)]
