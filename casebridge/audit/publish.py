"""The data-quality tables as counts of one publication: the key of every count, and the
relations a reader can use, within each table and across tables.

Keys name what is counted, so that one count shown in two tables is one cell:

- ``("records", source, year)``: person records of a source (``source_coverage``,
  ``duplicates``, every person-record field of ``completeness``; year ``all`` for all years);
  ``("events", source, year)``, ``("involvements", source, year)``, ``("crimes", source,
  year)`` and ``("suspect rows" | "victim rows", source, year)`` likewise;
- ``("recorded" | "filled" | "unrecognised", entity, field, source, year)`` for
  ``completeness`` (recorded: filled and unrecognised); the rows not recorded are a hidden cell,
  the rows' other part;
- ``("compliance", measure, source, offences, year)``: suspects and those with ethnicity,
  nationality or both recorded, with hidden cells for the other three parts of the suspects
  (ethnicity only, nationality only, neither);
- ``("quarantine", source, what, reason)`` and ``("set aside", source, field)``: the values set
  aside per field in ``conformance`` are those of ``quarantine``'s reasons for that field.

Relations: years add up to ``all``; a field's filled, unrecognised and other rows add up to its
rows; child sexual offences are some of all offences; a source's suspects (records) are some of
the rows naming a suspect; a field's values conforming to the code list are some of those
filled; a source's records are its persons and the records repeating one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from casebridge.audit.publication import Key, KeyOf, Publication
from casebridge.audit.quality import FINDING_FIELD, QUARANTINED, SET_ASIDE

ALL = "all"
UNKNOWN_YEAR = "unknown"
# the key of a completeness row's ``rows``, by (entity, scope)
ROWS = {
    ("person_record", "all"): "records",
    ("event", "all"): "events",
    ("involvement", "all"): "involvements",
    ("involvement", "suspects"): "suspect rows",
    ("involvement", "victims"): "victim rows",
    ("event", "crimes"): "crimes",
}
COMPLIANCE = ("suspects", "ethnicity_recorded", "nationality_recorded", "both_recorded")
# fields whose completeness counts the standard value itself, so that the values conforming to
# the code list or format (a raw value, read) are some of those filled
CONFORMING_IS_FILLED = (
    "date_of_birth",
    "sex",
    "nationality",
    "postcode",
    "phone",
    "event_date",
    "offence_code",
    "outcome_code",
    "outcome_date",
    "is_penetrative",
    "cse_flag",
    "role",
)


@dataclass(frozen=True)
class Table:
    """An exact table, its count columns and the key of each count."""

    exact: pl.DataFrame
    counts: tuple[str, ...]
    key_of: KeyOf


def with_all_years(frame: pl.DataFrame, by: Sequence[str], counts: Sequence[str]) -> pl.DataFrame:
    """``frame`` with years as text (``unknown`` where none) and an ``all`` row per group."""
    frame = frame.with_columns(pl.col("year").cast(pl.String).fill_null(UNKNOWN_YEAR))
    totals = frame.group_by(by).agg(pl.col(c).sum() for c in counts)
    whole = pl.concat([frame, totals.with_columns(year=pl.lit(ALL))], how="diagonal_relaxed")
    return whole.sort([*by, pl.col("year") == ALL, "year"])


def sum_years(publication: Publication, key: Key, years: Sequence[str]) -> None:
    """Relate ``key`` (its last part the year ``all``) to the same count in each year."""
    parts = [(*key[:-1], year) for year in years if year != ALL]
    if parts:
        publication.relate(key, parts)


def coverage_table(publication: Publication, frame: pl.DataFrame) -> Table:
    """``source_coverage``: rows loaded, quarantined, values set aside, records and events."""
    names = {
        "rows_loaded": "rows loaded",
        "rows_quarantined": "rows quarantined",
        "values_set_aside": "values set aside",
    }

    def key_of(row: dict[str, object], column: str) -> Key:
        if column in names:
            return (names[column], row["source"])
        return ("records" if column == "person_records" else "events", row["source"], ALL)

    table = Table(frame, (*names, "person_records", "events"), key_of)
    publication.register(frame, table.counts, key_of)
    return table


def completeness_table(publication: Publication, frame: pl.DataFrame) -> Table:
    """``completeness`` (with ``all`` years): each field's rows are its recorded rows (filled
    and unrecognised) and the others; years add up."""

    def key_of(row: dict[str, object], column: str) -> Key:
        if column == "rows":
            return (ROWS[(str(row["entity"]), str(row["scope"]))], row["source"], row["year"])
        return (column, row["entity"], row["field"], row["source"], row["year"])

    table = Table(frame, ("rows", "recorded", "filled", "unrecognised"), key_of)
    publication.register(frame, table.counts, key_of)
    summed: set[Key] = set()
    for (source, entity, field, scope), group in frame.group_by(
        "source", "entity", "field", "scope", maintain_order=True
    ):
        years = group["year"].to_list()
        rows = (ROWS[(str(entity), str(scope))], source)
        for year in years:
            recorded = ("recorded", entity, field, source, year)
            parts = [(name, entity, field, source, year) for name in ("filled", "unrecognised")]
            publication.relate(recorded, parts)
            publication.rest(("other rows", entity, field, source, year), (*rows, year), [recorded])
        for name in ("recorded", "filled", "unrecognised", "other rows"):
            sum_years(publication, (name, entity, field, source, ALL), years)
        if rows not in summed:
            summed.add(rows)
            sum_years(publication, (*rows, ALL), years)
    _crimes_among_events(publication, frame)
    return table


def _crimes_among_events(publication: Publication, frame: pl.DataFrame) -> None:
    crimes = frame.filter(pl.col("scope") == "crimes").select("source", "year").unique()
    for source, year in crimes.iter_rows():
        if ("events", source, year) in publication.index:
            publication.rest(
                ("events but crimes", source, year),
                ("events", source, year),
                [("crimes", source, year)],
            )


def compliance_table(publication: Publication, frame: pl.DataFrame) -> Table:
    """``compliance`` (with ``all`` years): the suspects split four ways by what is recorded;
    child sexual offences among all offences; suspects among the rows naming one."""

    def key_of(row: dict[str, object], column: str) -> Key:
        return ("compliance", column, row["source"], row["offences"], row["year"])

    table = Table(frame, COMPLIANCE, key_of)
    publication.register(frame, COMPLIANCE, key_of)
    parts = ("both_recorded", "ethnicity_only", "nationality_only", "neither")
    for row in frame.iter_rows(named=True):
        key = key_of(row, "suspects")[2:]
        both = ("compliance", "both_recorded", *key)
        for measure, only in (("ethnicity", "ethnicity_only"), ("nationality", "nationality_only")):
            publication.rest(
                ("compliance", only, *key), ("compliance", f"{measure}_recorded", *key), [both]
            )
        publication.rest(
            ("compliance", "neither", *key),
            ("compliance", "suspects", *key),
            [("compliance", p, *key) for p in parts[:3]],
        )
    for (source, offences), group in frame.group_by("source", "offences", maintain_order=True):
        for measure in ("suspects", *parts):
            sum_years(
                publication, ("compliance", measure, source, offences, ALL), group["year"].to_list()
            )
    _nested_offences(publication, frame, ("suspects", *parts))
    return table


def _nested_offences(
    publication: Publication, frame: pl.DataFrame, measures: Sequence[str]
) -> None:
    """Suspects of child sexual offences are some of the suspects of all offences, and every
    suspect record is named as suspect in at least one source row."""
    for source, year in frame.select("source", "year").unique(maintain_order=True).iter_rows():
        every = ("compliance", "suspects", source, "all offences", year)
        if ("suspect rows", source, year) in publication.index and every in publication.index:
            publication.rest(
                ("suspect rows beyond records", source, year),
                ("suspect rows", source, year),
                [every],
            )
        child = ("compliance", "suspects", source, "child sexual offences", year)
        if child not in publication.index or every not in publication.index:
            continue
        for measure in measures:
            outer = ("compliance", measure, source, "all offences", year)
            inner = ("compliance", measure, source, "child sexual offences", year)
            publication.rest(("compliance outside", measure, source, year), outer, [inner])


def conformance_table(publication: Publication, frame: pl.DataFrame) -> Table:
    """``conformance``: values conforming are some of those recorded, and (for fields counted
    as the standard value) of those filled; values set aside are ``quarantine``'s."""

    def key_of(row: dict[str, object], column: str) -> Key:
        if column == "set_aside":
            return ("set aside", row["source"], FINDING_FIELD.get(str(row["field"]), row["field"]))
        return (column, row["source"], row["entity"], row["field"])

    table = Table(frame, ("recorded", "conforming", "set_aside"), key_of)
    publication.register(frame, table.counts, key_of)
    for row in frame.iter_rows(named=True):
        recorded, conforming = key_of(row, "recorded"), key_of(row, "conforming")
        publication.rest(("not conforming", *recorded[1:]), recorded, [conforming])
        filled = ("filled", row["entity"], row["field"], row["source"], ALL)
        if row["field"] in CONFORMING_IS_FILLED and filled in publication.index:
            if publication.value(filled) == row["conforming"]:
                publication.relate(filled, [conforming])
            else:
                publication.rest(("filled not conforming", *recorded[1:]), filled, [conforming])
    return table


