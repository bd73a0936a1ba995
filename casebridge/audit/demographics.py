"""Who the suspects and victims are: persons by ethnicity (18+1 and grouped, and the
officer-defined IC code) and nationality, each person counted once with their best-known
attributes, every share with its denominator, the number unknown and its bounds.

Every category list is fixed, the same for every workspace, so that a row's presence says
nothing about the data: every 18+1 code, every IC code, and a fixed list of nationalities
(``data/published_nationalities.csv``) with "any other nationality" and the subtotal "any
nationality but British". The bounds of a share under missing data: the lower bound counts
none of the unknowns in the row, the upper bound all of them (and, for an 18+1 code, every
person known only to be in its broad group, say "Asian"); subtotals too. Published bounds are
worked out from what the publication allows each count to be, so they allow for disclosure
control as well. The share among known values (as commonly quoted) is published only where the
count and everything it is worked out from are published: never for a suppressed count, whose
bounds (from the range the suppression leaves) say all that may be said.

Populations: everyone named in the role in any record; those named in a child sexual offence
(see ``prepare``); and members of group-based networks (when networks have run). The persons
of the last two are some of the first, so every count of theirs is related to its count there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from casebridge.audit.publication import Key, Publication
from casebridge.audit.publish import Table
from casebridge.engine import Engine
from casebridge.standard.datafiles import read_rows, read_standard

POPULATIONS = ("all records", "child sexual offences", "group-based networks")
ROLES = ("suspect", "victim")
UNKNOWN, OTHER, BRITISH, NOT_BRITISH = "unknown", "other", "GBR", "not GBR"
NATIONALITIES = Path(__file__).parent / "data" / "published_nationalities.csv"
COMPLETENESS_MEASURES = (
    "ethnicity_recorded",
    "ethnicity_self_recorded",
    "ethnicity_18plus1_recorded",
    "ethnicity_officer_recorded",
    "nationality_recorded",
    "both_recorded",
    "ethnicity_unrecognised",
    "nationality_unrecognised",
    "ethnicity_recorded_any_form",
    "nationality_recorded_any_form",
)
# each person once per population and role, split by what is known of them: self-defined group
# (g), officer-defined code (o), ethnicity of either kind (e), nationality (n)
PARTITION = {
    "self_and_officer": "g AND o",
    "self_only": "g AND NOT o",
    "officer_only": "o AND NOT g",
    "neither": "NOT e",
    "both_recorded": "e AND n",
    "ethnicity_only": "e AND NOT n",
    "nationality_only": "n AND NOT e",
    "none": "NOT e AND NOT n",
    "ethnicity_18plus1_recorded": "ethnicity_code IS NOT NULL",
    "ethnicity_unrecognised": "NOT e AND ethnicity_set_aside",
    "nationality_unrecognised": "NOT n AND nationality_set_aside",
}


def published_nationalities() -> tuple[str, ...]:
    """The nationalities listed by name (ISO 3166-1 alpha-3), British first."""
    return tuple(row["iso3"] for row in read_rows(NATIONALITIES, ("iso3", "source")))


@dataclass(frozen=True)
class ShareRow:
    """One published row: its count's key, and the keys its shares are worked out from."""

    population: str
    role: str
    classification: str
    category: str
    label: str
    kind: str  # all, category, other, subtotal, unknown, group only
    key: Key
    unknown: Key | None = None
    partial: Key | None = None  # an 18+1 code: persons known only to be in its group
    known_less: tuple[Key, ...] = ()  # subtracted from the denominator to leave the known

    @property
    def denominator(self) -> Key:
        return ("persons", self.population, self.role)


@dataclass(frozen=True)
class People:
    """The rows of ``demographics`` and the table ``person_completeness``."""

    rows: list[ShareRow]
    completeness: Table


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


def _category_sql() -> dict[str, str]:
    listed = ", ".join(f"'{code}'" for code in published_nationalities())
    return {
        "ethnicity_18plus1": "coalesce(f.ethnicity_code, 'group:' || f.ethnicity_group, 'unknown')",
        "ethnicity_group": "coalesce(f.ethnicity_group, 'unknown')",
        "ethnicity_officer": "coalesce(f.ic_code, 'unknown')",
        "nationality": f"CASE WHEN f.nationality IS NULL THEN 'unknown' "
        f"WHEN f.nationality IN ({listed}) THEN f.nationality ELSE '{OTHER}' END",
    }


