"""Statistical disclosure control: suppress small cells, round the rest, and hide more cells
wherever what is published would give a suppressed one away.

A system to protect is a list of cells (non-negative counts) and the additive relations between
them (a total and its parts: a row, a column, a group and its members, the same count in two
tables). Some cells are never shown (``virtual``): the persons a table leaves out (rows not
filled, people outside a sub-population), known to whoever has a total and its part. The rules,
after the ONS "10-5" practice for Census tables and the Ofqual conventions:

- a cell of 1 to ``threshold - 1`` is suppressed (primary suppression), and a cell never shown
  that holds so few is protected the same way;
- a true zero is published as 0;
- every other cell is rounded to the nearest multiple of ``rounding_base``, from its unrounded
  value, totals included, so that published cells need not add up to published totals;
- then, while anyone could work out a protected cell's exact value from everything published
  (``solver.pinned_cells``: an integer programme over every relation), another cell near it is
  suppressed. A relation holding exactly one unknown cell gets its second cell at once.

``tests/audit/test_disclosure.py`` and ``tests/audit/test_attack.py`` attack the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from casebridge.audit.solver import INFINITY, Bound, pinned_cells


class DisclosureSettings(BaseModel):
    """How published tables are protected (``[audit.disclosure]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: int = Field(default=10, ge=2, description="cells from 1 to threshold - 1 hidden")
    rounding_base: int = Field(default=5, ge=1, description="the rest rounded to this base")

    @model_validator(mode="before")
    @classmethod
    def _no_secondary_switch(cls, data: Any) -> Any:
        if isinstance(data, dict) and "secondary" in data:
            raise ValueError(
                "'secondary' is no longer a setting: second cells are always suppressed where "
                "published figures would give a suppressed one away; remove the line"
            )
        return data


@dataclass(frozen=True)
class Relation:
    """A total cell and the cells that add up to it (indices into a system's cells)."""

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


def attacker_bounds(
    values: Sequence[int],
    hidden: Sequence[bool],
    settings: DisclosureSettings,
    virtual: frozenset[int] = frozenset(),
) -> list[Bound]:
    """What a reader knows of each cell from its published value alone: a cell never shown is
    at least 0, a suppressed one at least 1, a published one within its rounding interval."""
    bounds: list[Bound] = []
    for cell, (value, secret) in enumerate(zip(values, hidden, strict=True)):
        if cell in virtual:
            bounds.append((0, INFINITY))
            continue
        low, high = published_interval(
            None if secret else round_to_base(value, settings.rounding_base), settings
        )
        bounds.append((low, INFINITY if high is None else high))
    return bounds


def suppression(
    values: Sequence[int],
    relations: Sequence[Relation],
    settings: DisclosureSettings,
    virtual: Sequence[int] = (),
) -> list[bool]:
    """Return, for each cell, whether it is kept from the reader's exact knowledge: suppressed
    (primary and second cells) or, for a ``virtual`` cell (never shown, never chosen as a
    second cell), small enough to protect."""
    if any(value < 0 for value in values):
        raise ValueError("disclosure control applies to counts, which are never negative")
    unseen = frozenset(virtual)
    hidden = [is_small(value, settings.threshold) for value in values]
    touching: dict[int, list[Relation]] = {}
    for relation in relations:
        for cell in relation.cells:
            touching.setdefault(cell, []).append(relation)
    # a cell shown to have other possible values keeps them as more cells are hidden
    safe: set[int] = set()
    while True:
        _hide_second_cells(values, relations, hidden, unseen)
        bounds = attacker_bounds(values, hidden, settings, unseen)
        secret = [c for c, h in enumerate(hidden) if h and c not in safe]
        pinned = pinned_cells(values, relations, bounds, secret)
        safe |= set(secret) - set(pinned)
        near = [_nearest_published(c, values, touching, hidden, unseen) for c in pinned]
        extra = {cell for cell in near if cell is not None}
        if not extra:
            return hidden
        for cell in extra:
            hidden[cell] = True


def _hide_second_cells(
    values: Sequence[int],
    relations: Sequence[Relation],
    hidden: list[bool],
    virtual: frozenset[int],
) -> None:
    """Where a relation's only unknown cell is a protected one, suppress a second cell."""
    changed = True
    while changed:
        changed = False
        for relation in relations:
            unknown = [c for c in relation.cells if hidden[c] or c in virtual]
            if len(unknown) == 1 and hidden[unknown[0]]:
                extra = _second_cell(relation, values, hidden, virtual)
                if extra is not None:
                    hidden[extra] = changed = True


def _second_cell(
    relation: Relation, values: Sequence[int], hidden: list[bool], virtual: frozenset[int]
) -> int | None:
    """The smallest published non-zero part of the relation, else its total."""
    parts = [c for c in relation.parts if _can_hide(c, values, hidden, virtual)]
    if parts:
        return min(parts, key=lambda cell: (values[cell], cell))
    return relation.total if _can_hide(relation.total, values, hidden, virtual) else None


def _can_hide(
    cell: int, values: Sequence[int], hidden: list[bool], virtual: frozenset[int]
) -> bool:
    return not hidden[cell] and values[cell] > 0 and cell not in virtual


def _nearest_published(
    cell: int,
    values: Sequence[int],
    touching: dict[int, list[Relation]],
    hidden: list[bool],
    virtual: frozenset[int],
) -> int | None:
    """The smallest published non-zero cell sharing a relation with ``cell``, else with the
    cells those relations hold, and so on outwards."""
    seen, ring = {cell}, {cell}
    while ring:
        near = {c for r in {id(r): r for x in ring for r in touching.get(x, ())}.values()
                for c in r.cells} - seen  # fmt: skip
        candidates = [c for c in near if _can_hide(c, values, hidden, virtual)]
        if candidates:
            return min(candidates, key=lambda c: (values[c], c))
        seen |= near
        ring = near
    return None


def protect(
    values: Sequence[int],
    relations: Sequence[Relation],
    settings: DisclosureSettings,
    virtual: Sequence[int] = (),
) -> list[int | None]:
    """Return the published cells: rounded counts, true zeros, and None where suppressed
    (``virtual`` cells are returned as None too: they are never shown).

    Example:
        >>> protect([3, 40, 57, 100], [Relation(3, (0, 1, 2))], DisclosureSettings())
        [None, None, 55, 100]
    """
    hidden = suppression(values, relations, settings, virtual)
    unseen = set(virtual)
    return [
        None if secret or cell in unseen else round_to_base(value, settings.rounding_base)
        for cell, (value, secret) in enumerate(zip(values, hidden, strict=True))
    ]
