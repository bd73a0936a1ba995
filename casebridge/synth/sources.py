"""Render the five source extracts, each in its own schema, id scheme, codes and formats.

Each renderer takes the joined rows of its source, a random generator and the profile's wording
shares, and returns a table of strings (or nested values for JSON) in the order the agency would
export them. The standard's offence list is read only for its codes' descriptions, as a force's
system prints them; every other wording comes from the generator's own files (``vocab``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from casebridge.standard.datafiles import OFFENCE_COLUMNS, read_standard
from casebridge.synth.people import load_yaml
from casebridge.synth.profile import Wording
from casebridge.synth.vocab import dfe_code_for, ethnicity_text, nationality_text

Renderer = Callable[[pl.DataFrame, np.random.Generator, Wording], pl.DataFrame]


@dataclass(frozen=True)
class Source:
    """One synthetic source: where it is written and how."""

    key: str
    agency: str
    kind: str
    file_name: str
    file_format: str  # csv, tsv or jsonl
    encoding: str
    local_id_field: str
    render: Renderer


def _date(column: str, fmt: str) -> pl.Expr:
    return pl.col(column).cast(pl.Date).dt.strftime(fmt)


def _dob(fmt: str, year_only: str) -> pl.Expr:
    """Recorded birth date as text: full, year only in the source's own way, or empty."""
    full = pl.col("dob").cast(pl.Date).dt.strftime(fmt)
    year = pl.col("dob").cast(pl.Date).dt.year().cast(pl.String)
    return (
        pl.when(pl.col("dob_precision") == "day")
        .then(full)
        .when(pl.col("dob_precision") == "year")
        .then(pl.format(year_only, year))
        .otherwise(pl.lit(""))
    )


def _outcome_date(fmt: str) -> pl.Expr:
    return (
        pl.when(pl.col("outcome_date") >= 0).then(_date("outcome_date", fmt)).otherwise(pl.lit(""))
    )


def _offence_descriptions() -> dict[str, str]:
    rows = read_standard("offences", OFFENCE_COLUMNS)
    return {row["ho_code"]: row["description"] for row in rows}


def _sections() -> dict[str, str]:
    """The Sexual Offences Act 2003 section a force records beside each offence code."""
    sections: dict[str, str] = load_yaml("offences.yaml")["sections"]
    return sections


def _penetration(yes: str, no: str) -> pl.Expr:
    return pl.col("penetrative").replace_strict({1: yes, 0: no}, default="", return_dtype=pl.String)


ROLE_ORDER = {"victim": 0, "subject": 0, "reporter": 1, "suspect": 2, "person_of_concern": 2}


