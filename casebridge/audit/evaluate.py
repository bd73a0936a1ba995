"""The audit's statistics against a synthetic truth: is the completeness it states close to the
truth's, and do the bounds it publishes contain every true share?

Only ``evaluate`` reads a truth folder; the pipeline never does.

Definitions (the generator decides per person record whether ethnicity and nationality are
recorded, at its own rate for suspects and for everyone else: docs/synth.md, noise):

- a **true suspect** (or victim) is a true person with at least one record named in that role,
  in the population's events (any event; a child sexual offence), by the workspace's own
  involvements, which carry the extracts' roles unchanged;
- the **truth's completeness** of ethnicity is the share of true suspects with at least one
  record whose extract holds an ethnicity in any form (a self-defined code or phrase, or an
  officer-defined IC code), as the generator left it: the raw value, before casebridge reads
  it; likewise self-defined ethnicity alone and nationality;
- a **true share** is the share of true suspects whose true ethnicity (or IC code, or
  nationality) is the category, over all true suspects in the population.

The audit states its figures over resolved persons (linkage errors move them) and over values it
could read (a phrase such as "Other" names no group), so the two differ a little.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.audit.prepare import prepare
from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.standard.vocabulary import DUTY_REPORT_KINDS
from casebridge.truth import read_truth, record_ids

TRUTH_COLUMNS = {
    "ethnicity_18plus1": "ethnicity_18plus1",
    "ethnicity_group": "ethnicity_group",
    "ethnicity_officer": "ic_code",
    "nationality": "nationality",
}
TRUE_POPULATIONS = ("all records", "child sexual offences")
COMPLETENESS = {
    "ethnicity_recorded": "has_ethnicity_any",
    "ethnicity_self_recorded": "has_ethnicity_self",
    "nationality_recorded": "has_nationality",
}


@dataclass(frozen=True)
class AuditEvaluation:
    """Completeness stated against the truth's, and the bounds against the true shares."""

    completeness: pl.DataFrame  # population, role, measure, stated, truth, difference_points
    shares: pl.DataFrame  # population, role, classification, category, true_share, bounds
    seconds: float = 0.0

    def contained(self, population: str, role: str, classification: str) -> tuple[int, int]:
        """How many categories' bounds contain the true share, out of how many."""
        rows = self.shares.filter(
            (pl.col("population") == population)
            & (pl.col("role") == role)
            & (pl.col("classification") == classification)
        )
        return int(rows["contained"].sum()), rows.height


