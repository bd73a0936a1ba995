"""From a landed file to staging rows: each person and event a row holds, as raw text.

Everything here builds SQL from the mapping; nothing touches a row in Python. Column names
from the mapping are checked against the file before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from casebridge.engine import Engine
from casebridge.errors import IngestError
from casebridge.ingest.mapping import EventBlock, FieldSpec, Mapping, PersonBlock
from casebridge.ingest.readers import RawFile
from casebridge.standard.sql import blank_to_null, text

PERSON_FIELDS = (
    "role",
    "full_name",
    "forenames",
    "surname",
    "aliases",
    "date_of_birth",
    "approx_age",
    "sex",
    "ethnicity_self",
    "ethnicity_officer",
    "nationality",
    "postcode",
    "address",
    "town",
    "country",
    "phone",
    "email",
)
EVENT_FIELDS = (
    "kind",
    "date",
    "offence",
    "section",
    "penetrative",
    "outcome",
    "outcome_date",
    "cse_flag",
    "detail",
)
NAME_FIELDS = ("full_name", "forenames", "surname")


def identifier(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class RowContext:
    """Turns mapping column references into SQL over one landed file."""

    def __init__(self, raw: RawFile, each: str | None = None) -> None:
        self.raw = raw
        self.each = each

    def column(self, name: str) -> str:
        if self.raw.is_json:
            base = "item" if self.each and not name.startswith("/") else "r.line"
            path = "$." + name.lstrip("/")
            return f"json_extract_string({base}, {text(path)})"
        if name not in self.raw.columns:
            raise IngestError(
                f"required column {name!r} is not in the file; its columns are: "
                f"{', '.join(self.raw.columns)}"
            )
        return f"r.{identifier(name)}"

    def raw_value(self, spec: FieldSpec) -> str:
        """The field's value as the file holds it (blank as NULL), before any value map."""
        if spec.constant is not None:
            return text(spec.constant)
        if spec.join is not None:
            parts = [blank_to_null(self.column(name)) for name in spec.join]
            return f" || {text(spec.separator)} || ".join(parts)
        assert spec.column is not None
        return blank_to_null(self.column(spec.column))

    def value(self, spec: FieldSpec) -> str:
        """The field's value after its pattern, ``contains`` test and value map."""
        value = self.raw_value(spec)
        if spec.pattern:
            value = f"nullif(regexp_extract({value}, {text(spec.pattern)}, 1), '')"
        if spec.contains is not None:
            value = (
                f"CASE WHEN {value} IS NULL THEN NULL "
                f"WHEN instr({value}, {text(spec.contains)}) > 0 THEN 'true' ELSE 'false' END"
            )
        if spec.map:
            cases = " ".join(f"WHEN {text(k)} THEN {text(v)}" for k, v in spec.map.items())
            value = f"CASE {value} {cases} ELSE {value} END"
        return value


def describe(spec: FieldSpec | None) -> str:
    """How a field is fed, in words, for reasons and findings."""
    if spec is None:
        return ""
    if spec.column is not None:
        return spec.column
    if spec.join is not None:
        return "+".join(spec.join)
    return f"constant {spec.constant}"


def _block_source(raw: RawFile, block: PersonBlock) -> str:
    if not raw.is_json:
        return f"{identifier(raw.table)} r"
    rows = f"(SELECT * FROM {identifier(raw.table)} WHERE json_valid(line)) r"
    if block.each:
        items = text("$." + block.each + "[*]")
        return f"{rows} CROSS JOIN unnest(json_extract(r.line, {items})) t(item)"
    return rows


def _person_select(raw: RawFile, mapping: Mapping, number: int, block: PersonBlock) -> str:
    row = RowContext(raw, block.each)
    columns = [
        "r.row_number AS row_number",
        f"{number} AS block",
        f"{row.raw_value(block.local_id)} AS local_id",
    ]
    for name in PERSON_FIELDS:
        spec: FieldSpec | None = getattr(block, name)
        raw_sql = row.raw_value(spec) if spec else "CAST(NULL AS VARCHAR)"
        value_sql = row.value(spec) if spec else "CAST(NULL AS VARCHAR)"
        columns += [f"{raw_sql} AS {name}_raw", f"{value_sql} AS {name}_value"]
    present = " OR ".join(f"{name}_raw IS NOT NULL" for name in NAME_FIELDS)
    event_row = RowContext(raw)
    event_id = event_row.raw_value(mapping.event.local_id) if mapping.event else "NULL"
    columns.append(f"CAST({event_id} AS VARCHAR) AS event_local_id")
    select = f"SELECT {', '.join(columns)} FROM {_block_source(raw, block)}"
    return f"SELECT *, (local_id IS NOT NULL OR {present}) AS present FROM ({select})"


