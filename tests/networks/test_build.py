"""The networks stage on tiny hand-built workspaces: what makes a group and what does not."""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.networks.run import build_networks
from casebridge.workspace import NetworkSettings
from tests.networks.builders import add_event, link_record, new_engine

DEFAULTS = NetworkSettings()
SUSPECT, VICTIM = ("suspect", 35), ("victim", 14)


def _networks(engine: Engine) -> list[tuple[str, int, int]]:
    return [
        (str(n), int(s), int(v))
        for n, s, v in engine.query(
            "SELECT network_id, suspects, victims FROM network ORDER BY network_id"
        )
    ]


def _edges(engine: Engine) -> dict[tuple[str, str, str], tuple[list[str], list[str]]]:
    rows = engine.query("SELECT person_a, person_b, kind, events, sources FROM network_edge")
    return {(a, b, kind): (events, sources) for a, b, kind, events, sources in rows}


def test_two_suspects_through_a_shared_victim_are_a_group() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": SUSPECT, "V1": VICTIM}, on="2019-03-01")
    add_event(engine, "E2", {"S2": SUSPECT, "V1": VICTIM}, on="2019-06-01", source="force_b")
    summary = build_networks(engine, DEFAULTS)
    assert (summary.networks, summary.members) == (1, 3)
    assert _networks(engine) == [("N-S1", 2, 1)]
    network = engine.query(
        "SELECT events, sources, forces, first_date, last_date, source_keys FROM network"
    )
    assert network == [(2, 2, 2, dt.date(2019, 3, 1), dt.date(2019, 6, 1), ["force_a", "force_b"])]


def test_a_lone_suspect_with_two_victims_is_not_a_group() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": SUSPECT, "V1": VICTIM})
    add_event(engine, "E2", {"S1": SUSPECT, "V2": VICTIM})
    assert build_networks(engine, DEFAULTS).networks == 0
    assert _networks(engine) == []


def test_co_suspects_in_one_event_are_a_group() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S2": SUSPECT, "S1": SUSPECT, "V1": VICTIM})
    build_networks(engine, DEFAULTS)
    assert _networks(engine) == [("N-S1", 2, 1)]
    assert _edges(engine)[("S1", "S2", "co_suspect")] == (["force_a:E1"], ["force_a"])


def test_edges_carry_the_events_and_sources_behind_them() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": SUSPECT, "V1": VICTIM})
    add_event(engine, "E2", {"S1": SUSPECT, "V1": VICTIM}, source="force_b")
    add_event(engine, "D1", {"S2": SUSPECT, "V1": VICTIM, "R1": ("reporter", None)},
              source="dtr", kind="duty_report", band=None)  # fmt: skip
    build_networks(engine, DEFAULTS)
    edges = _edges(engine)
    assert edges[("S1", "V1", "suspect_victim")] == (
        ["force_a:E1", "force_b:E2"],
        ["force_a", "force_b"],
    )
    assert edges[("S2", "V1", "suspect_victim")] == (["dtr:D1"], ["dtr"])
    assert edges[("S1", "S2", "shared_victim")] == (
        ["dtr:D1", "force_a:E1", "force_b:E2"],
        ["dtr", "force_a", "force_b"],
    )
    assert len(edges) == 3  # the reporter ties nobody
    assert engine.query("SELECT sources, forces FROM network") == [(3, 2)]


def test_everyday_crime_and_adult_sexual_offences_make_no_group() -> None:
    engine = new_engine()
    add_event(engine, "A1", {"S1": SUSPECT, "S2": SUSPECT, "V1": ("victim", 15)}, band=None)
    add_event(engine, "A2", {"S3": SUSPECT, "S4": SUSPECT, "V2": ("victim", 30)},
              band="16plus")  # fmt: skip
    assert build_networks(engine, DEFAULTS).networks == 0


def test_a_victim_of_unknown_age_joins_a_network_but_does_not_make_one() -> None:
    engine = new_engine()
    add_event(engine, "U1", {"S1": SUSPECT, "S2": SUSPECT, "V1": ("victim", None)},
              band="13plus")  # fmt: skip
    assert build_networks(engine, DEFAULTS).networks == 0
    add_event(engine, "E1", {"S1": SUSPECT, "V2": VICTIM})
    build_networks(engine, DEFAULTS)
    assert _networks(engine) == [("N-S1", 2, 2)]


def test_the_linked_persons_birth_date_fills_a_missing_age() -> None:
    engine = new_engine()
    add_event(engine, "A1", {"S1": SUSPECT, "S2": SUSPECT, "V1": ("victim", None)},
              band="16plus", on="2020-05-01")  # fmt: skip
    engine.execute("INSERT INTO person VALUES ('V1', DATE '1990-01-01')")
    assert build_networks(engine, DEFAULTS).networks == 0  # an adult, known from elsewhere
    engine.execute("UPDATE person SET date_of_birth = DATE '2002-05-02' WHERE person_id = 'V1'")
    assert build_networks(engine, DEFAULTS).networks == 1  # 17 on the day


def test_a_window_keeps_ties_far_apart_in_time_from_making_a_group() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": SUSPECT, "V1": VICTIM}, on="2012-01-01")
    add_event(engine, "E2", {"S2": SUSPECT, "V1": VICTIM}, on="2015-01-01")
    assert build_networks(engine, NetworkSettings(window_days=365)).networks == 0
    assert build_networks(engine, NetworkSettings(window_days=1200)).networks == 1
    assert build_networks(engine, DEFAULTS).networks == 1


def test_more_suspects_can_be_required() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": SUSPECT, "S2": SUSPECT, "V1": VICTIM})
    assert build_networks(engine, NetworkSettings(min_suspects=3)).networks == 0


