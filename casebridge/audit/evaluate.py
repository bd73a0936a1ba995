"""The audit's statistics against a synthetic truth: is the completeness it states close to the
truth's, per source row and per person, and do the bounds it publishes contain every true
share, subtotals included?

Only ``evaluate`` reads a truth folder; the pipeline never does.

Definitions (the generator decides per source row whether ethnicity and nationality are
written, at its own rate for suspects and for everyone else: docs/synth.md, noise; what it does
not write it leaves blank):

- the **truth's completeness per row** is the share of source rows naming a suspect (in an
  event: ``person_observation``) whose row holds an ethnicity in any form (a self-defined code
  or phrase, or an officer-defined code), or a nationality, as the generator wrote it (the raw
  value, before casebridge reads it); the audit states it per source as the rows filled or
  unrecognised (recorded, but not read) over the rows (``completeness``);
- a **true suspect** (or victim) is a true person with at least one record named in that role,
  in the population's events (any event; a child sexual offence); the **truth's completeness
  per person** is the share of true suspects with at least one record whose extract holds the
  value in any form; the audit states it over resolved persons as those with the value read
  or recorded but not read (``person_completeness``);
- a **true share** is the share of true suspects whose true ethnicity (or IC code, or
  nationality) is the row's category, over all true suspects in the population; a nationality
  the published list does not name falls under "any other nationality", and every nationality
  but British under the subtotal.

The audit states its per-person figures over resolved persons (linkage errors move them) and
its published counts are rounded, so the two differ a little.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.audit.demographics import BRITISH, NOT_BRITISH, OTHER, published_nationalities
from casebridge.audit.prepare import SUSPECT_ROLES, prepare
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
EVALUATED_KINDS = ("category", "other", "subtotal")
# per person: the measure, the published column that states it, the truth's column
PER_PERSON = {
    "ethnicity recorded": ("ethnicity_recorded_any_form", "has_ethnicity"),
    "nationality recorded": ("nationality_recorded_any_form", "has_nationality"),
}
# per row: the measure and the compulsory field of ``completeness`` that states it
PER_ROW = {"ethnicity recorded": "suspect ethnicity", "nationality recorded": "suspect nationality"}


@dataclass(frozen=True)
class AuditEvaluation:
    """Completeness stated against the truth's, and the bounds against the true shares."""

    # population, role, counted (rows, persons), measure, stated, truth, difference_points
    completeness: pl.DataFrame
    shares: pl.DataFrame  # population, role, classification, category, kind, true_share, bounds
    seconds: float = 0.0

    def contained(self, population: str, role: str, classification: str) -> tuple[int, int]:
        """How many rows' bounds contain the true share, out of how many."""
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


RAW_ETHNICITY = "nullif(trim({t}.ethnicity_self_raw), '') IS NOT NULL OR nullif(trim({t}.ethnicity_officer_raw), '') IS NOT NULL"  # noqa: E501
RAW_NATIONALITY = "nullif(trim({t}.nationality_raw), '') IS NOT NULL"
TRUE_POPULATION = f"""
CREATE OR REPLACE TEMP TABLE audit_true_population AS
WITH recorded AS (
    SELECT t.record_id, t.true_person_id, {RAW_ETHNICITY.format(t="r")} AS ethnicity,
        {RAW_NATIONALITY.format(t="r")} AS nationality
    FROM audit_truth_record t JOIN person_record r ON r.record_id = t.record_id),
named AS (
    SELECT DISTINCT 'all records' AS population, v.role_class AS role, t.true_person_id
    FROM audit_involved v JOIN audit_truth_record t ON t.record_id = v.record_id
    WHERE v.role_class IS NOT NULL
    UNION ALL
    SELECT DISTINCT 'child sexual offences', v.role_class, t.true_person_id
    FROM audit_involved v JOIN audit_truth_record t ON t.record_id = v.record_id
    WHERE v.role_class IS NOT NULL AND v.is_child_sexual_offence)
SELECT n.population, n.role, n.true_person_id, bool_or(c.ethnicity) AS has_ethnicity,
    bool_or(c.nationality) AS has_nationality
FROM named n JOIN recorded c ON c.true_person_id = n.true_person_id
GROUP BY n.population, n.role, n.true_person_id
"""
SUSPECT_LIST = ", ".join(f"'{role}'" for role in SUSPECT_ROLES)
TRUE_ROWS = f"""
SELECT o.source, avg(CASE WHEN {RAW_ETHNICITY.format(t="o")} THEN 1 ELSE 0 END) AS ethnicity,
    avg(CASE WHEN {RAW_NATIONALITY.format(t="o")} THEN 1 ELSE 0 END) AS nationality,
    count(*) AS rows
FROM person_observation o JOIN audit_event e ON e.event_id = o.event_id
WHERE o.role IN ({SUSPECT_LIST})
GROUP BY o.source
"""


def evaluate_audit(
    engine: Engine,
    truth: Path,
    duty_report_kinds: tuple[str, ...] = DUTY_REPORT_KINDS,
    published: bool = True,
) -> AuditEvaluation:
    """Compare the published audit (run ``audit`` first; ``published=False``: the exact
    tables kept in the workspace) with the truth folder ``truth``."""
    suffix = "_published" if published else ""
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
    completeness = pl.concat([_per_row(engine, suffix), _per_person(engine, population, suffix)])
    return AuditEvaluation(completeness, _shares(engine, population, people, suffix))


