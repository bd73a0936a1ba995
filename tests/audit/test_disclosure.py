"""Disclosure control: hypothesis properties over random tables, and an attacker who solves for
each suppressed cell from everything published (integer programming, scipy's HiGHS)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from casebridge.audit.disclosure import (
    DisclosureSettings,
    Relation,
    protect,
    published_interval,
)

CONTROLS = st.builds(
    DisclosureSettings,
    threshold=st.sampled_from([3, 5, 10]),
    rounding_base=st.sampled_from([1, 3, 5, 10]),
)
COUNT = st.one_of(st.just(0), st.integers(1, 12), st.integers(10, 60))


def one_way(parts: list[int]) -> tuple[list[int], list[Relation]]:
    """Parts followed by their total."""
    return [*parts, sum(parts)], [Relation(len(parts), tuple(range(len(parts))))]


def two_way(grid: list[list[int]]) -> tuple[list[int], list[Relation]]:
    """An R x C table with row totals, column totals and the grand total."""
    rows, columns = len(grid), len(grid[0])
    full = [[*row, sum(row)] for row in grid]
    full.append([sum(full[r][c] for r in range(rows)) for c in range(columns + 1)])
    index = lambda r, c: r * (columns + 1) + c  # noqa: E731
    relations = [
        Relation(index(r, columns), tuple(index(r, c) for c in range(columns)))
        for r in range(rows + 1)
    ] + [
        Relation(index(rows, c), tuple(index(r, c) for r in range(rows)))
        for c in range(columns + 1)
    ]
    return [value for row in full for value in row], relations


def hierarchy(groups: list[list[int]], unknown: int) -> tuple[list[int], list[Relation]]:
    """Members of groups, group totals, the unknown and the grand total (as 18+1 within
    grouped ethnicity)."""
    values: list[int] = []
    relations: list[Relation] = []
    group_cells = []
    for members in groups:
        first = len(values)
        values.extend(members)
        values.append(sum(members))
        group_cells.append(len(values) - 1)
        relations.append(Relation(len(values) - 1, tuple(range(first, len(values) - 1))))
    values.append(unknown)
    values.append(sum(values[cell] for cell in group_cells) + unknown)
    relations.append(Relation(len(values) - 1, (*group_cells, len(values) - 2)))
    return values, relations


def recoverable(
    values: list[int], relations: list[Relation], control: DisclosureSettings
) -> list[int]:
    """Suppressed cells whose true value is the only one consistent with the publication."""
    return recoverable_from(protect(values, relations, control), values, relations, control, set())


@settings(max_examples=80, deadline=None)
@given(st.lists(COUNT, min_size=1, max_size=8), CONTROLS)
def test_no_suppressed_cell_of_a_list_and_its_total_can_be_recovered(
    parts: list[int], control: DisclosureSettings
) -> None:
    values, relations = one_way(parts)
    assert recoverable(values, relations, control) == []


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda columns: st.lists(
            st.lists(COUNT, min_size=columns, max_size=columns), min_size=1, max_size=4
        )
    ),
    CONTROLS,
)
def test_no_suppressed_cell_of_a_two_way_table_can_be_recovered(
    grid: list[list[int]], control: DisclosureSettings
) -> None:
    values, relations = two_way(grid)
    assert recoverable(values, relations, control) == []


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(COUNT, min_size=1, max_size=4), min_size=1, max_size=4), COUNT, CONTROLS)
def test_no_suppressed_cell_of_a_hierarchy_can_be_recovered(
    groups: list[list[int]], unknown: int, control: DisclosureSettings
) -> None:
    values, relations = hierarchy(groups, unknown)
    assert recoverable(values, relations, control) == []


def with_complement(
    rows: list[int], filled: list[int]
) -> tuple[list[int], list[Relation], list[int]]:
    """Rows and filled per year with their "all" totals, and the rows not filled (never shown,
    but known to whoever has both)."""
    years = len(rows)
    values = [*rows, sum(rows), *filled, sum(filled)]
    values += [r - f for r, f in zip(values[: years + 1], values[years + 1 :], strict=True)]
    rows_at, filled_at, rest_at = 0, years + 1, 2 * (years + 1)
    relations = [
        Relation(at + years, tuple(range(at, at + years))) for at in (rows_at, filled_at, rest_at)
    ] + [Relation(rows_at + y, (filled_at + y, rest_at + y)) for y in range(years + 1)]
    return values, relations, list(range(rest_at, rest_at + years + 1))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(COUNT, COUNT), min_size=1, max_size=5),
    CONTROLS,
)
def test_no_suppressed_count_or_small_complement_can_be_worked_out(
    years: list[tuple[int, int]], control: DisclosureSettings
) -> None:
    rows = [a + b for a, b in years]
    values, relations, virtual = with_complement(rows, [a for a, _ in years])
    published = protect(values, relations, control, virtual=virtual)
    # the complements are never shown: the attacker sees them only through rows and filled
    shown = [None if cell in virtual else value for cell, value in enumerate(published)]
    assert recoverable_from(shown, values, relations, control, set(virtual)) == []


def recoverable_from(
    shown: list[int | None],
    values: list[int],
    relations: list[Relation],
    control: DisclosureSettings,
    virtual: set[int],
) -> list[int]:
    """Suppressed cells, and small cells never shown, pinned to one value by the publication
    (a suppressed cell is known to be at least 1; a cell never shown, at least 0)."""
    bounds = [published_interval(p, control) for p in shown]
    low = np.array([0 if c in virtual else b[0] for c, b in enumerate(bounds)], dtype=float)
    high = np.array([np.inf if b[1] is None else b[1] for b in bounds], dtype=float)
    matrix = np.zeros((len(relations), len(values)))
    for row, relation in enumerate(relations):
        matrix[row, relation.total] = 1
        for part in relation.parts:
            matrix[row, part] -= 1
    found = []
    for cell, value in enumerate(shown):
        if value is not None or (cell in virtual and not 0 < values[cell] < control.threshold):
            continue
        ends = []
        for sign in (1, -1):
            cost = np.zeros(len(values))
            cost[cell] = sign
            result = milp(
                cost,
                constraints=LinearConstraint(matrix, 0, 0),
                integrality=np.ones(len(values)),
                bounds=Bounds(low, high),
            )
            ends.append(None if result.status != 0 else round(result.x[cell]))
        if ends[0] is not None and ends[0] == ends[1]:
            assert ends[0] == values[cell]  # the true table is always consistent
            found.append(cell)
    return found
