"""R5 on any later record of a repeatedly missing child, ranked; R9 on adults named as a concern
in a referral about a child whom no police record names with that child."""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from tests.screen.world import World

EPISODES = (dt.date(2019, 1, 5), dt.date(2019, 2, 9), dt.date(2019, 4, 1))


def _missing_child(world: World, person: str = "C1", ref: str = "la:K1") -> str:
    """A child's social-care record with three missing episodes in early 2019."""
    child = world.record(ref, person, name=("amy", "jones"), born=dt.date(2005, 3, 3), sex="F")
    for number, day in enumerate(EPISODES):
        world.involve(world.episode(f"la:M{person}{number}", "missing", day), child, "subject")
    return child


def _weight(world: World, item: str) -> float:
    [(weight,)] = world.engine.query(
        "SELECT weight FROM review_reason WHERE rule_id = 'R5' AND item_id = ?", [item]
    )
    return float(weight)


def test_r5_finds_a_missing_child_in_any_later_record_and_ranks_by_what_it_is(
    world: World, shipped: list[Rule]
) -> None:
    # C1: later the victim of a sexual offence; C2: later a suspect in a shoplifting;
    # C3: later the subject of a referral for neglect
    _missing_child(world, "C1", "la:K1")
    world.case("force_a:E1", world.record("force_a:S1", "P1"), world.record("force_a:V1", "C1"))
    _missing_child(world, "C2", "la:K2")
    theft = world.crime("force_b:T1", "46", outcome="8", penetrative=False)
    world.involve(theft, world.record("force_b:Y2", "C2"), "suspect", 15)
    _missing_child(world, "C3", "la:K3")
    world.involve(world.episode("la:R3", "referral"), world.record("la:K3b", "C3"), "subject")
    screen(world.engine, shipped)
    assert world.fired("R5") == {"person:C1", "person:C2", "person:C3"}
    ranks = [_weight(world, f"person:C{number}") for number in (1, 2, 3)]
    assert ranks == [3.0, 2.0, 1.0]
    [(detail,)] = world.engine.query(
        "SELECT detail FROM review_reason WHERE item_id = 'person:C2' AND rule_id = 'R5'"
    )
    assert detail == "3 missing episodes; later suspect in a crime (46)"
    priority = dict(world.engine.query("SELECT item_id, priority FROM review_item"))
    assert priority["person:C1"] > priority["person:C2"] > priority["person:C3"]


def test_r5_keeps_quiet_where_the_other_record_came_before_the_episodes(
    world: World, shipped: list[Rule]
) -> None:
    _missing_child(world)
    theft = world.crime("force_b:T1", "46", outcome="8", penetrative=False,
                        day=dt.date(2018, 6, 1))  # fmt: skip
    world.involve(theft, world.record("force_b:Y1", "C1"), "victim", 13)
    screen(world.engine, shipped)
    assert world.fired("R5") == set()


@pytest.mark.parametrize(("score", "fires"), [(0.6, True), (0.3, False)])
def test_r5_asks_a_stronger_score_of_a_namesake_in_a_record_of_the_lowest_rank(
    world: World, shipped: list[Rule], score: float, fires: bool
) -> None:
    _missing_child(world)
    world.involve(world.episode("la:R9", "referral"), world.record("la:K9", "C9"), "subject")
    world.match("la:K1", "la:K9", score)
    screen(world.engine, shipped)
    assert world.fired("R5") == ({"person:C1"} if fires else set())


def _referral(
    world: World,
    adult_person: str | None = "A1",
    *,
    adult_name: tuple[str, str] = ("jack", "ball"),
    adult_age: int | None = 35,
    kind: str = "referral",
    source: str = "la",
) -> str:
    """A referral about a child (aged 12) naming an adult of concern by name and age only."""
    referral = world.episode(f"{source}:R1", kind)
    world.involve(referral, world.record(f"{source}:K1", "C1", name=("amy", "jones"),
                                         born=dt.date(2008, 2, 2), sex="F"), "subject")  # fmt: skip
    world.involve(referral, world.record(f"{source}:A1", adult_person, name=adult_name),
                  "person_of_concern", adult_age)  # fmt: skip
    return referral


