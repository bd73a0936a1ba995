"""The POLE standard's tables, as DDL every engine understands.

Each standardised value keeps its raw value beside it (``*_raw``). ``finding`` holds every value
set aside or noted, one row per row and field; ``quarantine`` every row that could not load.
``person_observation`` and ``event_observation`` keep every loaded row's values, raw and
standardised, one row per person (or event) per source row: a record or event shows one value
per field, chosen from its rows (docs/mapping.md, "Repeated ids"), and its rows keep the rest.
``identifier`` holds every identifier a loaded row gives a person (NHS number, UPN, ...).
"""

from __future__ import annotations

import datetime as dt

from casebridge.engine import Engine

TABLES: dict[str, str] = {
    "source": """
        source VARCHAR, agency VARCHAR, kind VARCHAR, file_name VARCHAR, content_hash VARCHAR,
        extracted_at DATE, loaded_at TIMESTAMP, rows_read BIGINT, rows_loaded BIGINT,
        rows_quarantined BIGINT, values_set_aside BIGINT, version INTEGER""",
    "source_history": """
        source VARCHAR, file_name VARCHAR, content_hash VARCHAR, loaded_at TIMESTAMP,
        version INTEGER, replaced_hash VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
        rows_quarantined BIGINT, values_set_aside BIGINT""",
    "person_record": """
        record_id VARCHAR, source VARCHAR, local_id VARCHAR, first_row BIGINT,
        full_name_raw VARCHAR, forenames_raw VARCHAR, surname_raw VARCHAR,
        forename VARCHAR, middle_names VARCHAR, surname VARCHAR, aliases VARCHAR[],
        forename_phonetic VARCHAR, surname_phonetic VARCHAR,
        forename_translit VARCHAR, surname_translit VARCHAR,
        date_of_birth DATE, dob_precision VARCHAR, dob_raw VARCHAR,
        approx_age INTEGER, sex VARCHAR, sex_raw VARCHAR,
        ethnicity_self VARCHAR, ethnicity_self_raw VARCHAR,
        ethnicity_officer VARCHAR, ethnicity_officer_raw VARCHAR,
        nationality VARCHAR, nationality_raw VARCHAR,
        postcode VARCHAR, postcode_precision VARCHAR, postcode_raw VARCHAR,
        address VARCHAR, phone VARCHAR, phone_raw VARCHAR, email VARCHAR,
        postal_code VARCHAR, town VARCHAR, country VARCHAR, country_raw VARCHAR,
        dates_of_birth DATE[], postcodes VARCHAR[]""",
    "event": """
        event_id VARCHAR, source VARCHAR, local_id VARCHAR, first_row BIGINT, kind VARCHAR,
        event_date DATE, event_date_raw VARCHAR, offence_code VARCHAR, offence_raw VARCHAR,
        offence_description VARCHAR, soa_section VARCHAR, is_sexual BOOLEAN,
        is_penetrative BOOLEAN, penetrative_raw VARCHAR, victim_age_band VARCHAR,
        outcome_code VARCHAR, outcome_raw VARCHAR, outcome_label VARCHAR,
        outcome_category VARCHAR, outcome_date DATE, outcome_date_raw VARCHAR,
        cse_flag BOOLEAN, cse_flag_raw VARCHAR, detail VARCHAR""",
    "involvement": """
        source VARCHAR, event_id VARCHAR, record_id VARCHAR, file_name VARCHAR,
        row_number BIGINT, role VARCHAR, role_raw VARCHAR, age_at_event INTEGER""",
    "person_observation": """
        source VARCHAR, file_name VARCHAR, row_number BIGINT, block INTEGER, record_id VARCHAR,
        local_id VARCHAR, local_id_raw VARCHAR, event_id VARCHAR, role_raw VARCHAR, role VARCHAR,
        full_name_raw VARCHAR, forenames_raw VARCHAR, surname_raw VARCHAR, aliases_raw VARCHAR,
        forename VARCHAR, middle_names VARCHAR, surname VARCHAR,
        date_of_birth_raw VARCHAR, date_of_birth DATE, dob_precision VARCHAR,
        approx_age_raw VARCHAR, approx_age INTEGER, sex_raw VARCHAR, sex VARCHAR,
        ethnicity_self_raw VARCHAR, ethnicity_self VARCHAR,
        ethnicity_officer_raw VARCHAR, ethnicity_officer VARCHAR,
        nationality_raw VARCHAR, nationality VARCHAR,
        postcode_raw VARCHAR, postcode VARCHAR, postcode_precision VARCHAR, postal_code VARCHAR,
        address_raw VARCHAR, town_raw VARCHAR, country_raw VARCHAR, country VARCHAR,
        phone_raw VARCHAR, phone VARCHAR, email_raw VARCHAR, email VARCHAR""",
    "event_observation": """
        source VARCHAR, file_name VARCHAR, row_number BIGINT, event_id VARCHAR,
        local_id VARCHAR, local_id_raw VARCHAR, kind_raw VARCHAR, kind VARCHAR,
        date_raw VARCHAR, event_date DATE,
        offence_raw VARCHAR, offence_code VARCHAR, section_raw VARCHAR, soa_section VARCHAR,
        penetrative_raw VARCHAR, is_penetrative BOOLEAN, outcome_raw VARCHAR,
        outcome_code VARCHAR, outcome_date_raw VARCHAR, outcome_date DATE,
        cse_flag_raw VARCHAR, cse_flag BOOLEAN, detail_raw VARCHAR""",
    "quarantine": """
        source VARCHAR, file_name VARCHAR, row_number BIGINT, raw_row VARCHAR,
        reasons VARCHAR[]""",
    "finding": """
        source VARCHAR, file_name VARCHAR, row_number BIGINT, local_id VARCHAR, field VARCHAR,
        source_field VARCHAR, raw_value VARCHAR, problem VARCHAR""",
    "match_judgement": """
        record_l VARCHAR, record_r VARCHAR, verdict VARCHAR, reason VARCHAR, judged_by VARCHAR,
        judged_at TIMESTAMP""",
    "person_change": """
        changed_at TIMESTAMP, kind VARCHAR, person_id VARCHAR, other_person_id VARCHAR,
        records BIGINT""",
    "run": """
        stage VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, parameters VARCHAR,
        inputs VARCHAR, rows_in BIGINT, rows_out BIGINT, seconds DOUBLE""",
    "identifier": """
        record_id VARCHAR, source VARCHAR, local_id VARCHAR, scheme VARCHAR, name VARCHAR,
        value VARCHAR, value_raw VARCHAR, file_name VARCHAR, row_number BIGINT""",
}
PER_SOURCE = (
    "person_record", "person_observation", "event", "event_observation", "involvement",
    "quarantine", "finding", "identifier",
)  # fmt: skip


def create_tables(engine: Engine) -> None:
    """Create every standard table that does not exist yet."""
    for name, columns in TABLES.items():
        engine.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")


def record_run(
    engine: Engine,
    stage: str,
    started: dt.datetime,
    parameters: str,
    inputs: str,
    rows_in: int,
    rows_out: int,
) -> None:
    """Write a stage's row in ``run``: its parameters and inputs (JSON text), rows in and out
    and time taken; nothing where the database has no ``run`` table (an export from a bare
    database)."""
    if not engine.table_exists("run"):
        return
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    seconds = (finished - started).total_seconds()
    engine.execute(
        "INSERT INTO run VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [stage, started, finished, parameters, inputs, rows_in, rows_out, seconds],
    )


def now() -> dt.datetime:
    """The time now in UTC, as ``run`` holds times (without a zone)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
