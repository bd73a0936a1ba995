"""The audit's tables, exact and published: each builder returns (exact, published) frames.

Exact tables stay in the workspace, beside the records they count; published tables are the
ones exported and shown in the report, every count protected (``publish``) and every share
worked out from the protected counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from casebridge.audit import casework, demographics, linkage, quality
from casebridge.audit.disclosure import DisclosureSettings, Relation, derived_intervals, protect
from casebridge.audit.prepare import Stages
from casebridge.audit.publish import protect_alone, protect_blocks, protect_by_year
from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine

Pair = tuple[pl.DataFrame, pl.DataFrame]
AGENCY = ["source", "agency", "kind"]


def quality_tables(engine: Engine, settings: AuditSettings) -> dict[str, Pair]:
    """Coverage, completeness, compliance, conformance, dates, duplicates, quarantine."""
    control = settings.disclosure
    coverage = quality.source_coverage(engine)
    counts = ["rows_loaded", "rows_quarantined", "values_set_aside", "person_records", "events"]
    complete = quality.completeness(engine)
    comply = quality.compliance(engine)
    measures = ["suspects", "ethnicity_recorded", "nationality_recorded", "both_recorded"]
    alone = {
        "conformance": (quality.conformance(engine), ["recorded", "conforming", "set_aside"]),
        "date_checks": (quality.date_checks(engine, settings), ["rows"]),
        "duplicates": (
            quality.duplicates(engine),
            ["person_records", "persons", "repeated_records", "repeated_involvements"],
        ),
        "quarantine": (quality.quarantine_reasons(engine), ["rows"]),
    }
    tables = {
        "source_coverage": (coverage, protect_alone(coverage, counts, control)),
        "completeness": protect_by_year(
            complete,
            [*AGENCY, "entity", "field", "scope", "compulsory"],
            ["rows", "filled", "unrecognised"],
            {"filled": "rows", "unrecognised": "rows"},
            control,
        ),
        "compliance": protect_by_year(
            comply,
            [*AGENCY, "offences"],
            measures,
            {m: "suspects" for m in measures[1:]},
            control,
        ),
    }
    for name, (frame, columns) in alone.items():
        tables[name] = (frame, protect_alone(frame, columns, control))
    return tables


def _list_block(
    labels: Sequence[str], values: Sequence[int], groups: dict[str, Sequence[int]] | None = None
) -> tuple[list[str], list[int], list[Relation]]:
    """A list of counts with its total last (and subtotals of the given rows before it)."""
    names, cells, relations = list(labels), list(values), []
    grouped = {m for members in (groups or {}).values() for m in members}
    tops = [i for i in range(len(labels)) if i not in grouped]
    if groups:
        for name, members in groups.items():
            names.append(name)
            cells.append(sum(values[m] for m in members))
            relations.append(Relation(len(cells) - 1, tuple(members)))
            tops.append(len(cells) - 1)
    names.append("all")
    cells.append(sum(cells[t] for t in tops))
    relations.append(Relation(len(cells) - 1, tuple(tops)))
    return names, cells, relations


def linkage_tables(engine: Engine, settings: AuditSettings, stages: Stages) -> dict[str, Pair]:
    """Overview, records per person and agency overlap (sharing their total), review band."""
    control = settings.disclosure
    overview = linkage.linkage_overview(engine, settings, stages.linked)
    per_person = linkage.records_per_person(engine)
    overlap = linkage.agency_overlap(engine)
    several = [i for i, r in enumerate(per_person["records"].to_list()) if r != "1"]
    one = [i for i, n in enumerate(overlap["agency_count"].to_list()) if n == 1]
    many = [i for i, n in enumerate(overlap["agency_count"].to_list()) if n > 1]
    records = _list_block(
        per_person["records"].to_list(), per_person["persons"].to_list(), {"2 or more": several}
    )
    agencies = _list_block(
        overlap["agencies"].to_list(),
        overlap["persons"].to_list(),
        {"one agency": one, "several agencies": many},
    )
    published = protect_blocks(
        [(records[1], records[2]), (agencies[1], agencies[2])],
        [[(0, len(records[1]) - 1), (1, len(agencies[1]) - 1)]],
        control,
    )
    sizes = dict(zip(overlap["agencies"].to_list(), overlap["agency_count"].to_list(), strict=True))
    tables = {
        "records_per_person": _list_frames("records", "persons", records, published[0]),
        "agency_overlap": _list_frames("agencies", "persons", agencies, published[1]),
    }
    size = pl.col("agencies").replace_strict(sizes, default=None, return_dtype=pl.Int64)
    exact, public = tables["agency_overlap"]
    tables["agency_overlap"] = (
        exact.with_columns(agency_count=size),
        public.with_columns(agency_count=size),
    )
    tables["linkage_overview"] = (overview, protect_alone(overview, ["value"], control))
    if stages.linked and engine.table_exists("match_pair"):
        tables["review_band"] = _two_way(linkage.review_band(engine, settings), control)
    return tables


def _list_frames(
    label: str,
    count: str,
    block: tuple[list[str], list[int], list[Relation]],
    published: list[int | None],
) -> Pair:
    names, values, _ = block
    exact = pl.DataFrame({label: names, count: values}, schema={label: pl.String, count: pl.Int64})
    return exact, exact.with_columns(pl.Series(count, published, dtype=pl.Int64))


def _two_way(frame: pl.DataFrame, control: DisclosureSettings) -> Pair:
    """Counts by a label (first column) and by the other columns, with a total per row, per
    column and the grand total ("all"), protected together."""
    label, columns = frame.columns[0], frame.columns[1:]
    grid = [[int(v) for v in row] for row in frame.select(columns).iter_rows()]
    full = [[*row, sum(row)] for row in grid]
    full.append([sum(row[c] for row in full) for c in range(len(columns) + 1)])
    width = len(columns) + 1
    relations = [
        Relation(r * width + len(columns), tuple(r * width + c for c in range(len(columns))))
        for r in range(len(full))
    ]
    relations += [
        Relation(len(grid) * width + c, tuple(r * width + c for r in range(len(grid))))
        for c in range(width)
    ]
    [published] = protect_blocks([([v for row in full for v in row], relations)], [], control)
    names = [*columns, "all"]
    labels = pl.Series(label, [*frame[label].to_list(), "all"], dtype=pl.String)
    exact = pl.DataFrame(
        [labels]
        + [pl.Series(n, [row[c] for row in full], dtype=pl.Int64) for c, n in enumerate(names)]
    )
    public = exact.with_columns(
        pl.Series(n, [published[r * width + c] for r in range(len(full))], dtype=pl.Int64)
        for c, n in enumerate(names)
    )
    return exact, public


def casework_tables(engine: Engine, settings: AuditSettings, stages: Stages) -> dict[str, Pair]:
    """Networks by size, agencies and span (sharing their total); review items by rule and
    priority."""
    control = settings.disclosure
    profile = casework.network_profile(engine, stages.networks)
    blocks, where = [], []
    for dimension in profile["dimension"].unique(maintain_order=True).to_list():
        part = profile.filter(pl.col("dimension") == dimension).sort("order")
        blocks.append(_list_block(part["band"].to_list(), part["networks"].to_list()))
        where.append(dimension)
    published = protect_blocks(
        [(b[1], b[2]) for b in blocks],
        [[(i, len(b[1]) - 1) for i, b in enumerate(blocks)]],
        control,
    )
    exact_parts, public_parts = [], []
    for dimension, block, public in zip(where, blocks, published, strict=True):
        exact, protected = _list_frames("band", "networks", block, public)
        exact_parts.append(exact.with_columns(dimension=pl.lit(dimension)))
        public_parts.append(protected.with_columns(dimension=pl.lit(dimension)))
    schema = {"dimension": pl.String, "band": pl.String, "networks": pl.Int64}
    networks = (
        (pl.concat(exact_parts).select(list(schema)), pl.concat(public_parts).select(list(schema)))
        if blocks
        else (pl.DataFrame(schema=schema), pl.DataFrame(schema=schema))
    )
    by_rule = casework.review_by_rule(engine, stages.screening)
    priority = casework.review_by_priority(engine, settings, stages.screening)
    tables = {
        "network_profile": networks,
        "review_by_rule": (by_rule, protect_alone(by_rule, ["items"], control)),
    }
    if priority.height:
        block = _list_block(priority["priority"].to_list(), priority["items"].to_list())
        [public] = protect_blocks([(block[1], block[2])], [], control)
        tables["review_by_priority"] = _list_frames("priority", "items", block, public)
    else:
        empty = pl.DataFrame(schema={"priority": pl.String, "items": pl.Int64})
        tables["review_by_priority"] = (empty, empty)
    return tables


def demographic_tables(engine: Engine, settings: AuditSettings, stages: Stages) -> dict[str, Pair]:
    """Persons and shares by ethnicity and nationality, with bounds, exact and published."""
    control = settings.disclosure
    made = demographics.blocks(demographics.person_counts(engine, stages.networks))
    shared: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for index, block in enumerate(made):
        shared.setdefault((block.population, block.role), []).append((index, 0))
    published = protect_blocks(
        [(b.values, b.relations) for b in made], list(shared.values()), control
    )
    exact_rows, public_rows = [], []
    for block, public in zip(made, published, strict=True):
        intervals = derived_intervals(public, block.relations, control)
        exact_rows += demographics.exact_rows(block, settings.confidence)
        public_rows += demographics.share_rows(block, public, intervals, settings.confidence)
    return {
        "demographics": (demographics.frame(exact_rows), demographics.frame(public_rows)),
        "person_completeness": _person_completeness(engine, control),
    }


def _person_completeness(engine: Engine, control: DisclosureSettings) -> Pair:
    """Persons with each attribute recorded: every measure is part of ``persons``, and the
    persons it leaves out are known to whoever has both, so they enter as hidden cells."""
    exact = demographics.person_completeness(engine)
    measures = list(demographics.COMPLETENESS_MEASURES)
    rows = []
    for row in exact.iter_rows(named=True):
        values = [int(row["persons"])] + [int(row[m]) for m in measures]
        rest = [values[0] - v for v in values[1:]]
        relations = [Relation(0, (1 + i, 1 + len(measures) + i)) for i in range(len(measures))]
        virtual = list(range(1 + len(measures), 1 + 2 * len(measures)))
        [published] = [protect(values + rest, relations, control, virtual=virtual)]
        rows.append(published[: 1 + len(measures)])
    columns = ["persons", *measures]
    public = exact.with_columns(
        pl.Series(c, [r[i] for r in rows], dtype=pl.Int64) for i, c in enumerate(columns)
    )
    return exact, public
