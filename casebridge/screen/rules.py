"""Rule files: what a screening rule finds, why, on what legal or policy basis, and the SQL.

A rule is YAML validated by :class:`RuleSpec`. The shipped rule set is ``ruleset/*.yaml``; a
workspace's ``rules/*.yaml`` add rules (a new id), override shipped ones (a shipped id: only the
keys given change) or switch them off (``enabled: false``). A broken file is reported with the
file, the line and what was expected. ``docs/screening.md`` documents every key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp

from casebridge.errors import RuleError
from casebridge.ingest.mapping import _line_of, _message

SHIPPED_RULES = Path(__file__).parent / "ruleset"
RULE_COLUMNS = ("subject_id", "event_id", "record_id", "role", "detail")
RANK_COLUMN = "weight"  # optional: a rule that ranks its items gives each row a weight
PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
REQUIRED = ("title", "reason", "basis", "subject", "weight", "evidence", "query")
# errors about the query's text (a name it uses), never about a value in the data
QUERY_TEXT_ERRORS = (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException)
SOURCE_COLUMN = re.compile(r"source column ([A-Za-z_][A-Za-z0-9_]*)")


NonEmpty = Annotated[list[str], Field(min_length=1)]
Numbers = Annotated[list[int], Field(min_length=1)]
ParameterValue = NonEmpty | Numbers | str | int | float


class RuleSpec(BaseModel):
    """One rule as written. A shipped rule gives every key; an override only those it changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=40)
    title: str | None = Field(default=None, min_length=1)
    reason: str | None = Field(default=None, min_length=1)
    basis: str | None = Field(default=None, min_length=1)
    subject: Literal["event", "person"] | None = None
    weight: float | None = Field(default=None, ge=0)
    enabled: bool | None = None
    evidence: str | None = Field(default=None, min_length=1)
    parameters: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], ParameterValue] = (
        Field(default_factory=dict)
    )
    query: str | None = Field(default=None, min_length=1)


@dataclass(frozen=True)
class Rule:
    """A complete rule, ready to run, with the place it was written."""

    id: str
    title: str
    reason: str
    basis: str
    subject: Literal["event", "person"]
    weight: float
    evidence: str
    query: str
    parameters: Mapping[str, ParameterValue]
    enabled: bool
    origin: str
    query_origin: tuple[Path, int]

    def statement(self) -> tuple[str, list[object]]:
        """The query with each ``$name`` as bound markers (a list as one per item), and the
        values in order: user values never enter the SQL text."""
        values: list[object] = []

        def marker(match: re.Match[str]) -> str:
            value = self.parameters[match.group(1)]
            if isinstance(value, list):
                values.extend(value)
                return ", ".join("?" for _ in value)
            values.append(value)
            return "?"

        return PLACEHOLDER.sub(marker, self.query), values

    @property
    def ranks(self) -> bool:
        """Whether the query ranks its items: it returns a ``weight`` column."""
        try:
            parsed = sqlglot.parse_one(PLACEHOLDER.sub("?", self.query), read="duckdb")
        except sqlglot.errors.ParseError:
            return False
        return isinstance(parsed, exp.Query) and RANK_COLUMN in parsed.named_selects


@dataclass(frozen=True)
class _Written:
    """A validated spec and where it stands in its file."""

    spec: RuleSpec
    path: Path
    line: int
    query_line: int

    def where(self) -> str:
        return f"{self.path}, line {self.line}"


