"""Who the suspects and victims are: counts and shares by ethnicity (18+1 and grouped, and the
officer-defined IC code) and nationality, each person counted once with their best-known
attributes, every share with its denominator, the number unknown and its bounds.

The bounds of a share under missing data: the lower bound counts none of the unknowns in the
category, the upper bound all of them (and, for an 18+1 code, every person known only to be in
its broad group, say "Asian"). Published bounds are worked out from the published (rounded,
suppressed) counts alone, so they allow for disclosure control too and give nothing away.

Populations: everyone named in the role in any record; those named in a child sexual offence
(see ``prepare``); and members of group-based networks (when networks have run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import polars as pl

from casebridge.audit.disclosure import Relation
from casebridge.engine import Engine
from casebridge.standard.datafiles import read_standard

POPULATIONS = ("all records", "child sexual offences", "group-based networks")
ROLES = ("suspect", "victim")
UNKNOWN = "unknown"
BRITISH = "GBR"
CATEGORY_SQL = {
    "ethnicity_18plus1": "coalesce(f.ethnicity_code, 'group:' || f.ethnicity_group, 'unknown')",
    "ethnicity_group": "coalesce(f.ethnicity_group, 'unknown')",
    "ethnicity_officer": "coalesce(f.ic_code, 'unknown')",
    "nationality": "coalesce(f.nationality, 'unknown')",
}
Interval = tuple[int, float]


@dataclass
class Block:
    """The cells of one population and role that hang together: the denominator, and per
    classification its categories, its unknown and subtotals, with the relations between them.
    Each row may name the cells its bounds need: ``unknown_cell`` and ``partial_cell``."""

    population: str
    role: str
    family: str
    rows: list[dict[str, object]] = field(default_factory=list)
    values: list[int] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    def add(self, value: int, classification: str, category: str, label: str, kind: str) -> int:
        self.rows.append(
            {"classification": classification, "category": category, "label": label, "kind": kind}
        )
        self.values.append(value)
        return len(self.values) - 1


@dataclass(frozen=True)
class Counts:
    """Exact persons per (population, role, classification, category)."""

    found: dict[tuple[str, str, str, str], int]

    def get(self, key: tuple[str, str], classification: str, category: str) -> int:
        return self.found.get((*key, classification, category), 0)

    def categories(self, key: tuple[str, str], classification: str) -> list[str]:
        return sorted({k for p, r, c, k in self.found if (p, r, c) == (*key, classification)})


def population_sql(networks: bool) -> str:
    """Each person once per population and role."""
    parts = [
        "SELECT DISTINCT 'all records' AS population, role_class AS role, person_id "
        "FROM audit_involved WHERE role_class IS NOT NULL",
        "SELECT DISTINCT 'child sexual offences', role_class, person_id "
        "FROM audit_involved WHERE role_class IS NOT NULL AND is_child_sexual_offence",
    ]
    if networks:
        parts.append(
            "SELECT DISTINCT 'group-based networks', role, person_id FROM network_member "
            "WHERE role IN ('suspect', 'victim')"
        )
    return "CREATE OR REPLACE TEMP TABLE audit_population AS " + " UNION ALL ".join(parts)


def person_counts(engine: Engine, networks: bool) -> Counts:
    """Persons per population, role, classification and category (exact)."""
    engine.execute(population_sql(networks))
    selects = " UNION ALL ".join(
        f"SELECT p.population, p.role, '{name}' AS classification, {sql} AS category, "
        "count(*) AS persons FROM audit_population p "
        "JOIN audit_person f ON f.person_id = p.person_id GROUP BY ALL"
        for name, sql in CATEGORY_SQL.items()
    )
    return Counts({(p, r, c, k): int(n) for p, r, c, k, n in engine.query(selects)})


def _ethnicity_codes() -> dict[str, list[tuple[str, str]]]:
    """Each broad ethnic group's 18+1 codes and labels ('Not stated' left out)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for row in read_standard("ethnicity_18plus1", ("code", "label", "group")):
        if row["group"] != "Not stated":
            groups.setdefault(row["group"], []).append((row["code"], row["label"]))
    return groups


def _ic_codes() -> list[tuple[str, str]]:
    rows = read_standard("ic_codes", ("code", "label"))
    return [(row["code"], row["label"]) for row in rows if not row["label"].startswith("Unknown")]


def _country_names() -> dict[str, str]:
    return {
        row["iso3"]: row["name"]
        for row in read_standard("countries", ("iso3", "iso2", "name", "demonym"))
    }


