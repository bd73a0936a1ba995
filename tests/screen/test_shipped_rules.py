"""Each shipped rule on a hand-built workspace where it must fire, and on ones where it must not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from casebridge.screen.prepare import prepare_screening
from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from tests.screen.world import World

Build = Callable[[World], None]


def _pair(world: World, suspect_age: int = 30, victim_age: int = 14) -> tuple[str, str]:
    suspect = world.record("force_a:S1", "P1")
    victim = world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F")
    return suspect, victim


def _case(offence: str = "22B", outcome: str | None = "16", victim_age: int = 14,
          suspect_age: int | None = 30, penetrative: bool = True) -> Build:  # fmt: skip
    def build(world: World) -> None:
        suspect, victim = _pair(world)
        event = world.crime("force_a:E1", offence, outcome=outcome, penetrative=penetrative)
        world.involve(event, suspect, "suspect", suspect_age)
        world.involve(event, victim, "victim", victim_age)

    return build


def _fires(world: World, shipped: list[Rule], rule: str, build: Build) -> set[str]:
    build(world)
    screen(world.engine, shipped)
    return world.fired(rule)


R1_FIRES = {
    "s9 with penetration": _case("22B", "16"),
    "rape closed without charge": _case("19D", "16"),
    "rape charged as s9": _case("22B", "1"),
    "age mistyped as 16, code says under 16": _case("22B", "16", victim_age=16),
    "suspect's age not recorded": _case("22B", "16", suspect_age=None),
}
R1_QUIET = {
    "rape, charged": _case("19D", "1"),
    "rape, still open": _case("19D", None),
    "under 13 (code 19E)": _case("19E", "16", victim_age=12),
    "suspect aged 16": _case("22B", "16", suspect_age=16),
    "not penetrative": _case("22B", "16", penetrative=False),
}


@pytest.mark.parametrize("build", R1_FIRES.values(), ids=R1_FIRES.keys())
def test_r1_fires_on_a_downgraded_or_dropped_penetrative_offence(
    world: World, shipped: list[Rule], build: Build
) -> None:
    assert _fires(world, shipped, "R1", build) == {"event:force_a:E1"}


@pytest.mark.parametrize("build", R1_QUIET.values(), ids=R1_QUIET.keys())
def test_r1_keeps_quiet_otherwise(world: World, shipped: list[Rule], build: Build) -> None:
    assert _fires(world, shipped, "R1", build) == set()


@pytest.mark.parametrize("outcome", ["14", "15", "16", "10", "21", "9"])
def test_r2_fires_on_a_child_case_closed_so(
    world: World, shipped: list[Rule], outcome: str
) -> None:
    assert _fires(world, shipped, "R2", _case("88A", outcome)) == {"event:force_a:E1"}


@pytest.mark.parametrize(
    "build", [_case("88A", "1"), _case("88A", "20"), _case("20A", "16", victim_age=25)],
    ids=["charged", "passed to another body", "adult victim"],
)  # fmt: skip
def test_r2_keeps_quiet_otherwise(world: World, shipped: list[Rule], build: Build) -> None:
    assert _fires(world, shipped, "R2", build) == set()


def _two_children(charged: bool) -> Build:
    def build(world: World) -> None:
        suspect = world.record("force_a:S1", "P1")
        first = world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F")
        second = world.record("force_b:V2", "C2", name=("zoe", "hall"), sex="F")
        world.case("force_a:E1", suspect, first, outcome="1" if charged else "16")
        world.case("force_b:E2", world.record("force_b:S1", "P1"), second, outcome="20")

    return build


def test_r3_fires_on_an_uncharged_suspect_of_two_children(
    world: World, shipped: list[Rule]
) -> None:
    assert _fires(world, shipped, "R3", _two_children(charged=False)) == {"person:P1"}


def test_r3_keeps_quiet_once_the_suspect_was_charged(world: World, shipped: list[Rule]) -> None:
    assert _fires(world, shipped, "R3", _two_children(charged=True)) == set()


def test_r3_keeps_quiet_for_one_child(world: World, shipped: list[Rule]) -> None:
    assert _fires(world, shipped, "R3", _case()) == set()


def _network(charged: str, suspects: list[str]) -> Build:
    def build(world: World) -> None:
        world.case("force_a:E1", world.record("force_a:S1", "P1"),
                   world.record("force_a:V1", "C1"), outcome=charged)  # fmt: skip
        world.case("force_a:E2", world.record("force_a:S2", "P2"),
                   world.record("force_a:V2", "C2"), outcome="16")  # fmt: skip
        world.network("N1", suspects, ["C1", "C2"])

    return build


def test_r4_fires_where_another_member_of_the_network_was_charged(
    world: World, shipped: list[Rule]
) -> None:
    assert _fires(world, shipped, "R4", _network("1", ["P1", "P2"])) == {"event:force_a:E2"}


@pytest.mark.parametrize(
    "build", [_network("16", ["P1", "P2"]), _network("1", ["P2"])],
    ids=["nobody charged", "charged man not in the network"],
)  # fmt: skip
def test_r4_keeps_quiet_otherwise(world: World, shipped: list[Rule], build: Build) -> None:
    assert _fires(world, shipped, "R4", build) == set()


def _missing(episodes: int, child_person: str = "C1", score: float | None = None) -> Build:
    def build(world: World) -> None:
        _case()(world)
        child = world.record("la:K1", child_person, name=("amy", "jones"), sex="F")
        if score is not None:
            world.match("la:K1", "force_a:V1", score)
        for number in range(episodes):
            event = world.episode(f"la:M{number}", "missing", dt.date(2020, 1, 1 + number))
            world.involve(event, child, "subject", 14)

    return build


def test_r5_fires_on_a_child_missing_three_times_and_named_as_a_victim(
    world: World, shipped: list[Rule]
) -> None:
    assert _fires(world, shipped, "R5", _missing(3)) == {"person:C1"}


def test_r5_keeps_quiet_for_two_episodes(world: World, shipped: list[Rule]) -> None:
    assert _fires(world, shipped, "R5", _missing(2)) == set()


def test_r5_follows_a_possible_match_that_linking_left_apart(
    world: World, shipped: list[Rule]
) -> None:
    assert _fires(world, shipped, "R5", _missing(3, "C9", score=0.4)) == {"person:C9"}
    [(detail,)] = world.engine.query("SELECT detail FROM review_reason WHERE rule_id = 'R5'")
    assert "force_a:V1, a possible match (probability 0.4)" in detail


def test_r5_keeps_quiet_for_a_weaker_score(world: World, shipped: list[Rule]) -> None:
    assert _fires(world, shipped, "R5", _missing(3, "C9", score=0.05)) == set()


def _duty_report(world: World, suspect_person: str | None, child_person: str | None) -> None:
    report = world.episode("dtr:D1", "duty_report")
    world.involve(report, world.record("dtr:D1-S1", suspect_person, name=("jack", "ball")),
                  "suspect", 40)  # fmt: skip
    world.involve(report, world.record("dtr:D1-C", child_person, name=("amy", "jones"),
                                       sex="F"), "victim", 14)  # fmt: skip


def _known_from_a_theft(world: World, name: tuple[str, str] = ("jack", "ball")) -> None:
    theft = world.crime("force_a:T1", "46", outcome="1", penetrative=False)
    world.involve(theft, world.record("force_a:S9", "P1", name=name,
                                      born=dt.date(1980, 3, 1)), "suspect", 38)  # fmt: skip


def test_r6_fires_on_a_report_of_a_known_man_never_investigated_for_the_child(
    world: World, shipped: list[Rule]
) -> None:
    def build(world: World) -> None:
        _known_from_a_theft(world)
        _duty_report(world, "P1", "C1")

    assert _fires(world, shipped, "R6", build) == {"event:dtr:D1"}


def test_r6_finds_an_unlinked_suspect_by_a_near_identical_name(
    world: World, shipped: list[Rule]
) -> None:
    def build(world: World) -> None:
        _known_from_a_theft(world, ("jackk", "ball"))
        _duty_report(world, None, None)

    assert _fires(world, shipped, "R6", build) == {"event:dtr:D1"}
    [detail] = world.engine.query("SELECT detail FROM review_reason WHERE rule_id = 'R6'")[0]
    assert "nearly the same name" in detail


@pytest.mark.parametrize("linked", [True, False], ids=["linked", "by name alone"])
def test_r6_keeps_quiet_when_the_police_investigated_him_for_that_child(
    world: World, shipped: list[Rule], linked: bool
) -> None:
    def build(world: World) -> None:
        _known_from_a_theft(world)
        world.case("force_a:E1", world.record("force_a:S1", "P1", name=("jack", "ball")),
                   world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F"))  # fmt: skip
        _duty_report(world, "P1", "C1" if linked else None)

    assert _fires(world, shipped, "R6", build) == set()


def test_r6_keeps_quiet_for_a_man_the_police_do_not_know(world: World, shipped: list[Rule]) -> None:
    assert _fires(world, shipped, "R6", lambda w: _duty_report(w, "P1", "C1")) == set()


def _suspect_record(ethnicity: str | None, nationality: str | None) -> Build:
    def build(world: World) -> None:
        suspect = world.record("force_a:S1", "P1", ethnicity=ethnicity, nationality=nationality)
        world.case("force_a:E1", suspect, world.record("force_a:V1", "C1"))

    return build


@pytest.mark.parametrize(("ethnicity", "nationality"), [(None, "GBR"), ("A2", None), (None, None)])
def test_r7_fires_on_a_suspect_without_ethnicity_or_nationality(
    world: World, shipped: list[Rule], ethnicity: str | None, nationality: str | None
) -> None:
    build = _suspect_record(ethnicity, nationality)
    assert _fires(world, shipped, "R7", build) == {"event:force_a:E1"}


def test_r7_keeps_quiet_when_both_are_recorded(world: World, shipped: list[Rule]) -> None:
    assert _fires(world, shipped, "R7", _suspect_record("A2", "GBR")) == set()


def _two_agencies(charged: bool, concern: tuple[str, str], concern_person: str | None) -> Build:
    def build(world: World) -> None:
        suspect = world.record("force_a:S1", "PN1", name=("jack", "ball"))
        child = world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F")
        world.case("force_a:E1", suspect, child, outcome="1" if charged else "16")
        assessment = world.episode("la:A1", "cse_assessment")
        world.involve(assessment, world.record("la:K1", "C1", name=("amy", "jones"), sex="F"),
                      "subject", 14)  # fmt: skip
        world.involve(assessment, world.record("la:L1", concern_person, name=concern),
                      "person_of_concern", 31)  # fmt: skip

    return build


def test_r8_fires_on_an_uncharged_man_named_by_police_and_social_care(
    world: World, shipped: list[Rule]
) -> None:
    assert _fires(world, shipped, "R8", _two_agencies(False, ("jack", "ball"), "PN1")) == {
        "person:PN1"
    }


def test_r8_reads_an_unlinked_near_namesake_named_with_the_same_child_as_the_same_man(
    world: World, shipped: list[Rule]
) -> None:
    build = _two_agencies(False, ("jackk", "bal"), None)
    assert _fires(world, shipped, "R8", build) == {"person:PN1"}


@pytest.mark.parametrize(
    "build",
    [_two_agencies(True, ("jack", "ball"), "PN1"), _two_agencies(False, ("omar", "khan"), None)],
    ids=["charged", "another man"],
)
def test_r8_keeps_quiet_otherwise(world: World, shipped: list[Rule], build: Build) -> None:
    assert _fires(world, shipped, "R8", build) == set()


def _split_suspect(score: float) -> Build:
    """One man split by linking into P1 (police, with child C1) and P2 (a duty report, with a
    child linking also left as two persons, C1 and C9), scored ``score`` by the linker."""

    def build(world: World) -> None:
        world.case("force_a:E1", world.record("force_a:S1", "P1", name=("jack", "ball")),
                   world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F"))  # fmt: skip
        report = world.episode("dtr:D1", "duty_report")
        world.involve(report, world.record("dtr:D1-S1", "P2", name=("jon", "bell")), "suspect", 40)
        world.involve(report, world.record("dtr:D1-C", "C9", name=("amie", "jones"), sex="F"),
                      "victim", 14)  # fmt: skip
        world.match("dtr:D1-S1", "force_a:S1", score)

    return build


def test_r8_reads_two_suspects_the_linker_scored_highly_as_one_whatever_the_children(
    world: World, shipped: list[Rule]
) -> None:
    assert _fires(world, shipped, "R8", _split_suspect(0.7)) == {"person:P1"}
    [(detail,)] = world.engine.query("SELECT detail FROM review_reason WHERE rule_id = 'R8'")
    expected = "dtr:D1-S1 is read as the same suspect: scored as a possible match (probability 0.7)"
    assert expected in detail


def test_r8_keeps_two_suspects_apart_on_a_weaker_score(world: World, shipped: list[Rule]) -> None:
    assert _fires(world, shipped, "R8", _split_suspect(0.4)) == set()


def test_two_suspects_named_in_one_report_are_never_read_as_one(world: World) -> None:
    world.case("force_a:E1", world.record("force_a:S1", "P1", name=("jack", "ball")),
               world.record("force_a:V1", "C1", name=("amy", "jones"), sex="F"))  # fmt: skip
    world.involve("force_a:E1", world.record("force_a:S2", "P2", name=("jack", "bell")),
                  "suspect", 31)  # fmt: skip
    world.match("force_a:S1", "force_a:S2", 0.9)
    prepare_screening(world.engine)
    assert world.engine.query("SELECT * FROM screen_suspect_match") == []
