"""Plant the two kinds of malformed row, and say in the truth how each must be handled.

A row broken as a row (cut short, broken quoting, no local id, not JSON) must be quarantined.
A row with one bad value (impossible birth date, unknown code, malformed postcode) must still
load with that value set aside. Broken rows are planted only in background rows, so no planted
review target loses its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from casebridge.synth.sources import Source

QUARANTINE, SET_ASIDE = "quarantine", "set_aside"
# per source: field -> (kind, how the bad value is made from the row's year)
BAD_VALUES: dict[str, dict[str, str]] = {
    "force_a": {
        "DateOfBirth": "{y}-02-30",
        "SelfDefinedEthnicity": "W7",
        "Postcode": "BD3 7A1",
        "OutcomeCode": "99",
    },
    "force_b": {"DOB": "31/04/{y}", "IC_CODE": "IC8", "POST_CODE": "OL41A2B"},
    "force_c": {"dob": "{y}-13-05T00:00:00"},
    "la": {"DateOfBirth": "30-Feb-{y}", "Ethnicity": "WXYZ", "Postcode": "HX9 9ZZZ"},
}
BAD_KIND = {
    "dob": "impossible_date",
    "ethnicity": "unknown_code",
    "ic_code": "unknown_code",
    "postcode": "malformed_postcode",
    "post_code": "malformed_postcode",
    "outcomecode": "unknown_code",
    "dateofbirth": "impossible_date",
    "selfdefinedethnicity": "unknown_code",
}
BROKEN_KINDS = {
    "csv": ("too_few_fields", "broken_quoting", "no_local_id"),
    "tsv": ("too_few_fields", "no_local_id"),
    "jsonl": ("unparseable", "no_local_id"),
}


@dataclass(frozen=True)
class Planted:
    """One malformed row as the truth records it."""

    source: str
    row_number: int
    local_id: str
    kind: str
    field: str
    raw_value: str
    handling: str


def _pick(rng: np.random.Generator, candidates: np.ndarray, rate: float, kinds: int) -> np.ndarray:
    """Choose rows at ``rate``; a source of 200 rows or more gets at least one of each kind."""
    at_least = kinds if rate > 0 and len(candidates) >= 200 else 0
    count = min(len(candidates), max(int(round(rate * len(candidates))), at_least))
    return np.sort(rng.choice(candidates, size=count, replace=False)) if count else candidates[:0]


def plant_bad_values(
    rng: np.random.Generator,
    source: Source,
    table: pl.DataFrame,
    background: np.ndarray,
    birth_years: np.ndarray,
    rate: float,
) -> tuple[pl.DataFrame, list[Planted]]:
    """Return the table with single bad values set in chosen rows, and what was planted."""
    fields = BAD_VALUES.get(source.key, {})
    if not fields or table.is_empty():
        return table, []
    planted: list[Planted] = []
    columns = {name: table[name].to_list() for name in fields}
    ids = table[source.local_id_field].to_list()
    names = list(fields)
    for row in _pick(rng, np.arange(table.height), rate, len(names)).tolist():
        usable = [n for n in names if columns[n][row] and (n != "OutcomeCode" or background[row])]
        if not usable:
            continue
        name = usable[int(rng.integers(len(usable)))]
        # an impossible birth date keeps the person's recorded year, as a slip of the keys would
        template = fields[name]
        value = template.format(y=int(birth_years[row])) if "{y}" in template else template
        columns[name][row] = value
        planted.append(
            Planted(
                source.key, row + 1, str(ids[row]), BAD_KIND[name.lower()], name, value, SET_ASIDE
            )
        )
    table = table.with_columns(
        pl.Series(name, values, dtype=table[name].dtype) for name, values in columns.items()
    )
    return table, planted


def plant_broken_rows(
    rng: np.random.Generator,
    source: Source,
    table: pl.DataFrame,
    background: np.ndarray,
    rate: float,
) -> tuple[pl.DataFrame, dict[int, str], list[Planted]]:
    """Choose background rows to break: ids blanked now, the rest broken once serialised."""
    kinds = BROKEN_KINDS[source.file_format]
    if source.key == "dtr":
        return table, {}, []
    rows = _pick(rng, np.flatnonzero(background), rate, len(kinds))
    ids = table[source.local_id_field].to_list()
    chosen_kind = {
        int(row): kinds[index % len(kinds)] for index, row in enumerate(rng.permutation(rows))
    }
    planted = [
        Planted(
            source.key,
            row + 1,
            str(ids[row]),
            kind,
            source.local_id_field if kind == "no_local_id" else "",
            "",
            QUARANTINE,
        )
        for row, kind in sorted(chosen_kind.items())
    ]
    blank = [row for row, kind in chosen_kind.items() if kind == "no_local_id"]
    if blank:
        column = table[source.local_id_field].to_list()
        for row in blank:
            column[row] = None if source.file_format == "jsonl" else ""
        table = table.with_columns(pl.Series(source.local_id_field, column, dtype=pl.String))
    return table, {row: kind for row, kind in chosen_kind.items() if kind != "no_local_id"}, planted


def break_lines(lines: list[str], breaks: dict[int, str], separator: str) -> None:
    """Break serialised data lines in place; ``lines[0]`` is the header for delimited files."""
    offset = 0 if separator == "" else 1
    for row, kind in breaks.items():
        line = lines[row + offset]
        if kind == "too_few_fields":
            # the first three fields of every source hold no separator or quote
            lines[row + offset] = separator.join(line.split(separator)[:3])
        elif kind == "broken_quoting":
            first, rest = line.split(separator, 1)
            lines[row + offset] = f'"{first}"x{separator}{rest}'  # text after a closing quote
        elif kind == "unparseable":
            lines[row + offset] = line[: len(line) // 2]
