"""Disclosure control applied to the audit's tables: which cells each table has, which totals
tie them together, and the published version of each.

Three shapes cover every table:

- cells that stand alone (no published total adds them up): suppressed and rounded one by one;
- blocks of cells with relations (a list and its total, a hierarchy, a two-way table with its
  margins), several blocks sharing a cell (one denominator under three classifications):
  protected together, so that a cell hidden in one is hidden in all;
- counts per year with an "all" row added, and counts that are part of another (filled of
  rows): the complement (rows not filled) is never published but is known to whoever has both,
  so it enters the relations as a hidden cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from casebridge.audit.disclosure import DisclosureSettings, Relation, protect, round_to_base

ALL = "all"
Cell = tuple[int, int]  # (block, cell)


def protect_alone(
    frame: pl.DataFrame, columns: Sequence[str], settings: DisclosureSettings
) -> pl.DataFrame:
    """Each count column suppressed (None) and rounded cell by cell."""
    return frame.with_columns(
        pl.col(column).map_elements(lambda v: _alone(v, settings), return_dtype=pl.Int64)
        for column in columns
    )


def _alone(value: int, settings: DisclosureSettings) -> int | None:
    published = protect([int(value)], [], settings)
    return published[0]


def protect_blocks(
    blocks: Sequence[tuple[Sequence[int], Sequence[Relation]]],
    shared: Sequence[Sequence[Cell]],
    settings: DisclosureSettings,
) -> list[list[int | None]]:
    """Protect blocks that share cells (each group in ``shared`` is one true cell appearing in
    several blocks): hidden in one, hidden in all, repeated until nothing changes."""
    hide: list[set[int]] = [set() for _ in blocks]
    while True:
        published = [
            protect(values, relations, settings, sorted(hide[b]))
            for b, (values, relations) in enumerate(blocks)
        ]
        changed = False
        for group in shared:
            if any(published[b][c] is None for b, c in group):
                for b, c in group:
                    if published[b][c] is not None and blocks[b][0][c] > 0:
                        hide[b].add(c)
                        changed = True
        if not changed:
            return published


def protect_by_year(
    frame: pl.DataFrame,
    by: Sequence[str],
    counts: Sequence[str],
    parts: dict[str, str],
    settings: DisclosureSettings,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add an "all" year row per ``by`` group, then protect each group: each count column's
    years add up to its "all"; each ``parts`` column (key) is part of its total (value), the
    rest hidden. Returns (exact with "all" rows, published)."""
    frame = frame.with_columns(pl.col("year").cast(pl.String).fill_null("unknown"))
    totals = frame.group_by(by).agg(pl.col(c).sum() for c in counts)
    exact = pl.concat([frame, totals.with_columns(year=pl.lit(ALL))], how="diagonal_relaxed")
    exact = exact.sort([*by, pl.col("year") == ALL, "year"])
    published_columns: dict[str, list[int | None]] = {c: [] for c in counts}
    for _, group in exact.group_by(by, maintain_order=True):
        values, relations, where = _year_block(group, counts, parts)
        virtual = list(range(len(where), len(values)))
        published = protect(values, relations, settings, virtual=virtual)
        for column in counts:
            published_columns[column] += [
                published[where.index((r, column))] for r in range(group.height)
            ]
    ordered = pl.concat([g for _, g in exact.group_by(by, maintain_order=True)])
    published_frame = ordered.with_columns(
        pl.Series(c, published_columns[c], dtype=pl.Int64) for c in counts
    )
    return ordered, published_frame


def _year_block(
    group: pl.DataFrame, counts: Sequence[str], parts: dict[str, str]
) -> tuple[list[int], list[Relation], list[tuple[int, str]]]:
    """Cells (published ones first, then hidden complements) and relations of one group."""
    years = group["year"].to_list()
    total_row = years.index(ALL)
    where = [(r, c) for c in counts for r in range(group.height)]
    values = [int(group[c][r] or 0) for r, c in where]
    relations = []
    for column in counts:
        cells = [where.index((r, column)) for r in range(group.height)]
        relations.append(
            Relation(cells[total_row], tuple(x for i, x in enumerate(cells) if i != total_row))
        )
    for part, total in parts.items():
        rest = []
        for r in range(group.height):
            rest.append(len(values))
            values.append(values[where.index((r, total))] - values[where.index((r, part))])
            relations.append(Relation(where.index((r, total)), (where.index((r, part)), rest[-1])))
        relations.append(
            Relation(rest[total_row], tuple(x for i, x in enumerate(rest) if i != total_row))
        )
    return values, relations, where


def rounded(value: int, settings: DisclosureSettings) -> int:
    """A count rounded as the publication rounds it (for counts that are not small)."""
    return round_to_base(value, settings.rounding_base)
