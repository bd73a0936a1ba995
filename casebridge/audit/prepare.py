"""The audit's working tables, built once per run over the standard and resolved tables.

Every statistic reads these, so that all of them agree on what "a suspect", "a child sexual
offence" and "ethnicity recorded" mean:

- ``audit_record``: a person record with its person (itself when linkage has not run) and what
  it records, as codes: the 18+1 code (never "not stated"), the broad ethnic group (from the
  code, or from a phrase such as "Asian" that names a group only), the officer-defined IC code
  (never IC9/IC0, which mean unknown) and the nationality, and the year of its first event;
- ``audit_set_aside``: per source and local id (a person's or an event's), which standard fields
  had a value set aside with a ``finding`` (recorded in the source, but not read: an unknown
  code, a phrase no list holds, a malformed date), one yes/no column per field;
- ``audit_record`` also says whether its ethnicity, nationality or age was set aside so;
- ``audit_event``: an event with its year and whether it is a child sexual offence: a crime
  recorded as a sexual offence with a victim under 18 (by age at the event, else by the
  offence's victim age band), or a duty-to-report report (each reports a child sex offence);
- ``audit_involved``: an involvement with its person, its role class (``suspect`` for suspect,
  offender and person of concern; ``victim``) and its event's facts;
- ``audit_row``: a person as one source row names them in an event (``person_observation``),
  with what that row itself holds (not what the record shows, which its other rows may fill):
  the compulsory fields are counted per row from it;
- ``audit_person``: each person once, with the best-known value of each attribute across their
  linked records (a value recorded in any record makes it known; among several, the most
  frequent, then the lowest code), how many records disagree, and whether any record had an
  ethnicity or nationality set aside (recorded, but not read).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.ingest.fidelity import set_aside_only
from casebridge.standard.datafiles import read_standard
from casebridge.standard.vocabulary import DUTY_REPORT_KINDS, duty_report_sql

SUSPECT_ROLES = ("suspect", "offender", "person_of_concern")
VICTIM_ROLES = ("victim",)
CHILD_BANDS = ("under13", "under16", "under18")
REQUIRED = (
    "source", "person_record", "person_observation", "event", "involvement", "finding",
    "std_ethnicity", "std_ic_code",
)  # fmt: skip
# the standard fields a finding names (ingest's person and event problems), by finding field
SET_ASIDE_FIELDS = (
    "role", "approx_age", "date_of_birth", "sex", "ethnicity_self", "ethnicity_officer",
    "nationality", "postcode", "event_date", "offence", "outcome", "outcome_date",
)  # fmt: skip


@dataclass(frozen=True)
class Stages:
    """Which earlier stages have left their tables."""

    linked: bool
    networks: bool
    screening: bool


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + ")"


SET_ASIDE = f"""
CREATE OR REPLACE TEMP TABLE audit_set_aside AS
SELECT source, local_id, {", ".join(f"bool_or(field = '{f}') AS {f}" for f in SET_ASIDE_FIELDS)}
FROM finding WHERE {set_aside_only()} GROUP BY source, local_id
"""

RECORD = """
CREATE OR REPLACE TEMP TABLE audit_record AS
WITH first_event AS (
    SELECT i.record_id, min(year(e.event_date)) AS year
    FROM involvement i JOIN event e ON e.event_id = i.event_id
    GROUP BY i.record_id)
SELECT r.record_id, r.source, {person} AS person_id, f.year,
    CASE WHEN s."group" <> 'Not stated' THEN s.code END AS ethnicity_code,
    coalesce(CASE WHEN s."group" <> 'Not stated' THEN s."group" END, b."group")
        AS ethnicity_group,
    CASE WHEN ic.label NOT LIKE 'Unknown%' THEN ic.code END AS ic_code,
    r.nationality,
    r.date_of_birth IS NOT NULL OR r.approx_age IS NOT NULL AS age_known,
    coalesce(x.ethnicity_self OR x.ethnicity_officer, false) AS ethnicity_set_aside,
    coalesce(x.nationality, false) AS nationality_set_aside,
    coalesce(x.date_of_birth OR x.approx_age, false) AS age_set_aside