def person_rows_sql(raw: RawFile, mapping: Mapping, table: str) -> str:
    """SQL creating ``table``: one row per person per source row, raw and mapped values."""
    selects = [
        _person_select(raw, mapping, number, block)
        for number, block in enumerate(mapping.persons, start=1)
    ]
    return f"CREATE OR REPLACE TEMP TABLE {table} AS " + " UNION ALL ".join(selects)


def event_rows_sql(raw: RawFile, event: EventBlock, table: str) -> str:
    """SQL creating ``table``: one row per source row with its event's raw and mapped values."""
    row = RowContext(raw)
    columns = ["r.row_number AS row_number", f"{row.raw_value(event.local_id)} AS local_id"]
    for name in EVENT_FIELDS:
        spec: FieldSpec | None = getattr(event, name)
        raw_sql = row.raw_value(spec) if spec else "CAST(NULL AS VARCHAR)"
        value_sql = row.value(spec) if spec else "CAST(NULL AS VARCHAR)"
        columns += [f"{raw_sql} AS {name}_raw", f"{value_sql} AS {name}_value"]
    where = " WHERE json_valid(r.line)" if raw.is_json else ""
    return (
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {', '.join(columns)} "
        f"FROM {identifier(raw.table)} r{where}"
    )


def check_json_paths(engine: Engine, raw: RawFile, mapping: Mapping, path: Path) -> None:
    """Stop with a clear error when no row of a JSON Lines file holds a key the mapping names:
    almost always a typo in the mapping, which would otherwise empty that field everywhere."""
    paths = {name.lstrip("/") for name in mapped_columns(mapping, top_level_only=True)}
    paths |= {block.each for block in mapping.persons if block.each}
    names = sorted(paths)
    counts = engine.rows_with_json_paths(raw.table, ["$." + name for name in names])
    for name, count in zip(names, counts, strict=True):
        if count == 0:
            raise IngestError(
                f"{path}: no row has the key {name!r} that the mapping names; check its spelling"
            )


def problem_rows_sql(raw: RawFile, mapping: Mapping, persons: str, events: str, table: str) -> str:
    """SQL creating ``table`` (row_number, reason): every reason a row cannot load."""
    reasons = []
    if raw.is_json:
        reasons.append(
            f"SELECT row_number, 'not valid JSON' AS reason FROM {identifier(raw.table)} "
            "WHERE NOT json_valid(line)"
        )
        for block in mapping.persons:
            if block.each:
                reason = text(f"{block.each!r} is not a list")
                reasons.append(
                    f"SELECT row_number, {reason} AS reason FROM {identifier(raw.table)} "
                    f"WHERE json_valid(line) AND json_type(line, {text('$.' + block.each)}) "
                    "NOT IN ('ARRAY', 'NULL')"
                )
    if mapping.event is not None:
        reason = text(f"no event id ({describe(mapping.event.local_id)})")
        reasons.append(
            f"SELECT row_number, {reason} AS reason FROM {events} WHERE local_id IS NULL"
        )
    for number, block in enumerate(mapping.persons, start=1):
        reason = text(f"no local id for person {number} ({describe(block.local_id)})")
        reasons.append(
            f"SELECT row_number, {reason} AS reason FROM {persons} "
            f"WHERE block = {number} AND present AND local_id IS NULL"
        )
    if not reasons:
        return f"CREATE OR REPLACE TEMP TABLE {table} (row_number BIGINT, reason VARCHAR)"
    return f"CREATE OR REPLACE TEMP TABLE {table} AS " + " UNION ALL ".join(reasons)


def mapped_columns(mapping: Mapping, top_level_only: bool = False) -> Iterator[str]:
    """Every column name the mapping refers to; with ``top_level_only``, not those read from
    inside a list of persons (``each``) unless they start from the top with '/'."""
    blocks: list[EventBlock | PersonBlock] = [*mapping.persons]
    if mapping.event:
        blocks.append(mapping.event)
    for block in blocks:
        inside = isinstance(block, PersonBlock) and block.each is not None
        if top_level_only and inside:
            for value in block.__dict__.values():
                if isinstance(value, FieldSpec):
                    yield from (
                        n for n in [value.column, *(value.join or [])] if n and n.startswith("/")
                    )
            continue
        for value in block.__dict__.values():
            if isinstance(value, FieldSpec):
                if value.column:
                    yield value.column
                yield from value.join or []
