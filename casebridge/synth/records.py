"""From true involvements to what each source holds: local ids, and person records with noise.

A police force or a local authority keeps one record per person (a nominal), found again when
the person returns, but sometimes entered afresh: a duplicate within the source. A duty report
names people on the form itself, so each of its people is a record of its own.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from casebridge.synth.conventions import recorded_conventions
from casebridge.synth.noise import (
    PRECISION_DAY,
    PRECISION_YEAR,
    blank,
    exact_mask,
    known_as,
    noisy_births,
    noisy_names,
    partial_postcodes,
)
from casebridge.synth.people import People, load_yaml
from casebridge.synth.profile import Profile
from casebridge.synth.scenarios import DUTY_SOURCE

SUSPECT_ROLES = ("suspect", "person_of_concern")
EVENT_REF = {
    "force_a": pl.format("NP/{}/{}", pl.col("year"), pl.col("seq").cast(pl.String).str.zfill(6)),
    "force_b": pl.format("EM{}", (pl.col("seq") + 1_200_000).cast(pl.String)),
    "force_c": pl.format("WV{}-{}", pl.col("year"), pl.col("seq").cast(pl.String).str.zfill(6)),
    "la": pl.format("EP{}", pl.col("seq").cast(pl.String).str.zfill(7)),
    "dtr": pl.format("DTR-{}-{}", pl.col("year"), pl.col("seq").cast(pl.String).str.zfill(6)),
}
PERSON_REF = {
    "force_a": pl.format("NP-N{}", pl.col("seq").cast(pl.String).str.zfill(7)),
    "force_b": (pl.col("seq") + 400_000).cast(pl.String),
    "force_c": pl.format("WVP{}", pl.col("seq").cast(pl.String).str.zfill(6)),
    "la": pl.format("LA{}", pl.col("seq").cast(pl.String).str.zfill(7)),
}
DUTY_SUFFIX = {"reporter": "R", "victim": "C"}


def reference_events(events: pl.DataFrame) -> pl.DataFrame:
    """Return events with ``event_ref``, numbered in date order within each source."""
    events = events.sort(["source", "date", "event"]).with_columns(
        seq=pl.int_range(1, pl.len() + 1).over("source"),
        year=pl.col("date").cast(pl.Date).dt.year(),
    )
    refs = [
        events.filter(pl.col("source") == source).with_columns(event_ref=expr)
        for source, expr in EVENT_REF.items()
    ]
    return pl.concat(refs).drop("seq", "year").sort("event")


def _assign_records(
    rng: np.random.Generator, profile: Profile, involvements: pl.DataFrame
) -> pl.DataFrame:
    """Return involvements with a ``record`` number: one per (source, person) bar duplicates."""
    involvements = involvements.sort(["source", "person", "date", "event"])
    repeat = involvements.select(
        (pl.int_range(pl.len()).over(["source", "person"]) > 0).alias("repeat")
    )["repeat"].to_numpy()
    fresh = repeat & (rng.random(involvements.height) < profile.noise.duplicate_record)
    is_duty = (involvements["source"] == DUTY_SOURCE).to_numpy()
    new_record = ~repeat | fresh | is_duty
    return involvements.with_columns(record=pl.Series(np.cumsum(new_record) - 1))


def _local_ids(records: pl.DataFrame) -> pl.Series:
    records = records.with_columns(
        seq=pl.col("first_date").rank("ordinal").over("source").cast(pl.Int64)
    )
    ids = pl.Series("local_id", [""] * records.height, dtype=pl.String)
    for source, expr in PERSON_REF.items():
        mask = records["source"] == source
        ids = ids.scatter(
            np.flatnonzero(mask.to_numpy()), records.filter(mask).select(expr).to_series()
        )
    duty = records["source"] == DUTY_SOURCE
    suffix = (
        records.filter(duty)
        .select(
            pl.col("event_ref")
            + "-"
            + pl.col("role").replace_strict(
                DUTY_SUFFIX, default=pl.lit("S") + pl.col("slot").cast(pl.String)
            )
        )
        .to_series()
    )
    return ids.scatter(np.flatnonzero(duty.to_numpy()), suffix)


def build_records(
    rng: np.random.Generator,
    profile: Profile,
    people: People,
    events: pl.DataFrame,
    involvements: pl.DataFrame,
    birth_year_only: np.ndarray | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (records, rows): person records with their recorded values, and each row's record.
    The people marked in ``birth_year_only`` have the birth year alone in every record that
    gives a birth date."""
    rows = involvements.join(
        events.select("event", "source", "date", "event_ref"), on="event", how="left"
    )
    rows = _assign_records(rng, profile, rows).with_columns(
        slot=pl.int_range(1, pl.len() + 1).over(["event", "role"])
    )
    records = (
        rows.sort(["record", "date"])
        .group_by("record", maintain_order=True)
        .agg(
            pl.col("source").first(),
            pl.col("person").first(),
            pl.col("date").min().alias("first_date"),
            pl.col("role").is_in(SUSPECT_ROLES).any().alias("is_suspect"),
            pl.col("role").first(),
            pl.col("slot").first(),
            pl.col("event_ref").first(),
        )
    )
    records = records.with_columns(_local_ids(records)).drop("slot", "event_ref")
    records = _record_values(rng, profile, people, records, birth_year_only)
    rows = rows.join(records.select("record", "local_id"), on="record", maintain_order="left")
    return records, rows.drop("slot")


