"""From a landed file to staging rows: each person and event a row holds, as raw text.

Everything here builds SQL from the mapping; nothing touches a row in Python. Column names
from the mapping are checked against the file before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from casebridge.engine import Engine
from casebridge.errors import IngestError
from casebridge.ingest.mapping import (
    ColumnPosition,
    EventBlock,
    FieldSpec,
    IdentifierSpec,
    Mapping,
    PersonBlock,
)
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
        if isinstance(name, ColumnPosition):
            if name.position > len(self.raw.columns):
                raise IngestError(
                    f"the mapping reads the column at {name} but the file has only "
                    f"{len(self.raw.columns)} columns"
                )
            return f"r.{identifier(self.raw.columns[name.position - 1])}"
        if self.raw.header.count(name) > 1:
            raise IngestError(
                f"column {name!r} appears {self.raw.header.count(name)} times in the header; "
                "address each by its position instead: {position: N}"
            )
        if name not in self.raw.columns:
            # the header's own cells are not quoted: with a wrong header_row they are data
            raise IngestError(
                f"required column {name!r} is not in the file's header "
                f"({len(self.raw.columns)} columns); check its spelling in the mapping and the "
                "reader's header_row"
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

    def local_id(self, spec: FieldSpec) -> str:
        """The id after its pattern and map, with the list item's ordinal where asked for."""
        value = f"nullif({self.value(spec)}, '')"
        if spec.ordinal is None:
            return value
        # the item's 1-based position in its list (_block_source numbers the items)
        return f"{value} || {text(spec.ordinal)} || CAST(r.position AS VARCHAR)"


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
    """The rows a block reads: the file's, or one per item of its ``each`` list, numbered."""
    if not raw.is_json:
        return f"{identifier(raw.table)} r"
    rows = f"(SELECT * FROM {identifier(raw.table)} WHERE json_valid(line))"
    if not block.each:
        return f"{rows} r"
    # positions 1..n, then each item by its position: unlike unnest over the items, this
    # numbers them, and means the same on Spark (explode(sequence(...)), get_json_object);
    # the CASE keeps an empty list empty (Spark's sequence(1, 0) counts down)
    length = f"json_array_length(json_extract(l.line, {text('$.' + block.each)}))"
    positions = f"CASE WHEN {length} > 0 THEN generate_series(1, CAST({length} AS BIGINT)) END"
    item_path = f"{text('$.' + block.each + '[')} || CAST(t.position - 1 AS VARCHAR) || ']'"
    return (
        f"(SELECT l.*, t.position, json_extract(l.line, {item_path}) AS item "
        f"FROM {rows} l CROSS JOIN unnest({positions}) t(position)) r"
    )


def _reads_item(spec: FieldSpec | None) -> bool:
    """Whether a value inside a list of persons comes from the item (not the top of the row)."""
    if spec is None:
        return False
    names = [spec.column] if spec.column is not None else spec.join or []
    return any(not name.startswith("/") for name in names)


def _presence(block: PersonBlock) -> str:
    """When a block holds a person on a row: an id or a name; with an ordinal (every item
    has one), a name or any value the block reads from the item, so an empty item is none."""
    names = [f"{name}_raw IS NOT NULL" for name in NAME_FIELDS]
    if block.local_id.ordinal is None:
        return " OR ".join(["local_id IS NOT NULL", *names])
    own = [f"{name}_raw IS NOT NULL" for name in PERSON_FIELDS if _reads_item(getattr(block, name))]
    own += [
        f"identifier_{number}_raw IS NOT NULL"
        for number, spec in enumerate(block.identifiers, 1)
        if _reads_item(spec)
    ]
    return " OR ".join(dict.fromkeys([*names, *own]))


def _identifier_count(mapping: Mapping) -> int:
    """How many identifier columns the staging rows carry: the most any block maps."""
    return max(len(block.identifiers) for block in mapping.persons)