def person_counts(engine: Engine, networks: bool) -> dict[tuple[str, ...], int]:
    """Exact persons per (population, role, classification, category), and per (population,
    role, part) for the parts of ``PARTITION`` and ``persons``."""
    engine.execute(population_sql(networks))
    selects = " UNION ALL ".join(
        f"SELECT p.population, p.role, '{name}' AS classification, {sql} AS category, "
        "count(*) AS persons FROM audit_population p "
        "JOIN audit_person f ON f.person_id = p.person_id GROUP BY ALL"
        for name, sql in _category_sql().items()
    )
    found: dict[tuple[str, ...], int] = {
        (p, r, c, k): int(n) for p, r, c, k, n in engine.query(selects)
    }
    parts = ", ".join(f"count(*) FILTER (WHERE {sql}) AS {name}" for name, sql in PARTITION.items())
    for population, role, *values in engine.query(
        f"""SELECT population, role, count(*) AS persons, {parts} FROM (
            SELECT p.population, p.role, f.*, f.ethnicity_group IS NOT NULL AS g,
                f.ic_code IS NOT NULL AS o, f.nationality IS NOT NULL AS n,
                f.ethnicity_group IS NOT NULL OR f.ic_code IS NOT NULL AS e
            FROM audit_population p JOIN audit_person f ON f.person_id = p.person_id)
        GROUP BY population, role"""
    ):
        for name, value in zip(("persons", *PARTITION), values, strict=True):
            found[(population, role, name)] = int(value)
    return found


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


class _Block:
    """Registers one population and role: its rows, their counts and relations."""

    def __init__(
        self,
        publication: Publication,
        found: dict[tuple[str, ...], int],
        population: str,
        role: str,
    ) -> None:
        self.publication, self.found = publication, found
        self.population, self.role = population, role
        self.rows: list[ShareRow] = []
        self.denominator = publication.count(
            ("persons", population, role), found.get((population, role, "persons"), 0)
        )
        self.rows.append(
            ShareRow(population, role, "all", "all", "all persons", "all", self.denominator)
        )

    def add(
        self,
        classification: str,
        category: str,
        label: str,
        kind: str,
        unknown: Key | None = None,
        partial: Key | None = None,
        known_less: tuple[Key, ...] = (),
    ) -> Key:
        """Register one row's count; return its key."""
        key = self.cell(classification, category)
        found = self.found.get((self.population, self.role, classification, category), 0)
        self.publication.count(key, found)
        self.rows.append(
            ShareRow(
                self.population,
                self.role,
                classification,
                category,
                label,
                kind,
                key,
                unknown,
                partial,
                known_less,
            )
        )
        return key

    def sum(self, key: Key, parts: Sequence[Key]) -> Key:
        """Register ``key`` (a subtotal) as the sum of ``parts``."""
        self.publication.count(key, sum(self.publication.value(p) for p in parts))
        self.publication.relate(key, parts)
        return key

    def cell(self, classification: str, category: str) -> Key:
        """The key of a category's persons."""
        return ("persons", self.population, self.role, classification, category)

    def with_(self, name: str) -> Key:
        """The key of the persons with ``name`` recorded (or one part of the persons)."""
        return ("persons with", self.population, self.role, name)

    def measure(self, name: str, shown: bool = True) -> Key:
        """Register the counted persons with ``name`` (a part of ``PARTITION``)."""
        found = self.found.get((self.population, self.role, name), 0)
        return self.publication.count(self.with_(name), found, shown)


def _ethnicity(block: _Block) -> tuple[list[Key], list[Key], Key]:
    """Groups, each with its codes and its persons with no code; the unknown. Returns the
    group keys, the code keys and the unknown key."""
    group_keys: list[Key] = []
    code_keys: list[Key] = []
    unknown_key = block.cell("ethnicity_group", UNKNOWN)
    codes = _ethnicity_codes()
    only = {g: block.cell("ethnicity_18plus1", f"group:{g}") for g in codes}
    less = (unknown_key, *only.values())
    for group, members in codes.items():
        group_key = block.add(
            "ethnicity_group",
            group,
            group,
            "category",
            unknown=unknown_key,
            known_less=(unknown_key,),
        )
        parts = [
            block.add(
                "ethnicity_18plus1",
                code,
                label,
                "category",
                unknown=unknown_key,
                partial=only[group],
                known_less=less,
            )
            for code, label in members
        ]
        block.add(
            "ethnicity_18plus1", f"group:{group}", f"{group}, 18+1 code not recorded", "group only"
        )
        block.publication.relate(group_key, [*parts, only[group]])
        group_keys.append(group_key)
        code_keys += parts
    block.add("ethnicity_group", UNKNOWN, "not recorded", "unknown")
    block.publication.relate(block.denominator, [*group_keys, unknown_key])
    return group_keys, code_keys, unknown_key


def _officer(block: _Block) -> list[Key]:
    unknown = block.cell("ethnicity_officer", UNKNOWN)
    parts = [
        block.add(
            "ethnicity_officer", code, label, "category", unknown=unknown, known_less=(unknown,)
        )
        for code, label in _ic_codes()
    ]
    block.add("ethnicity_officer", UNKNOWN, "not recorded", "unknown")
    block.publication.relate(block.denominator, [*parts, unknown])
    return parts


