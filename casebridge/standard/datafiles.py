"""Read the CSV data files that ship with casebridge (code lists, name pools).

Each file starts with ``# `` comment lines naming its source, then a header row. Values are kept
as strings: a code list's meaning is in its text, not in what a parser guesses.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from casebridge.errors import DataFileError

STANDARD_DATA = Path(__file__).parent / "data"
OFFENCE_COLUMNS = (
    "ho_code", "description", "soa_section", "is_penetrative", "victim_age_band", "victim_sex",
    "is_sexual", "verified",
)  # fmt: skip


@cache
def read_rows(path: Path, columns: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    """Return the rows of a shipped data file, checking it has exactly ``columns``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"cannot read data file {path}: {exc.strerror}") from exc
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != columns:
        raise DataFileError(
            f"{path}: header is {reader.fieldnames}, expected {list(columns)}; "
            "the file may be damaged or from another version of casebridge"
        )
    return tuple({key: (value or "").strip() for key, value in row.items()} for row in reader)


def read_standard(name: str, columns: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    """Return the rows of ``casebridge/standard/data/<name>.csv``."""
    return read_rows(STANDARD_DATA / f"{name}.csv", columns)