def quarantine_table(publication: Publication, frame: pl.DataFrame) -> Table:
    """``quarantine``: reasons for rows (a row may have several) and findings on values; the
    values set aside per field and per source are theirs."""

    def key_of(row: dict[str, object], column: str) -> Key:
        return ("quarantine", row["source"], row["what"], row["reason"])

    table = Table(frame, ("rows",), key_of)
    publication.register(frame, ("rows",), key_of)
    for (source,), group in frame.group_by("source", maintain_order=True):
        reasons = [key_of(r, "rows") for r in group.iter_rows(named=True)]
        aside = [k for k in reasons if k[2] == SET_ASIDE]
        _reasons_for_rows(publication, str(source), [k for k in reasons if k[2] == QUARANTINED])
        for field in {str(k[3]).split(": ")[0] for k in aside}:
            key = ("set aside", source, field)
            fields = [k for k in aside if str(k[3]).split(": ")[0] == field]
            if key in publication.index and publication.value(key) == _total(publication, fields):
                publication.relate(key, fields)
        total = ("values set aside", source)
        if total in publication.index and publication.value(total) == _total(publication, aside):
            publication.relate(total, aside)
    return table


def _total(publication: Publication, keys: Sequence[Key]) -> int:
    return sum(publication.value(key) for key in keys)


