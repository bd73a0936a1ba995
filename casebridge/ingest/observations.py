"""Every loaded row's values, kept: one observation per person (and per event) per source row.

A person id on several rows (the usual police shape: one row per involvement) makes one
``person_record`` showing one value per field, the first its rows hold in row order; the
observations keep every row's raw and standardised values beside it, so that any cell of any
loaded row can be read back. Where rows of one id disagree on a compared field, each row whose
value differs from the one shown gets a ``finding`` (problem ``conflicting_value``).
"""

from __future__ import annotations

from casebridge.ingest.mapping import Mapping
from casebridge.ingest.stage import describe
from casebridge.standard import sql

PERSON_OBSERVED = (
    "role_raw", "role", "full_name_raw", "forenames_raw", "surname_raw", "aliases_raw",
    "forename", "middle_names", "surname", "date_of_birth_raw", "dob", "dob_precision",
    "approx_age_raw", "approx_age", "sex_raw", "sex", "ethnicity_self_raw", "ethnicity_self",
    "ethnicity_officer_raw", "ethnicity_officer", "nationality_raw", "nationality",
    "postcode_raw", "postcode", "postcode_precision", "postal_code", "address_raw", "town_raw",
    "country_raw", "country", "phone_raw", "phone", "email_raw", "email",
)  # fmt: skip
EVENT_OBSERVED = (
    "kind_raw", "kind", "date_raw", "event_date", "offence_raw", "offence_code", "section_raw",
    "soa_section", "penetrative_raw", "is_penetrative", "outcome_raw", "outcome_code",
    "outcome_date_raw", "outcome_date", "cse_flag_raw", "cse_flag", "detail_raw",
)  # fmt: skip

# 'unknown' is no value to disagree with
_KNOWN_IC = "CASE WHEN {0}.ethnicity_officer NOT IN ('IC9', 'IC0') THEN {0}.ethnicity_officer END"
CONFLICTING_VALUE = "conflicting_value"
# a birth date as a number at the coarser precision of the two compared: a year alone (1987)
# agrees with any date in that year
_COARSER = "'{p}' IN (r.dob_precision, o.dob_precision)"
_BORN = (
    f"CASE WHEN {_COARSER.format(p='year')} THEN year({{0}}.date_of_birth) "
    f"WHEN {_COARSER.format(p='month')} THEN year({{0}}.date_of_birth) * 100 "
    "+ month({0}.date_of_birth) ELSE year({0}.date_of_birth) * 10000 "
    "+ month({0}.date_of_birth) * 100 + day({0}.date_of_birth) END"
)

# field of the record (or event) → (its value there, the same value on an observation, the raw
# column of the observation, the mapping field that feeds it)
PERSON_CONFLICTS = {
    # each name part on its own: a record takes each field from the first row that gives it,
    # so a row with a surname only is no conflict with one that adds a forename
    "forename": ("r.forename", "o.forename",
                 "coalesce(o.forenames_raw, o.full_name_raw)", ("full_name", "forenames")),
    "surname": ("r.surname", "o.surname",
                "coalesce(o.surname_raw, o.full_name_raw)", ("full_name", "surname")),
    "date_of_birth": (_BORN.format("r"), _BORN.format("o"), "o.date_of_birth_raw",
                      ("date_of_birth",)),
    "sex": ("nullif(r.sex, 'U')", "nullif(o.sex, 'U')", "o.sex_raw", ("sex",)),
    "ethnicity_self": ("nullif(r.ethnicity_self, 'NS')", "nullif(o.ethnicity_self, 'NS')",
                       "o.ethnicity_self_raw", ("ethnicity_self",)),
    "ethnicity_officer": (f"{_KNOWN_IC.format('r')}", f"{_KNOWN_IC.format('o')}",
                          "o.ethnicity_officer_raw", ("ethnicity_officer",)),
    "nationality": ("r.nationality", "o.nationality", "o.nationality_raw", ("nationality",)),
    "postcode": ("r.postcode", "o.postcode", "o.postcode_raw", ("postcode",)),
}  # fmt: skip
EVENT_CONFLICTS = {
    "event_date": ("date",),
    "offence_code": ("offence",),
    "outcome_code": ("outcome",),
    "outcome_date": ("outcome_date",),
}


def person_observation_sql(source: str, people: str) -> str:
    """SQL inserting one person_observation per staged person of a loaded row."""
    src = sql.text(source)
    columns = ", ".join(PERSON_OBSERVED)
    return f"""
        INSERT INTO person_observation
        SELECT {src}, file_name, row_number, block, {src} || ':' || local_id, local_id,
            local_id_raw,
            CASE WHEN event_local_id IS NOT NULL THEN {src} || ':' || event_local_id END,
            {columns}
        FROM {people}"""


def event_observation_sql(source: str, events: str) -> str:
    """SQL inserting one event_observation per loaded row that records an event."""
    src = sql.text(source)
    return f"""
        INSERT INTO event_observation
        SELECT {src}, file_name, row_number, {src} || ':' || local_id, local_id, local_id_raw,
            {", ".join(EVENT_OBSERVED)}
        FROM {events}"""


def _source_fields(mapping: Mapping, fields: tuple[str, ...], event: bool = False) -> str:
    """The columns that feed ``fields`` across the mapping's blocks, for a finding's text."""
    blocks = [mapping.event] if event else list(mapping.persons)
    described = {describe(getattr(b, f)) for b in blocks if b is not None for f in fields}
    return sql.text("/".join(sorted(described - {""})))


def conflict_findings_sql(mapping: Mapping, source: str) -> str:
    """SQL inserting a finding for every row whose value disagrees with the one its record (or
    event) shows; compared on standardised values, so spelling a postcode two ways is no
    conflict."""
    src = sql.text(source)
    selects = [
        f"""SELECT o.source, o.file_name, o.row_number, o.local_id, '{field}',
            {_source_fields(mapping, fed_by)}, {raw}, {sql.text(CONFLICTING_VALUE)}
        FROM person_observation o JOIN person_record r ON r.record_id = o.record_id
        WHERE o.source = {src} AND r.source = {src}
            AND {shown} IS NOT NULL AND {seen} IS NOT NULL AND {shown} <> {seen}"""
        for field, (shown, seen, raw, fed_by) in PERSON_CONFLICTS.items()
    ]
    if mapping.event is not None:
        selects += [
            f"""SELECT o.source, o.file_name, o.row_number, o.local_id, '{field}',
                {_source_fields(mapping, fed_by, event=True)}, o.{fed_by[0]}_raw,
                {sql.text(CONFLICTING_VALUE)}
            FROM event_observation o JOIN event e ON e.event_id = o.event_id
            WHERE o.source = {src} AND e.source = {src}
                AND e.{field} IS NOT NULL AND o.{field} IS NOT NULL AND e.{field} <> o.{field}"""
            for field, fed_by in EVENT_CONFLICTS.items()
        ]
    return "INSERT INTO finding " + " UNION ALL ".join(selects)
