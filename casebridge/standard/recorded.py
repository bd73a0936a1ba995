"""Whether a person record holds an ethnicity and a nationality: SQL every stage shares.

Recorded means recorded as a value, not as a blank said another way:

- **self-defined ethnicity**: an 18+1 code other than NS (not stated), or free text that names
  one broad group (``ethnicity_broad.csv``: "Asian") where no code could be read;
- **officer-defined ethnicity**: an IC code other than those meaning unknown (IC9, IC0: the
  ``ic_codes.csv`` labels starting "Unknown");
- **ethnicity**: either of the two;
- **nationality**: an ISO 3166-1 code; ingest maps "Unknown", "Not known" and words naming no one
  country to none (``nationality_ambiguous.csv``), so they are not recorded.

The code lists' own values are written into the SQL (they are shipped data, never user
values), so the expressions need no lookup table and mean the same on DuckDB and Spark.
"""

from __future__ import annotations

from casebridge.standard.datafiles import read_standard
from casebridge.standard.sql import text


def _listed(values: list[str]) -> str:
    return "(" + ", ".join(text(value) for value in values) + ")"


def _stated_codes() -> list[str]:
    rows = read_standard("ethnicity_18plus1", ("code", "label", "group"))
    return [row["code"] for row in rows if row["group"] != "Not stated"]


def _known_ic_codes() -> list[str]:
    rows = read_standard("ic_codes", ("code", "label"))
    return [row["code"] for row in rows if not row["label"].startswith("Unknown")]


def _broad_phrases() -> list[str]:
    return [row["phrase"] for row in read_standard("ethnicity_broad", ("phrase", "group"))]


def self_defined_recorded(record: str) -> str:
    """SQL: the person record aliased ``record`` holds a self-defined ethnicity."""
    return (
        f"(coalesce({record}.ethnicity_self IN {_listed(_stated_codes())}, false) "
        f"OR coalesce(lower(trim({record}.ethnicity_self_raw)) IN {_listed(_broad_phrases())}, "
        "false))"
    )


def officer_defined_recorded(record: str) -> str:
    """SQL: the person record aliased ``record`` holds an officer-defined ethnicity."""
    return f"coalesce({record}.ethnicity_officer IN {_listed(_known_ic_codes())}, false)"


def ethnicity_recorded(record: str) -> str:
    """SQL: the person record aliased ``record`` holds an ethnicity, self- or officer-defined."""
    return f"({self_defined_recorded(record)} OR {officer_defined_recorded(record)})"


def nationality_recorded(record: str) -> str:
    """SQL: the person record aliased ``record`` holds a nationality."""
    return f"({record}.nationality IS NOT NULL)"