def load_rules(workspace_rules: Path | None = None) -> list[Rule]:
    """Return the shipped rules with a workspace's ``rules/*.yaml`` applied, in order.

    Disabled rules are returned too (``enabled`` false), so that a listing can show them;
    :func:`casebridge.screen.run.screen` runs only the enabled ones.

    Example:
        >>> [rule.id for rule in load_rules()][:2]
        ['R1', 'R2']
    """
    shipped: dict[str, Rule] = {}
    for written in _read_folder(SHIPPED_RULES):
        _refuse_repeat(shipped, written)
        shipped[written.spec.id] = _build(written, None)
    rules = dict(shipped)
    if workspace_rules is not None and workspace_rules.exists():
        if not workspace_rules.is_dir():
            raise RuleError(f"{workspace_rules} is not a folder; put rule files in rules/*.yaml")
        seen: dict[str, Rule] = {}
        for written in _read_folder(workspace_rules):
            _refuse_repeat(seen, written)
            seen[written.spec.id] = rules[written.spec.id] = _build(
                written, shipped.get(written.spec.id)
            )
    return list(rules.values())


def _refuse_repeat(rules: dict[str, Rule], written: _Written) -> None:
    if written.spec.id in rules:
        raise RuleError(
            f"{written.where()}: rule id {written.spec.id!r} is already given in "
            f"{rules[written.spec.id].origin}; give each id once"
        )


def _read_folder(folder: Path) -> Iterator[_Written]:
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        yield from _read_file(path)


def _read_file(path: Path) -> list[_Written]:
    """Every rule in one file: a mapping is one rule, a list is several."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read rule file {path}: {exc}") from exc
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise RuleError(f"{path}, line {line}: not valid YAML: {exc.problem}") from exc
    if node is None or not isinstance(raw, dict | list):
        raise RuleError(
            f"{path}: expected a rule (a mapping with 'id', 'title', 'reason', 'basis', "
            "'subject', 'weight', 'evidence', 'query') or a list of rules"
        )
    if isinstance(raw, list):
        return [
            _validate(path, node.value[index], item, f"rules[{index}].")
            for index, item in enumerate(raw)
        ]
    return [_validate(path, node, raw, "")]


def _validate(path: Path, node: yaml.Node, item: Any, label: str) -> _Written:
    """Validate one rule mapping; ``label`` places it in a list of rules."""
    if not isinstance(item, dict):
        raise RuleError(f"{path}, line {node.start_mark.line + 1}: {label}expected a rule mapping")
    try:
        spec = RuleSpec.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = tuple(first["loc"])
        where = label + (".".join(str(part) for part in location) or "rule")
        line = _line_of(node, location)
        raise RuleError(f"{path}, line {line}: {where}: {_message(first)}") from exc
    return _Written(spec, path, node.start_mark.line + 1, _query_line(node))


def _query_line(node: yaml.Node) -> int:
    """The file line of the query's first line (a block scalar starts below its key)."""
    for key, value in node.value:
        if key.value == "query":
            block = isinstance(value, yaml.ScalarNode) and value.style in ("|", ">")
            return int(value.start_mark.line) + 1 + int(block)
    return int(node.start_mark.line) + 1


def _build(written: _Written, shipped: Rule | None) -> Rule:
    """Complete a spec from the shipped rule it overrides (if any) and check its query."""
    spec = written.spec
    given = spec.model_dump(exclude_none=True, exclude={"parameters"})
    if shipped is None:
        missing = [key for key in REQUIRED if key not in given]
        if missing:
            raise RuleError(
                f"{written.where()}: rule {spec.id!r} is not a shipped rule, so it needs every "
                f"key; missing {', '.join(repr(key) for key in missing)}"
            )
        base: dict[str, Any] = {"enabled": True}
        query_origin = (written.path, written.query_line)
    else:
        base = {key: getattr(shipped, key) for key in (*REQUIRED, "enabled")}
        query_origin = shipped.query_origin
    if "query" in given:
        query_origin = (written.path, written.query_line)
    fields = {**base, **given}
    inherited = dict(shipped.parameters) if shipped else {}
    parameters = _parameters(written, shipped, inherited, "query" in given)
    rule = Rule(
        **fields,
        parameters=parameters,
        origin=written.where(),
        query_origin=query_origin,
    )
    check_query(rule)
    return rule


