"""Findings on values that load as they are but deserve a second look.

Two kinds, both set-based SQL recorded in ``finding`` and neither stopping a value loading:

- characters a person never typed: a NUL byte, and C1 control characters (U+0080 to U+009F),
  which is what Windows-1252 punctuation (curly quotes, the euro sign, dashes) becomes when a
  file is declared latin-1. The value is kept verbatim; the finding says where to look.
- dates that are possible but implausible on their row: a birth after the row's event date,
  an outcome before it.
"""

from __future__ import annotations

from casebridge.engine import Engine
from casebridge.ingest.mapping import FieldSpec, Mapping
from casebridge.ingest.observations import CONFLICTING_VALUE
from casebridge.ingest.readers import RawFile
from casebridge.ingest.stage import EVENT_FIELDS, PERSON_FIELDS, describe
from casebridge.standard.sql import text

NUL = "chr(0)"
C1_CONTROL = "('[' || chr(128) || '-' || chr(159) || ']')"
CHARACTER_PROBLEMS = {
    "nul_byte": f"instr({{value}}, {NUL}) > 0",
    "c1_control_character": f"regexp_matches({{value}}, {C1_CONTROL})",
}
BIRTH_AFTER_EVENT = "implausible_date: birth after the event date"
OUTCOME_BEFORE_EVENT = "implausible_date: outcome before the event date"
# findings that note a value kept as it is: ingest counts them as noted, not set aside, and the
# audit's conformance leaves them out
KEPT_PROBLEMS = (CONFLICTING_VALUE, *CHARACTER_PROBLEMS, BIRTH_AFTER_EVENT, OUTCOME_BEFORE_EVENT)


def set_aside_only() -> str:
    """A SQL condition on ``finding.problem``: the findings whose value was set aside."""
    return f"problem NOT IN ({', '.join(text(problem) for problem in KEPT_PROBLEMS)})"


def record_character_findings(
    engine: Engine, mapping: Mapping, source: str, file_name: str, raw: RawFile
) -> None:
    """Record a finding for every NUL byte or C1 control character in a mapped value of one
    file's loaded rows (staged in ``cb_person_rows`` and ``cb_event_rows``; rows in
    ``cb_problem`` are quarantined whole and left out). Nothing runs for a file its reader
    found free of such characters, which is nearly every file."""
    if not raw.control_characters:
        return
    person_specs = _specs(
        [(name, [getattr(block, name) for block in mapping.persons]) for name in PERSON_FIELDS]
    )
    person_specs["local_id"] = "/".join(
        sorted({describe(block.local_id) for block in mapping.persons} - {""})
    )
    for statement in character_findings_sql(source, file_name, "cb_person_rows", person_specs):
        engine.execute(statement)
    if mapping.event is not None:
        event = mapping.event
        event_specs = _specs([(name, [getattr(event, name)]) for name in EVENT_FIELDS])
        event_specs["local_id"] = describe(event.local_id)
        for statement in character_findings_sql(source, file_name, "cb_event_rows", event_specs):
            engine.execute(statement)


def _specs(fields: list[tuple[str, list[FieldSpec | None]]]) -> dict[str, str]:
    """The mapped fields among ``fields``, each with the source columns that feed it."""
    described = {
        name: "/".join(sorted({describe(spec) for spec in specs} - {""})) for name, specs in fields
    }
    return {name: columns for name, columns in described.items() if columns}


def character_findings_sql(
    source: str, file_name: str, rows: str, fields: dict[str, str]
) -> list[str]:
    """SQL statements inserting one finding per loaded row, field and problem character kind.

    ``fields`` maps each field (its value in ``<field>_raw``, the id in ``local_id``) to the
    source columns that feed it. The rows holding such a character at all are set apart first
    (``cb_odd_rows``, one pass), so the per-field pass runs over those few.
    """
    columns = {name: "local_id" if name == "local_id" else f"{name}_raw" for name in fields}
    nul = " OR ".join(CHARACTER_PROBLEMS["nul_byte"].format(value=c) for c in columns.values())
    every = "concat_ws(' ', " + ", ".join(columns.values()) + ")"
    c1 = CHARACTER_PROBLEMS["c1_control_character"].format(value=every)
    narrow = (
        f"CREATE OR REPLACE TEMP TABLE cb_odd_rows AS SELECT * FROM {rows} "
        f"WHERE ({nul} OR {c1}) AND row_number NOT IN (SELECT row_number FROM cb_problem)"
    )
    selects = [
        f"SELECT {text(source)}, {text(file_name)}, row_number, local_id, {text(name)}, "
        f"{text(fields[name])}, {column}, {text(problem)} FROM cb_odd_rows "
        f"WHERE {test.format(value=column)}"
        for name, column in columns.items()
        for problem, test in CHARACTER_PROBLEMS.items()
    ]
    return [narrow, "INSERT INTO finding " + " UNION ALL ".join(selects)]


def record_implausible_dates(
    engine: Engine, mapping: Mapping, source: str, people: str, events: str
) -> None:
    """Record a finding for every row whose dates are possible but implausible together: a
    person born after the row's event, an outcome dated before the event it ends."""
    assert mapping.event is not None
    birth_columns = "/".join(
        sorted({describe(block.date_of_birth) for block in mapping.persons} - {""})
    )
    engine.execute(birth_after_event_sql(source, people, events, birth_columns))
    outcome_column = describe(mapping.event.outcome_date)
    engine.execute(outcome_before_event_sql(source, events, outcome_column))


def birth_after_event_sql(source: str, people: str, events: str, columns: str) -> str:
    """SQL inserting a finding for each person row born after its row's event date.

    A birth date known only to the month or year is held as that period's first day, so it
    is after the event only when the whole period is.
    """
    return f"""
        INSERT INTO finding
        SELECT {text(source)}, p.file_name, p.row_number, p.local_id, 'date_of_birth',
            {text(columns)}, p.date_of_birth_raw, {text(BIRTH_AFTER_EVENT)}
        FROM {people} p
        JOIN {events} e ON e.file_name = p.file_name AND e.row_number = p.row_number
        WHERE p.dob > e.event_date
    """


def outcome_before_event_sql(source: str, events: str, column: str) -> str:
    """SQL inserting a finding for each event row whose outcome date is before its date."""
    return f"""
        INSERT INTO finding
        SELECT {text(source)}, file_name, row_number, local_id, 'outcome_date',
            {text(column)}, outcome_date_raw, {text(OUTCOME_BEFORE_EVENT)}
        FROM {events}
        WHERE outcome_date < event_date
    """
