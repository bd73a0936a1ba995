"""Constraints that domain knowledge gives for free: pairs of records that are two people.

- **One event, two parts.** Two suspects (or offenders) of one event, or a suspect and a victim
  of one event, are different people: a crime record names each person once.
- **Birth dates or ages that conflict.** Two records whose recorded birth years are more than
  ``KNOWN_YEARS_APART`` apart (unless month and day agree: then the year is a typo, as the
  model's "one part of the date wrong" level has it), or whose birth years estimated from an
  age at an event are more than ``ESTIMATED_YEARS_APART`` from the other's (recorded or
  estimated), are different people. A record that carries several birth dates has no recorded
  year here (which one is right is unknown); 1 January in a date does not count as a known
  month and day (many systems write it for a year they only know).

Both are cannot-links, as an analyst's 'different' is: clustering never leaves such a pair in
one person, even through other records (``link.run.break_cannot_links``). An analyst's latest
judgement 'same' on the pair overrides either. The pairs are found in set-based SQL; birth
conflicts only inside clusters (every pair of records would be quadratic), and only in
clusters whose birth years spread wide enough to hold one.
"""

from __future__ import annotations

from dataclasses import dataclass

from casebridge.engine import Engine
from casebridge.link.judgements import latest_judgements_sql

SUSPECT_ROLES = ("suspect", "offender")
VICTIM_ROLES = ("victim",)
KNOWN_YEARS_APART = 5
# a reporter's or a professional's guess at an adult's age is often a decade out ("in his
# thirties"): only a gap wider than that says two people
ESTIMATED_YEARS_APART = 10
BIRTH = "cb_birth_evidence"


@dataclass(frozen=True)
class Breaches:
    """Persons that hold a pair of records the constraints keep apart, with no judgement
    'same' on that pair."""

    one_event: int
    birth_conflict: int


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(f"'{role}'" for role in roles)


def event_cannot_links_sql() -> str:
    """(record_l, record_r), record_l < record_r: two suspects of one event, or a suspect and a
    victim of one event."""
    suspects, parts = _roles(SUSPECT_ROLES), _roles(SUSPECT_ROLES + VICTIM_ROLES)
    return f"""SELECT DISTINCT a.record_id AS record_l, b.record_id AS record_r
        FROM involvement a
        JOIN involvement b ON b.event_id = a.event_id AND a.record_id < b.record_id
        WHERE a.role IN ({parts}) AND b.role IN ({parts})
          AND (a.role IN ({suspects}) OR b.role IN ({suspects}))"""


