"""Who is who: the planted networks and cases, and the background population around them.

Planning fixes each person's role, birth date, sex and home force before names are drawn, so
that a network's victims are children and its suspects mostly adult men when the events happen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casebridge.synth.people import FORCES, draw_home_forces
from casebridge.synth.profile import Profile, Span
from casebridge.synth.world import YEAR, days

MIN_PEOPLE = 100


@dataclass(frozen=True)
class Network:
    """A planted group: suspects tied through the victims they abused together."""

    network: int
    forces: tuple[str, ...]
    start: int
    end: int
    suspects: np.ndarray
    victims: np.ndarray
    charged: bool


@dataclass(frozen=True)
class Case:
    """A planted case with one child and one suspect (single offender, or duty report only)."""

    child: int
    suspect: int
    force: str
    date: int


@dataclass
class Plan:
    """Every person's role-bearing facts, and the planted structures that use them."""

    share_male: np.ndarray
    dob: np.ndarray
    home_force: np.ndarray
    networks: list[Network] = field(default_factory=list)
    single_cases: list[Case] = field(default_factory=list)
    unmatched_reports: list[Case] = field(default_factory=list)
    reporters: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    background: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # planted people whose every record gives the birth year only (a force that writes 1
    # January for an unknown day and month writes that)
    birth_year_only: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


