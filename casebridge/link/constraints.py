"""Constraints that domain knowledge gives for free: pairs of records that are two people.

- **One event, two parts.** Two suspects (or offenders) of one event, or a suspect and a victim
  of one event, are different people: a crime record names each person once.
- **Birth dates or ages that conflict.** Two records whose recorded birth years are more than
  ``KNOWN_YEARS_APART`` apart (unless month and day agree: then the year is a typo, as the
  model's "one part of the date wrong" level has it), or whose birth years estimated from an
  age at an event are more than ``ESTIMATED_YEARS_APART`` from the other's (recorded or
  estimated), are different people. A person aged A on date D was born after D less A + 1
  years and on or before D less A years: in year(D) - A - 1 or year(D) - A, and both count
  (a record with ages at several events, from the earliest of those years to the latest), so
  that the rounding of an age never makes a conflict. A record that carries several birth
  dates has no recorded year here (which one is right is unknown); 1 January in a date does
  not count as a known month and day (many systems write it for a year they only know).

Both are cannot-links, as an analyst's 'different' is: clustering never leaves such a pair in
one person, even through other records (``link.run.break_cannot_links``). An analyst's latest
judgement 'same' on the pair overrides either. The pairs are found in set-based SQL, among
the records of clusters of several records only (every pair of records would be quadratic,
and a record alone breaks nothing); birth years are paired up only in clusters whose birth
years spread wide enough to hold a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from casebridge.engine import Engine
from casebridge.link.judgements import latest_judgements_sql
from casebridge.link.ties import WEIGHT_COLUMN as TIE_WEIGHT_COLUMN

SUSPECT_ROLES = ("suspect", "offender")
VICTIM_ROLES = ("victim",)
KNOWN_YEARS_APART = 5
# a reporter's or a professional's guess at an adult's age is often a decade out ("in his
# thirties"): only a gap wider than that says two people
ESTIMATED_YEARS_APART = 10


@dataclass(frozen=True)
class Breaches:
    """Persons that hold a pair of records the constraints keep apart, with no judgement
    'same' on that pair."""

    one_event: int
    birth_conflict: int


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(f"'{role}'" for role in roles)


def _judged_same(engine: Engine | None = None) -> str:
    """The pairs whose latest judgement is 'same' (none when judgements have no table)."""
    if engine is not None and not engine.table_exists("match_judgement"):
        return "SELECT NULL AS record_l, NULL AS record_r WHERE false"
    return f"SELECT record_l, record_r FROM ({latest_judgements_sql()}) WHERE verdict = 'same'"


def _conflict(left: str, right: str) -> str:
    """SQL: the birth evidence of ``left`` and ``right`` (aliases of ``birth`` rows) says two
    people."""
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


def directly_linked_sql(
    threshold: float, tie_weighted: bool = False, pairs: str = "match_pair"
) -> str:
    """(record_l, record_r), record_l < record_r, in brackets: the pairs the model itself links
    (scored at or above ``threshold`` in ``pairs``, ``match_pair`` or a table of its shape)
    that no analyst judged different, and
    the pairs an analyst judged the same.

    "Itself": where ``match_pair`` holds the shared-tie weight (``tie_weighted``: see
    link/ties.py's ``apply_ties``), a pair must reach ``threshold`` on the model's own weight
    too, the tie weight taken out again. The model's comparisons weighed the two records' birth
    dates; the tie weight did not, and two brothers at one address tied to the same child
    reach the threshold through it alone."""
    low, high = "least(m.record_l, m.record_r)", "greatest(m.record_l, m.record_r)"
    own = f"m.match_weight - coalesce(m.{TIE_WEIGHT_COLUMN}, 0.0)"
    model_only = (
        f" AND 1.0 / (1.0 + pow(2.0, -({own}))) >= {float(threshold)}" if tie_weighted else ""
    )
    return f"""(SELECT {low} AS record_l, {high} AS record_r FROM {pairs} m
        WHERE m.match_probability >= {float(threshold)}{model_only} AND NOT EXISTS (
            SELECT 1 FROM ({latest_judgements_sql()}) j WHERE j.verdict = 'different'
                AND j.record_l = {low} AND j.record_r = {high})
        UNION
        SELECT record_l, record_r FROM ({_judged_same()}))"""


def model_links_sql(engine: Engine, threshold: float) -> str | None:
    """:func:`directly_linked_sql` for the workspace's ``match_pair`` as it stands (with or
    without the shared-tie weight); None before any pair was scored."""
    if not engine.table_exists("match_pair"):
        return None
    return directly_linked_sql(threshold, TIE_WEIGHT_COLUMN in engine.columns("match_pair"))


def constraint_pairs_sql(members: str, direct: str | None = None) -> str:
    """(cluster_id, record_l, record_r, kind), record_l < record_r: the pairs of records of one
    cluster of ``members`` (a (record_id, cluster_id) table, or a query in brackets) that the
    constraints keep apart, ``kind`` 'one_event' or 'birth'.

    A pair in ``direct`` ((record_l, record_r), record_l < record_r: the pairs the model links
    directly on its own weight, :func:`directly_linked_sql`) is no birth conflict: the model
    weighed the disagreeing birth dates against everything else the two records share and
    still calls them one person (a birth date mistyped whole, as FEBRL's noise writes it). Nor
    is a pair both of whose records the model links directly to one record that gives a birth
    date or an age: each link was weighed against that record's birth evidence. The
    constraint is against chains through records that carry none (a name-only record between
    two men of 20 and 50), and against links the shared-tie weight alone made.

    Only records of clusters of several records are looked at, and birth years are paired up
    only in clusters whose birth years spread beyond the narrower tolerance: the work grows
    with the records that linkage joined, not with all records."""
    known = (
        "p.date_of_birth IS NOT NULL AND p.dob_precision IS NOT NULL "
        "AND coalesce(array_length(p.dates_of_birth), 1) <= 1"
    )
    first_of_january = "(month(p.date_of_birth) = 1 AND day(p.date_of_birth) = 1)"
    day = f"{known} AND p.dob_precision = 'day' AND NOT {first_of_january}"
    suspects, parts = _roles(SUSPECT_ROLES), _roles(SUSPECT_ROLES + VICTIM_ROLES)
    exempt = (
        f"""
            AND NOT EXISTS (SELECT 1 FROM {direct} d
                WHERE d.record_l = l.record_id AND d.record_r = r.record_id)
            AND NOT EXISTS (SELECT 1 FROM ({_both_ways(direct)}) a
                JOIN ({_both_ways(direct)}) b ON b.near = a.near
                JOIN birth m ON m.record_id = a.near AND m.cluster_id = l.cluster_id
                WHERE a.far = l.record_id AND b.far = r.record_id
                    AND coalesce(m.known_year, m.earliest_year) IS NOT NULL)"""
        if direct
        else ""
    )
    return f"""WITH multi AS (
            SELECT m.record_id, m.cluster_id FROM {members} m
            JOIN (SELECT cluster_id FROM {members} GROUP BY cluster_id HAVING count(*) > 1) c
              ON c.cluster_id = m.cluster_id),
        parts AS (
            SELECT i.event_id, i.role, m.record_id, m.cluster_id
            FROM involvement i JOIN multi m ON m.record_id = i.record_id
            WHERE i.role IN ({parts})),
        ages AS (
            SELECT i.record_id, min(year(e.event_date) - i.age_at_event - 1) AS earliest_year,
                max(year(e.event_date) - i.age_at_event) AS latest_year
            FROM involvement i
            JOIN multi m ON m.record_id = i.record_id
            JOIN event e ON e.event_id = i.event_id
            WHERE i.age_at_event IS NOT NULL AND e.event_date IS NOT NULL
            GROUP BY i.record_id),
        birth AS (
            SELECT m.record_id, m.cluster_id,
                CASE WHEN {known} THEN year(p.date_of_birth) END AS known_year,
                CASE WHEN {day} THEN month(p.date_of_birth) END AS known_month,
                CASE WHEN {day} THEN day(p.date_of_birth) END AS known_day,
                a.earliest_year, a.latest_year
            FROM multi m
            JOIN person_record p ON p.record_id = m.record_id
            LEFT JOIN ages a ON a.record_id = m.record_id),
        wide AS (
            SELECT cluster_id FROM birth GROUP BY cluster_id
            HAVING max(coalesce(known_year, latest_year))
                - min(coalesce(known_year, earliest_year)) > {KNOWN_YEARS_APART})
        SELECT DISTINCT a.cluster_id, a.record_id AS record_l, b.record_id AS record_r,
            'one_event' AS kind
        FROM parts a
        JOIN parts b ON b.event_id = a.event_id AND b.cluster_id = a.cluster_id
            AND a.record_id < b.record_id
        WHERE a.role IN ({suspects}) OR b.role IN ({suspects})
        UNION
        SELECT l.cluster_id, l.record_id, r.record_id, 'birth'
        FROM birth l
        JOIN birth r ON r.cluster_id = l.cluster_id AND l.record_id < r.record_id
        WHERE l.cluster_id IN (SELECT cluster_id FROM wide) AND {_conflict("l", "r")}{exempt}"""


def _both_ways(direct: str) -> str:
    """(far, near): each direct pair, in both directions."""
    return (
        f"SELECT record_l AS far, record_r AS near FROM {direct} "
        f"UNION ALL SELECT record_r, record_l FROM {direct}"
    )


def cannot_links_sql(members: str, direct: str | None = None) -> str:
    """(record_l, record_r): every constraint pair inside a cluster of ``members`` (see
    :func:`constraint_pairs_sql`, with ``direct``), less the pairs an analyst's latest
    judgement calls the same."""
    pairs = constraint_pairs_sql(members, direct)
    return f"""SELECT DISTINCT c.record_l, c.record_r FROM ({pairs}) c
        WHERE NOT EXISTS (SELECT 1 FROM ({_judged_same()}) j
            WHERE j.record_l = c.record_l AND j.record_r = c.record_r)"""


def count_breaches(engine: Engine, members: str, direct: str | None = None) -> Breaches:
    """How many persons of ``members`` (a (record_id, cluster_id) table, or a query in
    brackets) hold two suspects of one event (or a suspect and its victim), and how many hold
    conflicting birth dates or ages (other than pairs ``direct`` lets off: see
    :func:`constraint_pairs_sql`; :func:`model_links_sql` gives the model's direct links, as
    clustering uses them), with no judgement 'same' on the pair."""
    pairs = constraint_pairs_sql(members, direct)
    rows = engine.query(
        f"""SELECT c.kind, count(DISTINCT c.cluster_id) FROM ({pairs}) c
        WHERE NOT EXISTS (SELECT 1 FROM ({_judged_same(engine)}) j
            WHERE j.record_l = c.record_l AND j.record_r = c.record_r)
        GROUP BY c.kind"""
    )
    found = {str(kind): int(persons) for kind, persons in rows}
    return Breaches(one_event=found.get("one_event", 0), birth_conflict=found.get("birth", 0))
