"""The answers: which review targets the extracts hold, worked out from the true world.

A target is labelled by applying each review rule to true identities and true ages, so that
everything the extracts make reviewable is labelled, planted on purpose or not.
"""

from __future__ import annotations

import polars as pl

from casebridge.standard.datafiles import OFFENCE_COLUMNS, read_standard

POLICE = ("force_a", "force_b", "force_c")
NOT_SUPPORTING_OR_NPI = ("14", "15", "16", "10", "21")
RULES = {
    "R1": "an adult's penetrative offence against a child aged 13-15 recorded as a lesser offence "
    "than rape, or closed without charge",
    "R2": "a sexual offence against a child closed for evidential difficulties (outcome 14, 15 "
    "or 16; in 14 and 16 the victim does not support action) or as not in the public interest "
    "(10 or 21)",
    "R3": "a suspect tied to two or more child victims, in any agency, who was never charged",
    "R4": "a case in a group-based network where another member has been charged",
    "R5": "a child with three or more missing episodes who appears in a later record of any "
    "agency (a crime of any kind, a referral or assessment, a duty report)",
    "R6": "a duty report naming a suspect known to the police, with no investigation of that "
    "suspect for that child",
    "R7": "a suspect in a sexual offence against a child with ethnicity or nationality "
    "not recorded",
    "R8": "a suspect named in child sexual abuse reports by two or more agencies, never charged",
    "R9": "an adult named as a concern in a social-care referral or assessment about a child, "
    "with no police record naming the two together",
}


def age_only_adults(rows: pl.DataFrame) -> pl.DataFrame:
    """Return the local authority's records of adults named with a name and an approximate age
    only (every row of the record names them as a person of concern: no birth date), whose
    person the police also hold with a birth date (to the day or the year): the records an
    age-only comparison must link. Columns: source, local_id, person_id, kinds (the episode
    kinds naming them, ``referral`` and/or ``cse_assessment``, joined by ``;``).

    ``rows`` holds one row per involvement with its record's ``dob_precision``.
    """
    police_with_dob = rows.filter(
        pl.col("source").is_in(POLICE) & (pl.col("dob_precision") != "")
    ).select("person_id")
    return (
        rows.filter(pl.col("source") == "la")
        .group_by("source", "local_id", "person_id")
        .agg(
            (pl.col("role") == "person_of_concern").all().alias("age_only"),
            pl.col("kind").unique().sort().str.join(";").alias("kinds"),
        )
        .filter(pl.col("age_only"))
        .join(police_with_dob.unique(), on="person_id", how="semi")
        .select("source", "local_id", "person_id", "kinds")
        .sort("source", "local_id")
    )


def _offence_facts() -> pl.DataFrame:
    rows = read_standard("offences", OFFENCE_COLUMNS)
    return pl.DataFrame(
        {
            "offence": [row["ho_code"] for row in rows],
            "is_sexual": [row["is_sexual"] == "true" for row in rows],
            "is_rape": [row["description"].startswith("Rape") for row in rows],
        }
    )


def _ref(source: str, ref: str) -> pl.Expr:
    return pl.format("{}:{}", pl.col(source), pl.col(ref))


