"""An attacker on the audit's publication: every published table at once, with what a reader
knows of their meaning from docs/audit.md (not from the pipeline's own list of relations).

The reader's knowledge is a system of linear constraints over non-negative integers: one
variable per published count (within its rounding interval; a suppressed one at least 1), and
helper variables for counts no table shows (the rows a count leaves out, the persons outside a
sub-population). Two attacks:

- ``solved``: each suppressed count pushed to its smallest and largest value by integer
  programming (scipy's HiGHS); a count is recovered when the two meet;
- ``subtracted``: intervals narrowed through every constraint in turn until nothing moves
  (what a careful reader with a calculator does: subtraction over shared totals); a count is
  recovered when its interval closes.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable

import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

Name = tuple[Hashable, ...]
ALL = "all"


class Reader:
    """What a reader knows: variables with bounds and linear constraints between them."""

    def __init__(self, threshold: int, base: int) -> None:
        self.threshold, self.base = threshold, base
        self.names: dict[Name, int] = {}
        self.low: list[float] = []
        self.high: list[float] = []
        self.secret: dict[int, Name] = {}
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, name: Name) -> int:
        if name not in self.names:
            self.names[name] = len(self.low)
            self.low.append(0.0)
            self.high.append(math.inf)
        return self.names[name]

    def shown(self, name: Name, published: object) -> int:
        """A published count: a suppressed one (None) is at least 1; a rounded one lies
        within its rounding interval and is at least the threshold; a zero is a zero."""
        cell = self.var(name)
        if published is None:
            low, high = 1.0, math.inf
            self.secret[cell] = name
        elif published == 0:
            low, high = 0.0, 0.0
        else:
            value = int(published)  # type: ignore[call-overload]
            # a count above zero never rounds to zero: the base stands for every small count
            low = max(1 if value == self.base else value - self.base // 2, self.threshold, 1)
            high = value + (self.base + 1) // 2 - 1
        self.low[cell], self.high[cell] = max(self.low[cell], low), min(self.high[cell], high)
        return cell

    def within(self, cell: int, low: float, high: float) -> None:
        self.low[cell], self.high[cell] = max(self.low[cell], low), min(self.high[cell], high)

    def equal(self, total: int, parts: Iterable[int]) -> None:
        """total = sum of parts."""
        terms: dict[int, float] = {total: 1.0}
        for part in parts:
            terms[part] = terms.get(part, 0.0) - 1.0
        self.rows.append((terms, 0.0, 0.0))

    def at_least(self, total: int, parts: Iterable[int]) -> None:
        """total >= sum of parts."""
        terms: dict[int, float] = {total: 1.0}
        for part in parts:
            terms[part] = terms.get(part, 0.0) - 1.0
        self.rows.append((terms, 0.0, math.inf))

    def weighted(self, total: int, parts: Iterable[tuple[int, float]]) -> None:
        """total >= sum of weight x part."""
        terms: dict[int, float] = {total: 1.0}
        for part, weight in parts:
            terms[part] = terms.get(part, 0.0) - weight
        self.rows.append((terms, 0.0, math.inf))


def solved(reader: Reader, truth: dict[Name, int] | None = None) -> list[Name]:
    """Suppressed counts with one value only, by integer programming, part by part of the
    system (the parts no constraint ties together). ``truth`` (the exact counts, a solution
    the attacker would have to find first) only saves time: any other value found shows that
    a count is not recovered."""
    recovered = []
    known = {reader.names[n]: v for n, v in (truth or {}).items() if n in reader.names}
    for cells, rows in _parts(reader):
        secret = [c for c in cells if c in reader.secret]
        if secret:
            pinned = _pinned(reader, cells, rows, {c: known.get(c) for c in secret})
            recovered += [reader.secret[c] for c in pinned]
    return recovered


def _parts(reader: Reader) -> list[tuple[list[int], list[int]]]:
    parent = list(range(len(reader.low)))

    def root(cell: int) -> int:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for terms, _, _ in reader.rows:
        first, *rest = terms
        for cell in rest:
            parent[root(cell)] = root(first)
    parts: dict[int, tuple[list[int], list[int]]] = {}
    for cell in range(len(reader.low)):
        parts.setdefault(root(cell), ([], []))[0].append(cell)
    for index, (terms, _, _) in enumerate(reader.rows):
        parts[root(next(iter(terms)))][1].append(index)
    return list(parts.values())


class _Part:
    """One part of the reader's system as an integer programme."""

    def __init__(self, reader: Reader, cells: list[int], rows: list[int]) -> None:
        local = {cell: i for i, cell in enumerate(cells)}
        entries = [
            (r, local[c], v) for r, row in enumerate(rows) for c, v in reader.rows[row][0].items()
        ]
        matrix = coo_array(
            ([v for *_, v in entries], ([r for r, *_ in entries], [c for _, c, _ in entries])),
            shape=(len(rows), len(cells)),
        ).tocsr()
        lower, upper = [reader.rows[r][1] for r in rows], [reader.rows[r][2] for r in rows]
        self.constraints = [LinearConstraint(matrix, lower, upper)] if rows else []
        self.low = np.array([reader.low[c] for c in cells])
        self.high = np.minimum(np.array([reader.high[c] for c in cells]), 10**7)
        self.size = len(cells)

    def solve(self, objective: np.ndarray) -> np.ndarray:
        result = milp(
            objective,
            constraints=self.constraints,
            integrality=np.ones(self.size),
            bounds=Bounds(self.low, self.high),
        )
        assert result.status == 0, result.message  # the publication is always consistent
        return np.round(result.x)