def blocks(counts: Counts) -> list[Block]:
    """One block of cells and relations per population and role."""
    keys = sorted({(p, r) for p, r, *_ in counts.found}, key=_population_order)
    made = []
    families = {
        "ethnicity": _add_ethnicity,
        "officer": _add_officer,
        "nationality": _add_nationality,
    }
    for key in keys:
        total = sum(
            counts.get(key, "ethnicity_group", k) for k in counts.categories(key, "ethnicity_group")
        )
        # one block per classification family, each with the denominator as its first cell
        for family, add in families.items():
            block = Block(*key, family)
            denominator = block.add(total, "all", "all", "all persons", "all")
            add(block, denominator, counts, key)
            made.append(block)
    return made


def _population_order(key: tuple[str, str]) -> tuple[int, int]:
    return POPULATIONS.index(key[0]), ROLES.index(key[1])


def _add_ethnicity(block: Block, denominator: int, counts: Counts, key: tuple[str, str]) -> None:
    groups, partials = [], []
    first = len(block.rows)
    for group, codes in _ethnicity_codes().items():
        cell = block.add(
            counts.get(key, "ethnicity_group", group), "ethnicity_group", group, group, "category"
        )
        parts = [
            block.add(
                counts.get(key, "ethnicity_18plus1", code),
                "ethnicity_18plus1",
                code,
                label,
                "category",
            )
            for code, label in codes
        ]
        only = block.add(
            counts.get(key, "ethnicity_18plus1", f"group:{group}"),
            "ethnicity_18plus1",
            f"{group} (no code)",
            f"{group}, 18+1 code not recorded",
            "group only",
        )
        for part in parts:
            block.rows[part]["partial_cell"] = only
        block.relations.append(Relation(cell, (*parts, only)))
        groups.append(cell)
        partials.append(only)
    unknown = _add_unknown(block, counts, key, "ethnicity_group")
    block.relations.append(Relation(denominator, (*groups, unknown)))
    _mark_unknown(block, first, unknown)
    for row in block.rows[first:]:
        if row["classification"] == "ethnicity_18plus1" and row["kind"] == "category":
            row["known_less"] = tuple(partials)


def _add_unknown(block: Block, counts: Counts, key: tuple[str, str], classification: str) -> int:
    """The row of records whose ``classification`` is not recorded."""
    return block.add(
        counts.get(key, classification, UNKNOWN), classification, UNKNOWN, "not recorded", "unknown"
    )


def _mark_unknown(block: Block, first: int, unknown: int) -> None:
    """Point every row from ``first`` on at its classification's unknown row."""
    for row in block.rows[first:]:
        row["unknown_cell"] = unknown


def _add_officer(block: Block, denominator: int, counts: Counts, key: tuple[str, str]) -> None:
    first = len(block.rows)
    parts = [
        block.add(
            counts.get(key, "ethnicity_officer", code), "ethnicity_officer", code, label, "category"
        )
        for code, label in _ic_codes()
    ]
    unknown = _add_unknown(block, counts, key, "ethnicity_officer")
    block.relations.append(Relation(denominator, (*parts, unknown)))
    _mark_unknown(block, first, unknown)


def _add_nationality(block: Block, denominator: int, counts: Counts, key: tuple[str, str]) -> None:
    names = _country_names()
    first = len(block.rows)
    others = [c for c in counts.categories(key, "nationality") if c not in (UNKNOWN, BRITISH)]
    british = block.add(
        counts.get(key, "nationality", BRITISH), "nationality", BRITISH, names[BRITISH], "category"
    )
    other = block.add(
        sum(counts.get(key, "nationality", c) for c in others),
        "nationality",
        "not GBR",
        "any nationality but British",
        "subtotal",
    )
    parts = [
        block.add(counts.get(key, "nationality", c), "nationality", c, names.get(c, c), "category")
        for c in others
    ]
    unknown = _add_unknown(block, counts, key, "nationality")
    # a nationality nobody known holds: none known, but every unknown could hold it
    block.add(0, "nationality", "other", "any nationality not listed", "unlisted")
    block.relations += [
        Relation(other, tuple(parts)),
        Relation(denominator, (british, other, unknown)),
    ]
    _mark_unknown(block, first, unknown)


