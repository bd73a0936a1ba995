"""The population baseline a user supplies: the area's population by ethnicity, to set the
shares of suspects and victims against.

The file is CSV with ``# `` comment lines allowed before a header ``ethnicity,population``;
``ethnicity`` is an 18+1 code (``A2``) or a broad group (``Asian``), ``population`` a count.
Codes add up to their groups; "not stated" rows are left out of the denominator. The baseline
is taken as exact (a census count): the uncertainty stated is that of the casebridge figures,
their bounds under missing data and a chance interval around them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from casebridge.errors import AuditError
from casebridge.standard.datafiles import read_standard

COLUMNS = ("ethnicity", "population")


def read_baseline(path: Path) -> pl.DataFrame:
    """Return (classification, category, baseline_share) from a baseline file."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise AuditError(f"cannot read the population baseline {path}: {exc.strerror}") from exc
    body = [
        (n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")
    ]
    if not body:
        raise AuditError(f"{path}: no rows; expected a header 'ethnicity,population' and counts")
    header = [cell.strip().lower() for cell in next(csv.reader([body[0][1]]))]
    if tuple(header) != COLUMNS:
        raise AuditError(f"{path}, line {body[0][0]}: header is {header}; expected {list(COLUMNS)}")
    codes = {
        row["code"]: row["group"]
        for row in read_standard("ethnicity_18plus1", ("code", "label", "group"))
    }
    groups = {group.lower(): group for group in codes.values()}
    by_code: dict[str, int] = {}
    by_group: dict[str, int] = {}
    for number, line in body[1:]:
        name, count = _row(path, number, line)
        if name.upper() in codes:
            if codes[name.upper()] != "Not stated":
                by_code[name.upper()] = by_code.get(name.upper(), 0) + count
        elif name.lower() in groups:
            if groups[name.lower()] != "Not stated":
                by_group[groups[name.lower()]] = by_group.get(groups[name.lower()], 0) + count
        else:
            raise AuditError(
                f"{path}, line {number}: {name!r} is neither an 18+1 code nor an ethnic group "
                f"({', '.join(sorted(set(codes.values()) - {'Not stated'}))})"
            )
    if by_code and by_group:
        raise AuditError(f"{path}: give either 18+1 codes or broad groups, not both")
    for code, count in by_code.items():
        by_group[codes[code]] = by_group.get(codes[code], 0) + count
    return _shares(by_code, "ethnicity_18plus1").vstack(_shares(by_group, "ethnicity_group"))


def _row(path: Path, number: int, line: str) -> tuple[str, int]:
    cells = [cell.strip() for cell in next(csv.reader([line]))]
    if len(cells) != 2:
        raise AuditError(f"{path}, line {number}: expected 2 values (ethnicity, population)")
    try:
        count = int(cells[1].replace(",", ""))
    except ValueError:
        raise AuditError(
            f"{path}, line {number}: population {cells[1]!r} is not a whole number"
        ) from None
    if count < 0:
        raise AuditError(f"{path}, line {number}: population {count} is negative")
    return cells[0], count


def _shares(counts: dict[str, int], classification: str) -> pl.DataFrame:
    total = sum(counts.values())
    return pl.DataFrame(
        {
            "classification": [classification] * len(counts),
            "category": list(counts),
            "baseline_share": [count / total if total else 0.0 for count in counts.values()],
        },
        schema={"classification": pl.String, "category": pl.String, "baseline_share": pl.Float64},
    )


def compare(demographics: pl.DataFrame, baseline: pl.DataFrame) -> pl.DataFrame:
    """Each published share beside the baseline: the ratio's range (the chance interval over
    the baseline share) and what can be read from it."""
    joined = demographics.filter(pl.col("kind") == "category").join(
        baseline, on=["classification", "category"], how="inner"
    )
    ratio_lower = pl.col("interval_lower") / pl.col("baseline_share")
    ratio_upper = pl.col("interval_upper") / pl.col("baseline_share")
    return joined.select(
        "population",
        "role",
        "classification",
        "category",
        "label",
        "persons",
        "denominator",
        "unknown",
        "baseline_share",
        "share_lower",
        "share_upper",
        "interval_lower",
        "interval_upper",
        ratio_lower=ratio_lower,
        ratio_upper=ratio_upper,
        reading=pl.when(ratio_lower > 1)
        .then(pl.lit("more than in the population"))
        .when(ratio_upper < 1)
        .then(pl.lit("fewer than in the population"))
        .otherwise(pl.lit("cannot tell from these data")),
    )
