"""The background: everyday crime and social-care referrals of people in no planted case.

Everything here is vectorised: the background holds almost every record of a large extract.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from casebridge.synth.people import FORCES, People, load_yaml
from casebridge.synth.plan import Plan
from casebridge.synth.profile import Profile
from casebridge.synth.scenarios import LA_SOURCE
from casebridge.synth.world import NO_DATE, YEAR, EventLog, days

EVENT_SIZES = np.array([1, 2, 3])
EVENT_SIZE_SHARES = np.array([0.35, 0.45, 0.20])
# outcomes that need an identified suspect, and those that mean there was none
WITH_SUSPECT = {"1": 0.3, "16": 0.15, "15": 0.1, "8": 0.08, "3": 0.08, "2": 0.04, "20": 0.05}
WITH_SUSPECT |= {"21": 0.05, "10": 0.03, "": 0.12}
WITHOUT_SUSPECT = {"18": 0.6, "14": 0.25, "20": 0.05, "": 0.1}
VICTIMLESS = ["92D", "92E"]  # possession offences: everyone involved is a suspect
# an adult of concern named in a referral: at least 18 and at most 70 on the referral's date
ADULT_OF_CONCERN_AGES = (18, 70)
MIN_AGE = {"victim": 5, "suspect": 14, "witness": 10}
RAPE_CODES = ["19C", "19F"]
# what an adult of concern is investigated for when a referral's concern reaches the police
CONCERN_OFFENCES = {"8N": 0.4, "105A": 0.6}
REFERRAL_REASONS = np.array(
    ["neglect", "domestic abuse", "parental mental health", "emotional abuse", "physical abuse"],
    dtype=object,
)


def _weighted(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    keys = np.array(list(shares), dtype=object)
    weights = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=weights / weights.sum())]


def _appearances(
    rng: np.random.Generator, profile: Profile, people: People, plan: Plan
) -> tuple[np.ndarray, np.ndarray]:
    """Return (person, source) per appearance: everyone at least once, some several times."""
    extra = rng.poisson(
        profile.scenarios.background_appearances_mean - 1, size=len(plan.background)
    )
    person = np.repeat(plan.background, 1 + extra)
    la_force = load_yaml("places.yaml")["local_authority"]["covers"]
    force = people.home_force[person]
    away = rng.random(len(person)) < 0.1
    force = np.where(away, np.array(FORCES, dtype=object)[rng.integers(3, size=len(person))], force)
    child = people.dob[person] >= days("1996-01-01")
    to_la = child & (people.home_force[person] == la_force) & (rng.random(len(person)) < 0.4)
    return person, np.where(to_la, LA_SOURCE, force)


def _police_events(
    rng: np.random.Generator,
    profile: Profile,
    people: People,
    person: np.ndarray,
    source: str,
    first_event: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    person = rng.permutation(person)
    sizes = EVENT_SIZES[rng.choice(3, size=len(person), p=EVENT_SIZE_SHARES)]
    ends = np.cumsum(sizes)
    sizes = sizes[: int(np.searchsorted(ends, len(person))) + 1]
    sizes[-1] -= int(sizes.sum()) - len(person)
    n_events = len(sizes)
    event_of = np.repeat(np.arange(n_events), sizes)
    position = np.arange(len(person)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    offences = load_yaml("offences.yaml")
    offence = _weighted(rng, offences["background"], n_events)
    roles = np.array(["victim", "suspect", "witness"], dtype=object)[position]
    roles[(position == 2) & (rng.random(len(person)) < 0.3)] = "suspect"
    roles[np.isin(offence[event_of], VICTIMLESS)] = "suspect"
    starts = np.cumsum(sizes) - sizes
    min_age = np.array([MIN_AGE[role] * YEAR for role in ("victim", "suspect", "witness")])
    role_index = np.select([roles == "victim", roles == "suspect"], [0, 1], 2)
    ready = people.dob[person].astype(np.int64) + min_age[role_index].astype(np.int64)
    first, last = days(profile.period_start), days(profile.period_end)
    low = np.clip(np.maximum.reduceat(ready, starts), first, last)
    date = low + (rng.random(n_events) * (last - low + 1)).astype(np.int64)
    victim_age = (date - people.dob[person[starts]]) / YEAR
    adult_sexual = (
        (victim_age >= 18) & (rng.random(n_events) < 0.02) & ~np.isin(offence, VICTIMLESS)
    )
    victim_sex = people.sex[person[starts]]
    for sex in ("F", "M"):
        mask = adult_sexual & (victim_sex == sex)
        offence[mask] = _weighted(rng, offences["adult_sexual"][sex], int(mask.sum()))
    has_suspect = np.zeros(n_events, dtype=bool)
    has_suspect[event_of[roles == "suspect"]] = True
    outcome = np.where(
        has_suspect,
        _weighted(rng, WITH_SUSPECT, n_events),
        _weighted(rng, WITHOUT_SUSPECT, n_events),
    )
    outcome_date = np.where(outcome == "", NO_DATE, date + rng.integers(10, 400, size=n_events))
    events = pl.DataFrame(
        {
            "event": np.arange(first_event, first_event + n_events),
            "source": np.full(n_events, source, dtype=object),
            "kind": np.full(n_events, "crime", dtype=object),
            "date": date,
            "offence": offence,
            "penetrative": np.where(adult_sexual, np.isin(offence, RAPE_CODES).astype(int), -1),
            "outcome": outcome,
            "outcome_date": outcome_date.clip(max=days(profile.extracted_at)),
            "is_cse": np.zeros(n_events, dtype=bool),
            "network": np.full(n_events, -1),
            "scenario": np.full(n_events, "background", dtype=object),
            "detail": np.full(n_events, "", dtype=object),
        }
    )
    involvements = pl.DataFrame(
        {"event": event_of + first_event, "person": person, "role": roles}
    ).unique(subset=["event", "person"], keep="first", maintain_order=True)
    return events, involvements


def _social_care_events(
    rng: np.random.Generator,
    profile: Profile,
    people: People,
    person: np.ndarray,
    first_event: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n_events = len(person)
    dob = people.dob[person].astype(np.int64)
    low = np.maximum(days(profile.period_start), dob + int(YEAR))
    high = np.minimum(days(profile.period_end), dob + int(17.5 * YEAR))
    date = low + (rng.random(n_events) * np.maximum(high - low, 1)).astype(np.int64)
    missing = rng.random(n_events) < 0.1
    events = pl.DataFrame(
        {
            "event": np.arange(first_event, first_event + n_events),
            "source": np.full(n_events, LA_SOURCE, dtype=object),
            "kind": np.where(missing, "missing", "referral").astype(object),
            "date": date,
            "offence": np.full(n_events, "", dtype=object),
            "penetrative": np.full(n_events, -1),
            "outcome": np.full(n_events, "", dtype=object),
            "outcome_date": np.full(n_events, NO_DATE),
            "is_cse": np.zeros(n_events, dtype=bool),
            "network": np.full(n_events, -1),
            "scenario": np.full(n_events, "background", dtype=object),
            "detail": np.where(
                missing, "", REFERRAL_REASONS[rng.integers(len(REFERRAL_REASONS), size=n_events)]
            ).astype(object),
        }
    )
    involvements = pl.DataFrame(
        {
            "event": np.arange(first_event, first_event + n_events),
            "person": person,
            "role": np.full(n_events, "subject", dtype=object),
        }
    )
    return events, involvements


def _adults_of_concern(
    rng: np.random.Generator,
    profile: Profile,
    people: People,
    events: pl.DataFrame,
    known_to_police: np.ndarray,
) -> pl.DataFrame:
    """Involvements naming an adult of concern in a share of referrals (a parent's partner, a
    relative): someone the police also know, named by the social worker with a name and an
    approximate age only. A referral whose drawn adult is under 18 or over 70 on its date is
    drawn again, up to four times, then left without one."""
    referrals = events.filter(pl.col("kind") == "referral")
    chosen = referrals.filter(
        pl.Series(rng.random(referrals.height) < profile.plants.adult_in_referral)
    )
    event, date = chosen["event"].to_numpy(), chosen["date"].to_numpy().astype(np.int64)
    adult = np.full(len(event), -1, dtype=np.int64)
    for _ in range(4):
        open_ = np.flatnonzero(adult < 0)
        if not len(open_) or not len(known_to_police):
            break
        drawn = known_to_police[rng.integers(len(known_to_police), size=len(open_))]
        age = (date[open_] - people.dob[drawn].astype(np.int64)) / YEAR
        fits = (age >= ADULT_OF_CONCERN_AGES[0]) & (age <= ADULT_OF_CONCERN_AGES[1])
        adult[open_[fits]] = drawn[fits]
    named = adult >= 0
    return pl.DataFrame(
        {
            "event": event[named],
            "person": adult[named],
            "role": np.full(int(named.sum()), "person_of_concern", dtype=object),
        }
    )


def _concerns_investigated(
    rng: np.random.Generator,
    profile: Profile,
    people: People,
    referrals: pl.DataFrame,
    adults: pl.DataFrame,
    first_event: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A police crime (an assault) against the referral's child with the adult of concern as
    its suspect, for a share of the adults named in referrals (``plants.concern_investigated``):
    the concern reached the police. Dated after the referral, in the child's home force.
    ``referrals`` has one row per social-care event: its child (``person``) and ``date``."""
    chosen = adults.filter(
        pl.Series(rng.random(adults.height) < profile.plants.concern_investigated)
    )
    cases = (
        referrals.select("event", "date", child="person")  # one subject a referral
        .join(chosen.select("event", adult="person"), on="event")
        .sort("event")
    )
    n_events = cases.height
    child = cases["child"].to_numpy()
    last = days(profile.period_end)
    date = np.minimum(cases["date"].to_numpy() + rng.integers(5, 200, size=n_events), last)
    outcome = _weighted(rng, WITH_SUSPECT, n_events)
    events = pl.DataFrame(
        {
            "event": np.arange(first_event, first_event + n_events),
            "source": people.home_force[child].astype(object),
            "kind": np.full(n_events, "crime", dtype=object),
            "date": date,
            "offence": _weighted(rng, CONCERN_OFFENCES, n_events),
            "penetrative": np.full(n_events, -1),
            "outcome": outcome,
            "outcome_date": np.where(
                outcome == "", NO_DATE, np.minimum(date + 30, days(profile.extracted_at))
            ),
            "is_cse": np.zeros(n_events, dtype=bool),
            "network": np.full(n_events, -1),
            "scenario": np.full(n_events, "concern_investigated", dtype=object),
            "detail": np.full(n_events, "", dtype=object),
        }
    )
    ids = np.arange(first_event, first_event + n_events)
    involvements = pl.DataFrame(
        {
            "event": np.concatenate([ids, ids]),
            "person": np.concatenate([child, cases["adult"].to_numpy()]),
            "role": np.array(["victim"] * n_events + ["suspect"] * n_events, dtype=object),
        }
    )
    return events, involvements


def generate_background(
    rng: np.random.Generator, profile: Profile, people: People, plan: Plan, log: EventLog
) -> None:
    """Append the background's events to ``log``."""
    person, source = _appearances(rng, profile, people, plan)
    for force in FORCES:
        events, involvements = _police_events(
            rng, profile, people, person[source == force], force, log.next_event
        )
        log.add_bulk(events, involvements)
    events, involvements = _social_care_events(
        rng, profile, people, person[source == LA_SOURCE], log.next_event
    )
    known_to_police = np.unique(person[np.isin(source, FORCES)])
    adults = _adults_of_concern(rng, profile, people, events, known_to_police)
    log.add_bulk(events, pl.concat([involvements, adults.cast(involvements.schema)]))
    referrals = involvements.join(events.select("event", "date"), on="event")
    log.add_bulk(*_concerns_investigated(rng, profile, people, referrals, adults, log.next_event))
