"""The screening vocabulary: helper tables every rule's query may read.

Built once per run as temporary tables over the standard and resolved tables, so that each rule
stays one short set-based statement and they all agree on what "a child", "a suspect", "a
child sexual offence" and "charged" mean. ``docs/screening.md`` lists their columns.

- ``screen_involvement``: an involvement with its person, best known age and event facts;
- ``screen_event``: an event with its source's agency and kind and what it is about;
- ``screen_possible_person``: each record's person, and the persons of the records the linker
  scored as a possible match of it, with that probability;
- ``screen_namesake``: a record named in a duty report, and the police records with nearly the
  same name (and no sex or age telling them apart);
- ``screen_tie``: a suspect (or person of concern) named with a child in a child abuse report;
- ``screen_suspect_match``: two persons named with the same child whose records the linker
  scored as a possible match, or which carry nearly the same name: perhaps one suspect, split
  because a record held too little;
- ``screen_charge``: a person charged with a sexual offence against a child, and the case.
"""

from __future__ import annotations

from casebridge.engine import Engine
from casebridge.errors import UsageError
from casebridge.link.prepare import PLACEHOLDER_EXCESS, PLACEHOLDER_MINIMUM
from casebridge.standard.recorded import ethnicity_recorded, nationality_recorded
from casebridge.standard.sql import calendar_age
from casebridge.standard.vocabulary import duty_report_sql, kind_in_sql
from casebridge.workspace import VocabularySettings

INPUT_TABLES = ("event", "involvement", "person_record", "source", "person_link", "person")
SUSPECT_ROLES = ("suspect", "offender")
NAMED_ROLES = (*SUSPECT_ROLES, "person_of_concern")
CHILD_ROLES = ("victim", "subject")
CHILD_BANDS = ("under13", "under16", "under18")


_JANUARY_FIRST = "(month(date_of_birth) = 1 AND day(date_of_birth) = 1)"
# the birth date range an involvement is aged by: its record's own (narrowed to the person's
# best date where that is one day inside it), else none where the record states an age at the
# event, else the person's best
_BORN = """CASE WHEN own.record_id IS NOT NULL THEN
        CASE WHEN best.born_first = best.born_last
                  AND best.born_first BETWEEN own.born_first AND own.born_last
             THEN best.born_{end} ELSE own.born_{end} END
    WHEN i.age_at_event IS NULL THEN best.born_{end} END"""