FROM person_record r
{link}
LEFT JOIN first_event f ON f.record_id = r.record_id
LEFT JOIN audit_set_aside x ON x.source = r.source AND x.local_id = r.local_id
LEFT JOIN std_ethnicity s ON s.code = r.ethnicity_self
LEFT JOIN audit_broad_ethnicity b ON b.phrase = lower(trim(r.ethnicity_self_raw))
    AND (r.ethnicity_self IS NULL OR r.ethnicity_self = 'NS')
LEFT JOIN std_ic_code ic ON ic.code = r.ethnicity_officer
"""

EVENT = f"""
CREATE OR REPLACE TEMP TABLE audit_event AS
WITH child AS (
    SELECT i.event_id, count(*) AS child_victims
    FROM involvement i JOIN event e ON e.event_id = i.event_id
    WHERE i.role IN {_sql_list(VICTIM_ROLES)}
        AND coalesce(i.age_at_event < 18, e.victim_age_band IN {_sql_list(CHILD_BANDS)}, false)
    GROUP BY i.event_id)
SELECT e.event_id, e.source, e.kind, year(e.event_date) AS year, e.offence_code,
    e.outcome_code, coalesce(x.offence, false) AS offence_set_aside,
    coalesce(x.outcome, false) AS outcome_set_aside,
    (coalesce(e.is_sexual, false) AND coalesce(c.child_victims, 0) > 0)
        OR {{duty_report}} AS is_child_sexual_offence
FROM event e LEFT JOIN child c ON c.event_id = e.event_id
LEFT JOIN audit_set_aside x ON x.source = e.source AND x.local_id = e.local_id
LEFT JOIN (SELECT DISTINCT source, kind FROM source) s ON s.source = e.source
"""

INVOLVED = f"""
CREATE OR REPLACE TEMP TABLE audit_involved AS
SELECT i.event_id, i.record_id, r.person_id, i.source, e.year, e.kind,
    e.is_child_sexual_offence,
    CASE WHEN i.role IN {_sql_list(SUSPECT_ROLES)} THEN 'suspect'
         WHEN i.role IN {_sql_list(VICTIM_ROLES)} THEN 'victim' END AS role_class,
    i.age_at_event IS NOT NULL OR r.age_known AS age_known
FROM involvement i
JOIN audit_event e ON e.event_id = i.event_id
JOIN audit_record r ON r.record_id = i.record_id
"""


def _best(column: str) -> str:
    """Each person's most frequent non-null value of ``column`` (ties: the lowest)."""
    return f"""(SELECT person_id, {column}, distinct_values AS {column}_values FROM (
        SELECT person_id, {column},
            count(*) OVER (PARTITION BY person_id) AS distinct_values,
            row_number() OVER (PARTITION BY person_id ORDER BY count(*) DESC, {column}) AS rank
        FROM audit_record WHERE {column} IS NOT NULL GROUP BY person_id, {column})
        WHERE rank = 1) best_{column}"""