def _record_values(
    rng: np.random.Generator,
    profile: Profile,
    people: People,
    records: pl.DataFrame,
    birth_year_only: np.ndarray | None,
) -> pl.DataFrame:
    """Return records with every recorded value: the truth, bent by the profile's noise."""
    noise, size = profile.noise, records.height
    person = records["person"].to_numpy()
    written = recorded_conventions(
        rng,
        noise.origins,
        load_yaml("groups.yaml"),
        people.group[person],
        people.sex[person],
        (people.forename[person], people.middle_name[person], people.surname[person]),
    )
    forename, middle, surname = noisy_names(rng, noise.names, *written)
    alias = known_as(rng, noise.names, people.forename[person], people.surname[person])
    true_dob = people.dob[person].astype(np.int64)
    dob, precision = noisy_births(rng, noise.dob, true_dob)
    # a slip that would put the birth after the record's first event is one a system refuses
    dob = np.where(dob > records["first_date"].to_numpy(), true_dob, dob)
    if birth_year_only is not None:
        precision[birth_year_only[person] & (precision == PRECISION_DAY)] = PRECISION_YEAR
    moved = records["first_date"].to_numpy() >= people.moved_on[person]
    postcode = np.where(moved, people.new_postcode[person], people.postcode[person]).astype(object)
    address = np.where(moved, people.new_address[person], people.address[person]).astype(object)
    postcode = partial_postcodes(postcode, rng.random(size) < noise.postcode_partial)
    missing_postcode = rng.random(size) < noise.postcode_missing
    is_suspect = records["is_suspect"].to_numpy()
    return records.with_columns(
        person_id=pl.Series(people.person_id[person], dtype=pl.String),
        forename=pl.Series(forename, dtype=pl.String),
        middle_name=pl.Series(middle, dtype=pl.String),
        surname=pl.Series(surname, dtype=pl.String),
        alias=pl.Series(alias, dtype=pl.String),
        dob=pl.Series(dob, dtype=pl.Int64),
        dob_precision=pl.Series(precision, dtype=pl.String),
        sex=pl.Series(people.sex[person], dtype=pl.String),
        ethnicity=pl.Series(
            blank(people.ethnicity[person], _ethnicity_missing(rng, profile, records)),
            dtype=pl.String,
        ),
        ic_code=pl.Series(people.ic_code[person], dtype=pl.String),
        nationality=pl.Series(
            blank(
                people.nationality[person],
                _missing_by_role(
                    rng,
                    is_suspect,
                    (noise.suspect_nationality_missing, noise.other_nationality_missing),
                ),
            ),
            dtype=pl.String,
        ),
        postcode=pl.Series(blank(postcode, missing_postcode), dtype=pl.String),
        address=pl.Series(blank(address, missing_postcode), dtype=pl.String),
        phone=pl.Series(
            blank(people.phone[person], rng.random(size) >= noise.phone_recorded), dtype=pl.String
        ),
    )


def _missing_by_role(
    rng: np.random.Generator, is_suspect: np.ndarray, rates: tuple[float, float]
) -> np.ndarray:
    mask = np.zeros(len(is_suspect), dtype=bool)
    for selector, rate in ((is_suspect, rates[0]), (~is_suspect, rates[1])):
        places = np.flatnonzero(selector)
        mask[places] = exact_mask(rng, len(places), rate)
    return mask


def _ethnicity_missing(
    rng: np.random.Generator, profile: Profile, records: pl.DataFrame
) -> np.ndarray:
    """Suspects' ethnicity goes missing at each force's own rate; everyone else's at one rate."""
    noise = profile.noise
    source = records["source"].to_numpy()
    is_suspect = records["is_suspect"].to_numpy()
    mask = np.zeros(records.height, dtype=bool)
    for name in np.unique(source):
        here = source == name
        suspect_rate = noise.suspect_ethnicity_missing.get(str(name), noise.other_ethnicity_missing)
        mask[here] = _missing_by_role(
            rng, is_suspect[here], (suspect_rate, noise.other_ethnicity_missing)
        )
    return mask