def _police_crime(world: World, suspect: tuple[str, str], suspect_person: str | None,
                  born: dt.date = dt.date(1985, 4, 4)) -> None:  # fmt: skip
    """An assault on the child (linked to her person) with this suspect."""
    crime = world.crime("force_a:E7", "105A", outcome="16", penetrative=False)
    world.involve(crime, world.record("force_a:V7", "C1", name=("amy", "jones"),
                                      born=dt.date(2008, 2, 2), sex="F"), "victim", 12)  # fmt: skip
    world.involve(crime, world.record("force_a:S7", suspect_person, name=suspect, born=born),
                  "suspect", 35)  # fmt: skip


def test_r9_fires_on_an_adult_of_concern_no_police_record_names_with_the_child(
    world: World, shipped: list[Rule]
) -> None:
    _referral(world)
    screen(world.engine, shipped)
    assert world.fired("R9") == {"event:la:R1"}
    cited = world.engine.query(
        "SELECT record_id, role FROM review_evidence WHERE rule_id = 'R9' AND record_id IS NOT NULL"
    )
    assert sorted(cited) == [("la:A1", "adult of concern"), ("la:K1", "child")]
    assert (
        "no police record names them together"
        in world.engine.query("SELECT detail FROM review_reason WHERE rule_id = 'R9'")[0][0]
    )


@pytest.mark.parametrize(
    ("suspect", "suspect_person"),
    [(("jack", "ball"), "A1"), (("jak", "ball"), None), (("ball", "jack"), None)],
    ids=["linked", "unlinked, nearly the same name", "unlinked, names swapped"],
)
def test_r9_keeps_quiet_where_a_police_record_names_the_adult_with_the_child(
    world: World, shipped: list[Rule], suspect: tuple[str, str], suspect_person: str | None
) -> None:
    _referral(world)
    _police_crime(world, suspect, suspect_person)
    screen(world.engine, shipped)
    assert world.fired("R9") == set()


@pytest.mark.parametrize(
    ("suspect", "born"),
    [(("omar", "khan"), dt.date(1985, 4, 4)), (("jack", "ball"), dt.date(1960, 4, 4))],
    ids=["another man", "a namesake 25 years older"],
)
def test_r9_fires_where_the_child_s_police_record_names_someone_else(
    world: World, shipped: list[Rule], suspect: tuple[str, str], born: dt.date
) -> None:
    _referral(world)
    _police_crime(world, suspect, None, born)
    screen(world.engine, shipped)
    assert world.fired("R9") == {"event:la:R1"}


@pytest.mark.parametrize(
    "build",
    [
        lambda world: _referral(world, adult_age=16),
        lambda world: _referral(world, kind="duty_report", source="dtr"),
        lambda world: _referral(world, source="force_b"),
        lambda world: _referral(world, kind="missing"),
    ],
    ids=["a 16-year-old", "a duty report (R6's)", "held by the police", "a missing episode"],
)
def test_r9_keeps_quiet_otherwise(world: World, shipped: list[Rule], build: object) -> None:
    build(world)  # type: ignore[operator]
    screen(world.engine, shipped)
    assert world.fired("R9") == set()


def test_r9_says_age_uncertain_for_an_adult_who_may_be_17(
    world: World, shipped: list[Rule]
) -> None:
    referral = world.episode("la:R1", "referral")
    world.involve(referral, world.record("la:K1", "C1", born=dt.date(2008, 2, 2)), "subject")
    adult = world.record("la:A1", "A1", name=("jack", "ball"), born=dt.date(2002, 1, 1),
                         precision="year")  # fmt: skip
    world.involve(referral, adult, "person_of_concern", 18)
    screen(world.engine, shipped)
    assert world.fired("R9") == {"event:la:R1"}
    detail = world.engine.query("SELECT detail FROM review_reason WHERE rule_id = 'R9'")[0][0]
    assert "aged 17 or 18" in detail and "age uncertain" in detail