def _parameters(
    written: _Written, shipped: Rule | None, base: dict[str, ParameterValue], new_query: bool
) -> dict[str, ParameterValue]:
    """The shipped parameters with the written ones over them; a name the shipped query does not
    use is refused unless the rule brings its own query (a likely misspelling)."""
    unknown = sorted(set(written.spec.parameters) - set(base))
    if shipped is not None and not new_query and unknown:
        known = ", ".join(sorted(base)) or "none"
        raise RuleError(
            f"{written.where()}: rule {written.spec.id!r} has no parameter {unknown[0]!r}; "
            f"its parameters are: {known}"
        )
    return {**base, **written.spec.parameters}


def check_query(rule: Rule) -> None:
    """Check a rule's query: one SELECT, valid SQL, declared parameters, the columns needed."""
    path, line = rule.query_origin
    used = PLACEHOLDER.findall(rule.query)
    undeclared = sorted(set(used) - set(rule.parameters))
    if undeclared:
        declared = ", ".join(sorted(rule.parameters)) or "none"
        raise RuleError(
            f"{path}, line {line}: rule {rule.id!r}: the query uses ${undeclared[0]}, which is "
            f"not among its parameters ({declared})"
        )
    try:
        statements = sqlglot.parse(PLACEHOLDER.sub("?", rule.query), read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        at = line + int(first.get("line") or 1) - 1
        problem = str(first.get("description", exc)).split(" but got <Token")[0]
        near = f" near {first['highlight']!r}" if first.get("highlight") else ""
        raise RuleError(
            f"{path}, line {at}: rule {rule.id!r}: the query is not valid SQL: {problem}{near}"
        ) from exc
    _check_shape(rule, [s for s in statements if s is not None], f"{path}, line {line}")


def _check_shape(rule: Rule, statements: list[object], where: str) -> None:
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise RuleError(
            f"{where}: rule {rule.id!r}: the query must be one SELECT statement "
            "(a rule reads the tables, it never changes them)"
        )
    query = statements[0]
    if query.is_star:  # the columns are known only when it runs
        return
    missing = [column for column in RULE_COLUMNS if column not in query.named_selects]
    if missing:
        raise RuleError(
            f"{where}: rule {rule.id!r}: the query must return the columns "
            f"{', '.join(RULE_COLUMNS)}; it does not return {', '.join(missing)}"
        )


def query_failure(rule: Rule, exc: duckdb.Error) -> RuleError:
    """The error for a rule whose query failed when run: the rule, its file and line, and the
    tables (and column, where known) it read. DuckDB's own text often quotes the value that
    failed, which may be a name or a birth date, so only errors about the query's text keep it.

    Example::

        raise query_failure(rule, exc) from None
        # rules/local.yaml, line 11: rule 'X1': the query failed on a value of column surname
        # of the tables it reads (person_record) (Conversion Error); the value is not shown ...
    """
    path, line = rule.query_origin
    where = f"{path}, line {line}: rule {rule.id!r}: the query failed"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, QUERY_TEXT_ERRORS):
        return RuleError(f"{where}: {first}")
    kind = first.split(":", 1)[0]
    column = SOURCE_COLUMN.search(first)
    on = f"a value of column {column.group(1)}" if column else "a value"
    return RuleError(
        f"{where} on {on} of the tables it reads ({', '.join(_tables_read(rule)) or 'none'}) "
        f"({kind}); the value is not shown, as it may be personal data: check the types and "
        "values the query expects"
    )


def _tables_read(rule: Rule) -> list[str]:
    """The tables a rule's query reads, its own WITH names left out."""
    try:
        parsed = sqlglot.parse_one(PLACEHOLDER.sub("?", rule.query), read="duckdb")
    except sqlglot.errors.ParseError:
        return []
    own = {cte.alias_or_name for cte in parsed.find_all(exp.CTE)}
    return sorted({table.name for table in parsed.find_all(exp.Table)} - own)