def _identifier_columns(row: RowContext, block: PersonBlock, count: int) -> list[str]:
    columns = []
    for number in range(1, count + 1):
        spec: IdentifierSpec | None = (
            block.identifiers[number - 1] if number <= len(block.identifiers) else None
        )
        raw_sql = row.raw_value(spec) if spec else "CAST(NULL AS VARCHAR)"
        value_sql = row.value(spec) if spec else "CAST(NULL AS VARCHAR)"
        columns += [
            f"{raw_sql} AS identifier_{number}_raw",
            f"{value_sql} AS identifier_{number}_value",
        ]
    return columns


def _person_select(raw: RawFile, mapping: Mapping, number: int, block: PersonBlock) -> str:
    row = RowContext(raw, block.each)
    columns = [
        "r.row_number AS row_number",
        f"{number} AS block",
        f"{row.local_id(block.local_id)} AS local_id",
        f"{row.raw_value(block.local_id)} AS local_id_raw",
    ]
    for name in PERSON_FIELDS:
        spec: FieldSpec | None = getattr(block, name)
        raw_sql = row.raw_value(spec) if spec else "CAST(NULL AS VARCHAR)"
        value_sql = row.value(spec) if spec else "CAST(NULL AS VARCHAR)"
        columns += [f"{raw_sql} AS {name}_raw", f"{value_sql} AS {name}_value"]
    columns += _identifier_columns(row, block, _identifier_count(mapping))
    event_row = RowContext(raw)
    event_id = event_row.local_id(mapping.event.local_id) if mapping.event else "NULL"
    columns.append(f"CAST({event_id} AS VARCHAR) AS event_local_id")
    select = f"SELECT {', '.join(columns)} FROM {_block_source(raw, block)}"
    return f"SELECT *, ({_presence(block)}) AS present FROM ({select})"


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
    columns = [
        "r.row_number AS row_number",
        f"{row.local_id(event.local_id)} AS local_id",
        f"{row.raw_value(event.local_id)} AS local_id_raw",
    ]
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
        missing = text(f"no event id ({describe(mapping.event.local_id)})")
        reasons.append(
            f"SELECT row_number, {_id_reason(mapping.event.local_id, missing)} AS reason "
            f"FROM {events} WHERE local_id IS NULL"
        )
    for number, block in enumerate(mapping.persons, start=1):
        missing = text(f"no local id for person {number} ({describe(block.local_id)})")
        reasons.append(
            f"SELECT row_number, {_id_reason(block.local_id, missing)} AS reason FROM {persons} "
            f"WHERE block = {number} AND present AND local_id IS NULL"
        )
    if not reasons:
        return f"CREATE OR REPLACE TEMP TABLE {table} (row_number BIGINT, reason VARCHAR)"
    return f"CREATE OR REPLACE TEMP TABLE {table} AS " + " UNION ALL ".join(reasons)


def _id_reason(spec: FieldSpec, missing: str) -> str:
    """Why a row has no id: none in the file, or one that its pattern or map emptied."""
    if spec.pattern is None and spec.map is None:
        return missing
    emptied = text(f"the {describe(spec)} value gives no id after its pattern or map")
    return f"CASE WHEN local_id_raw IS NULL THEN {missing} ELSE {emptied} END"


def _specs(block: EventBlock | PersonBlock) -> Iterator[FieldSpec]:
    """Every value a block maps, its identifiers included."""
    for value in block.__dict__.values():
        if isinstance(value, FieldSpec):
            yield value
    if isinstance(block, PersonBlock):
        yield from block.identifiers


def mapped_columns(mapping: Mapping, top_level_only: bool = False) -> Iterator[str]:
    """Every column name the mapping refers to; with ``top_level_only``, not those read from
    inside a list of persons (``each``) unless they start from the top with '/'."""
    blocks: list[EventBlock | PersonBlock] = [*mapping.persons]
    if mapping.event:
        blocks.append(mapping.event)
    for block in blocks:
        inside = isinstance(block, PersonBlock) and block.each is not None
        for value in _specs(block):
            names = [n for n in [value.column, *(value.join or [])] if n]
            yield from (n for n in names if n.startswith("/") or not (top_level_only and inside))