def _event_targets(rule: str, events: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """One target per event, its evidence the event and every record in it."""
    evidence = (
        rows.join(events.select("event"), on="event")
        .group_by("event")
        .agg(pl.format("{}:{}", "source", "local_id").unique().sort().alias("records"))
    )
    return events.join(evidence, on="event").select(
        rule=pl.lit(rule),
        subject=pl.lit("event"),
        person_id=pl.lit(""),
        source="source",
        event_ref="event_ref",
        evidence=pl.concat_list(_ref("source", "event_ref"), pl.col("records")),
    )


def review_targets(rows: pl.DataFrame) -> pl.DataFrame:
    """Return every review target in the extracts, with its rule, reason and evidence refs.

    ``rows`` holds one row per involvement with the true ``age`` at the event.
    """
    rows = rows.join(_offence_facts(), on="offence", how="left").with_columns(
        pl.col("is_sexual").fill_null(False), pl.col("is_rape").fill_null(False)
    )
    police = rows.filter(pl.col("source").is_in(POLICE) & (pl.col("kind") == "crime"))
    child_victim = police.filter((pl.col("role") == "victim") & (pl.col("age") < 18))
    child_sex = police.filter(pl.col("is_sexual")).join(
        child_victim.select("event").unique(), on="event", how="semi"
    )
    events = child_sex.unique("event", keep="first", maintain_order=True)
    targets = [
        _downgrades(child_sex, events, rows),
        _event_targets("R2", events.filter(pl.col("outcome").is_in(NOT_SUPPORTING_OR_NPI)), rows),
        _uncharged_suspects(rows, child_sex),
        _network_cases(child_sex, events, rows),
        _missing_children(rows),
        _unmatched_reports(rows, police, child_sex),
        _unrecorded_suspects(child_sex),
        _multi_agency_suspects(rows, child_sex),
        _concerns_never_investigated(rows, police),
    ]
    table = pl.concat(targets).sort(["rule", "source", "event_ref", "person_id"])
    return table.with_columns(
        target_id=pl.format("T{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(6)),
        reason=pl.col("rule").replace_strict(RULES),
        birth_year_only=_cites_a_year_only_birth(rows, table),
    ).select(
        "target_id",
        "rule",
        "reason",
        "subject",
        "person_id",
        "source",
        "event_ref",
        "evidence",
        "birth_year_only",
    )


def _downgrades(child_sex: pl.DataFrame, events: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    aged_13_15 = child_sex.filter(
        (pl.col("role") == "victim") & (pl.col("age") >= 13) & (pl.col("age") < 16)
    ).select("event")
    adult = child_sex.filter((pl.col("role") == "suspect") & (pl.col("age") >= 18)).select("event")
    lesser = ~pl.col("is_rape") | ~pl.col("outcome").is_in(["1", ""])
    chosen = (
        events.filter((pl.col("penetrative") == 1) & lesser)
        .join(aged_13_15, on="event", how="semi")
        .join(adult, on="event", how="semi")
    )
    return _event_targets("R1", chosen, rows)


def _person_targets(rule: str, people: pl.DataFrame) -> pl.DataFrame:
    """``people`` has person_id and a list column ``evidence``."""
    return people.select(
        rule=pl.lit(rule),
        subject=pl.lit("person"),
        person_id="person_id",
        source=pl.lit(""),
        event_ref=pl.lit(""),
        evidence=pl.col("evidence").list.unique().list.sort(),
    )


def _ties(rows: pl.DataFrame, child_sex: pl.DataFrame) -> pl.DataFrame:
    """(suspect, child, evidence) for every suspect tied to a child in any agency."""
    police = child_sex.filter(pl.col("role").is_in(["suspect", "victim"]))
    other = rows.filter(
        (pl.col("kind").is_in(["cse_assessment", "duty_report"]))
        & pl.col("role").is_in(["person_of_concern", "suspect", "subject", "victim"])
    )
    both = pl.concat([police, other], how="diagonal_relaxed")
    suspect_side = both.filter(pl.col("role").is_in(["suspect", "person_of_concern"]))
    child_side = both.filter(pl.col("role").is_in(["victim", "subject"]) & (pl.col("age") < 18))
    return suspect_side.join(child_side, on="event", suffix="_child").select(
        "person_id",
        child="person_id_child",
        evidence=pl.concat_list(
            _ref("source", "event_ref"),
            _ref("source", "local_id"),
            _ref("source", "local_id_child"),
        ),
    )


def _uncharged_suspects(rows: pl.DataFrame, child_sex: pl.DataFrame) -> pl.DataFrame:
    charged = child_sex.filter((pl.col("role") == "suspect") & (pl.col("outcome") == "1"))
    tied = (
        _ties(rows, child_sex)
        .group_by("person_id")
        .agg(pl.col("child").n_unique().alias("children"), pl.col("evidence").explode())
        .filter(pl.col("children") >= 2)
        .join(charged.select("person_id"), on="person_id", how="anti")
    )
    return _person_targets("R3", tied)


def _multi_agency_suspects(rows: pl.DataFrame, child_sex: pl.DataFrame) -> pl.DataFrame:
    charged = child_sex.filter((pl.col("role") == "suspect") & (pl.col("outcome") == "1"))
    named = (
        _ties(rows, child_sex)
        .with_columns(agency=pl.col("evidence").list.first().str.split(":").list.first())
        .group_by("person_id")
        .agg(pl.col("agency").n_unique().alias("agencies"), pl.col("evidence").explode())
        .filter(pl.col("agencies") >= 2)
        .join(charged.select("person_id"), on="person_id", how="anti")
    )
    return _person_targets("R8", named)


def _network_cases(
    child_sex: pl.DataFrame, events: pl.DataFrame, rows: pl.DataFrame
) -> pl.DataFrame:
    suspects = child_sex.filter((pl.col("role") == "suspect") & (pl.col("network") >= 0))
    charged = suspects.filter(pl.col("outcome") == "1").select("network", "person_id").unique()
    # an event qualifies if a charged member of its network is not one of its own suspects
    pairs = suspects.select("event", "network").unique().join(charged, on="network")
    own = suspects.select("event", "person_id")
    other_charged = pairs.join(own, on=["event", "person_id"], how="anti").select("event").unique()
    chosen = events.filter(pl.col("outcome") != "1").join(other_charged, on="event", how="semi")
    return _event_targets("R4", chosen, rows)


def _missing_children(rows: pl.DataFrame) -> pl.DataFrame:
    """R5: children with three or more missing episodes who appear, in any role, in a record of
    any source dated on or after their first missing episode (other than a missing episode)."""
    missing = rows.filter(pl.col("kind") == "missing")
    repeated = (
        missing.group_by("person_id")
        .agg(
            pl.col("event").n_unique().alias("episodes"),
            pl.col("date").min().alias("first_missing"),
            _ref("source", "event_ref").alias("missing_in"),
            _ref("source", "local_id").alias("records"),
        )
        .filter(pl.col("episodes") >= 3)
    )
    later = (
        rows.filter(pl.col("kind") != "missing")
        .join(repeated.select("person_id", "first_missing"), on="person_id")
        .filter(pl.col("date") >= pl.col("first_missing"))
        .group_by("person_id")
        .agg(
            _ref("source", "event_ref").alias("named_in"),
            _ref("source", "local_id").alias("named_as"),
        )
    )
    chosen = repeated.join(later, on="person_id").select(
        "person_id", evidence=pl.concat_list("missing_in", "records", "named_in", "named_as")
    )
    return _person_targets("R5", chosen)


def _unmatched_reports(
    rows: pl.DataFrame, police: pl.DataFrame, child_sex: pl.DataFrame
) -> pl.DataFrame:
    reports = rows.filter(pl.col("kind") == "duty_report")
    named = reports.filter(pl.col("role") == "suspect").join(
        reports.filter(pl.col("role") == "victim").select("event", child="person_id"), on="event"
    )
    known = police.select("person_id", police_ref=_ref("source", "local_id"))
    investigated = child_sex.filter(pl.col("role") == "suspect").join(
        child_sex.filter(pl.col("role") == "victim").select("event", child="person_id"), on="event"
    )
    chosen = named.join(known.group_by("person_id").agg("police_ref"), on="person_id").join(
        investigated.select("person_id", "child"), on=["person_id", "child"], how="anti"
    )
    return chosen.select(
        rule=pl.lit("R6"),
        subject=pl.lit("event_person"),
        person_id="person_id",
        source="source",
        event_ref="event_ref",
        evidence=pl.concat_list(
            _ref("source", "event_ref"),
            _ref("source", "local_id"),
            pl.col("police_ref").list.sort(),
        ),
    )


def _concerns_never_investigated(rows: pl.DataFrame, police: pl.DataFrame) -> pl.DataFrame:
    """R9: an adult (18 or over) named as a person of concern in a social-care event other than a
    missing episode, about a child (under 18), where no police crime names the two together."""
    social_care = rows.filter((pl.col("source") == "la") & (pl.col("kind") != "missing"))
    adults = social_care.filter(
        (pl.col("role") == "person_of_concern") & (pl.col("age") >= 18)
    ).select("event", "source", "event_ref", "person_id", "local_id")
    children = social_care.filter(
        pl.col("role").is_in(["subject", "victim"]) & (pl.col("age") < 18)
    ).select("event", child="person_id", child_record="local_id")
    pairs = adults.join(children, on="event").filter(pl.col("person_id") != pl.col("child"))
    in_police = police.select("event", "person_id").unique()
    together = (
        in_police.join(in_police.rename({"person_id": "child"}), on="event")
        .select("person_id", "child")
        .unique()
    )
    chosen = pairs.join(together, on=["person_id", "child"], how="anti")
    return chosen.select(
        rule=pl.lit("R9"),
        subject=pl.lit("event_person"),
        person_id="person_id",
        source="source",
        event_ref="event_ref",
        evidence=pl.concat_list(
            _ref("source", "event_ref"), _ref("source", "local_id"), _ref("source", "child_record")
        ),
    ).unique(["source", "event_ref", "person_id"], keep="first", maintain_order=True)


def _cites_a_year_only_birth(rows: pl.DataFrame, targets: pl.DataFrame) -> pl.Series:
    """Whether each target cites a person record that gives the birth year only (written as a
    year, or as 1 January by a force that writes that): the targets an exact age would get
    wrong."""
    # where an extract writes a birth date at all: not for a local authority's persons of
    # concern (an approximate age), nor for a duty report's reporter, nor for its named persons
    # unless the reporter knew the date
    written = (
        pl.col("source").is_in(POLICE)
        | ((pl.col("source") == "la") & (pl.col("role") == "subject"))
        | ((pl.col("source") == "dtr") & (pl.col("role") == "victim"))
        | ((pl.col("source") == "dtr") & (pl.col("role") == "suspect") & pl.col("dob_known"))
    )
    year_only = (
        rows.filter((pl.col("dob_precision") == "year") & written)
        .select(ref=_ref("source", "local_id"))
        .unique()
    )
    cited = (
        targets.with_row_index("target")
        .select("target", ref=pl.col("evidence"))
        .explode("ref")
        .join(year_only, on="ref", how="semi")
        .select("target")
        .unique()
    )
    return pl.Series(
        "birth_year_only", pl.int_range(targets.height, eager=True).is_in(cited["target"])
    )


def _unrecorded_suspects(child_sex: pl.DataFrame) -> pl.DataFrame:
    suspects = child_sex.filter(
        (pl.col("role") == "suspect")
        & ((pl.col("ethnicity") == "") | (pl.col("nationality") == ""))
    )
    return suspects.select(
        rule=pl.lit("R7"),
        subject=pl.lit("event_person"),
        person_id="person_id",
        source="source",
        event_ref="event_ref",
        evidence=pl.concat_list(_ref("source", "event_ref"), _ref("source", "local_id")),
    )


def calendar_age(on: pl.Expr, born: pl.Expr) -> pl.Expr:
    """Age in whole years on a day, as the law counts it (both as days since 1970)."""
    on, born = on.cast(pl.Date), born.cast(pl.Date)
    before_birthday = (on.dt.month() < born.dt.month()) | (
        (on.dt.month() == born.dt.month()) & (on.dt.day() < born.dt.day())
    )
    return (
        on.dt.year().cast(pl.Int32) - born.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)
    )
