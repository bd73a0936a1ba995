"""Events of the planted networks and cases: crimes, social-care episodes and duty reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from casebridge.synth.people import People, load_yaml
from casebridge.synth.plan import Case, Network, Plan
from casebridge.synth.profile import Profile
from casebridge.synth.world import EPOCH, NO_DATE, YEAR, EventLog, days

LA_SOURCE = "la"
DUTY_SOURCE = "dtr"
# closures of crimes with a named suspect: evidential difficulties (15, 16: the victim does not
# support action) or not in the public interest (10, 21); 14 and 18 need an unidentified suspect
NOT_SUPPORTING = {"15": 0.25, "16": 0.55, "10": 0.1, "21": 0.1}
OTHER_CLOSURES = {"20": 0.3, "17": 0.05, "": 0.65}  # "" = still under investigation
REPORTER_ROLES = ("teacher", "school nurse", "youth worker", "GP", "sports coach", "foster carer")
REPORT_TEXTS = (
    "seen getting into cars with older men after school",
    "disclosed being given alcohol and gifts at a flat",
    "has new phones and money that are not explained",
    "has been missing overnight and returned with injuries",
    "named an older man as a boyfriend and is frightened of him",
)


@dataclass
class _Context:
    rng: np.random.Generator
    profile: Profile
    people: People
    log: EventLog
    la_force: str
    offences: dict[str, object]
    extracted: int
    reporters: np.ndarray
    period_start: int
    period_end: int

    def choice(self, shares: dict[str, float]) -> str:
        keys = list(shares)
        weights = np.array([shares[key] for key in keys], dtype=float)
        return keys[int(self.rng.choice(len(keys), p=weights / weights.sum()))]

    def age(self, person: int, day: int) -> int:
        """Age in whole years on ``day``, as the law counts it."""
        return calendar_age(int(self.people.dob[person]), day)


def calendar_age(born: int, on: int) -> int:
    """Whole years from ``born`` to ``on`` (both days since 1970)."""
    birth, day = EPOCH + dt.timedelta(days=born), EPOCH + dt.timedelta(days=on)
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _band(age: float) -> str:
    return "under13" if age < 13 else "under16" if age < 16 else "16plus"


def _offence(ctx: _Context, victim: int, suspects: list[int], day: int) -> tuple[str, int]:
    """Return the recorded offence code and penetration flag for a child sexual offence."""
    age = ctx.age(victim, day)
    band = _band(age)
    penetrative = ctx.rng.random() < (0.4 if band == "under13" else 0.5)
    if not penetrative:
        other: dict[str, dict[str, dict[str, float]]] = ctx.offences["child_other"]  # type: ignore[assignment]
        return ctx.choice(other[band][str(ctx.people.sex[victim])]), 0
    adult = any(ctx.age(suspect, day) >= 18 for suspect in suspects)
    if band == "under16" and adult and ctx.rng.random() < ctx.profile.plants.downgrade:
        return str(ctx.offences["downgraded"]), 1
    rape: dict[str, dict[str, str]] = ctx.offences["child_rape"]  # type: ignore[assignment]
    return rape[str(ctx.people.sex[victim])][band], 1


def _outcome(ctx: _Context, day: int, *, charge: bool, may_charge: bool) -> tuple[str, int]:
    if charge:
        code = "1"
    elif ctx.rng.random() < ctx.profile.plants.victim_not_supporting:
        code = ctx.choice(NOT_SUPPORTING)
    elif may_charge and ctx.rng.random() < 0.35:
        code = "1"
    else:
        code = ctx.choice(OTHER_CLOSURES)
    if not code:
        return "", NO_DATE
    return code, min(day + int(ctx.rng.integers(20, 500)), ctx.extracted)


def _crime(
    ctx: _Context, force: str, victim: int, suspects: list[int], day: int, **how: object
) -> int:
    offence, penetrative = _offence(ctx, victim, suspects, day)
    outcome, outcome_date = _outcome(
        ctx, day, charge=bool(how.get("charge")), may_charge=bool(how.get("may_charge"))
    )
    event = ctx.log.add_event(
        force,
        "crime",
        day,
        offence=offence,
        penetrative=penetrative,
        outcome=outcome,
        outcome_date=outcome_date,
        is_cse=bool(how.get("is_cse", True)),
        network=int(how.get("network", -1)),  # type: ignore[call-overload]
        scenario=str(how["scenario"]),
    )
    ctx.log.involve(event, victim, "victim")
    for suspect in suspects:
        ctx.log.involve(event, suspect, "suspect")
    return event


def _social_care(
    ctx: _Context, child: int, first: int, concerns: list[int], scenario: str, network: int = -1
) -> None:
    """Referral, CSE assessment naming persons of concern, and missing episodes for one child."""
    plants, rng, log = ctx.profile.plants, ctx.rng, ctx.log
    if ctx.people.home_force[child] != ctx.la_force or rng.random() >= plants.victim_in_care:
        return
    earliest = int(ctx.people.dob[child]) + int(8 * YEAR)
    referral = max(first - int(rng.integers(0, 200)), earliest)
    event = log.add_event(
        LA_SOURCE,
        "referral",
        referral,
        scenario=scenario,
        network=network,
        detail="child sexual exploitation concerns",
        is_cse=True,
    )
    log.involve(event, child, "subject")
    if rng.random() < plants.cse_assessment:
        level = ("high", "medium", "low")[int(rng.choice(3, p=[0.5, 0.35, 0.15]))]
        day = min(referral + int(rng.integers(5, 120)), ctx.extracted)
        event = log.add_event(
            LA_SOURCE,
            "cse_assessment",
            day,
            scenario=scenario,
            network=network,
            detail=level,
            is_cse=True,
        )
        log.involve(event, child, "subject")
        named: list[int] = rng.permutation(concerns)[: int(rng.integers(1, 3))].tolist()
        for suspect in named:
            log.involve(event, suspect, "person_of_concern")
    repeated = rng.random() < plants.repeated_missing
    episodes = int(rng.integers(3, 11)) if repeated else int(rng.integers(0, 3))
    # a missing episode is a child's: it ends at 18, and at the end of the period
    latest = min(int(ctx.people.dob[child] + 17.9 * YEAR), ctx.period_end)
    for day in np.sort(rng.integers(referral, referral + int(2 * YEAR), size=episodes)):
        if day <= latest:
            event = log.add_event(
                LA_SOURCE, "missing", int(day), scenario=scenario, network=network
            )
            log.involve(event, child, "subject")


def _duty_report(
    ctx: _Context, child: int, suspects: list[int], day: int, scenario: str, network: int = -1
) -> None:
    rng = ctx.rng
    reporter = int(ctx.reporters[rng.integers(len(ctx.reporters))])
    text = REPORT_TEXTS[int(rng.integers(len(REPORT_TEXTS)))]
    role = REPORTER_ROLES[int(rng.integers(len(REPORTER_ROLES)))]
    event = ctx.log.add_event(
        DUTY_SOURCE,
        "duty_report",
        min(day, ctx.extracted),
        scenario=scenario,
        network=network,
        detail=f"{role}|{text}",
        is_cse=True,
    )
    ctx.log.involve(event, reporter, "reporter")
    ctx.log.involve(event, child, "victim")
    for suspect in suspects:
        ctx.log.involve(event, suspect, "suspect")


def _chunks(suspects: np.ndarray, n_victims: int) -> list[list[int]]:
    """Split suspects into overlapping runs, one per victim, so the network stays connected."""
    last = len(suspects) - 1
    bounds = [int(j * last / n_victims) for j in range(n_victims + 1)]
    return [
        [int(s) for s in suspects[bounds[j] : bounds[j + 1] + 1]] or [int(suspects[0])]
        for j in range(n_victims)
    ]


def _network_events(ctx: _Context, network: Network) -> None:
    rng, plants = ctx.rng, ctx.profile.plants
    crimes: list[tuple[int, list[int], int]] = []
    chunks = _chunks(network.suspects, len(network.victims))
    for victim, chunk in zip(network.victims.tolist(), chunks, strict=True):
        latest = min(network.end, int(ctx.people.dob[victim] + 17.9 * YEAR))
        n_crimes = int(rng.integers(1, 5))
        dates = np.sort(rng.integers(network.start, max(network.start + 1, latest), size=n_crimes))
        for index, day in enumerate(dates.tolist()):
            # every suspect of the victim's run appears in one of the victim's crimes
            members = chunk[index::n_crimes] or [chunk[index % len(chunk)]]
            extra = [
                s for s in network.suspects.tolist() if s not in members and rng.random() < 0.05
            ]
            crimes.append((victim, members + extra, day))
        first = int(dates[0])
        _social_care(ctx, victim, first, chunk, "network", network.network)
        if rng.random() < plants.duty_report_on_victim:
            named = chunk[: int(rng.integers(1, 3))]
            day = first + int(rng.integers(-60, 200))
            _duty_report(ctx, victim, named, day, "network", network.network)
    charged = int(rng.integers(len(crimes))) if network.charged else -1
    for index, (victim, suspects, day) in enumerate(crimes):
        force = str(ctx.people.home_force[victim])
        _crime(
            ctx,
            force,
            victim,
            suspects,
            day,
            scenario="network",
            network=network.network,
            charge=index == charged,
        )


def generate_scenario_events(
    rng: np.random.Generator, profile: Profile, people: People, plan: Plan, log: EventLog
) -> None:
    """Append every planted network's and case's events to ``log``."""
    ctx = _Context(
        rng,
        profile,
        people,
        log,
        load_yaml("places.yaml")["local_authority"]["covers"],
        load_yaml("offences.yaml"),
        days(profile.extracted_at),
        plan.reporters,
        days(profile.period_start),
        days(profile.period_end),
    )
    for network in plan.networks:
        _network_events(ctx, network)
    for case in plan.single_cases:
        _single_case(ctx, case)
    for case in plan.unmatched_reports:
        _unmatched_report(ctx, case)


def _single_case(ctx: _Context, case: Case) -> None:
    victim = case.child
    _crime(ctx, case.force, victim, [case.suspect], case.date, scenario="single", may_charge=True)
    _social_care(ctx, victim, case.date, [case.suspect], "single")
    if ctx.rng.random() < ctx.profile.plants.duty_report_on_victim / 2:
        _duty_report(
            ctx, victim, [case.suspect], case.date + int(ctx.rng.integers(-60, 60)), "single"
        )


def _unmatched_report(ctx: _Context, case: Case) -> None:
    """A duty report naming a man the police know, though never for this child."""
    earlier = max(case.date - int(ctx.rng.integers(100, 1500)), ctx.period_start)
    offence = ctx.choice(ctx.offences["background"])  # type: ignore[arg-type]
    outcome = ctx.choice({"1": 0.3, "16": 0.3, "15": 0.2, "": 0.2})
    event = ctx.log.add_event(
        case.force,
        "crime",
        earlier,
        offence=offence,
        penetrative=0,
        outcome=outcome,
        outcome_date=min(earlier + int(ctx.rng.integers(20, 400)), ctx.extracted)
        if outcome
        else NO_DATE,
        scenario="unmatched_report",
    )
    ctx.log.involve(event, case.suspect, "suspect")
    _duty_report(ctx, case.child, [case.suspect], case.date, "unmatched_report")
    _social_care(ctx, case.child, case.date, [case.suspect], "unmatched_report")
