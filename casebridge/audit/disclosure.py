"""Statistical disclosure control: suppress small cells, round the rest, and hide a second cell
wherever a published total would give a suppressed one away.

A table to protect is a list of cells (non-negative counts) and the additive relations between
them (a total and its parts: a row, a column, a group and its members). The rules, after the
ONS "10-5" practice for Census tables and the Ofqual conventions:

- a cell of 1 to ``threshold - 1`` is suppressed (primary suppression);
- a true zero is published as 0;
- every other cell is rounded to the nearest multiple of ``rounding_base``, from its unrounded
  value, totals included, so that published cells need not add up to published totals;
- in any relation holding exactly one suppressed cell, a second cell is suppressed (the smallest
  non-zero published part, else the total); and where every suppressed part of a relation is a
  1 beside a published total, one more, so that no suppressed cell can be worked out from the
  totals. This repeats until no relation needs another.

``tests/audit/test_disclosure.py`` shows with hypothesis, by solving for each suppressed cell's
smallest and largest possible value from everything published, that none can be recovered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

INFINITY = float("inf")


class DisclosureSettings(BaseModel):
    """How published tables are protected (``[audit.disclosure]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: int = Field(default=10, ge=0, description="cells from 1 to threshold - 1 hidden")
    rounding_base: int = Field(default=5, ge=1, description="1 publishes counts unrounded")
    secondary: bool = Field(default=True, description="hide a second cell where totals tell")


@dataclass(frozen=True)
class Relation:
    """A total cell and the cells that add up to it (indices into a table's cells)."""

    total: int
    parts: tuple[int, ...]

    @property
    def cells(self) -> tuple[int, ...]:
        return (self.total, *self.parts)


def round_to_base(value: int, base: int) -> int:
    """Round to the nearest multiple of ``base``, halves up; a count above zero never rounds
    to zero, so that a published 0 is always a true zero."""
    if value <= 0:
        return 0
    return max(base, base * ((2 * value + base) // (2 * base)))


def rounding_interval(published: int, base: int) -> tuple[int, int]:
    """The unrounded values that round to ``published`` (above zero)."""
    low = 1 if published == base else published - base // 2
    return low, published + (base + 1) // 2 - 1


def is_small(value: int, threshold: int) -> bool:
    """Say whether a count is small enough to suppress (a true zero never is)."""
    return 0 < value < threshold


def suppression(
    values: Sequence[int],
    relations: Sequence[Relation],
    settings: DisclosureSettings,
    also_hide: Sequence[int] = (),
    virtual: Sequence[int] = (),
) -> list[bool]:
    """Return, for each cell, whether it is suppressed: primary, secondary, and the cells of
    ``also_hide`` (hidden in a table that shares them). ``virtual`` cells are never shown
    (a complement, known to whoever has a total and its part): they count as published when
    not suppressed, and are never chosen as a second cell."""
    if any(value < 0 for value in values):
        raise ValueError("disclosure control applies to counts, which are never negative")
    hidden = [is_small(value, settings.threshold) for value in values]
    for cell in also_hide:
        hidden[cell] = values[cell] > 0
    if not settings.secondary:
        return hidden
    while True:
        _hide_second_cells(values, relations, hidden, frozenset(virtual))
        pinned = recoverable_cells(values, relations, hidden, settings)
        extra = (
            _nearest_published(pinned[0], values, relations, hidden, frozenset(virtual))
            if pinned
            else None
        )
        if extra is None:
            return hidden
        hidden[extra] = True


def _hide_second_cells(
    values: Sequence[int],
    relations: Sequence[Relation],
    hidden: list[bool],
    virtual: frozenset[int],
) -> None:
    changed = True
    while changed:
        changed = False
        for relation in relations:
            if _gives_away(relation, values, hidden):
                extra = _second_cell(relation, values, hidden, virtual)
                if extra is not None:
                    hidden[extra] = changed = True


def _nearest_published(
    cell: int,
    values: Sequence[int],
    relations: Sequence[Relation],
    hidden: list[bool],
    virtual: frozenset[int],
) -> int | None:
    """The smallest published non-zero cell sharing a relation with ``cell``, else with the
    cells those relations hold, and so on outwards."""
    seen, ring = {cell}, {cell}
    while ring:
        near = {c for r in relations if ring & set(r.cells) for c in r.cells} - seen
        candidates = [c for c in near if not hidden[c] and values[c] > 0 and c not in virtual]
        if candidates:
            return min(candidates, key=lambda c: (values[c], c))
        seen |= near
        ring = near
    return None


def recoverable_cells(
    values: Sequence[int],
    relations: Sequence[Relation],
    hidden: Sequence[bool],
    settings: DisclosureSettings,
) -> list[int]:
    """Suppressed cells whose true value is the only one consistent with what is published.

    Where the relations form a network (each cell in at most two relations, as in a two-way
    table with its margins or a hierarchy), each cell's smallest and largest possible value is
    found exactly by minimum-cost flow; otherwise by propagating bounds through the relations,
    which finds most but not every such cell.
    """
    published = [
        None if secret else round_to_base(value, settings.rounding_base)
        for value, secret in zip(values, hidden, strict=True)
    ]
    bounds = [_as_bound(published_interval(p, settings)) for p in published]
    network = _network(relations, len(values))
    if network is None:
        propagated = _propagate(relations, bounds)
        return [c for c, (low, high) in enumerate(propagated) if hidden[c] and low == high]
    return [
        cell
        for cell, secret in enumerate(hidden)
        if secret
        and _flow_extreme(network, bounds, cell, 1) == _flow_extreme(network, bounds, cell, -1)
    ]


Bound = tuple[int, float]


def _as_bound(interval: tuple[int, int | None]) -> Bound:
    return interval[0], INFINITY if interval[1] is None else interval[1]


def derived_intervals(
    published: Sequence[int | None], relations: Sequence[Relation], settings: DisclosureSettings
) -> list[Bound]:
    """What anyone can work out about each cell from a publication alone: the interval its
    true value must lie in (a sound outer bound, tightened through the relations)."""
    return _propagate(relations, [_as_bound(published_interval(p, settings)) for p in published])


def _network(relations: Sequence[Relation], cells: int) -> list[tuple[int, int]] | None:
    """Each cell as an arc between the relations it belongs to, so that every relation is flow
    conservation at its node (node -1 stands outside every relation); None if the relations
    are not a network."""
    ends: list[list[tuple[int, bool]]] = [[] for _ in range(cells)]
    for node, relation in enumerate(relations):
        ends[relation.total].append((node, True))
        for part in relation.parts:
            ends[part].append((node, False))
    # a relation may be read reversed (its total flowing out): choose so every cell is an arc
    flipped: dict[int, bool] = {}
    for start in range(len(relations)):
        if start in flipped:
            continue
        flipped[start], queue = False, [start]
        while queue:
            node = queue.pop()
            for cell_ends in ends:
                if len(cell_ends) == 2 and node in (cell_ends[0][0], cell_ends[1][0]):
                    (a, a_total), (b, b_total) = cell_ends
                    other, want = (
                        (b, flipped[a] ^ (a_total == b_total))
                        if a == node
                        else (a, flipped[b] ^ (a_total == b_total))
                    )
                    if other not in flipped:
                        flipped[other] = want
                        queue.append(other)
                    elif flipped[other] != want:
                        return None
    arcs = []
    for cell_ends in ends:
        if len(cell_ends) > 2:
            return None
        padded = [*cell_ends, (-1, False)][:2] if cell_ends else [(-1, True), (-1, False)]
        # into a node as its total (unless reversed), out of it as a part
        into = [n for n, is_total in padded if n >= 0 and is_total != flipped[n]]
        out = [n for n, is_total in padded if n >= 0 and is_total == flipped[n]]
        tail = out[0] if out else -1
        head = into[0] if into else -1
        arcs.append((tail, head))
    return arcs


def _flow_extreme(
    network: list[tuple[int, int]], bounds: list[Bound], cell: int, sign: int
) -> float:
    """The smallest (sign 1) or largest (sign -1) flow the cell's arc can carry."""
    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph()
    nodes = {-1} | {n for arc in network for n in arc}
    graph.add_nodes_from(nodes, demand=0)
    for node in nodes - {-1}:
        graph.add_edge(-1, node, capacity=0)  # keeps the graph connected
    for index, ((tail, head), (low, high)) in enumerate(zip(network, bounds, strict=True)):
        attributes: dict[str, float] = {"weight": sign if index == cell else 0}
        if high != INFINITY:
            attributes["capacity"] = high - low
        graph.add_edge(tail, head, **attributes)
        graph.nodes[tail]["demand"] += low
        graph.nodes[head]["demand"] -= low
    try:
        cost, _ = nx.network_simplex(graph)
    except nx.NetworkXUnbounded:
        return sign * -INFINITY
    return bounds[cell][0] + sign * cost


def _propagate(relations: Sequence[Relation], published: list[Bound]) -> list[Bound]:
    """Each cell's interval, tightened through every relation until nothing changes."""
    bounds = list(published)
    for _ in range(50 * max(1, len(relations))):
        if not any([_tighten(relation, bounds) for relation in relations]):
            break
    return bounds


def _tighten(relation: Relation, bounds: list[tuple[int, float]]) -> bool:
    """Tighten one relation's cells from each other; say whether anything changed."""
    parts = relation.parts
    changed = _narrow(
        bounds, relation.total, sum(bounds[p][0] for p in parts), sum(bounds[p][1] for p in parts)
    )
    total_low, total_high = bounds[relation.total]
    for part in parts:
        others = [bounds[p] for p in parts if p != part]
        others_high = sum(high for _, high in others)
        floor = total_low - others_high if others_high != INFINITY else 0
        ceiling = total_high - sum(low for low, _ in others)
        changed = _narrow(bounds, part, floor, ceiling) or changed
    return changed


def _narrow(bounds: list[tuple[int, float]], cell: int, low: float, high: float) -> bool:
    old = bounds[cell]
    bounds[cell] = (max(old[0], int(low)), min(old[1], high))
    return bounds[cell] != old


def _gives_away(relation: Relation, values: Sequence[int], hidden: list[bool]) -> bool:
    suppressed = [cell for cell in relation.cells if hidden[cell]]
    if len(suppressed) == 1:
        return True
    parts = [cell for cell in relation.parts if hidden[cell]]
    # hidden parts beside a known total, each at least 1: if all are 1, all are known
    return bool(parts) and not hidden[relation.total] and all(values[c] == 1 for c in parts)


def _second_cell(
    relation: Relation, values: Sequence[int], hidden: list[bool], virtual: frozenset[int]
) -> int | None:
    parts = [c for c in relation.parts if not hidden[c] and values[c] > 0 and c not in virtual]
    if parts:
        return min(parts, key=lambda cell: (values[cell], cell))
    total = relation.total
    if not hidden[total] and values[total] > 0 and total not in virtual:
        return total
    return None


def protect(
    values: Sequence[int],
    relations: Sequence[Relation],
    settings: DisclosureSettings,
    also_hide: Sequence[int] = (),
    virtual: Sequence[int] = (),
) -> list[int | None]:
    """Return the published cells: rounded counts, true zeros, and None where suppressed.

    Example:
        >>> protect([3, 40, 57, 100], [Relation(3, (0, 1, 2))], DisclosureSettings())
        [None, None, 55, 100]
    """
    hidden = suppression(values, relations, settings, also_hide, virtual)
    return [
        None if secret else round_to_base(value, settings.rounding_base)
        for value, secret in zip(values, hidden, strict=True)
    ]


def published_interval(
    published: int | None, settings: DisclosureSettings, ceiling: int | None = None
) -> tuple[int, int | None]:
    """The values a cell can truly hold, from what was published about it alone.

    A suppressed cell is at least 1 (zeros are published) and at most ``ceiling`` when a
    published total caps it; a rounded cell lies within its rounding interval and is at least
    the threshold. ``None`` as the upper end means no cap is known.
    """
    if published is None:
        return 1, ceiling
    if published == 0:
        return 0, 0
    low, high = rounding_interval(published, settings.rounding_base)
    return max(low, settings.threshold, 1), high
