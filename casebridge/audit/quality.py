"""Data quality per source, agency and year: coverage, completeness of every standard field
(the compulsory ones flagged), conformance to the code lists, dates out of range, duplicates,
quarantined rows and values set aside, and compliance with the compulsory collection of
suspects' ethnicity and nationality. Each function returns one exact table (counts, before
disclosure control) from set-based SQL over ``prepare``'s working tables.
"""

from __future__ import annotations

import polars as pl

from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine

# (entity, field, SQL counted as filled) for every standard field a source may hold
PERSON_FIELDS = (
    ("forename", "r.forename"),
    ("middle_names", "r.middle_names"),
    ("surname", "r.surname"),
    ("date_of_birth", "r.date_of_birth"),
    ("approx_age", "r.approx_age"),
    ("sex", "r.sex"),
    ("ethnicity_self", "a.ethnicity_group"),
    ("ethnicity_officer", "a.ic_code"),
    ("nationality", "r.nationality"),
    ("postcode", "r.postcode"),
    ("address", "r.address"),
    ("phone", "r.phone"),
    ("email", "r.email"),
)
EVENT_FIELDS = (
    ("event_date", "e.event_date"),
    ("offence_code", "e.offence_code"),
    ("soa_section", "e.soa_section"),
    ("is_penetrative", "e.is_penetrative"),
    ("outcome_code", "e.outcome_code"),
    ("outcome_date", "e.outcome_date"),
    ("cse_flag", "e.cse_flag"),
)
INVOLVEMENT_FIELDS = (("role", "i.role"), ("age_at_event", "i.age_at_event"))
# the compulsory fields: (label, rows counted, filled) over involvements or crimes
COMPULSORY = (
    (
        "suspect ethnicity",
        "v.role_class = 'suspect'",
        "v.role_class = 'suspect' AND (a.ethnicity_group IS NOT NULL OR a.ic_code IS NOT NULL)",
    ),
    (
        "suspect nationality",
        "v.role_class = 'suspect'",
        "v.role_class = 'suspect' AND a.nationality IS NOT NULL",
    ),
    ("victim age", "v.role_class = 'victim'", "v.role_class = 'victim' AND v.age_known"),
)
# (field, raw column, standard column) of values that must conform to a code list or format
CONFORMANCE = (
    ("person_record", "date_of_birth", "dob_raw", "date_of_birth"),
    ("person_record", "sex", "sex_raw", "sex"),
    ("person_record", "ethnicity_self", "ethnicity_self_raw", "ethnicity_self"),
    ("person_record", "ethnicity_officer", "ethnicity_officer_raw", "ethnicity_officer"),
    ("person_record", "nationality", "nationality_raw", "nationality"),
    ("person_record", "postcode", "postcode_raw", "postcode"),
    ("person_record", "phone", "phone_raw", "phone"),
    ("event", "event_date", "event_date_raw", "event_date"),
    ("event", "offence_code", "offence_raw", "offence_code"),
    ("event", "outcome_code", "outcome_raw", "outcome_code"),
    ("event", "outcome_date", "outcome_date_raw", "outcome_date"),
    ("event", "is_penetrative", "penetrative_raw", "is_penetrative"),
    ("event", "cse_flag", "cse_flag_raw", "cse_flag"),
    ("involvement", "role", "role_raw", "role"),
)