def _pinned(
    reader: Reader, cells: list[int], rows: list[int], secret: dict[int, int | None]
) -> list[int]:
    """The ``secret`` cells (of one part) that take one value in every solution (each with
    its true value where known)."""
    part = _Part(reader, cells, rows)
    local = {cell: i for i, cell in enumerate(cells)}
    seen: dict[int, set[int]] = {
        local[c]: set() if value is None else {value} for c, value in secret.items()
    }
    low, high = part.low, part.high

    def solve(objective: np.ndarray) -> None:
        solution = part.solve(objective)
        for cell, values in seen.items():
            values.add(int(solution[cell]))

    rng = np.random.default_rng(7)
    stale = 0
    while stale < 2:  # every open count pushed away from the value it took first, all at once
        open_cells = [c for c, values in seen.items() if len(values) < 2]
        if not open_cells:
            break
        first = [next(iter(seen[c]), high[c]) for c in open_cells]
        signs = np.where(np.array(first) > low[open_cells], 1.0, -1.0)
        objective = np.zeros(len(cells))
        objective[open_cells] = rng.uniform(1, 2, len(open_cells)) * signs
        solve(objective)
        stale = stale + 1 if all(len(seen[c]) < 2 for c in open_cells) else 0
    for cell, values in seen.items():
        for sign in (1, -1):
            if len(values) < 2:
                objective = np.zeros(len(cells))
                objective[cell] = sign
                solve(objective)
    return [cells[cell] for cell, values in seen.items() if len(values) < 2]


def range_of(reader: Reader, name: Name) -> tuple[int, int]:
    """The smallest and largest value the reader can give ``name``, by integer programming."""
    cells, rows = next(part for part in _parts(reader) if reader.names[name] in part[0])
    local = cells.index(reader.names[name])
    ends = []
    for sign in (1, -1):
        objective = np.zeros(len(cells))
        objective[local] = sign
        ends.append(int(_Part(reader, cells, rows).solve(objective)[local]))
    return ends[0], ends[1]


def subtracted(reader: Reader) -> list[Name]:
    """Suppressed counts whose interval closes under repeated subtraction."""
    low, high = list(reader.low), list(reader.high)
    for _ in range(200):
        moved = False
        for terms, lower, upper in reader.rows:
            for cell, coefficient in terms.items():
                rest_low = sum(
                    c * (low[k] if c > 0 else high[k]) for k, c in terms.items() if k != cell
                )
                rest_high = sum(
                    c * (high[k] if c > 0 else low[k]) for k, c in terms.items() if k != cell
                )
                # lower <= coefficient * x + rest <= upper
                top = (upper - rest_low) / coefficient if coefficient > 0 else None
                bottom = (lower - rest_high) / coefficient if coefficient > 0 else None
                if coefficient < 0:
                    top = (lower - rest_high) / coefficient
                    bottom = (upper - rest_low) / coefficient
                new_low = max(low[cell], math.ceil(bottom - 1e-9)) if _finite(bottom) else low[cell]
                new_high = min(high[cell], math.floor(top + 1e-9)) if _finite(top) else high[cell]
                if (new_low, new_high) != (low[cell], high[cell]):
                    low[cell], high[cell], moved = new_low, new_high, True
        if not moved:
            break
    return [name for cell, name in reader.secret.items() if low[cell] == high[cell]]


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value) and math.isfinite(value)


def truth_of(tables: dict[str, pl.DataFrame]) -> dict[Name, int]:
    """Every count of the exact tables by the reader's name for it."""
    reader = read_publication(tables, 1, 1)
    return {
        name: int(reader.low[cell])
        for name, cell in reader.names.items()
        if reader.low[cell] == reader.high[cell]
    }


def read_publication(tables: dict[str, pl.DataFrame], threshold: int, base: int) -> Reader:
    """The reader's system from every published table (as exported)."""
    from tests.audit import attack_tables

    reader = Reader(threshold, base)
    for add in attack_tables.EVERY_TABLE:
        add(reader, tables)
    attack_tables.across_tables(reader, tables)
    return reader
