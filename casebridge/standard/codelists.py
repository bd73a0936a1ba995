"""Load the code lists into the engine as lookup tables (``std_*``): the shipped files, then a
workspace's own entries from ``W/codes/*.csv`` over them.

Lookups are joined in SQL, so standardisation stays set-based and runs the same on Spark. A
workspace file has the shipped file's header; a row whose key (read as ingest reads a raw value)
equals a shipped key replaces that entry, any other row adds one. ``docs/codes.md`` has examples.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from casebridge.engine import Engine
from casebridge.errors import WorkspaceError
from casebridge.standard import sql
from casebridge.standard.datafiles import OFFENCE_COLUMNS, read_standard

OUTCOME_COLUMNS = ("code", "label", "category", "victim_does_not_support", "verified")
SOA_SECTION_COLUMNS = ("section", "title", "victim_age_band", "is_penetrative", "verified")
CODES_FOLDER = "codes"


def _frame(name: str, columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(list(read_standard(name, columns)), schema=list(columns), orient="row")


def _nationality_lookup() -> pl.DataFrame:
    """Every word typed for a nationality (codes, names, demonyms, other words) to ISO alpha-3."""
    countries = _frame("countries", ("iso3", "iso2", "name", "demonym"))
    words = _frame("nationality_words", ("word", "iso3"))
    parts = [
        countries.select(word=pl.col(c), iso3="iso3") for c in ("iso3", "iso2", "name", "demonym")
    ]
    every = pl.concat([*parts, words]).with_columns(
        word=pl.col("word").str.to_lowercase().str.strip_chars()
    )
    every = every.filter(pl.col("word") != "")
    # a word claimed by two countries is ambiguous and maps to none
    return every.unique().filter(pl.len().over("word") == 1).sort("word")


def _name_variants() -> pl.DataFrame:
    """Each known spelling (canonical ones included) to the canonical spelling of its group."""
    variants = _frame("name_variants", ("canonical", "variant"))
    every = pl.concat(
        [
            variants.select(name="variant", canonical="canonical"),
            variants.select(name="canonical", canonical="canonical").unique(),
        ]
    )
    return every.unique().filter(pl.len().over("name") == 1).sort("name")


def _nicknames() -> pl.DataFrame:
    """Each diminutive that belongs to one formal name only, to that name."""
    nicknames = _frame("nicknames", ("formal", "nickname"))
    return nicknames.unique().filter(pl.len().over("nickname") == 1).sort("nickname")


@dataclass(frozen=True)
class CodeList:
    """A code list a workspace may extend: its file, its table and how its entries are keyed.

    ``key`` turns the key column into the form ingest looks a raw value up by (SQL over a
    column); ``closed`` columns take only the values the shipped file uses; ``references`` name
    the table and column each listed column must point into.
    """

    name: str
    table: str
    columns: tuple[str, ...]
    key: Callable[[str], str]
    closed: tuple[str, ...] = ()
    references: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def shipped(self) -> pl.DataFrame:
        """The shipped entries, as the lookup table holds them."""
        if self.name == "nationality_words":
            return _nationality_lookup()
        frame = _frame(self.name, self.columns)
        if self.name == "ethnicity_words":
            return frame.with_columns(pl.col("phrase").str.to_lowercase()).unique(
                "phrase", keep="first", maintain_order=True
            )
        return frame


def _ic_code(expr: str) -> str:
    return f"upper(replace(trim({expr}), ' ', ''))"


def _dfe_code(expr: str) -> str:
    return f"upper(trim({expr}))"


ETHNICITY_CODE = {"code_18plus1": ("std_ethnicity", "code")}
# in the order they load: a list that refers to another comes after it
CODE_LISTS = (
    CodeList("offences", "std_offence", OFFENCE_COLUMNS, sql.offence_code,
             closed=("is_penetrative", "victim_age_band", "victim_sex", "is_sexual", "verified")),
    CodeList("outcome_codes", "std_outcome", OUTCOME_COLUMNS, sql.outcome_code,
             closed=("category", "victim_does_not_support", "verified")),
    CodeList("outcome_words", "std_outcome_word", ("word", "code"), sql.words_key,
             references={"code": ("std_outcome", "code")}),
    CodeList("soa_sections", "std_soa_section", SOA_SECTION_COLUMNS, sql.soa_section,
             closed=("victim_age_band", "is_penetrative", "verified")),
    CodeList("roles", "std_role_word", ("word", "role"), sql.words_key, closed=("role",)),
    CodeList("sex_words", "std_sex_word", ("word", "sex"), sql.words_key, closed=("sex",)),
    CodeList("nationality_words", "std_nationality_word", ("word", "iso3"), sql.words_key,
             references={"iso3": ("std_country", "iso3")}),
    CodeList("ethnicity_words", "std_ethnicity_text", ("phrase", "code_18plus1"), sql.words_key,
             references=ETHNICITY_CODE),
    CodeList("ic_codes", "std_ic_code", ("code", "label"), _ic_code),
    CodeList("dfe_ethnicity", "std_dfe_ethnicity", ("code", "label", "code_18plus1"), _dfe_code,
             references=ETHNICITY_CODE),
)  # fmt: skip
CODE_LIST_NAMES = {code_list.name: code_list for code_list in CODE_LISTS}


def load_code_lists(engine: Engine, workspace_codes: Path | None = None) -> None:
    """Create or replace every ``std_*`` lookup table from the shipped data files, then apply
    the workspace's entries in ``workspace_codes`` (``W/codes``), all or nothing.

    Raises:
        WorkspaceError: a workspace code file is not a known list, has the wrong header, or a
            row that cannot be used; the message names the file and line.
    """
    extra = read_workspace_codes(workspace_codes) if workspace_codes else {}
    with engine.transaction():
        engine.create_table_from_arrow(
            "std_ethnicity", _frame("ethnicity_18plus1", ("code", "label", "group"))
        )
        engine.create_table_from_arrow(
            "std_country", _frame("countries", ("iso3", "iso2", "name", "demonym"))
        )
        for code_list in CODE_LISTS:
            engine.create_table_from_arrow(code_list.table, code_list.shipped())
            if code_list.name in extra:
                path, rows = extra[code_list.name]
                _apply(engine, code_list, path, rows)
        engine.create_table_from_arrow("std_name_variant", _name_variants())
        engine.create_table_from_arrow("std_nickname", _nicknames())


def read_workspace_codes(folder: Path) -> dict[str, tuple[Path, pl.DataFrame]]:
    """Every workspace code file in ``folder``, checked: list name -> (path, rows with lines)."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.glob("*.csv")):
        code_list = CODE_LIST_NAMES.get(path.stem)
        if code_list is None:
            raise WorkspaceError(
                f"{path}: not a code list casebridge knows; name the file after the list it "
                f"extends: {', '.join(c.file_name for c in CODE_LISTS)}"
            )
        found[code_list.name] = (path, _read_code_file(path, code_list))
    return found