def _listed(values: tuple[str, ...]) -> str:
    """An SQL list of fixed words (vocabulary, never user values)."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def _similar(edits: str) -> str:
    """SQL: the names on rows a and b are nearly the same: each part within ``edits`` (an SQL
    expression over ``longer``, the longer spelling's length), in either order, and no sex or
    birth year (within three years) tells them apart."""

    def close(left: str, right: str) -> str:
        longer = f"greatest(length({left}), length({right}))"
        return f"levenshtein({left}, {right}) <= {edits.format(longer=longer)}"

    same = f"{close('a.forename', 'b.forename')} AND {close('a.surname', 'b.surname')}"
    swapped = f"{close('a.forename', 'b.surname')} AND {close('a.surname', 'b.forename')}"
    return (
        f"((({same}) OR ({swapped})) AND coalesce(a.sex = b.sex, true) "
        "AND coalesce(abs(a.born - b.born) <= 3, true))"
    )


# A birth date as the range of days it allows: a date to the day is one day; a month, the
# month; a year only, or a 1 January in a source that writes 1 January for an unknown day and
# month (far more of them than the calendar gives, as the link stage reads it), the whole year.
BIRTH = f"""
CREATE OR REPLACE TEMP TABLE screen_birth AS
WITH placeholder AS (
    SELECT source FROM person_record WHERE dob_precision = 'day' GROUP BY source
    HAVING sum(CASE WHEN {_JANUARY_FIRST} THEN 1 ELSE 0 END)
            > {PLACEHOLDER_EXCESS} * count(*) / 365.25
        AND sum(CASE WHEN {_JANUARY_FIRST} THEN 1 ELSE 0 END) >= {PLACEHOLDER_MINIMUM}
), dated AS (
    SELECT record_id, date_of_birth,
        CASE WHEN dob_precision = 'day' AND {_JANUARY_FIRST}
                  AND source IN (SELECT source FROM placeholder) THEN 'year'
             ELSE coalesce(dob_precision, 'day') END AS precision
    FROM person_record WHERE date_of_birth IS NOT NULL
)
SELECT record_id, precision,
    CASE WHEN precision = 'year' THEN make_date(year(date_of_birth), 1, 1)
         WHEN precision = 'month' THEN make_date(year(date_of_birth), month(date_of_birth), 1)
         ELSE date_of_birth END AS born_first,
    CASE WHEN precision = 'year' THEN make_date(year(date_of_birth), 12, 31)
         WHEN precision = 'month' THEN last_day(date_of_birth)
         ELSE date_of_birth END AS born_last
FROM dated
"""

# A person's best birth date (the one most of their records give) as a range: the narrowest
# that the records giving that very date allow, so that it is one day where any of them gives
# it to the day.
PERSON_BIRTH = """
CREATE OR REPLACE TEMP TABLE screen_person_birth AS
SELECT p.person_id, max(b.born_first) AS born_first, min(b.born_last) AS born_last
FROM person p
JOIN person_link l ON l.person_id = p.person_id
JOIN person_record r ON r.record_id = l.record_id AND r.date_of_birth = p.date_of_birth
JOIN screen_birth b ON b.record_id = r.record_id
GROUP BY p.person_id
"""

# Age: the range of whole years (as the law counts them) that the record's own birth date
# allows on the event's date, narrowed to the linked person's best birth date where that is
# known to the day and falls in the range; else the age the record gives at the event (a
# stated age, taken as it is; also where the event has no date to age a birth date on); else
# the range of the person's best birth date. A victim is a
# child when the offence's classification says so (its victim age band), else when the
# youngest age the range allows is under 18; where no age is known, a CSE-flagged offence's
# victim is taken as a child, since the flag marks the exploitation of a child.
INVOLVEMENT = f"""
CREATE OR REPLACE TEMP TABLE screen_involvement AS
SELECT *,
    CASE WHEN age_min = age_max THEN age_min END AS age,
    CASE WHEN age_min = age_max THEN CAST(age_min AS VARCHAR)
         WHEN age_max - age_min = 1 THEN CAST(age_min AS VARCHAR) || ' or '
             || CAST(age_max AS VARCHAR)
         ELSE CAST(age_min AS VARCHAR) || ' to ' || CAST(age_max AS VARCHAR) END AS age_text,
    coalesce(year(born_last), year(event_date) - age_max) AS born,
    CASE WHEN role = 'victim' AND victim_age_band IN {_listed(CHILD_BANDS)} THEN true
         WHEN age_min IS NOT NULL THEN age_min < 18
         ELSE coalesce(role = 'victim' AND cse_flag, false) END AS is_child,
    NOT coalesce(role = 'victim' AND victim_age_band IN {_listed(CHILD_BANDS)}, false)
        AND coalesce(age_min < 18 AND age_max >= 18, false) AS child_age_uncertain
FROM (
    SELECT *,
        coalesce({calendar_age("born_last", "event_date")}, stated_age) AS age_min,
        coalesce({calendar_age("born_first", "event_date")}, stated_age) AS age_max
    FROM (
        SELECT i.event_id, i.record_id, coalesce(l.person_id, i.record_id) AS person_id,
            i.role, r.source, r.local_id, s.agency, s.kind AS source_kind,
            e.kind AS event_kind, e.event_date, coalesce(e.is_sexual, false) AS is_sexual,
            e.victim_age_band, e.cse_flag,
            CASE WHEN own.record_id IS NULL OR e.event_date IS NULL THEN i.age_at_event
                END AS stated_age,
            {_BORN.format(end="first")} AS born_first,
            {_BORN.format(end="last")} AS born_last,
            r.forename, r.surname, r.forename_phonetic, r.surname_phonetic, r.sex,
            {ethnicity_recorded("r")} AS ethnicity_recorded,
            {nationality_recorded("r")} AS nationality_recorded
        FROM involvement i
        JOIN event e ON e.event_id = i.event_id
        JOIN person_record r ON r.record_id = i.record_id
        LEFT JOIN source s ON s.source = r.source
        LEFT JOIN person_link l ON l.record_id = i.record_id
        LEFT JOIN screen_birth own ON own.record_id = i.record_id
        LEFT JOIN screen_person_birth best ON best.person_id = l.person_id
    ) involved
) aged
"""

# The event kinds come from the workspace's [vocabulary], bound as parameters (event_sql).
EVENT = f"""
CREATE OR REPLACE TEMP TABLE screen_event AS
SELECT *,
    is_sexual AND child_victims > 0 AS is_child_sexual_offence,
    is_sexual AND child_victims > 0 AND certain_child_victims = 0 AS child_age_uncertain,
    (is_sexual AND child_victims > 0)
        OR ((is_duty_report OR is_assessment) AND children > 0) AS is_child_abuse_report
FROM (
    SELECT e.event_id, e.source, e.local_id, s.agency, s.kind AS source_kind, e.kind,
        e.event_date, e.offence_code, e.soa_section,
        nullif(regexp_extract(lower(e.soa_section), '^(s[0-9]+[a-z]?)', 1), '') AS soa_base_section,
        coalesce(e.is_sexual, false) AS is_sexual,
        e.is_penetrative, e.victim_age_band, e.outcome_code, e.outcome_label,
        e.outcome_category, e.outcome_date,
        coalesce(e.outcome_category = 'charge', false) AS is_charged,
        {{is_duty_report}} AS is_duty_report, {{is_assessment}} AS is_assessment,
        {{is_missing_episode}} AS is_missing_episode,
        coalesce(c.child_victims, 0) AS child_victims,
        coalesce(c.certain_child_victims, 0) AS certain_child_victims,
        coalesce(c.children, 0) AS children
    FROM event e
    LEFT JOIN source s ON s.source = e.source
    LEFT JOIN (
        SELECT event_id,
            count(DISTINCT person_id) FILTER (WHERE role = 'victim' AND is_child) AS child_victims,
            count(DISTINCT person_id) FILTER (
                WHERE role = 'victim' AND is_child AND NOT child_age_uncertain)
                AS certain_child_victims,
            count(DISTINCT person_id) FILTER (WHERE role IN {_listed(CHILD_ROLES)} AND is_child)
                AS children
        FROM screen_involvement GROUP BY event_id
    ) c ON c.event_id = e.event_id
) events
"""


def event_sql(vocabulary: VocabularySettings) -> tuple[str, list[str]]:
    """``screen_event``'s statement and its parameters: the vocabulary's kinds, in order."""
    duty, duty_kinds = duty_report_sql("e.kind", "s.kind", vocabulary.duty_report_kinds)
    assessment, assessment_kinds = kind_in_sql("e.kind", vocabulary.assessment_kinds)
    missing, missing_kinds = kind_in_sql("e.kind", vocabulary.missing_kinds)
    statement = EVENT.format(
        is_duty_report=duty, is_assessment=assessment, is_missing_episode=missing
    )
    return statement, [*duty_kinds, *assessment_kinds, *missing_kinds]


TIE = f"""
CREATE OR REPLACE TEMP TABLE screen_tie AS
SELECT DISTINCT s.person_id AS suspect_id, s.record_id AS suspect_record,
    s.role AS suspect_role, s.forename AS suspect_forename, s.surname AS suspect_surname,
    s.sex AS suspect_sex, s.born AS suspect_born, c.person_id AS child_id,
    c.record_id AS child_record, c.role AS child_role, c.child_age_uncertain,
    c.age_text AS child_age_text, e.event_id, e.source, e.agency, e.kind
FROM screen_event e
JOIN screen_involvement s ON s.event_id = e.event_id AND s.role IN {_listed(NAMED_ROLES)}
JOIN screen_involvement c ON c.event_id = e.event_id AND c.role IN {_listed(CHILD_ROLES)}
    AND c.is_child
WHERE e.is_child_abuse_report AND s.person_id <> c.person_id
"""

POSSIBLE = """
CREATE OR REPLACE TEMP TABLE screen_possible_person AS
SELECT record_id, person_id, max(match_probability) AS match_probability
FROM (
    SELECT record_id, person_id, 1.0 AS match_probability FROM person_link
    UNION ALL
    SELECT m.record_l, l.person_id, m.match_probability
    FROM match_pair m JOIN person_link l ON l.record_id = m.record_r
    UNION ALL
    SELECT m.record_r, l.person_id, m.match_probability
    FROM match_pair m JOIN person_link l ON l.record_id = m.record_l
) possible
GROUP BY record_id, person_id
"""

# without match_pair (linking kept no scores) a record is only its own person
POSSIBLE_LINKED_ONLY = """
CREATE OR REPLACE TEMP TABLE screen_possible_person AS
SELECT record_id, person_id, 1.0 AS match_probability FROM person_link
"""

# Among everyone the police hold, a namesake must be close: one edit, two in spellings of six
# letters or more. Among the few suspects named with one child, two edits are enough.
NAMESAKE_EDITS = "CASE WHEN {longer} >= 6 THEN 2 ELSE 1 END"
SAME_CHILD_EDITS = "2"

# People named in duty reports (wherever held: a force may hold those it receives) are given
# by what the reporter knew, often a name and an age alone; a police record with nearly the
# same name may be theirs. Candidates share the sound
# key of the surname and the forename's initial, or the same with forename and surname swapped.
NAMESAKE = f"""
CREATE OR REPLACE TEMP TABLE screen_namesake AS
WITH named AS (
    SELECT DISTINCT i.record_id, i.forename, i.surname, i.surname_phonetic,
        left(i.forename, 1) AS initial, i.sex, i.born
    FROM screen_involvement i JOIN screen_event e ON e.event_id = i.event_id
    WHERE e.is_duty_report
        AND i.role IN {_listed(NAMED_ROLES + CHILD_ROLES)}
), police AS (
    SELECT r.record_id, coalesce(l.person_id, r.record_id) AS person_id, r.forename, r.surname,
        r.forename_phonetic, r.surname_phonetic, left(r.forename, 1) AS initial,
        left(r.surname, 1) AS surname_initial, r.sex,
        year(coalesce(r.date_of_birth, p.date_of_birth)) AS born
    FROM person_record r
    JOIN source s ON s.source = r.source AND s.kind = 'police'
    LEFT JOIN person_link l ON l.record_id = r.record_id
    LEFT JOIN person p ON p.person_id = l.person_id
), candidate AS (
    SELECT a.record_id, b.record_id AS police_record, b.person_id
    FROM named a JOIN police b
        ON b.surname_phonetic = a.surname_phonetic AND b.initial = a.initial
    WHERE b.record_id <> a.record_id AND {_similar(NAMESAKE_EDITS)}
    UNION
    SELECT a.record_id, b.record_id, b.person_id
    FROM named a JOIN police b
        ON b.forename_phonetic = a.surname_phonetic AND b.surname_initial = a.initial
    WHERE b.record_id <> a.record_id AND {_similar(NAMESAKE_EDITS)}
)
SELECT DISTINCT record_id, police_record, person_id FROM candidate
"""

TIE_NAMES = """SELECT suspect_id, suspect_record, child_id, suspect_forename AS forename,
    suspect_surname AS surname, suspect_sex AS sex, suspect_born AS born FROM screen_tie"""

# Two suspects named with the same child are perhaps one person when the linker scored their
# records as a possible match, or when they carry nearly the same name (same_child). Two named
# with different children, or with one child whom linking left as two persons, are listed too
# where the linker scored their records at all (the rules ask a higher score of those). Two
# named in one report are two people, whatever their names or scores.
SUSPECT_MATCH = f"""
CREATE OR REPLACE TEMP TABLE screen_suspect_match AS
SELECT person_id, alias_id, max(match_probability) AS match_probability,
    bool_or(similar_name) AS similar_name, bool_or(same_child) AS same_child
FROM (
    SELECT a.suspect_id AS person_id, b.suspect_id AS alias_id,
        m.match_probability, coalesce({_similar(SAME_CHILD_EDITS)}, false) AS similar_name,
        true AS same_child
    FROM ({TIE_NAMES}) a
    JOIN ({TIE_NAMES}) b ON b.child_id = a.child_id AND b.suspect_id <> a.suspect_id
    LEFT JOIN screen_possible_person m ON m.record_id = a.suspect_record
        AND m.person_id = b.suspect_id
    UNION ALL
    SELECT a.suspect_id, m.person_id, m.match_probability, false, false
    FROM (SELECT DISTINCT suspect_id, suspect_record FROM screen_tie) a
    JOIN screen_possible_person m ON m.record_id = a.suspect_record
        AND m.person_id <> a.suspect_id
    WHERE m.person_id IN (SELECT suspect_id FROM screen_tie)
) pairs
WHERE NOT EXISTS (
    SELECT 1 FROM screen_tie x JOIN screen_tie y ON y.event_id = x.event_id
    WHERE x.suspect_id = pairs.person_id AND y.suspect_id = pairs.alias_id)
GROUP BY person_id, alias_id
"""

CHARGE = f"""
CREATE OR REPLACE TEMP TABLE screen_charge AS
SELECT DISTINCT i.person_id, i.record_id, i.event_id
FROM screen_involvement i
JOIN screen_event e ON e.event_id = i.event_id
WHERE e.is_child_sexual_offence AND e.is_charged AND i.role IN {_listed(SUSPECT_ROLES)}
"""


def prepare_screening(engine: Engine, vocabulary: VocabularySettings | None = None) -> None:
    """Create the helper tables the rules read, with the event kinds of ``vocabulary`` (the
    defaults when not given); raise UsageError if an input is missing."""
    missing = [name for name in INPUT_TABLES if not engine.table_exists(name)]
    if missing:
        raise UsageError(
            f"cannot screen: no {', '.join(missing)} table yet; run 'casebridge ingest' and "
            "'casebridge link' first"
        )
    possible = POSSIBLE if engine.table_exists("match_pair") else POSSIBLE_LINKED_ONLY
    for statement in (BIRTH, PERSON_BIRTH, INVOLVEMENT):
        engine.execute(statement)
    engine.execute(*event_sql(vocabulary or VocabularySettings()))
    for statement in (possible, NAMESAKE, TIE, SUSPECT_MATCH, CHARGE):
        engine.execute(statement)