def prepare_birth_evidence(engine: Engine) -> None:
    """Create ``cb_birth_evidence``: per record its recorded birth year (and month and day when
    known), and the range of birth years its ages at events give."""
    placeholder = "(month(p.date_of_birth) = 1 AND day(p.date_of_birth) = 1)"
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE {BIRTH} AS
        SELECT p.record_id, k.known_year, k.known_month, k.known_day,
            a.earliest_year, a.latest_year
        FROM person_record p
        LEFT JOIN (
            SELECT p.record_id, year(p.date_of_birth) AS known_year,
                CASE WHEN p.dob_precision = 'day' AND NOT {placeholder}
                    THEN month(p.date_of_birth) END AS known_month,
                CASE WHEN p.dob_precision = 'day' AND NOT {placeholder}
                    THEN day(p.date_of_birth) END AS known_day
            FROM person_record p
            WHERE p.date_of_birth IS NOT NULL AND p.dob_precision IS NOT NULL
              AND coalesce(array_length(p.dates_of_birth), 1) <= 1) k
          ON k.record_id = p.record_id
        LEFT JOIN (
            SELECT i.record_id, min(year(e.event_date) - i.age_at_event) AS earliest_year,
                max(year(e.event_date) - i.age_at_event) AS latest_year
            FROM involvement i JOIN event e ON e.event_id = i.event_id
            WHERE i.age_at_event IS NOT NULL AND e.event_date IS NOT NULL
            GROUP BY i.record_id) a ON a.record_id = p.record_id
        WHERE k.known_year IS NOT NULL OR a.earliest_year IS NOT NULL"""
    )


def _conflict(left: str, right: str) -> str:
    """SQL: the birth evidence of ``left`` and ``right`` (aliases of ``cb_birth_evidence``
    rows) says two people."""
    low = f"coalesce({left}.known_year, {left}.earliest_year)"
    high = f"coalesce({left}.known_year, {left}.latest_year)"
    other_low = f"coalesce({right}.known_year, {right}.earliest_year)"
    other_high = f"coalesce({right}.known_year, {right}.latest_year)"
    return f"""(CASE
        WHEN {left}.known_year IS NOT NULL AND {right}.known_year IS NOT NULL THEN
            abs({left}.known_year - {right}.known_year) > {KNOWN_YEARS_APART}
            AND NOT coalesce({left}.known_month = {right}.known_month
                AND {left}.known_day = {right}.known_day, false)
        ELSE {low} - {other_high} > {ESTIMATED_YEARS_APART}
            OR {other_low} - {high} > {ESTIMATED_YEARS_APART} END)"""


def birth_conflicts_sql(members: str) -> str:
    """(record_l, record_r), record_l < record_r: pairs of records of one cluster whose birth
    dates or ages conflict. ``members`` names a (record_id, cluster_id) table; needs
    :func:`prepare_birth_evidence` first. Only clusters whose birth years spread beyond the
    narrower tolerance are paired up."""
    return f"""WITH held AS (
            SELECT m.cluster_id, b.* FROM {members} m JOIN {BIRTH} b ON b.record_id = m.record_id),
        wide AS (
            SELECT cluster_id FROM held GROUP BY cluster_id
            HAVING max(coalesce(known_year, latest_year))
                - min(coalesce(known_year, earliest_year)) > {KNOWN_YEARS_APART})
        SELECT l.record_id AS record_l, r.record_id AS record_r
        FROM held l
        JOIN held r ON r.cluster_id = l.cluster_id AND l.record_id < r.record_id
        WHERE l.cluster_id IN (SELECT cluster_id FROM wide) AND {_conflict("l", "r")}"""


def cannot_links_sql(members: str) -> str:
    """Every constraint pair inside a cluster of ``members`` (record_id, cluster_id), less the
    pairs an analyst's latest judgement calls the same."""
    return f"""SELECT c.record_l, c.record_r FROM (
            SELECT e.record_l, e.record_r FROM ({event_cannot_links_sql()}) e
            JOIN {members} l ON l.record_id = e.record_l
            JOIN {members} r ON r.record_id = e.record_r AND r.cluster_id = l.cluster_id
            UNION
            SELECT b.record_l, b.record_r FROM ({birth_conflicts_sql(members)}) b) c
        WHERE NOT EXISTS (
            SELECT 1 FROM ({latest_judgements_sql()}) j
            WHERE j.verdict = 'same' AND j.record_l = c.record_l AND j.record_r = c.record_r)"""


def count_breaches(engine: Engine, members: str) -> Breaches:
    """How many persons of ``members`` (a (record_id, cluster_id) table or query in brackets)
    hold two records of one event's suspects (or a suspect and its victim), and how many hold
    conflicting birth dates or ages, with no judgement 'same' on the pair."""
    prepare_birth_evidence(engine)
    judged = (
        latest_judgements_sql()
        if engine.table_exists("match_judgement")
        else "SELECT NULL AS record_l, NULL AS record_r, NULL AS verdict WHERE false"
    )
    unjudged = f"""NOT EXISTS (SELECT 1 FROM ({judged}) j WHERE j.verdict = 'same'
        AND j.record_l = c.record_l AND j.record_r = c.record_r)"""
    one_event, birth = engine.query(
        f"""SELECT
            (SELECT count(DISTINCT l.cluster_id) FROM ({event_cannot_links_sql()}) c
             JOIN {members} l ON l.record_id = c.record_l
             JOIN {members} r ON r.record_id = c.record_r AND r.cluster_id = l.cluster_id
             WHERE {unjudged}),
            (SELECT count(DISTINCT m.cluster_id) FROM ({birth_conflicts_sql(members)}) c
             JOIN {members} m ON m.record_id = c.record_l
             WHERE {unjudged})"""
    )[0]
    return Breaches(one_event=int(one_event), birth_conflict=int(birth))