def _agency(frame: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    agencies = engine.frame("SELECT DISTINCT source, agency, kind FROM source")
    return agencies.join(frame, on="source", how="right").select(
        "source", "agency", "kind", pl.exclude("source", "agency", "kind")
    )


def source_coverage(engine: Engine) -> pl.DataFrame:
    """One row per source: what was loaded, what was held back, and the years it covers."""
    frame = engine.frame(
        """SELECT s.source, s.file_name, s.extracted_at, s.rows_loaded, s.rows_quarantined,
            s.values_set_aside, s.rows_read = s.rows_loaded + s.rows_quarantined AS balanced,
            coalesce(r.records, 0) AS person_records, coalesce(e.events, 0) AS events,
            e.first_year, e.last_year
        FROM source s
        LEFT JOIN (SELECT source, count(*) AS records FROM person_record GROUP BY source) r
            ON r.source = s.source
        LEFT JOIN (SELECT source, count(*) AS events, min(year) AS first_year,
                max(year) AS last_year FROM audit_event GROUP BY source) e ON e.source = s.source
        ORDER BY s.source"""
    )
    return _agency(frame, engine)


def _long(frame: pl.DataFrame, entity: str, fields: tuple[tuple[str, str], ...]) -> pl.DataFrame:
    names = [name for name, _ in fields]
    return frame.unpivot(
        index=["source", "year", "rows"], on=names, variable_name="field", value_name="filled"
    ).with_columns(entity=pl.lit(entity), scope=pl.lit("all"), compulsory=pl.lit(False))


def completeness(engine: Engine) -> pl.DataFrame:
    """Rows and filled values of every standard field per source and year (the year of the
    event; a person record's, of its first event), the compulsory fields flagged."""

    def counts(fields: tuple[tuple[str, str], ...]) -> str:
        return ", ".join(f"count({sql}) AS {name}" for name, sql in fields)

    people = engine.frame(
        f"SELECT r.source, a.year, count(*) AS rows, {counts(PERSON_FIELDS)} "
        "FROM person_record r JOIN audit_record a ON a.record_id = r.record_id GROUP BY ALL"
    )
    events = engine.frame(
        f"SELECT e.source, a.year, count(*) AS rows, {counts(EVENT_FIELDS)} "
        "FROM event e JOIN audit_event a ON a.event_id = e.event_id GROUP BY ALL"
    )
    involvements = engine.frame(
        f"SELECT i.source, e.year, count(*) AS rows, {counts(INVOLVEMENT_FIELDS)} "
        "FROM involvement i JOIN audit_event e ON e.event_id = i.event_id GROUP BY ALL"
    )
    parts = [
        _long(people, "person_record", PERSON_FIELDS),
        _long(events, "event", EVENT_FIELDS),
        _long(involvements, "involvement", INVOLVEMENT_FIELDS),
        _compulsory(engine),
    ]
    frame = pl.concat([part.select(COMPLETENESS_COLUMNS) for part in parts], how="vertical")
    return _agency(frame, engine).sort("source", "entity", "field", "year", nulls_last=True)


COMPLETENESS_COLUMNS = (
    "source",
    "year",
    "entity",
    "field",
    "scope",
    "compulsory",
    "rows",
    "filled",
)


def _compulsory(engine: Engine) -> pl.DataFrame:
    involved = ", ".join(
        f'count(*) FILTER (WHERE {rows}) AS "{label}:rows", '
        f'count(*) FILTER (WHERE {filled}) AS "{label}:filled"'
        for label, rows, filled in COMPULSORY
    )
    people = engine.frame(
        f"SELECT v.source, v.year, {involved} FROM audit_involved v "
        "JOIN audit_record a ON a.record_id = v.record_id GROUP BY ALL"
    )
    crimes = engine.frame(
        """SELECT source, year, count(*) AS "offence:rows", count(offence_code) AS "offence:filled",
            count(*) AS "outcome:rows", count(outcome_code) AS "outcome:filled"
        FROM audit_event WHERE kind = 'crime' GROUP BY ALL"""
    )
    parts = []
    for frame, labels in ((people, [c[0] for c in COMPULSORY]), (crimes, ["offence", "outcome"])):
        for label in labels:
            parts.append(
                frame.select(
                    "source",
                    "year",
                    rows=f"{label}:rows",
                    filled=f"{label}:filled",
                    entity=pl.lit("involvement" if frame is people else "event"),
                    field=pl.lit(label),
                    compulsory=pl.lit(True),
                    scope=pl.lit("crimes" if frame is crimes else label.split()[0] + "s"),
                ).filter(pl.col("rows") > 0)
            )
    return pl.concat(parts)


def compliance(engine: Engine) -> pl.DataFrame:
    """Suspects named per source and year, and how many had their ethnicity (self-defined or
    officer-defined) and nationality recorded: for all offences and child sexual offences."""
    frame = engine.frame(
        """WITH suspect AS (
            SELECT v.source, v.year, v.record_id, bool_or(v.is_child_sexual_offence) AS child,
                bool_or(a.ethnicity_group IS NOT NULL OR a.ic_code IS NOT NULL) AS ethnicity,
                bool_or(a.nationality IS NOT NULL) AS nationality
            FROM audit_involved v JOIN audit_record a ON a.record_id = v.record_id
            WHERE v.role_class = 'suspect'
            GROUP BY v.source, v.year, v.record_id)
        SELECT source, year, offences, count(*) AS suspects,
            count(*) FILTER (WHERE ethnicity) AS ethnicity_recorded,
            count(*) FILTER (WHERE nationality) AS nationality_recorded,
            count(*) FILTER (WHERE ethnicity AND nationality) AS both_recorded
        FROM (SELECT *, 'all offences' AS offences FROM suspect
              UNION ALL
              SELECT *, 'child sexual offences' FROM suspect WHERE child)
        GROUP BY source, year, offences
        ORDER BY source, offences, year NULLS LAST"""
    )
    return _agency(frame, engine)


def conformance(engine: Engine) -> pl.DataFrame:
    """Per source and field: values recorded, values that conform to the code list or format,
    and values set aside with a finding."""
    tables = {"person_record": "person_record", "event": "event", "involvement": "involvement"}
    parts = []
    for entity, table in tables.items():
        fields = [(field, raw, std) for e, field, raw, std in CONFORMANCE if e == entity]
        selects = ", ".join(
            f'count(*) FILTER (WHERE {_recorded(raw)}) AS "{field}:recorded", '
            f"count(*) FILTER (WHERE {_recorded(raw)} AND {std} IS NOT NULL) "
            f'AS "{field}:conforming"'
            for field, raw, std in fields
        )
        frame = engine.frame(f"SELECT source, {selects} FROM {table} GROUP BY source")
        for field, _, _ in fields:
            parts.append(
                frame.select(
                    "source",
                    entity=pl.lit(entity),
                    field=pl.lit(field),
                    recorded=f"{field}:recorded",
                    conforming=f"{field}:conforming",
                )
            )
    found = engine.frame(
        "SELECT source, field, count(*) AS set_aside FROM finding GROUP BY source, field"
    )
    frame = (
        pl.concat(parts)
        .join(found, on=["source", "field"], how="left")
        .with_columns(pl.col("set_aside").fill_null(0))
        .filter(pl.col("recorded") > 0)
    )
    return _agency(frame, engine).sort("source", "entity", "field")


def _recorded(raw: str) -> str:
    return f"nullif(trim(CAST({raw} AS VARCHAR)), '') IS NOT NULL"


def date_checks(engine: Engine, settings: AuditSettings) -> pl.DataFrame:
    """Per source, dates out of range: before the earliest plausible date, after the extract
    was taken, an outcome before its event, a birth after the event or before the earliest."""
    frame = engine.frame(
        """SELECT s.source, c.check_name AS "check", count(*) AS rows FROM (
            SELECT e.source, 'event before ' || CAST(? AS VARCHAR) AS check_name
                FROM event e WHERE e.event_date < ?
            UNION ALL SELECT e.source, 'event after the extract' FROM event e
                JOIN source s ON s.source = e.source
                WHERE e.event_date > coalesce(s.extracted_at, CAST(s.loaded_at AS DATE))
            UNION ALL SELECT e.source, 'outcome before its event' FROM event e
                WHERE e.outcome_date < e.event_date
            UNION ALL SELECT e.source, 'outcome after the extract' FROM event e
                JOIN source s ON s.source = e.source
                WHERE e.outcome_date > coalesce(s.extracted_at, CAST(s.loaded_at AS DATE))
            UNION ALL SELECT r.source, 'birth before ' || CAST(? AS VARCHAR) FROM person_record r
                WHERE r.date_of_birth < ?
            UNION ALL SELECT i.source, 'birth after the event' FROM involvement i
                JOIN person_record r ON r.record_id = i.record_id
                JOIN event e ON e.event_id = i.event_id
                WHERE r.date_of_birth > e.event_date
        ) c RIGHT JOIN (SELECT DISTINCT source FROM source) s ON s.source = c.source
        WHERE c.check_name IS NOT NULL
        GROUP BY s.source, c.check_name ORDER BY s.source, c.check_name""",
        [settings.earliest_date, settings.earliest_date]
        + [settings.earliest_birth, settings.earliest_birth],
    )
    return _agency(frame, engine)


def duplicates(engine: Engine) -> pl.DataFrame:
    """Per source: person records, the persons they resolve to, and so the records that
    repeat a person the source already holds; involvements entered twice."""
    frame = engine.frame(
        """SELECT r.source, count(*) AS person_records, count(DISTINCT r.person_id) AS persons,
            count(*) - count(DISTINCT r.person_id) AS repeated_records,
            CAST(coalesce(max(d.repeated), 0) AS BIGINT) AS repeated_involvements
        FROM audit_record r
        LEFT JOIN (SELECT source, sum(n - 1) AS repeated FROM (
                SELECT source, event_id, record_id, role, count(*) AS n FROM involvement
                GROUP BY ALL HAVING count(*) > 1) GROUP BY source) d ON d.source = r.source
        GROUP BY r.source ORDER BY r.source"""
    )
    return _agency(frame, engine)


def quarantine_reasons(engine: Engine) -> pl.DataFrame:
    """Rows quarantined per source and reason, and values set aside per field and problem."""
    rows = engine.frame(
        """SELECT source, 'quarantined row' AS what, reason, count(*) AS rows FROM (
            SELECT source, unnest(reasons) AS reason FROM quarantine) GROUP BY source, reason"""
    )
    values = engine.frame(
        "SELECT source, 'value set aside' AS what, field || ': ' || problem AS reason, "
        "count(*) AS rows FROM finding GROUP BY source, field, problem"
    )
    frame = pl.concat([rows, values]).sort("source", "what", "reason")
    return _agency(frame, engine)