def _per_row(engine: Engine, suffix: str) -> pl.DataFrame:
    """Per source and over all sources: the published share of suspect rows recorded against
    the share of rows the generator wrote a value in."""
    truth = engine.frame(TRUE_ROWS)
    stated = engine.frame(
        "SELECT source, field, rows, recorded "
        f"FROM audit_completeness{suffix} WHERE year = 'all' AND field IN "
        f"({', '.join(repr(field) for field in PER_ROW.values())})"
    )
    out = []
    for measure, field in PER_ROW.items():
        column = measure.split()[0]
        here = stated.filter(pl.col("field") == field).join(truth, on="source")
        every = here.select(
            pl.lit("all sources").alias("source"),
            pl.col("rows").sum(),
            pl.col("recorded").sum(),
            ((pl.col(column) * pl.col("rows_right")).sum() / pl.col("rows_right").sum()).alias(
                column
            ),
        )
        if here["rows"].null_count() or here["recorded"].null_count():
            every = every.with_columns(rows=pl.lit(None))  # a source suppressed: no overall
        for row in pl.concat([here.select(every.columns).sort("source"), every]).iter_rows(
            named=True
        ):
            recorded, rows = row["recorded"], row["rows"]
            stated_share = recorded / rows if rows and recorded is not None else None
            scope = row["source"] if row["source"] == "all sources" else f"source {row['source']}"
            out.append(_compared(scope, "suspect", "rows", measure, stated_share, row[column]))
    return pl.DataFrame(out, schema=COMPARED)


def _per_person(engine: Engine, population: pl.DataFrame, suffix: str) -> pl.DataFrame:
    truth = population.group_by("population", "role").agg(
        pl.col(column).mean() for _, column in PER_PERSON.values()
    )
    stated = engine.frame(f"SELECT * FROM audit_person_completeness{suffix}")
    joined = stated.join(truth, on=["population", "role"])
    out = []
    for row in joined.iter_rows(named=True):
        for measure, (column, true_column) in PER_PERSON.items():
            count, persons = row[column], row["persons"]
            share = count / persons if persons and count is not None else None
            out.append(
                _compared(
                    row["population"], row["role"], "persons", measure, share, row[true_column]
                )
            )
    return pl.DataFrame(out, schema=COMPARED).sort("population", "role", "measure")


COMPARED = {
    "population": pl.String,
    "role": pl.String,
    "counted": pl.String,
    "measure": pl.String,
    "stated": pl.Float64,
    "truth": pl.Float64,
    "difference_points": pl.Float64,
}


def _compared(
    population: str, role: str, counted: str, measure: str, stated: float | None, truth: float
) -> dict[str, object]:
    difference = None if stated is None else 100 * (stated - truth)
    values = (population, role, counted, measure, stated, truth, difference)
    return dict(zip(COMPARED, values, strict=True))


def _true_categories(people: pl.DataFrame) -> pl.DataFrame:
    """Each true person's category in every classification, nationality as published: a listed
    nationality, else "any other"; and the subtotal "any nationality but British"."""
    listed = published_nationalities()
    return people.with_columns(
        nationality=pl.when(pl.col("nationality").is_in(listed))
        .then("nationality")
        .otherwise(pl.lit(OTHER)),
        not_british=pl.when(pl.col("nationality") != BRITISH)
        .then(pl.lit(NOT_BRITISH))
        .otherwise(pl.lit(None)),
    )


def _shares(
    engine: Engine, population: pl.DataFrame, people: pl.DataFrame, suffix: str
) -> pl.DataFrame:
    joined = population.join(_true_categories(people), on="true_person_id")
    columns = {**TRUTH_COLUMNS, "nationality subtotal": "not_british"}
    parts = []
    for classification, column in columns.items():
        parts.append(
            joined.group_by("population", "role", column)
            .agg(pl.len().alias("true_persons"))
            .with_columns(
                true_share=pl.col("true_persons")
                / pl.col("true_persons").sum().over("population", "role"),
                classification=pl.lit(classification.split()[0]),
            )
            .rename({column: "category"})
            .filter(pl.col("category").is_not_null())
        )
    true = pl.concat(
        [p.select("population", "role", "classification", "category", "true_share") for p in parts]
    )
    kinds = ", ".join(f"'{kind}'" for kind in EVALUATED_KINDS)
    stated = engine.frame(
        "SELECT population, role, classification, category, kind, share_lower, share_upper "
        f"FROM audit_demographics{suffix} WHERE kind IN ({kinds})"
    ).filter(pl.col("population").is_in(TRUE_POPULATIONS))
    keys = ["population", "role", "classification", "category"]
    # a true category without a published row (none with fixed lists) counts as not contained
    return (
        stated.join(true, on=keys, how="full", coalesce=True)
        .with_columns(pl.col("true_share").fill_null(0.0))
        .with_columns(
            contained=(pl.col("share_lower") <= pl.col("true_share") + 1e-12)
            & (pl.col("true_share") <= pl.col("share_upper") + 1e-12)
        )
        .with_columns(pl.col("contained").fill_null(False))
        .sort(keys)
    )
