"""What a reader can work out from a publication: the attacker's side of disclosure control.

A publication is a system of non-negative integer cells, each known to lie in an interval
(a published count within its rounding interval, a suppressed one at least 1, one never shown
at least 0), tied by additive relations (a total equals the sum of its parts). Two questions:

- ``pinned_cells``: which protected cells have only one value consistent with everything
  published? Solved exactly as integer programmes (HiGHS, through scipy): a cell is safe once
  two solutions give it different values. Programmes with random objectives (each cell pushed
  up or down) show most cells safe at once; each cell left is then pushed to its largest and
  smallest value.
- ``propagate``: each cell's interval tightened through the relations until nothing changes, a
  sound outer bound (the true value always lies inside), cheap enough to derive published
  bounds from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

INFINITY = float("inf")
Bound = tuple[int, float]
# rounds of random objectives that move nothing more before cells are pushed one by one; a
# solve's time limit (seconds)
STALE_ROUNDS = 1
TIME_LIMIT = 10.0


class RelationLike(Protocol):
    """A total cell and its parts (``disclosure.Relation``)."""

    @property
    def total(self) -> int: ...

    @property
    def parts(self) -> tuple[int, ...]: ...


def pinned_cells(
    values: Sequence[int],
    relations: Sequence[RelationLike],
    bounds: Sequence[Bound],
    secret: Sequence[int],
) -> list[int]:
    """The ``secret`` cells whose true value (``values``) is the only integer one consistent
    with the relations and each cell's ``bounds``. A programme the solver cannot finish in
    time counts the cell as pinned, so that more is hidden rather than less."""
    if not secret:
        return []
    # what subtraction alone closes is pinned for certain, and needs no programme
    narrowed = propagate(relations, bounds)
    closed = [cell for cell in secret if narrowed[cell][0] == narrowed[cell][1]]
    candidates = set(secret) - set(closed)
    if not candidates:
        return sorted(closed)
    problem = _Problem(values, relations, narrowed)
    rng = np.random.default_rng(20250614)  # the same publication every run
    stale = 0
    while candidates and stale < STALE_ROUNDS:
        # push every candidate away from its true value, all at once (down where it has room
        # below, else up): most move in a few rounds
        cells = sorted(candidates)
        down = problem.truth[cells] > problem.low[cells]
        weights = np.zeros(len(values))
        weights[cells] = rng.uniform(1, 2, len(cells)) * np.where(down, 1.0, -1.0)
        moved = problem.moved(weights) & candidates
        candidates -= moved
        stale = 0 if moved else stale + 1
    pinned = closed
    for cell in sorted(candidates):
        if cell in candidates:
            moved = problem.pushed(cell)
            candidates -= moved
            if cell not in moved:
                pinned.append(cell)
    return sorted(pinned)


class _Problem:
    """The integer programme of one publication, with its true solution."""

    def __init__(
        self, values: Sequence[int], relations: Sequence[RelationLike], bounds: Sequence[Bound]
    ) -> None:
        from scipy.optimize import Bounds, LinearConstraint  # type: ignore[import-untyped]
        from scipy.sparse import coo_array  # type: ignore[import-untyped]

        rows, columns, signs = [], [], []
        for row, relation in enumerate(relations):
            for cell, sign in ((relation.total, 1.0), *((p, -1.0) for p in relation.parts)):
                rows.append(row)
                columns.append(cell)
                signs.append(sign)
        matrix = coo_array((signs, (rows, columns)), shape=(len(relations), len(values)))
        self.truth = np.array(values, dtype=float)
        self.low = np.array([low for low, _ in bounds], dtype=float)
        self.high = np.array([high for _, high in bounds], dtype=float)
        if np.any(self.truth < self.low) or np.any(self.truth > self.high):
            raise ValueError("a cell's true value lies outside what its publication allows")
        # a cap for objectives that would run off to infinity: any solution under it will do
        cap = np.minimum(self.high, self.truth + 2 * float(self.truth.max(initial=0)) + 100)
        self.constraints = [LinearConstraint(matrix.tocsr(), 0, 0)] if relations else []
        self.capped = Bounds(self.low, cap)
        self.bounds = Bounds(self.low, self.high)

    def _solve(self, objective: NDArray[np.float64], capped: bool) -> NDArray[np.float64] | None:
        from scipy.optimize import milp

        result = milp(
            objective,
            constraints=self.constraints,
            integrality=np.ones(len(objective)),
            bounds=self.capped if capped else self.bounds,
            options={"time_limit": TIME_LIMIT},
        )
        return None if result.x is None else np.round(result.x)

    def moved(self, objective: NDArray[np.float64]) -> set[int]:
        """Cells a solution minimising ``objective`` gives another value than the truth."""
        solution = self._solve(objective, capped=True)
        if solution is None:
            return set()
        return {int(c) for c in np.flatnonzero(solution != self.truth)}

    def pushed(self, cell: int) -> set[int]:
        """Cells moved from their true value by pushing ``cell`` up, then (if it did not move)
        down: ``cell`` is among them unless the truth is its only value."""
        moved: set[int] = set()
        for sign in (-1.0, 1.0):
            objective = np.zeros(len(self.truth))
            objective[cell] = sign
            moved |= self.moved(objective)
            if cell in moved:
                break
        return moved


def propagate(relations: Sequence[RelationLike], bounds: Sequence[Bound]) -> list[Bound]:
    """Each cell's interval, tightened through every relation until nothing changes (a
    relation is looked at again only when one of its cells has narrowed)."""
    tightened = list(bounds)
    touching: dict[int, list[int]] = {}
    for index, relation in enumerate(relations):
        for cell in (relation.total, *relation.parts):
            touching.setdefault(cell, []).append(index)
    waiting = list(range(len(relations)))
    queued = set(waiting)
    while waiting:
        index = waiting.pop()
        queued.discard(index)
        for cell in _tighten(relations[index], tightened):
            for other in touching[cell]:
                if other not in queued:
                    queued.add(other)
                    waiting.append(other)
    return tightened


def _tighten(relation: RelationLike, bounds: list[Bound]) -> list[int]:
    """Tighten one relation's cells from each other; return the cells that narrowed."""
    parts = relation.parts
    lows = sum(bounds[p][0] for p in parts)
    highs = [bounds[p][1] for p in parts]
    unbounded = sum(1 for high in highs if high == INFINITY)
    finite = sum(high for high in highs if high != INFINITY)
    changed = _narrow(bounds, relation.total, lows, INFINITY if unbounded else finite)
    total_low, total_high = bounds[relation.total]
    for part in parts:
        low, high = bounds[part]
        others_unbounded = unbounded - (high == INFINITY)
        others_high = INFINITY if others_unbounded else finite - (0 if high == INFINITY else high)
        floor = total_low - others_high if others_high != INFINITY else 0
        ceiling = total_high - (lows - low)
        changed += _narrow(bounds, part, floor, ceiling)
    return changed


def _narrow(bounds: list[Bound], cell: int, low: float, high: float) -> list[int]:
    old = bounds[cell]
    bounds[cell] = (max(old[0], int(low)), min(old[1], high))
    if bounds[cell][0] > bounds[cell][1]:
        raise ValueError("the relations and the published intervals contradict each other")
    return [cell] if bounds[cell] != old else []