def _nationality(block: _Block) -> tuple[Key, Key]:
    """GBR, the subtotal of the rest, each listed nationality, any other, the unknown.
    Returns the keys of GBR and of the subtotal."""
    names = _country_names()
    unknown = block.cell("nationality", UNKNOWN)

    def listed(code: str, label: str, kind: str = "category") -> Key:
        return block.add("nationality", code, label, kind, unknown=unknown, known_less=(unknown,))

    british = listed(BRITISH, names[BRITISH])
    at = len(block.rows)
    others = [
        listed(code, names.get(code, code)) for code in published_nationalities() if code != BRITISH
    ]
    others.append(listed(OTHER, "any other nationality", "other"))
    subtotal = block.sum(block.cell("nationality", NOT_BRITISH), others)
    block.rows.insert(
        at,
        ShareRow(
            block.population,
            block.role,
            "nationality",
            NOT_BRITISH,
            "any nationality but British",
            "subtotal",
            subtotal,
            unknown=unknown,
        ),
    )
    block.add("nationality", UNKNOWN, "not recorded", "unknown")
    block.publication.relate(block.denominator, [british, subtotal, unknown])
    return british, subtotal


def _completeness(
    block: _Block,
    groups: list[Key],
    codes: list[Key],
    officer: list[Key],
    nationality: tuple[Key, Key],
) -> None:
    """The person-completeness counts: sums of the classification rows, and the persons split
    by what is recorded of them, so that every measure is related to every other."""
    publication, measure, with_ = block.publication, block.measure, block.with_
    self_recorded = block.sum(with_("ethnicity_self_recorded"), groups)
    block.sum(measure("ethnicity_18plus1_recorded"), codes)
    officer_recorded = block.sum(with_("ethnicity_officer_recorded"), officer)
    national = block.sum(with_("nationality_recorded"), list(nationality))
    parts = {name: measure(name, shown=name in COMPLETENESS_MEASURES) for name in PARTITION}
    either = block.sum(
        with_("ethnicity_recorded"),
        [parts["self_and_officer"], parts["self_only"], parts["officer_only"]],
    )
    publication.relate(self_recorded, [parts["self_and_officer"], parts["self_only"]])
    publication.relate(officer_recorded, [parts["self_and_officer"], parts["officer_only"]])
    publication.relate(block.denominator, [either, parts["neither"]])
    publication.relate(either, [parts["both_recorded"], parts["ethnicity_only"]])
    publication.relate(national, [parts["both_recorded"], parts["nationality_only"]])
    four = ("both_recorded", "ethnicity_only", "nationality_only", "none")
    publication.relate(block.denominator, [parts[p] for p in four])
    # recorded in any form: read, or recorded but not read (set aside)
    for name, read in (("ethnicity", either), ("nationality", national)):
        block.sum(with_(f"{name}_recorded_any_form"), [read, parts[f"{name}_unrecognised"]])
    unread = [parts["ethnicity_unrecognised"]]
    publication.rest(with_("ethnicity blank"), parts["neither"], unread)
    unread = [parts["nationality_unrecognised"]]
    publication.rest(with_("nationality blank"), block.cell("nationality", UNKNOWN), unread)


def register(engine: Engine, networks: bool, publication: Publication) -> People:
    """Register every population's counts in ``publication``; return the rows to publish."""
    found = person_counts(engine, networks)
    populations = POPULATIONS if networks else POPULATIONS[:2]
    rows: list[ShareRow] = []
    for population in populations:
        for role in ROLES:
            block = _Block(publication, found, population, role)
            groups, codes, _ = _ethnicity(block)
            officer = _officer(block)
            national = _nationality(block)
            _completeness(block, groups, codes, officer, national)
            rows += block.rows
    _nest(publication, populations)
    return People(rows, _completeness_table(publication, populations))


def _nest(publication: Publication, populations: Sequence[str]) -> None:
    """Each count of a sub-population is part of the same count over all records."""
    inner = [
        key
        for key in publication.index
        if key[0] in ("persons", "persons with") and key[1] in populations[1:]
    ]
    for key in inner:
        outer = (key[0], POPULATIONS[0], *key[2:])
        if outer in publication.index and publication.value(outer) >= publication.value(key):
            publication.rest(("persons outside", *key), outer, [key])


def _completeness_table(publication: Publication, populations: Sequence[str]) -> Table:
    """``person_completeness``: per population and role, persons and each measure."""
    columns = ("persons", *COMPLETENESS_MEASURES)

    def key_of(row: dict[str, object], column: str) -> Key:
        if column == "persons":
            return ("persons", row["population"], row["role"])
        return ("persons with", row["population"], row["role"], column)

    records = []
    for population in populations:
        for role in ROLES:
            row: dict[str, object] = {"population": population, "role": role, "counted": "persons"}
            records.append(row | {c: publication.value(key_of(row, c)) for c in columns})
    schema = {"population": pl.String, "role": pl.String, "counted": pl.String}
    frame = pl.DataFrame(records, schema=schema | dict.fromkeys(columns, pl.Int64))
    return Table(frame, columns, key_of)