def _read_truth(truth: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    records, people = read_truth(truth, "record_person", "person")
    return record_ids(records), people.select(
        true_person_id="person_id",
        ethnicity_18plus1="ethnicity_18plus1",
        ic_code="ic_code",
        nationality="nationality",
    )


TRUE_POPULATION = """
CREATE OR REPLACE TEMP TABLE audit_true_population AS
WITH recorded AS (
    SELECT t.record_id, t.true_person_id,
        nullif(trim(r.ethnicity_self_raw), '') IS NOT NULL AS ethnicity_self,
        nullif(trim(r.ethnicity_self_raw), '') IS NOT NULL
            OR nullif(trim(r.ethnicity_officer_raw), '') IS NOT NULL AS ethnicity_any,
        nullif(trim(r.nationality_raw), '') IS NOT NULL AS nationality
    FROM audit_truth_record t JOIN person_record r ON r.record_id = t.record_id),
named AS (
    SELECT DISTINCT 'all records' AS population, v.role_class AS role, t.true_person_id
    FROM audit_involved v JOIN audit_truth_record t ON t.record_id = v.record_id
    WHERE v.role_class IS NOT NULL
    UNION ALL
    SELECT DISTINCT 'child sexual offences', v.role_class, t.true_person_id
    FROM audit_involved v JOIN audit_truth_record t ON t.record_id = v.record_id
    WHERE v.role_class IS NOT NULL AND v.is_child_sexual_offence)
SELECT n.population, n.role, n.true_person_id, bool_or(c.ethnicity_any) AS has_ethnicity_any,
    bool_or(c.ethnicity_self) AS has_ethnicity_self, bool_or(c.nationality) AS has_nationality
FROM named n JOIN recorded c ON c.true_person_id = n.true_person_id
GROUP BY n.population, n.role, n.true_person_id
"""


def evaluate_audit(
    engine: Engine, truth: Path, duty_report_kinds: tuple[str, ...] = DUTY_REPORT_KINDS
) -> AuditEvaluation:
    """Compare the published audit (run ``audit`` first) with the truth folder ``truth``."""
    if not engine.table_exists("audit_person_completeness_published"):
        raise UsageError("no audit tables in this workspace: run 'casebridge audit' first")
    records, people = _read_truth(truth)
    prepare(engine, duty_report_kinds)
    engine.create_table_from_arrow("audit_truth_record", records, temporary=True)
    engine.execute(TRUE_POPULATION)
    population = engine.frame("SELECT * FROM audit_true_population")
    groups = engine.frame(
        'SELECT code AS ethnicity_18plus1, "group" AS ethnicity_group FROM std_ethnicity'
    )
    people = people.join(groups, on="ethnicity_18plus1", how="left")
    return AuditEvaluation(_completeness(engine, population), _shares(engine, population, people))


def _completeness(engine: Engine, population: pl.DataFrame) -> pl.DataFrame:
    truth = population.group_by("population", "role").agg(
        pl.col(column).mean().alias(measure) for measure, column in COMPLETENESS.items()
    )
    stated = engine.frame("SELECT * FROM audit_person_completeness_published").select(
        "population",
        "role",
        *(pl.col(m).cast(pl.Float64) / pl.col("persons") for m in COMPLETENESS),
    )
    long = [
        frame.unpivot(
            index=["population", "role"],
            on=list(COMPLETENESS),
            variable_name="measure",
            value_name=name,
        )
        for frame, name in ((stated, "stated"), (truth, "truth"))
    ]
    return (
        long[0]
        .join(long[1], on=["population", "role", "measure"])
        .with_columns(difference_points=100 * (pl.col("stated") - pl.col("truth")))
        .sort("population", "role", "measure")
    )


def _shares(engine: Engine, population: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    joined = population.join(people, on="true_person_id")
    parts = []
    for classification, column in TRUTH_COLUMNS.items():
        parts.append(
            joined.group_by("population", "role", column)
            .agg(pl.len().alias("true_persons"))
            .with_columns(
                true_share=pl.col("true_persons")
                / pl.col("true_persons").sum().over("population", "role"),
                classification=pl.lit(classification),
            )
            .rename({column: "category"})
        )
    true = pl.concat(
        [p.select("population", "role", "classification", "category", "true_share") for p in parts]
    )
    stated = engine.frame(
        "SELECT population, role, classification, category, share_lower, share_upper "
        "FROM audit_demographics_published WHERE kind = 'category'"
    )
    # a category the audit does not list falls under its "any other" row
    unlisted = engine.frame(
        "SELECT population, role, classification, share_lower AS other_lower, "
        "share_upper AS other_upper FROM audit_demographics_published WHERE kind = 'unlisted'"
    )
    keys = ["population", "role", "classification"]
    stated = stated.filter(pl.col("population").is_in(TRUE_POPULATIONS))
    return (
        stated.join(true, on=[*keys, "category"], how="full", coalesce=True)
        .join(unlisted, on=keys, how="left")
        .with_columns(
            pl.col("true_share").fill_null(0.0),
            share_lower=pl.coalesce("share_lower", "other_lower"),
            share_upper=pl.coalesce("share_upper", "other_upper"),
        )
        .drop("other_lower", "other_upper")
        .filter(pl.col("share_lower").is_not_null() | (pl.col("true_share") > 0))
        .with_columns(
            contained=(pl.col("share_lower") <= pl.col("true_share") + 1e-12)
            & (pl.col("true_share") <= pl.col("share_upper") + 1e-12)
        )
        .with_columns(pl.col("contained").fill_null(False))
        .sort("population", "role", "classification", "category")
    )
