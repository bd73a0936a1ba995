"""Everything the audit publishes together, as one system of counts protected at once.

Each count is registered under a key that says what it counts (``("records", source, year)``,
``("persons", population, role)``): the same count shown in two tables is one cell, so it is
published alike in both and suppressed in both. Relations tie cells together (a total and its
parts), within a table and across tables (the persons of ``person_completeness`` are the
denominator of ``demographics``; a source's records in ``duplicates`` are its persons plus the
records repeating one). Cells that no table shows (the rows a count leaves out, persons outside
a sub-population) enter as hidden cells, so that what anyone can work out by subtraction is
protected too. ``protect`` applies ``disclosure.suppression`` to each connected part of the
system and says, for every key, what is published and what interval the publication allows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import polars as pl

from casebridge.audit.disclosure import (
    DisclosureSettings,
    Relation,
    attacker_bounds,
    is_small,
    round_to_base,
    suppression,
)
from casebridge.audit.solver import Bound, propagate

Key = tuple[Hashable, ...]
KeyOf = Callable[[dict[str, object], str], Key]


@dataclass
class Publication:
    """Counts by key, the relations between them, and which are never shown."""

    values: list[int] = field(default_factory=list)
    index: dict[Key, int] = field(default_factory=dict)
    unseen: set[int] = field(default_factory=set)
    relations: list[Relation] = field(default_factory=list)

    def count(self, key: Key, value: int, shown: bool = True) -> Key:
        """Register the count ``key`` (a count registered twice must agree); return the key."""
        value = int(value)
        if value < 0:
            raise ValueError(f"a count is never negative: {key}")
        if key in self.index:
            cell = self.index[key]
            if self.values[cell] != value:
                raise ValueError(f"two different counts under one key: {key}")
        else:
            cell = self.index[key] = len(self.values)
            self.values.append(value)
            self.unseen.add(cell)
        if shown:
            self.unseen.discard(cell)
        return key

    def hidden(self, key: Key, value: int) -> Key:
        """Register a count no table shows."""
        return self.count(key, value, shown=False)

    def relate(self, total: Key, parts: Sequence[Key]) -> None:
        """Declare that the count ``total`` is the sum of ``parts`` (all registered)."""
        cells = [self.index[key] for key in (total, *parts)]
        if self.values[cells[0]] != sum(self.values[c] for c in cells[1:]):
            raise ValueError(f"{total} is not the sum of its parts")
        self.relations.append(Relation(cells[0], tuple(cells[1:])))

    def rest(self, key: Key, total: Key, parts: Sequence[Key]) -> Key:
        """Register the hidden count ``total`` minus ``parts`` under ``key``, and the relation
        that ``total`` is ``parts`` and it; return the key."""
        value = self.value(total) - sum(self.value(part) for part in parts)
        self.hidden(key, value)
        self.relate(total, [*parts, key])
        return key

    def value(self, key: Key) -> int:
        """The exact count under ``key``."""
        return self.values[self.index[key]]

    def register(self, frame: pl.DataFrame, columns: Sequence[str], key_of: KeyOf) -> None:
        """Register every count of ``columns`` in ``frame``, each under ``key_of(row, column)``
        (a null count is not registered)."""
        for row in frame.iter_rows(named=True):
            for column in columns:
                if row[column] is not None:
                    self.count(key_of(row, column), int(row[column]))

    def protect(self, settings: DisclosureSettings) -> Protected:
        """Protect every connected part of the publication; return what is published."""
        hidden = [is_small(value, settings.threshold) for value in self.values]
        for cells, relations in _components(len(self.values), self.relations):
            local = {cell: i for i, cell in enumerate(cells)}
            kept = suppression(
                [self.values[c] for c in cells],
                [Relation(local[r.total], tuple(local[p] for p in r.parts)) for r in relations],
                settings,
                [local[c] for c in cells if c in self.unseen],
            )
            for cell, secret in zip(cells, kept, strict=True):
                hidden[cell] = secret
        return Protected(self, hidden, settings)


def _components(size: int, relations: Sequence[Relation]) -> list[tuple[list[int], list[Relation]]]:
    """The cells that relations tie together, in groups no relation crosses, each with its
    relations (cells in no relation are left out)."""
    parent = list(range(size))

    def root(cell: int) -> int:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for relation in relations:
        first = root(relation.total)
        for part in relation.parts:
            parent[root(part)] = first
    groups: dict[int, tuple[list[int], list[Relation]]] = {}
    for relation in relations:
        groups.setdefault(root(relation.total), ([], []))[1].append(relation)
    for cell in range(size):
        if root(cell) in groups:
            groups[root(cell)][0].append(cell)
    return list(groups.values())


@dataclass
class Protected:
    """What the publication shows of each count, and what it allows each count to be."""

    publication: Publication
    hidden: list[bool]
    settings: DisclosureSettings
    _intervals: list[Bound] | None = None

    def value(self, key: Key) -> int | None:
        """The published count: rounded, a true zero, or None where suppressed."""
        cell = self.publication.index[key]
        if self.hidden[cell] or cell in self.publication.unseen:
            return None
        return round_to_base(self.publication.values[cell], self.settings.rounding_base)

    def interval(self, key: Key) -> Bound:
        """The smallest and largest value the publication allows the count (a sound bound:
        worked out from published figures and the relations only)."""
        if self._intervals is None:
            known = attacker_bounds(
                self.publication.values,
                self.hidden,
                self.settings,
                frozenset(self.publication.unseen),
            )
            self._intervals = propagate(self.publication.relations, known)
        return self._intervals[self.publication.index[key]]

    def frame(self, frame: pl.DataFrame, columns: Sequence[str], key_of: KeyOf) -> pl.DataFrame:
        """``frame`` with each count of ``columns`` replaced by its published value."""
        published: dict[str, list[int | None]] = {column: [] for column in columns}
        for row in frame.iter_rows(named=True):
            for column in columns:
                published[column].append(
                    None if row[column] is None else self.value(key_of(row, column))
                )
        return frame.with_columns(
            pl.Series(column, values, dtype=pl.Int64) for column, values in published.items()
        )

    def suppressed(self) -> int:
        """How many shown counts are suppressed."""
        unseen = self.publication.unseen
        return sum(1 for cell, h in enumerate(self.hidden) if h and cell not in unseen)
