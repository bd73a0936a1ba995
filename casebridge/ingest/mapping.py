"""Mapping files: for one source, how its rows become persons, events and involvements.

A mapping file is YAML validated by the models below; a mistake is reported with the file,
the line and what was expected. ``docs/mapping.md`` documents every key with a worked example.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from casebridge.errors import MappingError
from casebridge.standard.sql import compile_format


def _column_shorthand(value: object) -> object:
    """A bare string means 'the value of this column'."""
    return {"column": value} if isinstance(value, str) else value


class ColumnPosition(str):
    """A column addressed by its position in the header (1 = first), written
    ``column: {position: 3}``: for headers that are repeated or blank. As text it reads
    ``position 3``, which is how findings and reasons name it."""

    position: int

    def __new__(cls, position: int) -> ColumnPosition:
        made = super().__new__(cls, f"position {position}")
        made.position = position
        return made


def _column_or_position(value: object) -> str | None:
    """A column name as written, or ``{position: N}`` as a ColumnPosition."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"position"}:
        number = str(value["position"])
        if number.isdigit() and int(number) >= 1:
            return ColumnPosition(int(number))
    raise ValueError("'column' is a column name, or {position: N} with N counting from 1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """Where one standard field's raw value comes from, and how to read it."""

    column: Annotated[str | None, PlainValidator(_column_or_position)] = None
    join: list[str] | None = None
    separator: str = ""
    constant: str | None = None
    map: dict[str, str] | None = None
    pattern: str | None = None
    formats: list[str] | None = None
    codes: Literal["18plus1", "ic", "dfe", "text", "iso3", "words"] | None = None
    order: Literal["surname_first", "forenames_first"] | None = None
    contains: str | None = None
    ordinal: str | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        given = [name for name in ("column", "join", "constant") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'column', 'join' or 'constant'")
        for fmt in self.formats or []:
            compile_format(fmt)  # raises ValueError naming the directive it cannot read
        if self.pattern is not None:
            try:
                groups = re.compile(self.pattern).groups
            except re.error as exc:
                raise ValueError(
                    f"pattern {self.pattern!r} is not a regular expression: {exc}"
                ) from exc
            if groups < 1:
                raise ValueError(f"pattern {self.pattern!r} needs a group '(...)' around the value")
        return self


Spec = Annotated[FieldSpec, BeforeValidator(_column_shorthand)]


class IdentifierSpec(FieldSpec):
    """One identifier a person carries, with its scheme (``nhs_number``, ``upn``, ...)."""

    scheme: Literal["nhs_number", "upn", "pnc_id", "passport", "local"]
    name: str | None = None

    @model_validator(mode="after")
    def _plain(self) -> IdentifierSpec:
        for option in ("formats", "codes", "order", "contains", "ordinal"):
            if getattr(self, option) is not None:
                raise ValueError(f"'{option}' does not apply to an identifier")
        if self.scheme == "local" and not self.name:
            raise ValueError("a 'local' identifier needs a 'name': the system that issued it")
        return self

    @property
    def label(self) -> str:
        """The identifier's name: its own for a local system's id, else the scheme's."""
        return self.name or self.scheme


def _local_id_options(block: PersonBlock | EventBlock, each: str | None) -> None:
    """Refuse options that cannot make an id, and an ordinal outside a list of persons."""
    spec = block.local_id
    if spec.contains is not None:
        raise ValueError("local_id: 'contains' gives true or false, never an id")
    if spec.ordinal is not None and each is None:
        raise ValueError("local_id: 'ordinal' numbers the items of a list; it needs 'each'")
    for name, value in block.__dict__.items():
        if isinstance(value, FieldSpec) and value.ordinal is not None and name != "local_id":
            raise ValueError(f"{name}: 'ordinal' applies only to local_id")


class Reader(_Strict):
    """How to open the file."""

    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp1252", "latin-1"] = "auto"
    header_row: int = Field(default=1, ge=1)
    sheet: str | None = None


class PersonBlock(_Strict):
    """One person a row holds (a row may hold several, or a JSON list of them)."""

    each: str | None = None
    local_id: Spec
    role: Spec | None = None
    full_name: Spec | None = None
    forenames: Spec | None = None
    surname: Spec | None = None
    aliases: Spec | None = None
    date_of_birth: Spec | None = None
    approx_age: Spec | None = None
    sex: Spec | None = None
    ethnicity_self: Spec | None = None
    ethnicity_officer: Spec | None = None
    nationality: Spec | None = None
    postcode: Spec | None = None
    address: Spec | None = None
    town: Spec | None = None
    country: Spec | None = None
    phone: Spec | None = None
    email: Spec | None = None
    identifiers: list[IdentifierSpec] = []

    @model_validator(mode="after")
    def _fitting_options(self) -> PersonBlock:
        _only(self, "codes", {"ethnicity_self", "ethnicity_officer", "nationality"})
        _only(self, "order", {"full_name"})
        _only(self, "formats", {"date_of_birth"})
        _local_id_options(self, self.each)
        return self

    @model_validator(mode="after")
    def _named(self) -> PersonBlock:
        if self.full_name is None and self.surname is None:
            raise ValueError("a person needs 'full_name' or 'surname' (with 'forenames')")
        if self.full_name is not None and self.full_name.order is None:
            raise ValueError("'full_name' needs 'order': surname_first or forenames_first")
        return self


def _only(block: BaseModel, option: str, fields: set[str]) -> None:
    """Refuse an option on a field it means nothing for (a likely slip in the mapping)."""
    for name, value in block.__dict__.items():
        if (
            isinstance(value, FieldSpec)
            and getattr(value, option) is not None
            and name not in fields
        ):
            allowed = ", ".join(sorted(fields))
            raise ValueError(f"{name}: '{option}' applies only to {allowed}")


class EventBlock(_Strict):
    """The event a row records."""

    local_id: Spec
    kind: Spec
    date: Spec | None = None
    offence: Spec | None = None
    section: Spec | None = None
    penetrative: Spec | None = None
    outcome: Spec | None = None
    outcome_date: Spec | None = None
    cse_flag: Spec | None = None
    detail: Spec | None = None

    @model_validator(mode="after")
    def _fitting_options(self) -> EventBlock:
        _only(self, "codes", set())
        _only(self, "order", set())
        _only(self, "formats", {"date", "outcome_date"})
        _local_id_options(self, None)
        return self


class Mapping(_Strict):
    """A whole mapping file."""

    source: str
    format: Literal["csv", "tsv", "xlsx", "jsonl", "parquet"]
    reader: Reader = Reader()
    event: EventBlock | None = None
    persons: list[PersonBlock] = Field(min_length=1)

    @model_validator(mode="after")
    def _roles(self) -> Mapping:
        if self.event is not None and any(person.role is None for person in self.persons):
            raise ValueError("with an 'event', every person needs a 'role'")
        if self.format != "jsonl" and any(person.each for person in self.persons):
            raise ValueError("'each' (a list of persons in one row) needs format: jsonl")
        return self

    @model_validator(mode="after")
    def _positions(self) -> Mapping:
        if self.format in ("jsonl", "parquet") and self.positions():
            raise ValueError(
                f"{self.positions()[0]}: 'column: {{position: N}}' needs format csv, tsv or xlsx; "
                f"{self.format} columns are named, so give the name"
            )
        return self

    def positions(self) -> list[str]:
        """Where the mapping addresses a column by position (``persons.0.surname``)."""
        blocks: list[tuple[str, BaseModel | None]] = [("event", self.event)]
        blocks += [(f"persons.{n}", block) for n, block in enumerate(self.persons)]
        specs = [
            (f"{where}.{name}", spec)
            for where, block in blocks
            if block is not None
            for name, spec in block.__dict__.items()
        ]
        specs += [
            (f"persons.{n}.identifiers.{i}", spec)
            for n, block in enumerate(self.persons)
            for i, spec in enumerate(block.identifiers)
        ]
        return [
            where
            for where, spec in specs
            if isinstance(spec, FieldSpec) and isinstance(spec.column, ColumnPosition)
        ]


def _line_of(node: yaml.Node, location: tuple[int | str, ...]) -> int:
    """The 1-based line of the deepest YAML node on ``location`` that exists."""
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = [value for key, value in node.value if key.value == part]
            if not match:
                break
            node = match[0]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if error["type"] == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    return message


class _DuplicateKey(yaml.MarkedYAMLError):
    """A key given twice in one YAML mapping (YAML forbids it; PyYAML keeps the last)."""


class _UniqueKeyLoader(yaml.BaseLoader):
    """BaseLoader (every value stays text) that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_lines: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in first_lines:
                raise _DuplicateKey(
                    problem=f"key {key_node.value!r} is given twice (first on line "
                    f"{first_lines[key_node.value]}); keep one, the other would be ignored",
                    problem_mark=key_node.start_mark,
                )
            first_lines[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


def load_mapping(path: Path) -> Mapping:
    """Return the validated mapping in ``path``, or raise MappingError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc.strerror}") from exc
    try:
        node = yaml.compose(text)
        # every value stays text: a column called 'Off' or a code '01' must not turn into
        # a boolean or a number on the way in
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - builds no objects
    except _DuplicateKey as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise MappingError(f"{path}, line {line}: {exc.problem}") from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise MappingError(f"{path}, line {line}: not valid YAML: {exc.problem}") from exc
    if node is None or not isinstance(raw, dict):
        raise MappingError(f"{path}: expected a mapping with keys 'source', 'format', 'persons'")
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = tuple(part for part in first["loc"] if not str(part).startswith("function-"))
        where = ".".join(str(part) for part in location) or "top level"
        raise MappingError(
            f"{path}, line {_line_of(node, location)}: {where}: {_message(first)}"
        ) from exc
