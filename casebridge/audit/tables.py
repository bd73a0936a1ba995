"""The audit's tables, exact and published, protected together as one publication.

Every table registers its counts in one ``Publication`` (``publish`` for the data-quality
tables, here for linkage and casework, ``demographics`` for who the suspects and victims are);
``build`` then protects the whole publication at once and writes each table twice: exact (for
the workspace, beside the records it counts) and published (counts protected, every figure
worked out from the protected counts).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from casebridge.audit import casework, demographics, linkage, publish, quality, shares
from casebridge.audit.prepare import Stages
from casebridge.audit.publication import Key, Publication
from casebridge.audit.publish import ALL, Table
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine

Pair = tuple[pl.DataFrame, pl.DataFrame]
AGENCY = ["source", "agency", "kind"]
PERSONS = ("persons total",)
REVIEW_ITEMS = ("review items",)
NETWORKS = ("networks total",)
# linkage_overview's measures that other tables show too, by the key they share
OVERVIEW = {
    "person records": ("records total",),
    "persons": PERSONS,
    "persons with several records": ("persons by records", "2 or more"),
    "persons known to several agencies": ("persons by agencies", "several agencies"),
    "pairs scored (kept for review and explanation)": ("pairs scored",),
    "pairs in the review band": ("review band", ALL, ALL),
    "pairs in the review band judged by an analyst": ("review band judged",),
    "judgements recorded": ("judgements",),
}


def build(engine: Engine, settings: AuditSettings, stages: Stages) -> tuple[dict[str, Pair], int]:
    """Every audit table as (exact, published), and how many published counts are hidden."""
    publication = Publication()
    made = quality_tables(engine, settings, publication)
    made |= linkage_tables(engine, settings, stages, publication)
    made |= casework_tables(engine, settings, stages, publication)
    people = demographics.register(engine, stages.networks, publication)
    protected = publication.protect(settings.disclosure)
    pairs = {
        name: (table.exact, protected.frame(table.exact, table.counts, table.key_of))
        for name, table in made.items()
    }
    pairs |= shares.publish(people, protected, settings.confidence)
    return pairs, protected.suppressed()


def quality_tables(
    engine: Engine, settings: AuditSettings, publication: Publication
) -> dict[str, Table]:
    """Coverage, completeness, compliance, conformance, dates, duplicates, quarantine."""
    by = [*AGENCY, "entity", "field", "scope", "counted", "compulsory"]
    complete = publish.with_all_years(
        quality.completeness(engine).with_columns(pl.col("unrecognised").fill_null(0)),
        by,
        ["rows", "recorded", "filled", "unrecognised"],
    )
    comply = publish.with_all_years(
        quality.compliance(engine), [*AGENCY, "offences", "counted"], publish.COMPLIANCE
    )
    return {
        "source_coverage": publish.coverage_table(publication, quality.source_coverage(engine)),
        "completeness": publish.completeness_table(publication, complete),
        "compliance": publish.compliance_table(publication, comply),
        "conformance": publish.conformance_table(publication, quality.conformance(engine)),
        "date_checks": publish.standalone_table(
            publication,
            quality.date_checks(engine, settings),
            "date check",
            ["rows"],
            ["source", "check"],
        ),
        "duplicates": publish.duplicates_table(publication, quality.duplicates(engine)),
        "quarantine": publish.quarantine_table(publication, quality.quarantine_reasons(engine)),
    }


def _listed(
    publication: Publication,
    label: str,
    count: str,
    items: Sequence[tuple[str, int]],
    prefix: str,
    total: Key,
    groups: dict[str, Sequence[int]] | None = None,
) -> Table:
    """A list of counts with subtotals of the given items and its total (``all``) last,
    registered with their relations."""
    names, values = [n for n, _ in items], [v for _, v in items]
    keys: list[Key] = [(prefix, name) for name in names]
    grouped = {m for members in (groups or {}).values() for m in members}
    tops = [keys[i] for i in range(len(items)) if i not in grouped]
    for name, members in (groups or {}).items():
        names.append(name)
        values.append(sum(values[m] for m in members))
        keys.append((prefix, name))
        tops.append(keys[-1])
    names.append(ALL)
    keys.append(total)
    values.append(sum(values[i] for i, key in enumerate(keys[:-1]) if key in tops))
    for key, value in zip(keys, values, strict=True):
        publication.count(key, value)
    for name, members in (groups or {}).items():
        publication.relate((prefix, name), [keys[m] for m in members])
    publication.relate(total, tops)
    exact = pl.DataFrame({label: names, count: values}, schema={label: pl.String, count: pl.Int64})
    where = dict(zip(names, keys, strict=True))
    return Table(exact, (count,), lambda row, _: where[str(row[label])])


def linkage_tables(
    engine: Engine, settings: AuditSettings, stages: Stages, publication: Publication
) -> dict[str, Table]:
    """Overview, records per person and agency overlap (sharing their total), review band."""
    per_person = linkage.records_per_person(engine)
    overlap = linkage.agency_overlap(engine)
    several = [i for i, r in enumerate(per_person["records"].to_list()) if r != "1"]
    counts = overlap["agency_count"].to_list()
    tables = {
        "records_per_person": _listed(
            publication,
            "records",
            "persons",
            list(per_person.iter_rows()),
            "persons by records",
            PERSONS,
            {"2 or more": several},
        ),
        "agency_overlap": _listed(
            publication,
            "agencies",
            "persons",
            list(overlap.select("agencies", "persons").iter_rows()),
            "persons by agencies",
            PERSONS,
            {
                "one agency": [i for i, n in enumerate(counts) if n == 1],
                "several agencies": [i for i, n in enumerate(counts) if n > 1],
            },
        ),
    }
    sizes = dict(zip(overlap["agencies"].to_list(), counts, strict=True))
    exact = tables["agency_overlap"].exact.with_columns(
        agency_count=pl.col("agencies").replace_strict(sizes, default=None, return_dtype=pl.Int64)
    )
    tables["agency_overlap"] = Table(exact, ("persons",), tables["agency_overlap"].key_of)
    if stages.linked and engine.table_exists("match_pair"):
        tables["review_band"] = _review_band(publication, linkage.review_band(engine, settings))
    tables["linkage_overview"] = _overview(
        publication, linkage.linkage_overview(engine, settings, stages.linked)
    )
    _records_held(publication, linkage.records_of_persons_with_many(engine), sizes)
    return tables


def _records_held(publication: Publication, many: int, sizes: dict[str, int]) -> None:
    """The person records are held by the persons: a person with k records holds k (5 or more
    in the band "5+"), and a person known to k agencies holds at least k."""
    total = OVERVIEW["person records"]
    held = publication.hidden(("records of persons with 5+",), many)
    bands = [("persons by records", str(k)) for k in range(1, 5)]
    parts = [band for k, band in enumerate(bands, 1) if band in publication.index for _ in range(k)]
    publication.relate(total, [*parts, held])
    five = ("persons by records", "5+")
    if five in publication.index:
        publication.rest(("records beyond five",), held, [five] * 5)
    spread = [("persons by agencies", a) for a, k in sizes.items() for _ in range(k)]
    publication.rest(("records beyond one per agency",), total, spread)


def _overview(publication: Publication, frame: pl.DataFrame) -> Table:
    """Headline counts; those shown elsewhere share their cells, and pairs judged are those of
    the review band less the unjudged."""

    def key_of(row: dict[str, object], _: str) -> Key:
        return OVERVIEW.get(str(row["measure"]), ("overview", row["measure"]))

    table = Table(frame, ("value",), key_of)
    publication.register(frame, ("value",), key_of)
    sources = [k for k in publication.index if len(k) == 3 and k[0] == "records" and k[2] == ALL]
    publication.relate(OVERVIEW["person records"], sources)
    if ("review band", ALL, "unjudged") in publication.index:
        judged = OVERVIEW["pairs in the review band judged by an analyst"]
        band = ("review band", ALL, ALL)
        publication.relate(band, [judged, ("review band", ALL, "unjudged")])
        publication.rest(("judgements beyond the band",), OVERVIEW["judgements recorded"], [judged])
        scored = OVERVIEW["pairs scored (kept for review and explanation)"]
        publication.rest(("pairs beyond the band",), scored, [band])
    return table


def _review_band(publication: Publication, frame: pl.DataFrame) -> Table:
    """Pairs by probability bin and verdict, with totals per bin, per verdict and in all."""
    label, columns = frame.columns[0], frame.columns[1:]
    totals = frame.with_columns(all=pl.sum_horizontal(columns))
    whole = pl.concat(
        [
            totals,
            totals.select(pl.lit(ALL).alias(label), *(pl.col(c).sum() for c in [*columns, ALL])),
        ]
    )
    every = [*columns, ALL]

    def key_of(row: dict[str, object], column: str) -> Key:
        return ("review band", row[label], column)

    publication.register(whole, every, key_of)
    bins = whole[label].to_list()
    for row in whole.iter_rows(named=True):
        publication.relate(key_of(row, ALL), [key_of(row, c) for c in columns])
    for column in every:
        publication.relate(
            ("review band", ALL, column), [("review band", b, column) for b in bins if b != ALL]
        )
    return Table(whole, tuple(every), key_of)


def casework_tables(
    engine: Engine, settings: AuditSettings, stages: Stages, publication: Publication
) -> dict[str, Table]:
    """Networks by size, agencies and span (sharing their total); review items by rule and by
    priority (the rules' items add up to at least the items: an item may meet several)."""
    profile = casework.network_profile(engine, stages.networks)
    parts = []
    for dimension in profile["dimension"].unique(maintain_order=True).to_list():
        part = profile.filter(pl.col("dimension") == dimension).sort("order")
        listed = _listed(
            publication,
            "band",
            "networks",
            list(part.select("band", "networks").iter_rows()),
            f"networks by {dimension}",
            NETWORKS,
        )
        parts.append(listed.exact.with_columns(dimension=pl.lit(dimension)))
    schema = {"dimension": pl.String, "band": pl.String, "networks": pl.Int64}
    networks = pl.concat(parts).select(list(schema)) if parts else pl.DataFrame(schema=schema)

    def network_key(row: dict[str, object], _: str) -> Key:
        return NETWORKS if row["band"] == ALL else (f"networks by {row['dimension']}", row["band"])

    priority = casework.review_by_priority(engine, settings, stages.screening)
    by_priority = _listed(
        publication,
        "priority",
        "items",
        list(priority.select("priority", "items").iter_rows()),
        "review items by priority",
        REVIEW_ITEMS,
    )
    if not priority.height:
        empty = pl.DataFrame(schema={"priority": pl.String, "items": pl.Int64})
        by_priority = Table(empty, ("items",), by_priority.key_of)
    by_rule = casework.review_by_rule(engine, stages.screening)
    rules = publish.standalone_table(
        publication, by_rule, "review items by rule", ["items"], ["rule"]
    )
    if by_rule.height and priority.height:
        keys = [rules.key_of(row, "items") for row in by_rule.iter_rows(named=True)]
        given = publication.hidden(("rules met",), sum(by_rule["items"].to_list()))
        publication.relate(given, keys)
        publication.rest(("rules beyond the first",), given, [REVIEW_ITEMS])
    return {
        "network_profile": Table(networks, ("networks",), network_key),
        "review_by_rule": rules,
        "review_by_priority": by_priority,
    }
