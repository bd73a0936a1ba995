"""Small charts as inline SVG, drawn on the server: nothing to load, nothing to run.

Each function returns one ``<svg>`` element marked ``data-chart`` (the report's script counts
those that drew). A suppressed value (None) is drawn as a hatched stub labelled "c".

Labels are measured (:mod:`casebridge.audit.text`) and never cut: a label column is as wide as
its longest label up to a limit, a longer label wraps onto more lines and its row grows, and
every margin is sized from the text that goes in it, so no text falls outside the chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

from casebridge.audit.text import text_width, widest, wrap

PALETTE = ("#1f5f99", "#d9822b", "#3a8f5c", "#b8443a", "#7a5ca8", "#8c6d3f", "#c05a96", "#6b7b8c")
INK, MUTED, GRID = "#222", "#666", "#ddd"
SIZE = 12  # font size of every label, px
LINE = 15  # distance between the lines of a wrapped label
ASCENT = 0.95  # from the top of a line to its baseline, as a fraction of the font size
PAD = 4  # space kept free at each edge of a chart
FONT = f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="{SIZE}"'
HATCH = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>'
)


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: bounds, an optional point, 95% interval and baseline."""

    label: str
    lower: float | None
    upper: float | None
    point: float | None = None
    baseline: float | None = None
    interval_lower: float | None = None
    interval_upper: float | None = None


@dataclass(frozen=True)
class _Rows:
    """Rows beside a label column: each row's top and height and its label's lines."""

    tops: list[float]
    heights: list[float]
    lines: list[list[str]]

    @property
    def bottom(self) -> float:
        return self.tops[-1] + self.heights[-1] if self.tops else 0.0

    def middle(self, row: int) -> float:
        return self.tops[row] + self.heights[row] / 2

    def label(self, row: int, x: float, anchor: str = "end", fill: str = INK) -> str:
        """The row's label, centred on the row."""
        lines = self.lines[row]
        return _label(x, self.middle(row) - (LINE * len(lines) - 1) / 2, lines, anchor, fill)


def _rows(labels: Sequence[str], column: float, top: float, minimum: float) -> _Rows:
    """Lay out one row per label, wrapped to ``column``, each at least ``minimum`` high."""
    tops, heights, lines = [], [], []
    y = top
    for label in labels:
        wrapped = wrap(label, column)
        height = max(minimum, LINE * len(wrapped) + 6)
        tops.append(y)
        heights.append(height)
        lines.append(wrapped)
        y += height
    return _Rows(tops, heights, lines)


def _column(labels: Sequence[str], limit: float) -> float:
    """A label column's width: the widest label, at most ``limit``."""
    return min(limit, widest(list(labels)))


def _svg(name: str, title: str, width: float, height: float, body: str) -> str:
    width, height = math.ceil(width), math.ceil(height)
    return (
        f'<svg data-chart="{escape(name)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" {FONT}><title>{escape(title)}</title>{HATCH}{body}</svg>'
    )


def _text(
    x: float, top: float, text: str, anchor: str = "start", fill: str = INK, size: float = SIZE
) -> str:
    """One line of text whose top is at ``top``."""
    return _label(x, top, [text], anchor, fill, size)


