"""Data quality per source, agency and year: coverage, completeness of every standard field
(the compulsory ones flagged; a value recorded but not read, such as an ethnicity phrase no list
holds, is counted apart as unrecognised: neither filled nor blank), conformance to the code
lists, dates out of range, duplicates, quarantined rows and values set aside, and compliance
with the compulsory collection of suspects' ethnicity and nationality. Each function returns
one exact table (counts, before disclosure control) from set-based SQL over ``prepare``'s
working tables.
"""

from __future__ import annotations

import polars as pl

from casebridge.audit.prepare import SET_ASIDE_FIELDS
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.ingest.fidelity import set_aside_only

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
# the field a finding names, where it is not the standard field's own name (audit_set_aside)
FINDING_FIELD = {"offence_code": "offence", "outcome_code": "outcome"}
# the compulsory fields about persons, counted per source row naming the person in the role
# (``audit_row``: what that row holds, not what the record shows): (label, role, column)
COMPULSORY = (
    ("suspect ethnicity", "suspect", "ethnicity"),
    ("suspect nationality", "suspect", "nationality"),
    ("victim age", "victim", "age"),
)
# what each completeness row counts, by (entity, scope)
COUNTED = {
    ("person_record", "all"): "person records",
    ("event", "all"): "events",
    ("involvement", "all"): "involvements",
    ("involvement", "suspects"): "rows naming a suspect",
    ("involvement", "victims"): "rows naming a victim",
    ("event", "crimes"): "crimes",
}
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


UNRECOGNISED = "__unrecognised"


def _long(frame: pl.DataFrame, entity: str, fields: tuple[tuple[str, str], ...]) -> pl.DataFrame:
    names = [name for name, _ in fields]
    index = ["source", "year", "rows"]
    filled = frame.unpivot(index=index, on=names, variable_name="field", value_name="filled")
    unrecognised = frame.unpivot(
        index=["source", "year"],
        on=[name + UNRECOGNISED for name in names],
        variable_name="field",
        value_name="unrecognised",
    ).with_columns(pl.col("field").str.strip_suffix(UNRECOGNISED))
    return filled.join(
        unrecognised, on=["source", "year", "field"], how="left", nulls_equal=True
    ).with_columns(entity=pl.lit(entity), scope=pl.lit("all"), compulsory=pl.lit(False))


def _counts(fields: tuple[tuple[str, str], ...]) -> str:
    """Per field: the values filled, and those not filled because they were set aside."""
    selects = []
    for name, expression in fields:
        finding = FINDING_FIELD.get(name, name)
        unread = f"coalesce(x.{finding}, false)" if finding in SET_ASIDE_FIELDS else "false"
        selects.append(
            f"count({expression}) AS {name}, count(*) FILTER (WHERE {expression} IS NULL "
            f'AND {unread}) AS "{name}{UNRECOGNISED}"'
        )
    return ", ".join(selects)


def completeness(engine: Engine) -> pl.DataFrame:
    """Rows, filled values and values recorded but not read (``unrecognised``) of every
    standard field per source and year (the year of the event; a person record's, of its first
    event), the compulsory fields flagged; ``recorded``, filled or unrecognised (a value was
    written). Blank or not stated: rows - recorded. ``counted`` says what a row is: a person
    record (every row of one local id together), an event, an involvement, a source row naming
    a suspect or a victim (the compulsory fields about persons: what that row holds), or a
    crime."""
    set_aside = "LEFT JOIN audit_set_aside x ON x.source = {t}.source AND x.local_id = {t}.local_id"
    people = engine.frame(
        f"SELECT r.source, a.year, count(*) AS rows, {_counts(PERSON_FIELDS)} "
        "FROM person_record r JOIN audit_record a ON a.record_id = r.record_id "
        f"{set_aside.format(t='r')} GROUP BY ALL"
    )
    events = engine.frame(
        f"SELECT e.source, a.year, count(*) AS rows, {_counts(EVENT_FIELDS)} "
        "FROM event e JOIN audit_event a ON a.event_id = e.event_id "
        f"{set_aside.format(t='e')} GROUP BY ALL"
    )
    involvements = engine.frame(
        f"SELECT i.source, e.year, count(*) AS rows, {_counts(INVOLVEMENT_FIELDS)} "
        "FROM involvement i JOIN audit_event e ON e.event_id = i.event_id "
        f"JOIN person_record r ON r.record_id = i.record_id {set_aside.format(t='r')} "
        "GROUP BY ALL"
    )
    parts = [
        _long(people, "person_record", PERSON_FIELDS),
        _long(events, "event", EVENT_FIELDS),
        _long(involvements, "involvement", INVOLVEMENT_FIELDS),
        _compulsory(engine),
    ]
    frame = pl.concat([part.select(COMPLETENESS_COLUMNS) for part in parts], how="vertical")
    counted = pl.struct("entity", "scope").map_elements(
        lambda row: COUNTED[(row["entity"], row["scope"])], return_dtype=pl.String
    )
    frame = frame.with_columns(
        counted=counted, recorded=pl.col("filled") + pl.col("unrecognised").fill_null(0)
    ).select(*COMPLETENESS_COLUMNS[:5], "counted", *COMPLETENESS_COLUMNS[5:7], "recorded",
             *COMPLETENESS_COLUMNS[7:])  # fmt: skip
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
    "unrecognised",
)