def share_rows(
    block: Block,
    published: Sequence[int | None],
    intervals: Sequence[Interval],
    confidence: float,
) -> list[dict[str, object]]:
    """The block's rows with counts as published and every share worked out from them: the
    share of known values, its bounds under missing data, and a chance interval around those."""
    low_d, high_d = intervals[0]
    rows = []
    for index, row in enumerate(block.rows):
        if row["kind"] == "all" and block.family != "ethnicity":
            continue  # the denominator is listed once
        out: dict[str, object] = {"population": block.population, "role": block.role}
        out |= {k: row[k] for k in ("classification", "category", "label", "kind")}
        out |= {
            "persons": published[index],
            "persons_low": intervals[index][0],
            "persons_high": _finite(intervals[index][1]),
            "denominator": published[0],
        }
        unknown = row.get("unknown_cell")
        out["unknown"] = published[unknown] if isinstance(unknown, int) else None
        extra = [c for c in (unknown, row.get("partial_cell")) if isinstance(c, int)]
        if row["kind"] in ("unknown", "group only", "subtotal"):
            extra = []
        low = intervals[index][0]
        high = intervals[index][1] + sum(intervals[c][1] for c in extra)
        out["share_lower"] = low / high_d if high_d not in (0, math.inf) else None
        out["share_upper"] = min(1.0, high / low_d) if low_d > 0 else None
        out["share_of_known"] = _share_of_known(row, index, published, intervals)
        out["interval_lower"], out["interval_upper"] = _chance_interval(
            low, high, low_d, high_d, confidence
        )
        if row["kind"] == "all":
            out |= dict.fromkeys(("share_lower", "share_upper", "interval_lower", "interval_upper"))
        rows.append(out)
    return rows


def _finite(value: float) -> int | None:
    return None if value == math.inf else int(value)


def _share_of_known(
    row: dict[str, object],
    index: int,
    published: Sequence[int | None],
    intervals: Sequence[Interval],
) -> float | None:
    """The share among persons whose value is known (as commonly quoted), from the published
    counts; a suppressed count enters at the middle of what the publication allows."""
    unknown = row.get("unknown_cell")
    if row["kind"] != "category" or not isinstance(unknown, int):
        return None
    less = [unknown, *row.get("known_less", ())]  # type: ignore[misc]
    count, total, *minus = (_point(published, intervals, c) for c in (index, 0, *less))
    known = total - sum(minus)
    return min(1.0, count / known) if known > 0 else None


def _point(published: Sequence[int | None], intervals: Sequence[Interval], cell: int) -> float:
    value = published[cell]
    if value is not None:
        return float(value)
    low, high = intervals[cell]
    return float(low) if high == math.inf else (low + high) / 2


def _chance_interval(
    low: float, high: float, low_d: float, high_d: float, confidence: float
) -> tuple[float | None, float | None]:
    """Wilson score limits: the lower around the lower bound, the upper around the upper."""
    if low_d <= 0 or high_d == math.inf:
        return None, None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return (
        _wilson(low, high_d, z, -1),
        _wilson(min(high, low_d), low_d, z, 1),
    )


def _wilson(count: float, total: float, z: float, sign: int) -> float:
    share = count / total
    centre = share + z * z / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return max(0.0, min(1.0, (centre + sign * spread) / (1 + z * z / total)))


def exact_rows(block: Block, confidence: float) -> list[dict[str, object]]:
    """The block's rows with exact counts (for the workspace, not for publication)."""
    intervals: list[Interval] = [(value, value) for value in block.values]
    return share_rows(block, list(block.values), intervals, confidence)


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Rows from ``share_rows`` as a table with a fixed schema."""
    schema = {
        "population": pl.String,
        "role": pl.String,
        "classification": pl.String,
        "category": pl.String,
        "label": pl.String,
        "kind": pl.String,
        "persons": pl.Int64,
        "persons_low": pl.Int64,
        "persons_high": pl.Int64,
        "denominator": pl.Int64,
        "unknown": pl.Int64,
        "share_of_known": pl.Float64,
        "share_lower": pl.Float64,
        "share_upper": pl.Float64,
        "interval_lower": pl.Float64,
        "interval_upper": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


COMPLETENESS_MEASURES = (
    "ethnicity_recorded",
    "ethnicity_self_recorded",
    "ethnicity_18plus1_recorded",
    "ethnicity_officer_recorded",
    "nationality_recorded",
    "both_recorded",
)


def person_completeness(engine: Engine) -> pl.DataFrame:
    """Per population and role: persons, and how many have each attribute recorded in at
    least one linked record (ethnicity: self-defined, to its code or only its group, or
    officer-defined)."""
    return engine.frame(
        """SELECT p.population, p.role, count(*) AS persons,
            count(*) FILTER (WHERE f.ethnicity_group IS NOT NULL OR f.ic_code IS NOT NULL)
                AS ethnicity_recorded,
            count(f.ethnicity_group) AS ethnicity_self_recorded,
            count(f.ethnicity_code) AS ethnicity_18plus1_recorded,
            count(f.ic_code) AS ethnicity_officer_recorded,
            count(f.nationality) AS nationality_recorded,
            count(*) FILTER (WHERE (f.ethnicity_group IS NOT NULL OR f.ic_code IS NOT NULL)
                AND f.nationality IS NOT NULL) AS both_recorded
        FROM audit_population p JOIN audit_person f ON f.person_id = p.person_id
        GROUP BY p.population, p.role"""
    ).sort(
        pl.col("population").replace_strict(
            {p: i for i, p in enumerate(POPULATIONS)}, return_dtype=pl.Int32
        ),
        "role",
    )