ROW = f"""
CREATE OR REPLACE TEMP TABLE audit_row AS
WITH set_aside AS (
    SELECT source, file_name, row_number, local_id,
        bool_or(field IN ('ethnicity_self', 'ethnicity_officer')) AS ethnicity,
        bool_or(field = 'nationality') AS nationality,
        bool_or(field IN ('date_of_birth', 'approx_age')) AS age
    FROM finding WHERE {set_aside_only()} GROUP BY ALL)
SELECT o.source, e.year, e.is_child_sexual_offence,
    CASE WHEN o.role IN {_sql_list(SUSPECT_ROLES)} THEN 'suspect'
         WHEN o.role IN {_sql_list(VICTIM_ROLES)} THEN 'victim' END AS role_class,
    (s."group" <> 'Not stated' OR b."group" IS NOT NULL OR ic.label NOT LIKE 'Unknown%')
        IS TRUE AS ethnicity_filled,
    coalesce(x.ethnicity, false) AS ethnicity_set_aside,
    o.nationality IS NOT NULL AS nationality_filled,
    coalesce(x.nationality, false) AS nationality_set_aside,
    o.date_of_birth IS NOT NULL OR o.approx_age IS NOT NULL AS age_filled,
    coalesce(x.age, false) AS age_set_aside
FROM person_observation o
JOIN audit_event e ON e.event_id = o.event_id
LEFT JOIN set_aside x ON x.source = o.source AND x.file_name = o.file_name
    AND x.row_number = o.row_number AND x.local_id = o.local_id
LEFT JOIN std_ethnicity s ON s.code = o.ethnicity_self
LEFT JOIN audit_broad_ethnicity b ON b.phrase = lower(trim(o.ethnicity_self_raw))
    AND (o.ethnicity_self IS NULL OR o.ethnicity_self = 'NS')
LEFT JOIN std_ic_code ic ON ic.code = o.ethnicity_officer
"""

PERSON = f"""
CREATE OR REPLACE TEMP TABLE audit_person AS
SELECT p.person_id, p.records, p.sources, p.ethnicity_set_aside, p.nationality_set_aside,
    best_ethnicity_code.ethnicity_code,
    coalesce(code_group."group", best_ethnicity_group.ethnicity_group) AS ethnicity_group,
    best_ic_code.ic_code, best_nationality.nationality,
    coalesce(best_ethnicity_code.ethnicity_code_values, 0) > 1 AS ethnicity_disagrees
FROM (SELECT person_id, count(*) AS records, count(DISTINCT source) AS sources,
        bool_or(ethnicity_set_aside) AS ethnicity_set_aside,
        bool_or(nationality_set_aside) AS nationality_set_aside
      FROM audit_record GROUP BY person_id) p
LEFT JOIN {_best("ethnicity_code")} USING (person_id)
LEFT JOIN {_best("ethnicity_group")} USING (person_id)
LEFT JOIN {_best("ic_code")} USING (person_id)
LEFT JOIN {_best("nationality")} USING (person_id)
LEFT JOIN std_ethnicity code_group ON code_group.code = best_ethnicity_code.ethnicity_code
"""


def broad_ethnicity() -> pl.DataFrame:
    """Phrases that name one broad ethnic group only, and the group."""
    return pl.DataFrame(
        list(read_standard("ethnicity_broad", ("phrase", "group"))),
        schema=["phrase", "group"],
        orient="row",
    )


def prepare(engine: Engine, duty_report_kinds: tuple[str, ...] = DUTY_REPORT_KINDS) -> Stages:
    """Build the audit's working tables; say which earlier stages have run."""
    missing = [name for name in REQUIRED if not engine.table_exists(name)]
    if missing:
        raise UsageError(
            f"nothing to audit: no {', '.join(missing)} table; run 'casebridge ingest' first"
        )
    stages = Stages(
        linked=engine.table_exists("person_link"),
        networks=engine.table_exists("network") and engine.table_exists("network_member"),
        screening=engine.table_exists("review_item"),
    )
    engine.create_table_from_arrow("audit_broad_ethnicity", broad_ethnicity(), temporary=True)
    if stages.linked:
        person, link = (
            "coalesce(l.person_id, r.record_id)",
            ("LEFT JOIN person_link l ON l.record_id = r.record_id"),
        )
    else:
        person, link = "r.record_id", ""
    engine.execute(SET_ASIDE)
    engine.execute(RECORD.format(person=person, link=link))
    # a duty report as the networks and screen stages read one: its kind, or its source's kind
    duty_report, words = duty_report_sql("e.kind", "s.kind", duty_report_kinds)
    engine.execute(EVENT.format(duty_report=duty_report), words)
    for statement in (INVOLVED, ROW, PERSON):
        engine.execute(statement)
    return stages
