"""Ages as ranges: a birth date known to the year only (or written as 1 January by a source that
writes that for an unknown day and month) allows two ages on a given day, and the rules weigh
both, saying "age uncertain" where the range straddles their threshold.

Each world is written as ingest leaves it: ``age_at_event`` is what ingest computes from the
record's own birth date (for a year alone: the event's year less the birth year, the oldest the
child may be)."""

from __future__ import annotations

import datetime as dt

from casebridge.screen.rules import Rule
from casebridge.screen.run import screen
from tests.screen.world import DAY, World

BORN_2002 = dt.date(2002, 1, 1)  # on DAY (1 June 2020): 17 or 18 if only the year is known


def _closed_case(world: World, victim: str, victim_age: int, offence: str = "20A") -> str:
    """A sexual assault (20A: the code fixes no child age band) closed with outcome 16."""
    event = world.crime("force_a:E1", offence, outcome="16", penetrative=False)
    world.involve(event, world.record("force_a:S1", "P1", born=dt.date(1980, 5, 5)),
                  "suspect", 40)  # fmt: skip
    world.involve(event, victim, "victim", victim_age)
    return event


def _detail(world: World, rule: str) -> str:
    [(detail,)] = world.engine.query("SELECT detail FROM review_reason WHERE rule_id = ?", [rule])
    return str(detail)


def test_a_victim_born_in_a_known_year_only_may_be_17_and_is_kept_as_a_child(
    world: World, shipped: list[Rule]
) -> None:
    victim = world.record("force_a:V1", "C1", born=BORN_2002, precision="year", sex="F")
    _closed_case(world, victim, DAY.year - BORN_2002.year)  # ingest's age: 18
    screen(world.engine, shipped)
    assert world.fired("R2") == {"event:force_a:E1"}
    assert "victim force_a:V1 aged 17 or 18: age uncertain" in _detail(world, "R2")
    [(reason,)] = world.engine.query("SELECT reason FROM review_item")
    assert "age uncertain" in reason


def _placeholder_source(world: World, january_firsts: int) -> None:
    """force_b records that write 1 January far more often than the calendar gives."""
    for number in range(january_firsts):
        world.record(f"force_b:F{number}", born=dt.date(1970 + number, 1, 1))


def test_a_first_of_january_in_a_source_that_writes_it_for_unknown_days_reads_as_a_year(
    world: World, shipped: list[Rule]
) -> None:
    _placeholder_source(world, 12)
    victim = world.record("force_b:V1", "C1", born=BORN_2002, sex="F")  # to the day, as read
    _closed_case(world, victim, 18)
    screen(world.engine, shipped)
    assert world.fired("R2") == {"event:force_a:E1"}
    assert "age uncertain" in _detail(world, "R2")


def test_a_first_of_january_is_a_birthday_where_the_source_shows_no_such_habit(
    world: World, shipped: list[Rule]
) -> None:
    _placeholder_source(world, 3)  # too few to be a pattern
    victim = world.record("force_b:V1", "C1", born=BORN_2002, sex="F")
    _closed_case(world, victim, 18)
    screen(world.engine, shipped)
    assert world.fired("R2") == set()


def test_a_year_whose_every_age_is_adult_is_not_a_child(world: World, shipped: list[Rule]) -> None:
    victim = world.record("force_a:V1", "C1", born=dt.date(2000, 1, 1), precision="year")
    _closed_case(world, victim, 20)
    screen(world.engine, shipped)
    assert world.fired("R2") == set()


def test_the_person_s_birth_date_to_the_day_settles_a_year_only_record(
    world: World, shipped: list[Rule]
) -> None:
    world.record("la:K1", "C1", born=dt.date(2002, 3, 1), sex="F")  # 18 on 1 June 2020
    victim = world.record("force_a:V1", "C1", born=BORN_2002, precision="year", sex="F")
    _closed_case(world, victim, 18)
    screen(world.engine, shipped)
    assert world.fired("R2") == set()


def test_a_month_allows_the_ages_of_its_first_and_last_days(
    world: World, shipped: list[Rule]
) -> None:
    # born in June 2002: 17 on 1 June 2020 unless born that very day
    victim = world.record("force_a:V1", "C1", born=dt.date(2002, 6, 1), precision="month")
    _closed_case(world, victim, 18)
    screen(world.engine, shipped)
    assert world.fired("R2") == {"event:force_a:E1"}
    assert "aged 17 or 18: age uncertain" in _detail(world, "R2")


def test_r1_keeps_a_suspect_who_may_be_an_adult_and_says_his_age_is_uncertain(
    world: World, shipped: list[Rule]
) -> None:
    suspect = world.record("force_a:S1", "P1", born=BORN_2002, precision="year")
    victim = world.record("force_a:V1", "C1", born=dt.date(2006, 2, 2), sex="F")
    event = world.crime("force_a:E1", "22B", outcome="16")
    world.involve(event, suspect, "suspect", 18)
    world.involve(event, victim, "victim", 14)
    screen(world.engine, shipped)
    assert world.fired("R1") == {"event:force_a:E1"}
    assert "suspect aged 17 or 18 (age uncertain: may be under 18)" in _detail(world, "R1")


def test_r3_counts_a_child_who_may_be_17_and_says_so(world: World, shipped: list[Rule]) -> None:
    first = world.record("force_a:V1", "C1", name=("amy", "jones"), born=dt.date(2006, 2, 2))
    second = world.record("force_b:V2", "C2", name=("zoe", "hall"), born=BORN_2002,
                          precision="year")  # fmt: skip
    for number, victim, age in ((1, first, 14), (2, second, 18)):
        event = world.crime(f"force_a:E{number}", "20A", outcome="20", penetrative=False)
        world.involve(event, world.record(f"force_a:S{number}", "P1"), "suspect", 30)
        world.involve(event, victim, "victim", age)
    screen(world.engine, shipped)
    assert world.fired("R3") == {"person:P1"}
    assert "child force_b:V2 aged 17 or 18: age uncertain" in _detail(world, "R3")