def test_person_of_concern_counts_only_when_chosen() -> None:
    engine = new_engine()
    add_event(engine, "C1", {"S1": ("person_of_concern", 30), "V1": ("subject", 14)},
              source="la", kind="cse_assessment", band=None)  # fmt: skip
    add_event(engine, "E1", {"S2": SUSPECT, "V1": VICTIM})
    assert build_networks(engine, DEFAULTS).networks == 0
    chosen = NetworkSettings(
        suspect_roles=("suspect", "offender", "person_of_concern"),
        victim_roles=("victim", "subject"),
    )
    assert build_networks(engine, chosen).networks == 1
    assert engine.query("SELECT sources, forces FROM network") == [(2, 1)]


def _one_man_twice(engine: Engine, probability: float) -> None:
    add_event(engine, "D1", {"S1": SUSPECT, "V1": VICTIM}, source="dtr", kind="duty_report",
              band=None)  # fmt: skip
    add_event(engine, "E1", {"S2": SUSPECT, "V1": VICTIM})
    engine.execute("INSERT INTO match_pair VALUES ('dtr:S1', 'force_a:S2', ?)", [probability])


def test_suspects_the_linkage_thought_may_be_one_man_are_not_a_group() -> None:
    engine = new_engine()
    _one_man_twice(engine, 0.6)
    summary = build_networks(engine, DEFAULTS)
    assert (summary.networks, summary.set_aside) == (0, 1)
    assert build_networks(engine, NetworkSettings(same_person_floor=0.7)).networks == 1


def test_an_analysts_different_verdict_restores_the_group() -> None:
    engine = new_engine()
    _one_man_twice(engine, 0.6)
    engine.execute(
        "INSERT INTO match_judgement VALUES ('dtr:S1', 'force_a:S2', 'different', 'checked', "
        "'analyst', TIMESTAMP '2025-01-01 10:00:00')"
    )
    assert build_networks(engine, DEFAULTS).networks == 1
    assert engine.query("SELECT suspects, distinct_suspects FROM network") == [(2, 2)]


def test_co_suspects_are_two_people_whatever_their_records_score() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S1": SUSPECT, "S2": SUSPECT, "V1": VICTIM})
    engine.execute("INSERT INTO match_pair VALUES ('force_a:S1', 'force_a:S2', 0.8)")
    assert build_networks(engine, DEFAULTS).networks == 1


def test_the_broker_is_the_most_central_suspect() -> None:
    engine = new_engine()
    add_event(engine, "E1", {"S2": SUSPECT, "V1": VICTIM})
    add_event(engine, "E2", {"S2": SUSPECT, "S1": SUSPECT, "V2": VICTIM})
    add_event(engine, "E3", {"S1": SUSPECT, "V3": VICTIM})
    add_event(engine, "E4", {"S3": SUSPECT, "V3": VICTIM})
    build_networks(engine, DEFAULTS)
    [(central,)] = engine.query("SELECT central_suspects FROM network")
    assert central[:2] == ["S1", "S2"]
    scores = dict(engine.query("SELECT person_id, centrality FROM network_member"))
    assert scores["S1"] > scores["S2"] > scores["S3"] == 0.0
    events = dict(engine.query("SELECT person_id, events FROM network_member"))
    assert (events["S1"], events["V3"], events["V1"]) == (2, 2, 1)


def _tables(engine: Engine) -> list[list[tuple[object, ...]]]:
    return [
        engine.query(f"SELECT * FROM {table} ORDER BY ALL")
        for table in ("network", "network_member", "network_edge")
    ]


def _two_groups(engine: Engine, order: list[str]) -> None:
    events = {
        "E1": {"S7": SUSPECT, "V1": VICTIM},
        "E2": {"S3": SUSPECT, "V1": VICTIM},
        "E3": {"S5": SUSPECT, "S4": SUSPECT, "V2": VICTIM},
    }
    for name in order:
        add_event(engine, name, events[name])


def test_reruns_and_row_order_give_the_same_tables_and_ids() -> None:
    first, second = new_engine(), new_engine()
    _two_groups(first, ["E1", "E2", "E3"])
    _two_groups(second, ["E3", "E2", "E1"])
    build_networks(first, DEFAULTS)
    once = _tables(first)
    build_networks(first, DEFAULTS)
    build_networks(second, DEFAULTS)
    assert _tables(first) == once == _tables(second)
    assert [row[0] for row in once[0]] == ["N-S3", "N-S4"]
    assert first.scalar("SELECT count(*) FROM run WHERE stage = 'networks'") == 2


def test_no_working_table_is_left_behind() -> None:
    engine = new_engine()
    _two_groups(engine, ["E1", "E2", "E3"])
    build_networks(engine, DEFAULTS)
    left = engine.query(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'cb_network%' "
        "OR table_name LIKE '__splink%'"
    )
    assert left == []


def test_an_empty_workspace_gives_empty_tables() -> None:
    engine = new_engine()
    link_record(engine, "force_a", "P1")
    summary = build_networks(engine, DEFAULTS)
    assert (summary.networks, summary.members, summary.edges) == (0, 0, 0)
    assert engine.columns("network")[:10] == [
        "network_id", "suspects", "victims", "events", "sources", "forces", "first_date",
        "last_date", "central_suspects", "distinct_suspects",
    ]  # fmt: skip
    assert engine.columns("network_member") == [
        "network_id", "person_id", "role", "events", "centrality",
    ]  # fmt: skip
    assert engine.columns("network_edge") == [
        "network_id", "person_a", "person_b", "kind", "events", "sources",
    ]  # fmt: skip


def test_without_persons_it_says_to_link_first() -> None:
    engine = Engine()
    with pytest.raises(UsageError, match="casebridge link"):
        build_networks(engine, DEFAULTS)