def export_order(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows in the order an agency exports them: by event, victims first, then by person."""
    return rows.with_columns(
        role_order=pl.col("role").replace_strict(ROLE_ORDER, default=3, return_dtype=pl.Int8)
    ).sort(["event_ref", "role_order", "local_id"])


def render_force_a(rows: pl.DataFrame, rng: np.random.Generator, wording: Wording) -> pl.DataFrame:
    """Northshire Police: UTF-8 CSV, ISO dates, 18+1 codes, ISO nationality codes."""
    del rng, wording
    return rows.select(
        CrimeRef=pl.col("event_ref"),
        PersonRef=pl.col("local_id"),
        Role=pl.col("role").str.to_titlecase(),
        Surname=pl.col("surname"),
        Forenames=pl.concat_str(["forename", "middle_name"], separator=" ").str.strip_chars(),
        AKA=pl.col("alias"),
        DateOfBirth=_dob("%Y-%m-%d", "{}"),
        Sex=pl.col("sex"),
        SelfDefinedEthnicity=pl.col("ethnicity"),
        Nationality=pl.col("nationality"),
        Postcode=pl.col("postcode"),
        Phone=pl.col("phone"),
        OffenceCode=pl.col("offence"),
        OffenceDescription=pl.col("offence").replace_strict(_offence_descriptions(), default=""),
        Penetration=_penetration("Y", "N"),
        ReportedDate=_date("date", "%Y-%m-%d"),
        OutcomeCode=pl.col("outcome"),
        OutcomeDate=_outcome_date("%Y-%m-%d"),
        CSEFlag=pl.when(pl.col("cse_flag")).then(pl.lit("Y")).otherwise(pl.lit("N")),
    )


def render_force_b(rows: pl.DataFrame, rng: np.random.Generator, wording: Wording) -> pl.DataFrame:
    """Eastmoor Constabulary: cp1252 CSV, 'SURNAME, Forename', dd/mm/yyyy, IC codes only."""
    codes = rows["nationality"].to_numpy()
    words = nationality_text(rng, codes, wording.nationality_words, upper=True)
    return rows.select(
        URN=pl.col("event_ref"),
        NOMINAL_NO=pl.col("local_id"),
        INV_TYPE=pl.col("role").replace_strict(
            {"victim": "VIC", "suspect": "SUS", "witness": "WIT"}, default="OTH"
        ),
        NAME=pl.concat_str(
            [pl.col("surname").str.to_uppercase() + ",", "forename", "middle_name"], separator=" "
        ).str.strip_chars(),
        DOB=_dob("%d/%m/%Y", "01/01/{}"),
        GENDER=pl.col("sex").replace_strict({"M": "MALE", "F": "FEMALE"}, default="UNKNOWN"),
        IC_CODE=pl.when(pl.col("ethnicity") == "").then(pl.lit("")).otherwise(pl.col("ic_code")),
        NATIONALITY=pl.Series(words, dtype=pl.String),
        POST_CODE=pl.col("postcode").str.replace_all(" ", ""),
        HO_OFFENCE=pl.col("offence"),
        PEN_IND=_penetration("1", "0"),
        REPORTED=_date("date", "%d/%m/%Y"),
        OUTCOME=pl.when(pl.col("outcome") == "")
        .then(pl.lit(""))
        .otherwise("OC" + pl.col("outcome")),
        OUTCOME_DATE=_outcome_date("%d/%m/%Y"),
        CSE_MARKER=pl.col("cse_flag").cast(pl.Int8).cast(pl.String),
    )


def _null_if_empty(column: str) -> pl.Expr:
    return pl.when(pl.col(column) == "").then(None).otherwise(pl.col(column))


def render_force_c(rows: pl.DataFrame, rng: np.random.Generator, wording: Wording) -> pl.DataFrame:
    """Westvale Police: JSON Lines with nested objects and free-text ethnicity and nationality."""
    ethnicity = ethnicity_text(rng, rows["ethnicity"].to_numpy(), wording.ethnicity_text)
    nationality = nationality_text(
        rng, rows["nationality"].to_numpy(), wording.nationality_words, upper=False
    )
    rows = rows.with_columns(
        ethnicity_text=pl.Series(ethnicity, dtype=pl.String),
        nationality_text=pl.Series(nationality, dtype=pl.String),
    )
    return rows.select(
        incident_id=pl.col("event_ref"),
        person_ref=pl.col("local_id"),
        involvement=pl.col("role"),
        given_names=pl.concat_str(["forename", "middle_name"], separator=" ").str.strip_chars(),
        family_name=pl.col("surname"),
        dob=_null_if_empty_expr(_dob("%Y-%m-%dT00:00:00", "{}")),
        gender=pl.col("sex").replace_strict({"M": "male", "F": "female"}, default="unknown"),
        ethnicity=_null_if_empty("ethnicity_text"),
        nationality=_null_if_empty("nationality_text"),
        address=pl.struct(
            line1=_null_if_empty("address"), postcode=_null_if_empty("postcode").str.to_lowercase()
        ),
        mobile=_null_if_empty("phone"),
        offence=pl.struct(
            code=pl.col("offence"),
            section=pl.col("offence").replace_strict(_sections(), default=None),
            penetrative=pl.col("penetrative").replace_strict(
                {1: True, 0: False}, default=None, return_dtype=pl.Boolean
            ),
        ),
        reported_on=_date("date", "%Y-%m-%d"),
        outcome=pl.when(pl.col("outcome") == "")
        .then(None)
        .otherwise(pl.struct(code=pl.col("outcome"), date=_outcome_date("%Y-%m-%d"))),
        flags=pl.when(pl.col("cse_flag"))
        .then(pl.lit(["CSE"]))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
    )


def _null_if_empty_expr(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "").then(None).otherwise(expr)


EPISODE_TYPES = {
    "referral": "Referral",
    "cse_assessment": "CSE Risk Assessment",
    "missing": "Missing Episode",
}


def render_la(rows: pl.DataFrame, rng: np.random.Generator, wording: Wording) -> pl.DataFrame:
    """Northshire County Council children's services: TSV, dd-Mon-yyyy, DfE ethnicity codes."""
    del rng, wording
    is_child = pl.col("role") == "subject"
    dfe = pl.col("ethnicity").replace_strict(dfe_code_for(), default="NOBT")
    return rows.select(
        PersonID=pl.col("local_id"),
        EpisodeID=pl.col("event_ref"),
        EpisodeType=pl.col("kind").replace_strict(EPISODE_TYPES, default="Other"),
        StartDate=_date("date", "%d-%b-%Y"),
        PersonRole=pl.when(is_child).then(pl.lit("Child")).otherwise(pl.lit("Person of concern")),
        Forename=pl.col("forename"),
        Surname=pl.col("surname"),
        DateOfBirth=pl.when(is_child).then(_dob("%d-%b-%Y", "{}")).otherwise(pl.lit("")),
        ApproxAge=pl.when(is_child)
        .then(pl.lit(""))
        .otherwise(pl.col("approx_age").cast(pl.String)),
        Gender=pl.col("sex").replace_strict({"M": "Male", "F": "Female"}, default="Unknown"),
        Ethnicity=pl.when(is_child & (pl.col("ethnicity") != "")).then(dfe).otherwise(pl.lit("")),
        Postcode=pl.when(is_child).then(pl.col("postcode")).otherwise(pl.lit("")),
        Detail=pl.col("detail"),
    )


def render_duty(rows: pl.DataFrame, rng: np.random.Generator, wording: Wording) -> pl.DataFrame:
    """Duty-to-report submissions: one JSON object per report, people nested inside it."""
    del rng, wording
    rows = rows.with_columns(
        name=pl.concat_str(["forename", "surname"], separator=" "),
        ref=pl.col("local_id").str.split("-").list.last(),
    )
    gender = pl.col("sex").replace_strict({"M": "male", "F": "female"}, default=None)
    # a duty-to-report form asks the professional for contact details
    reporter = pl.struct(
        ref=pl.col("ref"),
        name=pl.col("name"),
        phone=pl.col("true_phone"),
        email=pl.col("work_email"),
    )
    child = pl.struct(
        ref=pl.col("ref"),
        name=pl.col("name"),
        dob=_null_if_empty_expr(_dob("%Y-%m-%d", "{}")),
        age=pl.col("child_age"),
        gender=gender,
        postcode=_null_if_empty("postcode"),
    )
    # a reporter rarely knows a suspect's birth date: an approximate age, now and then a date
    named = pl.struct(
        ref=pl.col("ref"),
        name=pl.col("name"),
        dob=pl.when(pl.col("dob_known"))
        .then(_null_if_empty_expr(_dob("%Y-%m-%d", "{}")))
        .otherwise(None),
        approx_age=pl.col("approx_age"),
        gender=gender,
    )
    detail = pl.col("detail").str.split("|")
    grouped = rows.group_by("event_ref", maintain_order=True).agg(
        submitted_at=pl.col("date").first().cast(pl.Date).dt.strftime("%Y-%m-%dT09:00:00"),
        reporter=reporter.filter(pl.col("role") == "reporter").first(),
        reporter_role=detail.first().list.first(),
        child=child.filter(pl.col("role") == "victim").first(),
        named_persons=named.filter(pl.col("role") == "suspect"),
        concern=detail.first().list.last(),
    )
    return grouped.rename({"event_ref": "submission_id"})


SOURCES = (
    Source(
        "force_a",
        "Northshire Police",
        "police",
        "northshire_police_crimes.csv",
        "csv",
        "utf-8",
        "PersonRef",
        render_force_a,
    ),
    Source(
        "force_b",
        "Eastmoor Constabulary",
        "police",
        "eastmoor_nominals.csv",
        "csv",
        "cp1252",
        "NOMINAL_NO",
        render_force_b,
    ),
    Source(
        "force_c",
        "Westvale Police",
        "police",
        "westvale_incidents.jsonl",
        "jsonl",
        "utf-8",
        "person_ref",
        render_force_c,
    ),
    Source(
        "la",
        "Northshire County Council",
        "social_care",
        "northshire_csc_episodes.tsv",
        "tsv",
        "utf-8",
        "PersonID",
        render_la,
    ),
    Source(
        "dtr",
        "Duty to report service",
        "duty_report",
        "duty_to_report.jsonl",
        "jsonl",
        "utf-8",
        "submission_id",
        render_duty,
    ),
)