class _Allocator:
    """Hands out consecutive person indices and records their facts in the plan."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.next = 0

    def take(self, count: int, share_male: float, dob: np.ndarray, force: np.ndarray) -> np.ndarray:
        people = np.arange(self.next, self.next + count)
        self.next += count
        self.plan.share_male[people] = share_male
        self.plan.dob[people] = dob
        self.plan.home_force[people] = force
        return people


def _dob_at(
    rng: np.random.Generator, when: np.ndarray | int, low: float, high: float
) -> np.ndarray:
    """Return birth dates of people aged between ``low`` and ``high`` years on ``when``."""
    size = np.size(when)
    age_days = rng.uniform(low * YEAR, high * YEAR, size=size)
    return (np.asarray(when) - age_days).astype(np.int32)


def _skewed(rng: np.random.Generator, span: Span, p: float) -> int:
    """Return a size in ``span`` drawn so that small sizes are common and large ones rare."""
    return int(min(span.max, span.min + rng.geometric(p) - 1))


def _adult_dobs(rng: np.random.Generator, when: int, count: int) -> np.ndarray:
    """Suspects: mostly adults, about one in ten aged 16 or 17."""
    adult = _dob_at(rng, np.full(count, when), 18, 55)
    youth = _dob_at(rng, np.full(count, when), 16, 17.9)
    return np.where(rng.random(count) < 0.9, adult, youth)


def _plan_networks(
    rng: np.random.Generator, profile: Profile, take: _Allocator, count: int
) -> None:
    scenarios = profile.scenarios
    first, last = days(profile.period_start), days(profile.period_end)
    for network in range(count):
        n_suspects = _skewed(rng, scenarios.network_suspects, 0.3)
        n_victims = _skewed(rng, scenarios.network_victims, 0.12)
        n_forces = int(rng.integers(scenarios.network_forces.min, scenarios.network_forces.max + 1))
        forces = tuple(sorted(rng.choice(FORCES, size=min(n_forces, 3), replace=False)))
        span = int(
            rng.integers(scenarios.network_span_days.min, scenarios.network_span_days.max + 1)
        )
        start = int(rng.integers(first, max(first + 1, last - span)))
        suspects = take.take(
            n_suspects, 0.95, _adult_dobs(rng, start, n_suspects), rng.choice(forces, n_suspects)
        )
        victims = take.take(
            n_victims,
            0.15,
            _dob_at(rng, np.full(n_victims, start), 10.5, 16.0),
            rng.choice(forces, n_victims),
        )
        charged = bool(rng.random() < profile.plants.network_charged)
        take.plan.networks.append(
            Network(network, forces, start, min(start + span, last), suspects, victims, charged)
        )


def _plan_cases(
    rng: np.random.Generator, profile: Profile, take: _Allocator, count: int
) -> list[Case]:
    first, last = days(profile.period_start), days(profile.period_end)
    dates = rng.integers(first, last, size=count).astype(np.int32)
    forces = rng.choice(FORCES, size=count)
    young = rng.random(count) < 0.1
    child_dobs = np.where(young, _dob_at(rng, dates, 8, 11), _dob_at(rng, dates, 11, 17.9))
    children = take.take(count, 0.2, child_dobs, forces)
    adults = _adult_dobs(rng, 0, count) + dates
    peers = _dob_at(rng, dates, 14, 17.9)
    suspect_dobs = np.where(rng.random(count) < 0.85, adults, peers)
    suspects = take.take(count, 0.93, suspect_dobs, forces)
    return [
        Case(int(c), int(s), str(f), int(d))
        for c, s, f, d in zip(children, suspects, forces, dates, strict=True)
    ]


def _tie_by_chance(
    rng: np.random.Generator, profile: Profile, plan: Plan, cases: list[Case]
) -> list[Case]:
    """Give a share of cases the child of an earlier, unrelated case: ties nobody planted."""
    last = days(profile.period_end)
    tied = list(cases)
    for index in np.flatnonzero(rng.random(len(cases)) < profile.scenarios.false_tie_rate):
        if index == 0:
            continue
        earlier = tied[int(rng.integers(index))]
        still_a_child = int(plan.dob[earlier.child] + 17.9 * YEAR)
        day = min(earlier.date + int(rng.integers(30, 700)), still_a_child, last)
        tied[index] = Case(
            earlier.child, cases[index].suspect, earlier.force, max(day, earlier.date)
        )
    return tied


def plan_world(rng: np.random.Generator, profile: Profile, size: int) -> Plan:
    """Return the plan for a population of ``size`` people."""
    plan = Plan(
        share_male=np.full(size, 0.5),
        dob=np.zeros(size, dtype=np.int32),
        home_force=draw_home_forces(rng, size),
    )
    take = _Allocator(plan)
    per_100k = size / 100_000
    scenarios = profile.scenarios
    budget = size // 4  # planted people never crowd out the background
    n_networks = int(round(scenarios.networks_per_100k * per_100k))
    n_networks = min(max(n_networks, 1 if scenarios.networks_per_100k else 0), budget // 60)
    _plan_networks(rng, profile, take, n_networks)
    n_single = min(int(round(scenarios.single_offender_cases_per_100k * per_100k)), budget // 8)
    plan.single_cases = _tie_by_chance(
        rng, profile, plan, _plan_cases(rng, profile, take, n_single)
    )
    n_unmatched = min(int(round(scenarios.duty_report_unmatched_per_100k * per_100k)), budget // 20)
    plan.unmatched_reports = _plan_cases(rng, profile, take, n_unmatched)
    plan.birth_year_only = np.zeros(size, dtype=bool)
    plan.birth_year_only[: take.next] = rng.random(take.next) < profile.plants.birth_year_only
    n_reporters = max(3, (n_single + n_unmatched + 10 * n_networks) // 8)
    mid = days(profile.period_end) - 3000
    reporter_dobs = _dob_at(rng, np.full(n_reporters, mid), 25, 55)
    plan.reporters = take.take(n_reporters, 0.35, reporter_dobs, draw_home_forces(rng, n_reporters))
    plan.background = np.arange(take.next, size)
    _plan_background_births(rng, profile, plan)
    return plan


def _plan_background_births(rng: np.random.Generator, profile: Profile, plan: Plan) -> None:
    """Background: one in five born late enough to be a child during the period."""
    people = plan.background
    child = rng.random(len(people)) < 0.2
    young = rng.integers(days("1996-01-01"), days("2014-12-31"), size=len(people))
    grown = rng.integers(days("1945-01-01"), days("1997-12-31"), size=len(people))
    plan.dob[people] = np.where(child, young, grown).astype(np.int32)