def _reasons_for_rows(publication: Publication, source: str, reasons: list[Key]) -> None:
    """The reasons given add up to at least the rows quarantined: each row gives one or more."""
    rows = ("rows quarantined", source)
    if not reasons or rows not in publication.index:
        return
    given = publication.hidden(("reasons given", source), _total(publication, reasons))
    publication.relate(given, reasons)
    if publication.value(given) >= publication.value(rows):
        publication.rest(("reasons beyond the first", source), given, [rows])


def duplicates_table(publication: Publication, frame: pl.DataFrame) -> Table:
    """``duplicates``: a source's records are its persons and the records repeating one."""
    names = {
        "persons": "persons in source",
        "repeated_records": "repeated records",
        "repeated_involvements": "repeated involvements",
    }

    def key_of(row: dict[str, object], column: str) -> Key:
        if column == "person_records":
            return ("records", row["source"], ALL)
        return (names[column], row["source"])

    table = Table(frame, ("person_records", *names), key_of)
    publication.register(frame, table.counts, key_of)
    for row in frame.iter_rows(named=True):
        publication.relate(
            key_of(row, "person_records"), [key_of(row, "persons"), key_of(row, "repeated_records")]
        )
    return table


def standalone_table(
    publication: Publication,
    frame: pl.DataFrame,
    name: str,
    counts: Sequence[str],
    by: Sequence[str],
) -> Table:
    """A table whose counts no published total adds up (``date_checks``)."""

    def key_of(row: dict[str, object], column: str) -> Key:
        return (name, column, *(row[b] for b in by))

    table = Table(frame, tuple(counts), key_of)
    publication.register(frame, counts, key_of)
    return table