def _compulsory(engine: Engine) -> pl.DataFrame:
    """Compulsory fields: about persons per source row naming them, offence and outcome per
    crime; filled, and not filled though a value was recorded (set aside with a finding)."""
    rows = ", ".join(
        f"count(*) FILTER (WHERE role_class = '{role}') AS \"{label}:rows\", "
        f"count(*) FILTER (WHERE role_class = '{role}' AND {column}_filled) AS \"{label}:filled\", "
        f"count(*) FILTER (WHERE role_class = '{role}' AND NOT {column}_filled "
        f'AND {column}_set_aside) AS "{label}:unrecognised"'
        for label, role, column in COMPULSORY
    )
    people = engine.frame(f"SELECT source, year, {rows} FROM audit_row GROUP BY ALL")
    crimes = engine.frame(
        """SELECT source, year, count(*) AS "offence:rows", count(offence_code) AS "offence:filled",
            count(*) FILTER (WHERE offence_code IS NULL AND offence_set_aside)
                AS "offence:unrecognised",
            count(*) AS "outcome:rows", count(outcome_code) AS "outcome:filled",
            count(*) FILTER (WHERE outcome_code IS NULL AND outcome_set_aside)
                AS "outcome:unrecognised"
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
                    unrecognised=f"{label}:unrecognised",
                    entity=pl.lit("involvement" if frame is people else "event"),
                    field=pl.lit(label),
                    compulsory=pl.lit(True),
                    scope=pl.lit("crimes" if frame is crimes else label.split()[0] + "s"),
                ).filter(pl.col("rows") > 0)
            )
    return pl.concat(parts)


def compliance(engine: Engine) -> pl.DataFrame:
    """Suspects named per source and year, and how many had their ethnicity (self-defined or
    officer-defined) and nationality recorded: for all offences and child sexual offences.
    A suspect here is a person record (one per source and local id, its rows together)."""
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
    return _agency(frame.with_columns(counted=pl.lit("person records")), engine)


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
    standard = " ".join(f"WHEN '{found}' THEN '{field}'" for field, found in FINDING_FIELD.items())
    found = engine.frame(
        f"SELECT source, CASE field {standard} ELSE field END AS field, count(*) AS set_aside "
        f"FROM finding WHERE {set_aside_only()} GROUP BY ALL"
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


QUARANTINED, SET_ASIDE, NOTED = "quarantined row", "value set aside", "value noted (kept)"


def quarantine_reasons(engine: Engine) -> pl.DataFrame:
    """Rows quarantined per source and reason (a row may have several), values set aside per
    field and problem, and values kept but noted (a row disagreeing with the record, an
    implausible date, a control character) per field and problem."""
    rows = engine.frame(
        f"""SELECT source, '{QUARANTINED}' AS what, reason, count(*) AS rows FROM (
            SELECT source, unnest(reasons) AS reason FROM quarantine) GROUP BY source, reason"""
    )
    values = engine.frame(
        f"SELECT source, CASE WHEN {set_aside_only()} THEN '{SET_ASIDE}' ELSE '{NOTED}' END "
        "AS what, field || ': ' || problem AS reason, count(*) AS rows FROM finding GROUP BY ALL"
    )
    frame = pl.concat([rows, values]).sort("source", "what", "reason")
    return _agency(frame, engine)