def code_files(folder: Path) -> list[Path]:
    """The workspace code files in ``folder`` (``W/codes``), in order; none if there is none."""
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def _read_code_file(path: Path, code_list: CodeList) -> pl.DataFrame:
    """A workspace code file's rows with their line numbers; header and values checked."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: cannot be read as UTF-8 text; save it as UTF-8 CSV") from exc
    # comment lines become blank lines, so csv's line numbers stay the file's
    kept = "".join(
        "\n" if line.lstrip().startswith("#") else line for line in text.splitlines(True)
    )
    reader = csv.reader(io.StringIO(kept))
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            _check_header(path, reader.line_num, header, code_list)
            continue
        rows.append((reader.line_num, [cell.strip() for cell in cells]))
    if header is None:
        _check_header(path, 1, [], code_list)
    allowed = _closed_values(code_list)
    for line, cells in rows:
        _check_row(path, line, cells, code_list, allowed)
    return pl.DataFrame(
        [[line, *cells] for line, cells in rows],
        schema=[("line", pl.Int64)] + [(c, pl.String) for c in code_list.columns],
        orient="row",
    )


def _check_header(path: Path, line: int, header: list[str], code_list: CodeList) -> None:
    if tuple(header) != code_list.columns:
        raise WorkspaceError(
            f"{path} line {line}: the header must be {','.join(code_list.columns)} "
            f"(as in the shipped {code_list.file_name}); see docs/codes.md"
        )


def _closed_values(code_list: CodeList) -> dict[str, list[str]]:
    shipped = _frame(code_list.name, code_list.columns)
    return {column: sorted(set(shipped[column])) for column in code_list.closed}


def _check_row(
    path: Path, line: int, cells: list[str], code_list: CodeList, allowed: dict[str, list[str]]
) -> None:
    where = f"{path} line {line}"
    if len(cells) != len(code_list.columns):
        raise WorkspaceError(
            f"{where}: {len(cells)} fields, expected {len(code_list.columns)} "
            f"({','.join(code_list.columns)}); quote a value that holds a comma"
        )
    values = dict(zip(code_list.columns, cells, strict=True))
    key = code_list.columns[0]
    if not values[key]:
        raise WorkspaceError(f"{where}: {key} is empty; every row needs one")
    for column, choices in allowed.items():
        if values[column] not in choices:
            shown = ", ".join(choice or "(empty)" for choice in choices)
            raise WorkspaceError(f"{where}: {column} must be one of {shown}")


def _apply(engine: Engine, code_list: CodeList, path: Path, rows: pl.DataFrame) -> None:
    """Put a workspace file's rows into its table: a row replaces the entry with its key."""
    key, others = code_list.columns[0], code_list.columns[1:]
    engine.create_table_from_arrow("cb_code_file", rows, temporary=True)
    engine.execute(
        f"CREATE OR REPLACE TEMP TABLE cb_code_keyed AS SELECT line, "
        f"{code_list.key(key)} AS {key}, {', '.join(others)} FROM cb_code_file"
    )
    unreadable = engine.scalar(f"SELECT min(line) FROM cb_code_keyed WHERE {key} IS NULL")
    if unreadable is not None:
        raise WorkspaceError(
            f"{path} line {unreadable}: the {key} cannot be read as ingest reads it "
            "(nothing left after cleaning); correct or remove the row"
        )
    repeated = engine.query(
        f"SELECT min(line), max(line) FROM cb_code_keyed GROUP BY {key} HAVING count(*) > 1 "
        "ORDER BY 2 LIMIT 1"
    )
    if repeated:
        first, again = repeated[0]
        raise WorkspaceError(
            f"{path} line {again}: the same {key} as line {first} (as ingest reads it); "
            "keep one of the two rows"
        )
    for column, (table, target) in code_list.references.items():
        _check_reference(engine, path, column, table, target)
    engine.execute(
        f"DELETE FROM {code_list.table} WHERE {key} IN (SELECT {key} FROM cb_code_keyed)"
    )
    columns = ", ".join(code_list.columns)
    engine.execute(f"INSERT INTO {code_list.table} SELECT {columns} FROM cb_code_keyed")


def _check_reference(engine: Engine, path: Path, column: str, table: str, target: str) -> None:
    stray = engine.scalar(
        f"SELECT min(k.line) FROM cb_code_keyed k LEFT JOIN {table} t ON t.{target} = k.{column} "
        f"WHERE t.{target} IS NULL"
    )
    if stray is not None:
        raise WorkspaceError(
            f"{path} line {stray}: {column} must be a {target} of {table.removeprefix('std_')} "
            "(a shipped entry or one this workspace adds); see docs/codes.md"
        )