def _label(
    x: float, top: float, lines: Sequence[str], anchor: str, fill: str, size: float = SIZE
) -> str:
    """A text of one or more lines; the first line's top at ``top``."""
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{top + ASCENT * size + i * LINE:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    font = "" if size == SIZE else f' font-size="{size:g}"'
    return f'<text text-anchor="{anchor}" fill="{fill}"{font}>{spans}</text>'


def _count(value: int | None) -> str:
    return "c" if value is None else f"{value:,}"


def _legend(
    x: float, top: float, width: float, entries: Sequence[tuple[str, str]]
) -> tuple[str, float]:
    """Legend entries (a swatch's SVG drawn in a 12 px box at (0, 0), a text) flowing from
    ``x`` within ``width``; returns the SVG and the legend's bottom."""
    parts, left, y = [], x, top
    for swatch, text in entries:
        room = width - 18
        lines = wrap(text, room)
        need = 18 + widest(lines) + 14
        if left > x and left + need > x + width:
            left, y = x, y + LINE + 4
        parts.append(f'<g transform="translate({left:.1f},{y + 1:.1f})">{swatch}</g>')
        parts.append(_label(left + 18, y, lines, "start", INK))
        left += need
        if len(lines) > 1:
            left, y = x, y + LINE * len(lines) + 4
    return "".join(parts), y + LINE + 2


def _box(colour: str) -> str:
    return f'<rect x="0" y="1" width="12" height="11" fill="{colour}"/>'


def bars(name: str, title: str, items: Sequence[tuple[str, int | None]], width: int = 640) -> str:
    """Horizontal bars, one per item, labelled with the (published) count."""
    column = _column([label for label, _ in items], width * 0.45)
    rows = _rows([label for label, _ in items], column, 8, 22)
    start = PAD + column + 10
    room = widest([_count(value) for _, value in items]) + 10
    top = max((v or 0 for _, v in items), default=0) or 1
    scale = max(20.0, width - start - room - PAD) / top
    parts = []
    for i, (_, value) in enumerate(items):
        parts.append(rows.label(i, PAD + column))
        y = rows.middle(i)
        if value is None:
            parts.append(
                f'<rect x="{start:.1f}" y="{y - 8:.1f}" width="18" height="16" fill="url(#hatch)"/>'
            )
            parts.append(_text(start + 24, y - 7, "c", fill=MUTED))
            continue
        length = max(1.0, value * scale) if value else 0.0
        parts.append(
            f'<rect x="{start:.1f}" y="{y - 8:.1f}" width="{length:.1f}" height="16" '
            f'fill="{PALETTE[0]}"/>'
        )
        parts.append(_text(start + length + 6, y - 7, _count(value), fill=MUTED))
    return _svg(name, title, width, rows.bottom + 8, "".join(parts))


def _colour(share: float) -> str:
    """White (none) to dark blue (all)."""
    low, high = (255, 255, 255), (31, 95, 153)
    mixed = [round(a + (b - a) * share) for a, b in zip(low, high, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def heatmap(
    name: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    shares: dict[tuple[str, str], float | None],
) -> str:
    """A grid of shares from 0 to 1 (completeness by source and field × year); a suppressed
    cell hatched, an empty one blank. Columns are headed by their last two characters."""
    cell, head = 24, 26
    column = _column(rows, 300)
    layout = _rows(rows, column, head, cell)
    start = PAD + column + 8
    parts = [
        _text(start + i * cell + cell / 2, 6, col[-2:], "middle", MUTED)
        for i, col in enumerate(columns)
    ]
    for r, row in enumerate(rows):
        parts.append(layout.label(r, PAD + column))
        y = layout.middle(r) - (cell - 2) / 2
        for c, column_name in enumerate(columns):
            if (row, column_name) not in shares:
                continue
            share = shares[(row, column_name)]
            fill = "url(#hatch)" if share is None else _colour(share)
            tip = "suppressed" if share is None else f"{share:.0%}"
            parts.append(
                f'<rect x="{start + c * cell}" y="{y:.1f}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="{fill}"><title>{escape(row)}, '
                f"{escape(column_name)}: {tip}</title></rect>"
            )
    legend = layout.bottom + 12
    for i in range(6):
        parts.append(
            f'<rect x="{start + i * 30}" y="{legend + 2}" width="28" height="10" '
            f'fill="{_colour(i / 5)}" stroke="{GRID}"/>'
        )
    note = "0% to 100% filled"
    parts.append(_text(start + 6 * 30 + 6, legend, note, fill=MUTED))
    width = max(start + cell * len(columns), start + 6 * 30 + 6 + text_width(note)) + PAD
    return _svg(name, title, width, legend + LINE + 8, "".join(parts))


def lines(
    name: str, title: str, columns: Sequence[str], series: dict[str, list[float | None]]
) -> str:
    """Shares over time, one line per series (a gap where a value is suppressed)."""
    width, bottom = 640, 30
    ticks = (0, 0.25, 0.5, 0.75, 1)
    left = PAD + widest([f"{t:.0%}" for t in ticks]) + 6
    key_width = _column(list(series), 180) + 18
    right = width - PAD - key_width - 16
    step = (right - left) / max(1, len(columns) - 1)
    key_parts, key_bottom = [], 14.0
    for k, label in enumerate(series):
        wrapped = wrap(label, key_width - 18)
        key_parts.append(
            f'<rect x="{right + 16}" y="{key_bottom + 2}" width="10" height="10" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/>'
            + _label(right + 32, key_bottom, wrapped, "start", INK)
        )
        key_bottom += LINE * len(wrapped) + 4
    height = max(240.0, key_bottom + 10)

    def y(share: float) -> float:
        return 10 + (1 - share) * (height - bottom - 10)

    parts = [
        f'<line x1="{left}" x2="{right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{GRID}"/>'
        + _text(left - 4, y(t) - 7, f"{t:.0%}", "end", MUTED)
        for t in ticks
    ]
    every = max(1, math.ceil(len(columns) / 8))
    for i, column in enumerate(columns):
        if i % every == 0:
            parts.append(_text(left + i * step, height - bottom + 8, column, "middle", MUTED))
    for k, values in enumerate(series.values()):
        colour = PALETTE[k % len(PALETTE)]
        points = [(left + i * step, y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        parts += [
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.5" fill="{colour}"/>' for x, yy in points
        ]
    return _svg(name, title, width, height, "".join(parts + key_parts))


def intervals(
    name: str,
    title: str,
    rows: Sequence[Interval],
    width: int = 640,
    interval: str = "95% interval",
) -> str:
    """Bounds of shares as bars from lower to upper, their 95% interval as a thin line, the
    share of known values as a dot and a baseline as a tick."""
    column = _column([row.label for row in rows], 260)
    layout = _rows([row.label for row in rows], column, 4, 20)
    left = PAD + column + 10
    span = width - left - PAD - text_width("100%") / 2

    def x(share: float) -> float:
        return left + max(0.0, min(1.0, share)) * span

    axis = layout.bottom + 4
    parts = [
        f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="0" y2="{axis:.1f}" stroke="{GRID}"/>'
        + _text(x(t), axis + 2, f"{t:.0%}", "middle", MUTED)
        for t in (0, 0.25, 0.5, 0.75, 1)
    ]
    for i, item in enumerate(rows):
        parts.append(layout.label(i, PAD + column))
        parts.append(_interval_marks(item, layout.middle(i), x))
    entries = [
        (f'<rect x="0" y="3" width="12" height="7" fill="{PALETTE[0]}" opacity="0.55"/>', "bounds"),
        (f'<path d="M0.5 3v7M0.5 6.5H12M12 3v7" stroke="{INK}" fill="none"/>', interval),
        (f'<circle cx="6" cy="6.5" r="3" fill="{INK}"/>', "share of known"),
    ]
    if any(item.baseline is not None for item in rows):
        entries.append(
            (
                f'<line x1="6" x2="6" y1="0" y2="13" stroke="{PALETTE[1]}" stroke-width="2"/>',
                "population baseline",
            )  # fmt: skip
        )
    legend, bottom = _legend(left, axis + LINE + 8, width - left - PAD, entries)
    return _svg(name, title, width, bottom + 4, "".join(parts) + legend)


def _interval_marks(item: Interval, y: float, x: Callable[[float], float]) -> str:
    """One row's bar, interval, dot and tick (``x`` maps a share to its position)."""
    if item.lower is None or item.upper is None:
        return _text(x(0) + 4, y - 7, "c", fill=MUTED)
    parts = []
    if item.interval_lower is not None and item.interval_upper is not None:
        # whiskers from the bounds out to the interval's ends
        low, high = x(item.interval_lower), x(item.interval_upper)
        parts.append(
            f'<path d="M{low:.1f} {y - 4:.1f}v8M{low:.1f} {y:.1f}H{x(item.lower):.1f}'
            f'M{x(item.upper):.1f} {y:.1f}H{high:.1f}M{high:.1f} {y - 4:.1f}v8" '
            f'stroke="{INK}" fill="none"><title>interval: {item.interval_lower:.1%} to '
            f"{item.interval_upper:.1%}</title></path>"
        )
    parts.append(
        f'<rect x="{x(item.lower):.1f}" y="{y - 4:.1f}" height="8" rx="2" fill="{PALETTE[0]}" '
        f'opacity="0.55" width="{max(1.5, x(item.upper) - x(item.lower)):.1f}">'
        f"<title>{escape(item.label)}: {item.lower:.1%} to {item.upper:.1%}</title></rect>"
    )
    if item.point is not None:
        parts.append(
            f'<circle cx="{x(item.point):.1f}" cy="{y:.1f}" r="3" fill="{INK}" '
            f'data-share="{item.point:.6f}"/>'
        )
    if item.baseline is not None:
        parts.append(
            f'<line x1="{x(item.baseline):.1f}" x2="{x(item.baseline):.1f}" '
            f'y1="{y - 7:.1f}" y2="{y + 7:.1f}" stroke="{PALETTE[1]}" stroke-width="2"/>'
        )
    return "".join(parts)


def upset(
    name: str, title: str, combos: Sequence[tuple[list[str], int | None]], sets: Sequence[str]
) -> str:
    """An UpSet plot: a bar per combination of sets, and dots below for the sets in it."""
    count_size = 10
    column = max(34.0, widest([_count(v) for _, v in combos], count_size) + 8)
    set_column = _column(sets, 220)
    bar_top, bar_height = 16, 140
    layout = _rows(sets, set_column, bar_top + bar_height + 6, 18)
    left = PAD + set_column + 10
    top = max((v or 0 for _, v in combos), default=0) or 1
    parts = [layout.label(s, PAD + set_column) for s in range(len(sets))]
    base = bar_top + bar_height
    for i, (members, value) in enumerate(combos):
        x = left + i * column
        centre = x + column / 2
        h = 14.0 if value is None else (max(1.0, value / top * bar_height) if value else 0.0)
        fill = "url(#hatch)" if value is None else PALETTE[0]
        parts.append(
            f'<rect x="{x + 6:.1f}" y="{base - h:.1f}" width="{column - 12:.1f}" '
            f'height="{h:.1f}" fill="{fill}"/>'
        )
        parts.append(_text(centre, base - h - 14, _count(value), "middle", MUTED, count_size))
        ys = [layout.middle(s) for s, set_name in enumerate(sets) if set_name in members]
        for s, set_name in enumerate(sets):
            filled = INK if set_name in members else GRID
            parts.append(
                f'<circle cx="{centre:.1f}" cy="{layout.middle(s):.1f}" r="5" fill="{filled}"/>'
            )
        if len(ys) > 1:
            parts.append(
                f'<line x1="{centre:.1f}" x2="{centre:.1f}" y1="{min(ys):.1f}" '
                f'y2="{max(ys):.1f}" stroke="{INK}" stroke-width="2"/>'
            )
    width = left + column * len(combos) + PAD
    return _svg(name, title, width, layout.bottom + 6, "".join(parts))


def stacked(
    name: str, title: str, rows: Sequence[tuple[str, list[int | None]]], keys: Sequence[str]
) -> str:
    """Horizontal stacked bars (a suppressed part drawn as a hatched stub)."""
    width = 640
    column = _column([label for label, _ in rows], 200)
    layout = _rows([label for label, _ in rows], column, 8, 24)
    start = PAD + column + 10
    top = max((sum(v or 0 for v in values) for _, values in rows), default=0) or 1
    stubs = max((sum(v is None for v in values) for _, values in rows), default=0)
    scale = (width - start - PAD - 10 * stubs) / top
    parts = []
    for i, (_, values) in enumerate(rows):
        parts.append(layout.label(i, PAD + column))
        x, y = float(start), layout.middle(i) - 9
        for k, value in enumerate(values):
            length = 10.0 if value is None else value * scale
            fill = "url(#hatch)" if value is None else PALETTE[k % len(PALETTE)]
            if length > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{length:.1f}" height="18" '
                    f'fill="{fill}"/>'
                )
            x += length
    entries = [(_box(PALETTE[k % len(PALETTE)]), key) for k, key in enumerate(keys)]
    legend, bottom = _legend(start, layout.bottom + 8, width - start - PAD, entries)
    return _svg(name, title, width, bottom + 4, "".join(parts) + legend)


def weights(name: str, title: str, rows: Sequence[tuple[str, str, float]]) -> str:
    """Match weights per comparison level, as bars either side of zero."""
    width = 680
    labels, shades, last = [], [], None
    for comparison, level, _ in rows:
        labels.append(f"{comparison}: {level}" if comparison != last else level)
        shades.append(INK if comparison != last else MUTED)
        last = comparison
    column = _column(labels, 320)
    layout = _rows(labels, column, 4, 16)
    limit = max((abs(w) for *_, w in rows), default=1.0) or 1.0
    half = (width - PAD - column - 12 - PAD) / 2
    centre = PAD + column + 12 + half
    parts = [
        f'<line x1="{centre:.1f}" x2="{centre:.1f}" y1="0" y2="{layout.bottom + 2:.1f}" '
        f'stroke="{MUTED}"/>'
    ]
    for i, (_, level, weight) in enumerate(rows):
        parts.append(layout.label(i, PAD + column, fill=shades[i]))
        length = weight / limit * half
        colour = PALETTE[2] if weight >= 0 else PALETTE[3]
        x = centre if length >= 0 else centre + length
        parts.append(
            f'<rect x="{x:.1f}" y="{layout.middle(i) - 6:.1f}" '
            f'width="{max(1.0, abs(length)):.1f}" height="12" fill="{colour}"><title>'
            f"{escape(level)}: {weight:+.2f}</title></rect>"
        )
    axis = layout.bottom + 6
    parts.append(_text(centre - half, axis, _signed(-limit, 0), "start", MUTED))
    parts.append(_text(centre, axis, "0", "middle", MUTED))
    parts.append(_text(centre + half, axis, _signed(limit, 0), "end", MUTED))
    return _svg(name, title, width, axis + LINE + 4, "".join(parts))


def _signed(value: float, digits: int = 1) -> str:
    """A weight with its sign, a true minus for the negative."""
    return f"{value:+.{digits}f}".replace("-", "\u2212")


def waterfall(name: str, title: str, rows: Sequence[tuple[str, str, float]]) -> str:
    """A cumulative waterfall of match weights: the prior, then each comparison moving the
    running total from where the last one left it, then the total, drawn from zero.

    ``rows`` are (comparison, level, weight) as :func:`casebridge.link.explain.explain_pair`
    gives them; the last row is the total."""
    width = 680
    *steps, (total_name, total_level, total) = rows
    labels = [f"{c}: {level}" for c, level, _ in steps] + [f"{total_name}: {total_level}"]
    column = _column(labels, 300)
    layout = _rows(labels, column, 4, 20)
    ends = list(_running(w for *_, w in steps))
    low = min(0.0, total, *ends) if ends else min(0.0, total)
    high = max(0.0, total, *ends) if ends else max(0.0, total)
    values = [_signed(w) for *_, w in steps] + [_signed(total)]
    room = widest(values) + 8
    left = PAD + column + 10 + room
    scale = (width - left - room - PAD) / ((high - low) or 1.0)

    def x(weight: float) -> float:
        return left + (weight - low) * scale

    axis = layout.bottom + 4
    parts = [
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="0" y2="{axis:.1f}" stroke="{MUTED}"/>',
        _text(x(0), axis + 2, "0", "middle", MUTED),
    ]
    before = 0.0
    for i, (after, text) in enumerate(zip([*ends, total], values, strict=True)):
        is_total = i == len(steps)
        start, stop = (0.0, total) if is_total else (before, after)
        colour = PALETTE[0] if is_total else PALETTE[2] if stop >= start else PALETTE[3]
        y = layout.middle(i)
        parts.append(layout.label(i, PAD + column))
        parts.append(
            f'<rect x="{x(min(start, stop)):.1f}" y="{y - 7:.1f}" height="14" '
            f'width="{max(1.0, abs(x(stop) - x(start))):.1f}" fill="{colour}"/>'
        )
        if not is_total and i + 1 < len(labels):
            parts.append(
                f'<line x1="{x(stop):.1f}" x2="{x(stop):.1f}" y1="{y + 7:.1f}" '
                f'y2="{layout.middle(i + 1) - 7:.1f}" stroke="{MUTED}" stroke-dasharray="2 2"/>'
            )
        rightward = stop >= start
        edge = x(max(start, stop)) + 4 if rightward else x(min(start, stop)) - 4
        parts.append(_text(edge, y - 7, text, "start" if rightward else "end", INK))
        before = after
    return _svg(name, title, width, axis + LINE + 6, "".join(parts))


def _running(weights: Iterable[float]) -> list[float]:
    """The running total after each weight."""
    total, ends = 0.0, []
    for weight in weights:
        total += weight
        ends.append(total)
    return ends
